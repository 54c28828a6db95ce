/** Refusal: a kubelet's certificate presented to etcd; etcd refuses the handshake itself. */
import { caPem, kubeletClientName } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { ETCD_REQUEST } from './matrix.js';
import { expectVerdict, refusalScenario } from './refusals.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

export const refuseKubeletToEtcd = refusalScenario({
  name: 'refuse-kubelet-to-etcd',
  title: EN('scenario.refuse-kubelet-to-etcd.title'),
  summary: EN('scenario.refuse-kubelet-to-etcd.summary'),
  async run(ctx, { pki, cluster, node }) {
    await ctx.step(ctx.t('refuseKubeletToEtcd.apiserverReadsRegistry.title'),
      ctx.t('refuseKubeletToEtcd.apiserverReadsRegistry.lesson'),
      async () => {
        const o = await probe(ctx.trace, { client: 'kube-apiserver', server: 'etcd', url: cluster.endpoints.etcd, identity: identityOf(pki, 'apiserver-etcd-client'), serverCa: caPem(pki, 'etcd/ca'), ...ETCD_REQUEST });
        expectVerdict(ctx, 'apiserver-etcd-client', o, { layer: 'none', decision: 'allowed', status: 200, reason: '' });
      });
    await ctx.step(ctx.t('refuseKubeletToEtcd.kubeletDialsEtcd.title', { node }),
      ctx.t('refuseKubeletToEtcd.kubeletDialsEtcd.lesson', { node }),
      async () => {
        const o = await probe(ctx.trace, { client: `kubelet (${node})`, server: 'etcd', url: cluster.endpoints.etcd, identity: identityOf(pki, kubeletClientName(node)), serverCa: caPem(pki, 'etcd/ca'), ...ETCD_REQUEST });
        expectVerdict(ctx, `kubelet (${node})`, o, { layer: 'tls', decision: 'handshake refused', refusedBy: 'server', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', reason: 'x509: certificate signed by unknown authority' });
        ctx.expect(ctx.t('refuseKubeletToEtcd.expectNoRequest'), !ctx.events.some((e) => e.type === 'request' && e.server === 'etcd' && e.user === `system:node:${node}`));
      });
  },
});
