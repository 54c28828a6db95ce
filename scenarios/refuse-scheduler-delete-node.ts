/** Refusal: the scheduler deleting a Node: RBAC (system:kube-scheduler) has no delete on nodes, 403. */
import { caPem } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario } from './refusals.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

export const refuseSchedulerDeleteNode = refusalScenario({
  name: 'refuse-scheduler-delete-node',
  title: EN('scenario.refuse-scheduler-delete-node.title'),
  summary: EN('scenario.refuse-scheduler-delete-node.summary'),
  async run(ctx, { pki, cluster, node }) {
    const as = { client: 'kube-scheduler', server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, 'scheduler.conf'), serverCa: caPem(pki, 'ca') };
    await ctx.step(ctx.t('refuseSchedulerDeleteNode.schedulerReadsNode.title'),
      ctx.t('refuseSchedulerDeleteNode.schedulerReadsNode.lesson'),
      async () => {
        const o = await probe(ctx.trace, { ...as, method: 'GET', path: `/api/v1/nodes/${node}` });
        expectVerdict(ctx, 'GET node', o, { layer: 'none', decision: 'allowed', status: 200, user: 'system:kube-scheduler',
          reason: 'RBAC: allowed by ClusterRoleBinding "system:kube-scheduler" of ClusterRole "system:kube-scheduler" to User "system:kube-scheduler"' });
      });
    await ctx.step(ctx.t('refuseSchedulerDeleteNode.schedulerDeletesNode.title'),
      ctx.t('refuseSchedulerDeleteNode.schedulerDeletesNode.lesson'),
      async () => {
        const o = await probe(ctx.trace, { ...as, method: 'DELETE', path: `/api/v1/nodes/${node}` });
        expectVerdict(ctx, 'DELETE node', o, { layer: 'authorization', decision: 'forbidden', status: 403, user: 'system:kube-scheduler',
          reason: `nodes "${node}" is forbidden: User "system:kube-scheduler" cannot delete resource "nodes" in API group "" at the cluster scope` });
        const still = await cluster.client('admin.conf', 'kubectl').raw('GET', `/api/v1/nodes/${node}`);
        ctx.expect(ctx.t('refuseSchedulerDeleteNode.expectStill', { node }), still.status === 200);
      });
  },
});
