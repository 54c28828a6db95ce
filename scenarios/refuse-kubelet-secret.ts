/** Refusal: a kubelet reading a Secret no pod on its node uses: 403 from the Node authorizer. */
import { caPem, kubeletClientName } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario, runningPodOn } from './refusals.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

export const refuseKubeletSecret = refusalScenario({
  name: 'refuse-kubelet-secret',
  title: EN('scenario.refuse-kubelet-secret.title'),
  summary: EN('scenario.refuse-kubelet-secret.summary'),
  async run(ctx, { pki, cluster, node }) {
    const admin = cluster.client('admin.conf', 'kubectl');
    const as = { client: `kubelet (${node})`, server: 'kube-apiserver', url: cluster.apiserverUrl, identity: identityOf(pki, kubeletClientName(node)), serverCa: caPem(pki, 'ca'), method: 'GET', path: '/api/v1/namespaces/default/secrets/db-password' };
    await ctx.step(ctx.t('refuseKubeletSecret.secretThatNo.title'),
      ctx.t('refuseKubeletSecret.secretThatNo.lesson', { node }),
      async () => {
        await admin.create('/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-password', namespace: 'default' }, type: 'Opaque', data: { password: Buffer.from('s3cret').toString('base64') } });
        const o = await probe(ctx.trace, as);
        expectVerdict(ctx, ctx.t('refuseKubeletSecret.whoReads', { node }), o, { layer: 'authorization', decision: 'forbidden', status: 403, user: `system:node:${node}`,
          reason: `secrets "db-password" is forbidden: User "system:node:${node}" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node '${node}' and this object` });
      });
    await ctx.step(ctx.t('refuseKubeletSecret.podNodeMounts.title', { node }),
      ctx.t('refuseKubeletSecret.podNodeMounts.lesson'),
      async () => {
        await runningPodOn(admin, node, 'db', { volumes: [{ name: 'pw', secret: { secretName: 'db-password' } }] });
        const o = await probe(ctx.trace, as);
        expectVerdict(ctx, ctx.t('refuseKubeletSecret.whoReads', { node }), o, { layer: 'none', decision: 'allowed', status: 200, user: `system:node:${node}`, reason: /.*/ });
      });
  },
});
