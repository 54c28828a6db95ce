/** Refusal: node-1's kubelet updating node-2's status: the Node authorizer lets it through, NodeRestriction (admission) says 403. */
import { caPem, kubeletClientName } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario } from './refusals.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

const PATCH = JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'set by another node' }] } });

export const refuseNodeStatusOther = refusalScenario({
  name: 'refuse-node-status-other',
  title: EN('scenario.refuse-node-status-other.title'),
  summary: EN('scenario.refuse-node-status-other.summary'),
  async run(ctx, { pki, cluster }) {
    const [a, b] = pki.plan.nodes.map((n) => n.name);
    if (!a || !b) throw new Error('this scenario needs two nodes');
    const as = { client: `kubelet (${a})`, server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, kubeletClientName(a)), serverCa: caPem(pki, 'ca'), contentType: 'application/strategic-merge-patch+json' };
    await ctx.step(ctx.t('refuseNodeStatusOther.patchesOwnStatus.title', { a }),
      ctx.t('refuseNodeStatusOther.patchesOwnStatus.lesson'),
      async () => {
        const o = await probe(ctx.trace, { ...as, method: 'PATCH', path: `/api/v1/nodes/${a}/status`, body: JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }] } }) });
        expectVerdict(ctx, `${a} → nodes/${a}/status`, o, { layer: 'none', decision: 'allowed', status: 200, user: `system:node:${a}`, reason: /.*/ });
      });
    await ctx.step(ctx.t('refuseNodeStatusOther.marksBNotready.title', { a, b }),
      ctx.t('refuseNodeStatusOther.marksBNotready.lesson', { a, b }),
      async () => {
        const o = await probe(ctx.trace, { ...as, method: 'PATCH', path: `/api/v1/nodes/${b}/status`, body: PATCH });
        expectVerdict(ctx, `${a} → nodes/${b}/status`, o, { layer: 'admission', decision: 'forbidden', status: 403, user: `system:node:${a}`,
          reason: `nodes "${b}" is forbidden: node "${a}" is not allowed to modify node "${b}"` });
      });
  },
});
