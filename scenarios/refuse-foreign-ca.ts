/** Refusal: a client certificate from a CA the apiserver does not trust gets 401 from the apiserver's x509 authenticator. */
import { caPem } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario } from './refusals.js';
import { foreignAdmin } from './tour.js';

const LIST_PODS = { method: 'GET', path: '/api/v1/namespaces/default/pods' };

export const refuseForeignCa = refusalScenario({
  name: 'refuse-foreign-ca',
  title: 'Refused: a client certificate from a foreign CA (401 from the apiserver)',
  summary: 'The same names as admin.conf (CN=kubernetes-admin, O=kubeadm:cluster-admins), signed by a CA named\n' +
    '"kubernetes" that is not this cluster\'s. Names prove nothing: only the signature chain to --client-ca-file does.',
  async run(ctx, { pki, cluster }) {
    await ctx.step('admin.conf, the real one',
      'For contrast: the certificate kubeadm signed with ca.key. The apiserver verifies the chain to\n' +
      '--client-ca-file (pki/ca.crt), takes the user from the CN and the groups from the O values.',
      async () => {
        const o = await probe(ctx.trace, { client: 'kubectl', server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, 'admin.conf'), serverCa: caPem(pki, 'ca'), ...LIST_PODS });
        expectVerdict(ctx, 'kubectl (admin.conf)', o, { layer: 'none', decision: 'allowed', status: 200, user: 'kubernetes-admin', reason: /^RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins"/ });
      });
    await ctx.step('The same names from a foreign CA',
      'The apiserver asks for a client certificate but does not make the handshake depend on it: the TLS\n' +
      'connection completes, OpenSSL records UNABLE_TO_VERIFY_LEAF_SIGNATURE, and the x509 authenticator\n' +
      'turns that into an error, so the request is 401 Unauthorized (never system:anonymous: a bad credential\n' +
      'does not fall back to anonymous). kubectl prints "error: You must be logged in to the server\n' +
      '(Unauthorized)"; the apiserver logs "Unable to authenticate the request" with\n' +
      '"verifying certificate SN=..., SKID=..., AKID=... failed: x509: certificate signed by unknown authority".',
      async () => {
        const o = await probe(ctx.trace, { client: 'kubectl (foreign CA)', server: 'kube-apiserver', url: cluster.apiserverUrl, identity: await foreignAdmin(pki), serverCa: caPem(pki, 'ca'), ...LIST_PODS });
        expectVerdict(ctx, 'kubectl (foreign CA)', o, { layer: 'authentication', decision: 'unauthenticated', status: 401, code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', reason: 'x509: certificate signed by unknown authority' });
        ctx.say(`the apiserver's log: Unable to authenticate the request: ${o.detail ?? '?'}`);
        ctx.expect("the apiserver's own record names the certificate and Go's reason",
          /^verifying certificate SN=\d+, SKID=[0-9A-F:]*, AKID=[0-9A-F:]* failed: x509: certificate signed by unknown authority$/.test(o.detail ?? ''), o.detail);
        ctx.expect('the body is the Status kubectl turns into "You must be logged in to the server (Unauthorized)"', /"reason":"Unauthorized"/.test(o.body ?? '') && /"message":"Unauthorized"/.test(o.body ?? ''), o.body);
      });
  },
});
