/**
 * Refusal: a kubelet serving with its client certificate (clientAuth only). The apiserver, verifying
 * kubelets (--kubelet-certificate-authority), refuses the server: incompatible key usage.
 */
import { kubeletClientName, kubeletServingName } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { podLogs, refusalScenario, runningPodOn } from './refusals.js';

const REASON = 'x509: certificate specifies an incompatible key usage';

export const refuseClientCertAsServer = refusalScenario({
  name: 'refuse-client-cert-as-server',
  title: 'Refused: a kubelet serving with its client certificate (the apiserver refuses the server)',
  summary: "A kubelet whose --tls-cert-file points at its client certificate: same names and CA, but clientAuth only.\n" +
    'The apiserver dials it for `kubectl logs`, checks the serving certificate, and refuses it.',
  async run(ctx, { pki, cluster, node }) {
    const kubelet = cluster.kubelets.get(node);
    if (!kubelet) throw new Error(`no kubelet for ${node}`);
    const admin = cluster.client('admin.conf', 'kubectl');
    await ctx.step(`A pod on ${node}`,
      'kubectl logs goes kubectl → apiserver → kubelet. The apiserver verifies the kubelet\'s serving certificate\n' +
      'against the Kubernetes CA (--kubelet-certificate-authority): a serverAuth certificate naming the node IP.',
      async () => {
        const pod = await runningPodOn(admin, node, 'logs-demo');
        ctx.expect(`logs-demo is Running on ${node}`, pod.spec.nodeName === node && pod.status?.phase === 'Running');
      });
    await ctx.step(`${node}'s kubelet serves kubelet.conf's client certificate`,
      'Its key usage says clientAuth only. OpenSSL on the apiserver\'s side checks the serving certificate for the\n' +
      'serverAuth purpose and reports INVALID_PURPOSE; Go prints "x509: certificate specifies an incompatible key\n' +
      'usage". The apiserver never sends the request: kubectl gets a 500 whose message names the URL and reason.',
      async () => {
        await kubelet.reloadTls({ servingIdentity: identityOf(pki, kubeletClientName(node)) });
        const mark = ctx.events.length;
        const r = await podLogs(admin, 'logs-demo');
        ctx.say(`kubectl logs: HTTP ${r.status} ${r.body.slice(0, 300)}`);
        ctx.expect('kubectl gets 500 with "tls: failed to verify certificate: x509: certificate specifies an incompatible key usage"',
          r.status === 500 && r.body.includes(`tls: failed to verify certificate: ${REASON}`), r.body.slice(0, 300));
        const refused = ctx.since(mark).find((e) => e.type === 'tls-client' && e.client === 'kube-apiserver' && e.server === `kubelet (${node})`);
        ctx.expect('the apiserver (the client) refused the handshake with INVALID_PURPOSE',
          refused?.type === 'tls-client' && refused.handshake === 'refused' && refused.code === 'INVALID_PURPOSE' && refused.reason === REASON, JSON.stringify(refused));
        ctx.expect('no request reached the kubelet', !ctx.since(mark).some((e) => e.type === 'request' && e.server === `kubelet (${node})`));
      });
    await ctx.step('Back to the serving certificate',
      'With kubelet.crt (serverAuth) installed again, new connections verify and the log comes back.',
      async () => {
        await kubelet.reloadTls({ servingIdentity: identityOf(pki, kubeletServingName(node)) });
        const r = await podLogs(admin, 'logs-demo');
        ctx.expect('the log comes back again', r.status === 200 && r.body.length > 0, `HTTP ${r.status} ${r.body.slice(0, 200)}`);
      });
  },
});
