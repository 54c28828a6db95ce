/** Refusal: a kubelet's certificate presented to etcd; etcd refuses the handshake itself. */
import { caPem, kubeletClientName } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { ETCD_REQUEST } from './matrix.js';
import { expectVerdict, refusalScenario } from './refusals.js';

export const refuseKubeletToEtcd = refusalScenario({
  name: 'refuse-kubelet-to-etcd',
  title: "Refused: a kubelet's certificate at etcd (handshake refused by etcd)",
  summary: 'etcd runs with --client-cert-auth and --trusted-ca-file=etcd/ca.crt. It has no users or RBAC of its own\n' +
    'here: the etcd CA is the access control, so a certificate from the Kubernetes CA never gets a request in.',
  async run(ctx, { pki, cluster, node }) {
    await ctx.step('The apiserver reads /registry/ with apiserver-etcd-client',
      'The one client etcd is there for: its certificate is signed by the etcd CA, so the handshake completes\n' +
      'and the range request is served.',
      async () => {
        const o = await probe(ctx.trace, { client: 'kube-apiserver', server: 'etcd', url: cluster.endpoints.etcd, identity: identityOf(pki, 'apiserver-etcd-client'), serverCa: caPem(pki, 'etcd/ca'), ...ETCD_REQUEST });
        expectVerdict(ctx, 'apiserver-etcd-client', o, { layer: 'none', decision: 'allowed', status: 200, reason: '' });
      });
    await ctx.step(`${node}'s kubelet dials etcd`,
      `The kubelet's client certificate (CN=system:node:${node}, O=system:nodes) is valid and signed, but by the\n` +
      "Kubernetes CA, which etcd does not trust. etcd refuses the handshake: no HTTP request is ever read. Real\n" +
      'etcd logs "rejected connection from ... (error "tls: failed to verify client certificate: x509: certificate\n' +
      'signed by unknown authority")"; the client (TLS 1.3 finishes its side first) sees the connection reset,\n' +
      'and etcdctl ends with "context deadline exceeded".',
      async () => {
        const o = await probe(ctx.trace, { client: `kubelet (${node})`, server: 'etcd', url: cluster.endpoints.etcd, identity: identityOf(pki, kubeletClientName(node)), serverCa: caPem(pki, 'etcd/ca'), ...ETCD_REQUEST });
        expectVerdict(ctx, `kubelet (${node})`, o, { layer: 'tls', decision: 'handshake refused', refusedBy: 'server', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', reason: 'x509: certificate signed by unknown authority' });
        ctx.expect('etcd served no request to the kubelet', !ctx.events.some((e) => e.type === 'request' && e.server === 'etcd' && e.user === `system:node:${node}`));
      });
  },
});
