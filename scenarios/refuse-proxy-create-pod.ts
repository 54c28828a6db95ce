/** Refusal: kube-proxy creating a pod: system:node-proxier only reads services, endpoints, endpointslices and nodes, 403. */
import { caPem } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario } from './refusals.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

export const refuseProxyCreatePod = refusalScenario({
  name: 'refuse-proxy-create-pod',
  title: EN('scenario.refuse-proxy-create-pod.title'),
  summary: EN('scenario.refuse-proxy-create-pod.summary'),
  async run(ctx, { pki, cluster }) {
    const as = { client: 'kube-proxy', server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, 'kube-proxy.conf'), serverCa: caPem(pki, 'ca') };
    await ctx.step(ctx.t('refuseProxyCreatePod.kubeProxyLists.title'),
      ctx.t('refuseProxyCreatePod.kubeProxyLists.lesson'),
      async () => {
        const o = await probe(ctx.trace, { ...as, method: 'GET', path: '/api/v1/services' });
        expectVerdict(ctx, ctx.t('refuseProxyCreatePod.whoList'), o, { layer: 'none', decision: 'allowed', status: 200, user: 'system:kube-proxy',
          reason: 'RBAC: allowed by ClusterRoleBinding "system:node-proxier" of ClusterRole "system:node-proxier" to User "system:kube-proxy"' });
      });
    await ctx.step(ctx.t('refuseProxyCreatePod.kubeProxyCreates.title'),
      ctx.t('refuseProxyCreatePod.kubeProxyCreates.lesson'),
      async () => {
        const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sneaky', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } };
        const o = await probe(ctx.trace, { ...as, method: 'POST', path: '/api/v1/namespaces/default/pods', body: JSON.stringify(pod) });
        expectVerdict(ctx, ctx.t('refuseProxyCreatePod.whoCreate'), o, { layer: 'authorization', decision: 'forbidden', status: 403, user: 'system:kube-proxy',
          reason: 'pods is forbidden: User "system:kube-proxy" cannot create resource "pods" in API group "" in the namespace "default"' });
      });
  },
});
