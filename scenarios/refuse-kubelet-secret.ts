/** Refusal: a kubelet reading a Secret no pod on its node uses: 403 from the Node authorizer. */
import { caPem, kubeletClientName } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario, runningPodOn } from './refusals.js';

export const refuseKubeletSecret = refusalScenario({
  name: 'refuse-kubelet-secret',
  title: 'Refused: a kubelet reading a Secret no pod of its node uses (403 from the Node authorizer)',
  summary: 'The Node authorizer keeps a graph of pods, the node each is bound to, and the secrets, configmaps and\n' +
    'volumes each uses. A kubelet may read a secret only along a path secret → pod → its node.',
  async run(ctx, { pki, cluster, node }) {
    const admin = cluster.client('admin.conf', 'kubectl');
    const as = { client: `kubelet (${node})`, server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, kubeletClientName(node)), serverCa: caPem(pki, 'ca'), method: 'GET', path: '/api/v1/namespaces/default/secrets/db-password' };
    await ctx.step('A Secret that no pod uses',
      `kubectl creates default/db-password. ${node}'s kubelet asks for it: RBAC gives system:nodes nothing (the\n` +
      'system:node role is bound to nobody), and the Node authorizer finds no path from the secret to the node.',
      async () => {
        await admin.create('/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-password', namespace: 'default' }, type: 'Opaque', data: { password: Buffer.from('s3cret').toString('base64') } });
        const o = await probe(ctx.trace, as);
        expectVerdict(ctx, `${node} reads db-password`, o, { layer: 'authorization', decision: 'forbidden', status: 403, user: `system:node:${node}`,
          reason: `secrets "db-password" is forbidden: User "system:node:${node}" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node '${node}' and this object` });
      });
    await ctx.step(`A pod on ${node} mounts the Secret`,
      'Once a pod bound to the node mounts it, the graph has secret → pod → node and the same request is allowed:\n' +
      'the kubelet needs it to start that pod. Delete the pod and the path is gone again.',
      async () => {
        await runningPodOn(admin, node, 'db', { volumes: [{ name: 'pw', secret: { secretName: 'db-password' } }] });
        const o = await probe(ctx.trace, as);
        expectVerdict(ctx, `${node} reads db-password`, o, { layer: 'none', decision: 'allowed', status: 200, user: `system:node:${node}`, reason: /.*/ });
      });
  },
});
