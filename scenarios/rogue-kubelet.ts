/**
 * A rogue kubelet (a serving certificate from a foreign CA at node-1's address): accepted by an apiserver
 * that does not verify kubelets (kubeadm's default; CIS 1.2.5), refused by one with
 * --kubelet-certificate-authority.
 */
import { kubeletServingName } from '../pki/store.js';
import { generateKey, issueLeaf, privateKeyPem, selfSignCa } from '../pki/issue.js';
import type { LeafSpec } from '../pki/spec.js';
import { identityOf } from '../sim/cluster.js';
import { extraApiserver, podLogs, refusalScenario, runningPodOn } from './refusals.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

export const rogueKubelet = refusalScenario({
  name: 'rogue-kubelet',
  title: EN('scenario.rogue-kubelet.title'),
  summary: EN('scenario.rogue-kubelet.summary'),
  async run(ctx, { pki, cluster, node }) {
    const kubelet = cluster.kubelets.get(node);
    if (!kubelet) throw new Error(`no kubelet for ${node}`);
    const admin = cluster.client('admin.conf', 'kubectl');
    await ctx.step(ctx.t('rogueKubelet.podNode.title', { node }), ctx.t('rogueKubelet.podNode.lesson'), async () => {
      const pod = await runningPodOn(admin, node, 'payroll');
      ctx.expect(ctx.t('rogueKubelet.expectRunning', { node }), pod.status?.phase === 'Running' && pod.spec.nodeName === node);
    });
    await ctx.step(ctx.t('rogueKubelet.nodeSAddress.title', { node }),
      ctx.t('rogueKubelet.nodeSAddress.lesson'),
      async () => {
        const spec = pki.table.certs.find((c) => c.name === kubeletServingName(node)) as LeafSpec;
        const now = new Date();
        const rogueCa = selfSignCa({ name: 'rogue-ca', cn: 'rogue-ca' }, await generateKey('ecdsa-p256'), now);
        const leaf = await issueLeaf(spec, rogueCa, 'ecdsa-p256', now);
        await kubelet.reloadTls({ servingIdentity: { cert: leaf.certPem, key: privateKeyPem(leaf.key.privateKey) } });
        ctx.expect(ctx.t('rogueKubelet.expectRogueCa'), leaf.cert.issuer.includes('CN=rogue-ca'));
      });
    await ctx.step(ctx.t('rogueKubelet.clusterSApiserver.title'),
      ctx.t('rogueKubelet.clusterSApiserver.lesson'),
      async () => {
        const mark = ctx.events.length;
        const r = await podLogs(admin, 'payroll');
        ctx.say(`kubectl logs: HTTP ${r.status} ${r.body.slice(0, 300)}`); // verbatim: the HTTP status and body
        ctx.expect(ctx.t('rogueKubelet.expect500', { reason: 'tls: failed to verify certificate: x509: certificate signed by unknown authority' }),
          r.status === 500 && r.body.includes('tls: failed to verify certificate: x509: certificate signed by unknown authority'), r.body.slice(0, 300));
        const hop = ctx.since(mark).find((e) => e.type === 'tls-client' && e.client === 'kube-apiserver' && e.server === `kubelet (${node})`);
        ctx.expect(ctx.t('rogueKubelet.expectRefused', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
          hop?.type === 'tls-client' && hop.handshake === 'refused' && hop.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' && hop.trusts === 'kubernetes', JSON.stringify(hop));
        ctx.expect(ctx.t('rogueKubelet.expectNoRequest'), !ctx.since(mark).some((e) => e.type === 'request' && e.server === `kubelet (${node})`));
      });
    await ctx.step(ctx.t('rogueKubelet.apiserverKubeadmSets.title'),
      ctx.t('rogueKubelet.apiserverKubeadmSets.lesson'),
      async () => {
        const kubeadm = await extraApiserver(ctx, { kubeletClientCert: true, verifyKubelets: false });
        try {
          const mark = ctx.events.length;
          const r = await podLogs(kubeadm.admin, 'payroll');
          ctx.say(`kubectl logs: HTTP ${r.status}; ${r.body.split('\n')[0] ?? ''}`); // verbatim: the HTTP status and body
          ctx.expect(ctx.t('rogueKubelet.expectLog200'), r.status === 200 && r.body.length > 0, `HTTP ${r.status} ${r.body.slice(0, 200)}`);
          const hop = ctx.since(mark).find((e) => e.type === 'tls-client' && e.client === 'kube-apiserver' && e.server === `kubelet (${node})`);
          ctx.expect(ctx.t('rogueKubelet.expectTrustedNothing'),
            hop?.type === 'tls-client' && hop.handshake === 'ok' && hop.trusts === 'none' && hop.serverCert?.issuer === 'rogue-ca', JSON.stringify(hop));
          const got = ctx.since(mark).find((e) => e.type === 'request' && e.server === `kubelet (${node})`);
          ctx.expect(ctx.t('rogueKubelet.expectAdminCert'), got?.type === 'request' && got.user === 'kube-apiserver-kubelet-client', JSON.stringify(got));
        } finally {
          await kubeadm.stop();
        }
      });
    await ctx.step(ctx.t('rogueKubelet.realServingCertificate.title'), ctx.t('rogueKubelet.realServingCertificate.lesson'), async () => {
      await kubelet.reloadTls({ servingIdentity: identityOf(pki, kubeletServingName(node)) });
      const r = await podLogs(admin, 'payroll');
      ctx.expect(ctx.t('rogueKubelet.expectAgain'), r.status === 200, `HTTP ${r.status}`);
    });
  },
});
