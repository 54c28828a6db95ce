/**
 * Refusal: a kubelet serving with its client certificate (clientAuth only). The apiserver, verifying
 * kubelets (--kubelet-certificate-authority), refuses the server: incompatible key usage.
 */
import { kubeletClientName, kubeletServingName } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { podLogs, refusalScenario, runningPodOn } from './refusals.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

const REASON = 'x509: certificate specifies an incompatible key usage';

export const refuseClientCertAsServer = refusalScenario({
  name: 'refuse-client-cert-as-server',
  title: EN('scenario.refuse-client-cert-as-server.title'),
  summary: EN('scenario.refuse-client-cert-as-server.summary'),
  async run(ctx, { pki, cluster, node }) {
    const kubelet = cluster.kubelets.get(node);
    if (!kubelet) throw new Error(`no kubelet for ${node}`);
    const admin = cluster.client('admin.conf', 'kubectl');
    await ctx.step(ctx.t('refuseClientCertAsServer.podNode.title', { node }),
      ctx.t('refuseClientCertAsServer.podNode.lesson'),
      async () => {
        const pod = await runningPodOn(admin, node, 'logs-demo');
        ctx.expect(ctx.t('refuseClientCertAsServer.expectRunning', { node }), pod.spec.nodeName === node && pod.status?.phase === 'Running');
      });
    await ctx.step(ctx.t('refuseClientCertAsServer.nodeSKubelet.title', { node }),
      ctx.t('refuseClientCertAsServer.nodeSKubelet.lesson'),
      async () => {
        await kubelet.reloadTls({ servingIdentity: identityOf(pki, kubeletClientName(node)) });
        const mark = ctx.events.length;
        const r = await podLogs(admin, 'logs-demo');
        ctx.say(`kubectl logs: HTTP ${r.status} ${r.body.slice(0, 300)}`); // verbatim: the HTTP status and body
        ctx.expect(ctx.t('refuseClientCertAsServer.expect500', { reason: `tls: failed to verify certificate: ${REASON}` }),
          r.status === 500 && r.body.includes(`tls: failed to verify certificate: ${REASON}`), r.body.slice(0, 300));
        const refused = ctx.since(mark).find((e) => e.type === 'tls-client' && e.client === 'kube-apiserver' && e.server === `kubelet (${node})`);
        ctx.expect(ctx.t('refuseClientCertAsServer.expectRefused', { code: 'INVALID_PURPOSE' }),
          refused?.type === 'tls-client' && refused.handshake === 'refused' && refused.code === 'INVALID_PURPOSE' && refused.reason === REASON, JSON.stringify(refused));
        ctx.expect(ctx.t('refuseClientCertAsServer.expectNoRequest'), !ctx.since(mark).some((e) => e.type === 'request' && e.server === `kubelet (${node})`));
      });
    await ctx.step(ctx.t('refuseClientCertAsServer.backServingCertificate.title'),
      ctx.t('refuseClientCertAsServer.backServingCertificate.lesson'),
      async () => {
        await kubelet.reloadTls({ servingIdentity: identityOf(pki, kubeletServingName(node)) });
        const r = await podLogs(admin, 'logs-demo');
        ctx.expect(ctx.t('refuseClientCertAsServer.expectAgain'), r.status === 200 && r.body.length > 0, `HTTP ${r.status} ${r.body.slice(0, 200)}`);
      });
  },
});
