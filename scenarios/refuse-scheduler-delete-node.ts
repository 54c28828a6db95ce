/** Refusal: the scheduler deleting a Node: RBAC (system:kube-scheduler) has no delete on nodes, 403. */
import { caPem } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario } from './refusals.js';

export const refuseSchedulerDeleteNode = refusalScenario({
  name: 'refuse-scheduler-delete-node',
  title: 'Refused: the scheduler deleting a Node (403 from RBAC)',
  summary: 'scheduler.conf authenticates as system:kube-scheduler. The bootstrap ClusterRole system:kube-scheduler\n' +
    'lets it read nodes, bind pods and delete pods (preemption), but not delete nodes.',
  async run(ctx, { pki, cluster, node }) {
    const as = { client: 'kube-scheduler', server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, 'scheduler.conf'), serverCa: caPem(pki, 'ca') };
    await ctx.step('The scheduler reads a Node',
      'get on nodes is in system:kube-scheduler: RBAC allows it and says which binding did.',
      async () => {
        const o = await probe(ctx.trace, { ...as, method: 'GET', path: `/api/v1/nodes/${node}` });
        expectVerdict(ctx, 'GET node', o, { layer: 'none', decision: 'allowed', status: 200, user: 'system:kube-scheduler',
          reason: 'RBAC: allowed by ClusterRoleBinding "system:kube-scheduler" of ClusterRole "system:kube-scheduler" to User "system:kube-scheduler"' });
      });
    await ctx.step('The scheduler deletes the Node',
      'Authentication succeeds (a valid certificate); authorization fails: neither the Node authorizer (not a\n' +
      'node) nor RBAC (no rule with verb delete on nodes) allows it. The 403 names the user, verb, resource,\n' +
      'API group and scope, exactly as kube-apiserver words it.',
      async () => {
        const o = await probe(ctx.trace, { ...as, method: 'DELETE', path: `/api/v1/nodes/${node}` });
        expectVerdict(ctx, 'DELETE node', o, { layer: 'authorization', decision: 'forbidden', status: 403, user: 'system:kube-scheduler',
          reason: `nodes "${node}" is forbidden: User "system:kube-scheduler" cannot delete resource "nodes" in API group "" at the cluster scope` });
        const still = await cluster.client('admin.conf', 'kubectl').raw('GET', `/api/v1/nodes/${node}`);
        ctx.expect(`${node} is still there`, still.status === 200);
      });
  },
});
