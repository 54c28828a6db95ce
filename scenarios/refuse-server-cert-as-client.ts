/** Refusal: a serving certificate (serverAuth only) used as a client certificate: 401, incompatible key usage. */
import { caPem, kubeletClientName, kubeletServingName } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario } from './refusals.js';

const REASON = 'x509: certificate specifies an incompatible key usage';

export const refuseServerCertAsClient = refusalScenario({
  name: 'refuse-server-cert-as-client',
  title: 'Refused: a serving certificate used as a client certificate (401, incompatible key usage)',
  summary: "A kubelet has two certificates with the same names (CN=system:node:<node>, O=system:nodes) from the same\n" +
    'CA: kubelet.conf\'s for clientAuth, /var/lib/kubelet/pki/kubelet.crt for serverAuth. The extended key usage\n' +
    'says which side of a handshake a certificate may stand on, and both OpenSSL and Go check it.',
  async run(ctx, { pki, cluster, node }) {
    const request = { method: 'GET', path: `/api/v1/nodes/${node}` };
    await ctx.step(`${node}'s kubelet with its client certificate`,
      'kubelet.conf carries the clientAuth certificate: the apiserver authenticates system:node:<node> and the\n' +
      'Node authorizer lets it read its own Node.',
      async () => {
        const o = await probe(ctx.trace, { client: `kubelet (${node})`, server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, kubeletClientName(node)), serverCa: caPem(pki, 'ca'), ...request });
        expectVerdict(ctx, 'kubelet.conf', o, { layer: 'none', decision: 'allowed', status: 200, user: `system:node:${node}`, reason: /.*/ });
      });
    if (pki.plan.kubeletServing !== 'ca') {
      ctx.say('This PKI has self-signed kubelet serving certificates (kubeadm\'s default): they fail the chain before the key usage is looked at.');
    }
    await ctx.step(`${node}'s kubelet with its serving certificate`,
      'Same names, same CA, but the extended key usage lists serverAuth only. OpenSSL, verifying a client\n' +
      'certificate, requires clientAuth and reports INVALID_PURPOSE; the apiserver completes the handshake and\n' +
      'its x509 authenticator answers 401 ("x509: certificate specifies an incompatible key usage").',
      async () => {
        const o = await probe(ctx.trace, { client: `kubelet (${node}, serving cert)`, server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, kubeletServingName(node)), serverCa: caPem(pki, 'ca'), ...request });
        expectVerdict(ctx, 'kubelet.crt (serverAuth) as a client', o, pki.plan.kubeletServing === 'ca'
          ? { layer: 'authentication', decision: 'unauthenticated', status: 401, code: 'INVALID_PURPOSE', reason: REASON }
          : { layer: 'authentication', decision: 'unauthenticated', status: 401, reason: 'x509: certificate signed by unknown authority' });
      });
    await ctx.step("The apiserver's serving certificate at a kubelet",
      'The same at a kubelet: pki/apiserver.crt (serverAuth) is not apiserver-kubelet-client (clientAuth). The\n' +
      "kubelet's x509 authenticator refuses it with 401 before any SubjectAccessReview.",
      async () => {
        const o = await probe(ctx.trace, { client: 'kube-apiserver (serving cert)', server: `kubelet (${node})`, url: cluster.endpoints.kubelets[node]!, identity: identityOf(pki, 'apiserver'), serverCa: caPem(pki, 'ca'), method: 'GET', path: '/pods' });
        expectVerdict(ctx, 'apiserver.crt as a client of the kubelet', o, { layer: 'authentication', decision: 'unauthenticated', status: 401, code: 'INVALID_PURPOSE', reason: REASON });
      });
  },
});
