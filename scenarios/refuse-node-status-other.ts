/** Refusal: node-1's kubelet updating node-2's status: the Node authorizer lets it through, NodeRestriction (admission) says 403. */
import { caPem, kubeletClientName } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario } from './refusals.js';

const PATCH = JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'set by another node' }] } });

export const refuseNodeStatusOther = refusalScenario({
  name: 'refuse-node-status-other',
  title: "Refused: node-1's kubelet updating node-2's status (403 from NodeRestriction)",
  summary: 'Every kubelet is in group system:nodes. The Node authorizer allows node status updates by any node (the\n' +
    "verb and resource are in its rules); the NodeRestriction admission plugin then checks whose Node it is.",
  async run(ctx, { pki, cluster }) {
    const [a, b] = pki.plan.nodes.map((n) => n.name);
    if (!a || !b) throw new Error('this scenario needs two nodes');
    const as = { client: `kubelet (${a})`, server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, kubeletClientName(a)), serverCa: caPem(pki, 'ca'), contentType: 'application/strategic-merge-patch+json' };
    await ctx.step(`${a} patches its own status`,
      'What the kubelet does every few seconds: PATCH nodes/<own name>/status.',
      async () => {
        const o = await probe(ctx.trace, { ...as, method: 'PATCH', path: `/api/v1/nodes/${a}/status`, body: JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }] } }) });
        expectVerdict(ctx, `${a} → nodes/${a}/status`, o, { layer: 'none', decision: 'allowed', status: 200, user: `system:node:${a}`, reason: /.*/ });
      });
    await ctx.step(`${a} marks ${b} NotReady`,
      `A compromised ${a} tries to take ${b} out of service. Authentication: system:node:${a}, fine. Authorization:\n` +
      'the Node authorizer allows update/patch of nodes/status for a node identity. Admission: NodeRestriction\n' +
      'compares the node in the user name with the object and refuses: a 403 at the admission layer.',
      async () => {
        const o = await probe(ctx.trace, { ...as, method: 'PATCH', path: `/api/v1/nodes/${b}/status`, body: PATCH });
        expectVerdict(ctx, `${a} → nodes/${b}/status`, o, { layer: 'admission', decision: 'forbidden', status: 403, user: `system:node:${a}`,
          reason: `nodes "${b}" is forbidden: node "${a}" is not allowed to modify node "${b}"` });
      });
  },
});
