/** Refusal: kube-proxy creating a pod: system:node-proxier only reads services, endpoints, endpointslices and nodes, 403. */
import { caPem } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario } from './refusals.js';

export const refuseProxyCreatePod = refusalScenario({
  name: 'refuse-proxy-create-pod',
  title: 'Refused: kube-proxy creating a pod (403 from RBAC)',
  summary: 'kube-proxy.conf authenticates as system:kube-proxy, which kubeadm\'s ClusterRoleBinding binds (as a user) to\n' +
    'system:node-proxier: list and watch services, endpoints and endpointslices, read nodes, create events.',
  async run(ctx, { pki, cluster }) {
    const as = { client: 'kube-proxy', server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, 'kube-proxy.conf'), serverCa: caPem(pki, 'ca') };
    await ctx.step('kube-proxy lists services',
      'What kube-proxy needs to program a node\'s rules: allowed by system:node-proxier.',
      async () => {
        const o = await probe(ctx.trace, { ...as, method: 'GET', path: '/api/v1/services' });
        expectVerdict(ctx, 'list services', o, { layer: 'none', decision: 'allowed', status: 200, user: 'system:kube-proxy',
          reason: 'RBAC: allowed by ClusterRoleBinding "system:node-proxier" of ClusterRole "system:node-proxier" to User "system:kube-proxy"' });
      });
    await ctx.step('kube-proxy creates a pod',
      'Every node runs kube-proxy, so its credentials are on every node: RBAC keeps them narrow. Creating a pod\n' +
      'is not in system:node-proxier, so the apiserver answers 403 before the body is even looked at.',
      async () => {
        const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sneaky', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } };
        const o = await probe(ctx.trace, { ...as, method: 'POST', path: '/api/v1/namespaces/default/pods', body: JSON.stringify(pod) });
        expectVerdict(ctx, 'create pod', o, { layer: 'authorization', decision: 'forbidden', status: 403, user: 'system:kube-proxy',
          reason: 'pods is forbidden: User "system:kube-proxy" cannot create resource "pods" in API group "" in the namespace "default"' });
      });
  },
});
