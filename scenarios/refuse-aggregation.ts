/**
 * The aggregation layer's refusals, each decided by metrics-server over a real connection:
 *   refuse-front-proxy-wrong-ca      front-proxy-client from a CA also named front-proxy-ca (another key): 401
 *   refuse-requestheader-name        a front-proxy-ca certificate whose CN is not in requestheader-allowed-names: 401
 *   refuse-remote-user-spoof         X-Remote-User: system:admin with a Kubernetes-CA certificate: the header is
 *                                    ignored, the certificate's CN is the user, and RBAC says 403
 *   refuse-kubelet-self-signed       metrics-server against a kubelet with kubeadm's self-signed serving pair:
 *                                    the x509 error it logs; CA-signed serving certificates fix it;
 *                                    --kubelet-insecure-tls "fixes" it by checking nothing
 */
import { kubeletServingName } from '../pki/store.js';
import { generateKey, issueLeaf, privateKeyPem } from '../pki/issue.js';
import type { LeafSpec } from '../pki/spec.js';
import { identityOf } from '../sim/cluster.js';
import { probe } from '../sim/probe.js';
import { expectVerdict, refusalScenario } from './refusals.js';
import { clientCert, NODE_METRICS, twoScrapes, withMetricsServer } from './metrics-server-setup.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the titles and summaries `--list` and the runner fall back to. */
const EN = translator('en');

const ADMIN_HEADERS = { 'X-Remote-User': 'system:admin', 'X-Remote-Group': ['system:masters'] };
const msUrl = (a: { address: string; port: number }): string => `https://${a.address}:${a.port}`;

export const refuseFrontProxyWrongCa = refusalScenario({
  name: 'refuse-front-proxy-wrong-ca',
  title: EN('scenario.refuse-front-proxy-wrong-ca.title'),
  summary: EN('scenario.refuse-front-proxy-wrong-ca.summary'),
  async run(ctx, { pki, cluster }) {
    const { ms, stop } = await withMetricsServer(ctx, cluster);
    try {
      await ctx.step(ctx.t('scenario.refuse-front-proxy-wrong-ca.wrongCa.title'),
        ctx.t('scenario.refuse-front-proxy-wrong-ca.wrongCa.lesson'),
        async () => {
          const identity = await clientCert(pki, { foreignCaName: 'front-proxy-ca' }, 'front-proxy-client');
          const o = await probe(ctx.trace, { client: 'front proxy (wrong CA)', server: 'metrics-server', url: msUrl(ms.address!), serverCa: ms.caBundle, identity, method: 'GET', path: NODE_METRICS,
            headers: { 'X-Remote-User': 'kubernetes-admin', 'X-Remote-Group': ['kubeadm:cluster-admins'] } });
          expectVerdict(ctx, 'front proxy (wrong CA)', o, // verbatim: the client's name in the trace
            { layer: 'authentication', decision: 'unauthenticated', status: 401, reason: /certificate signed by unknown authority/ });
          ctx.expect(ctx.t('scenario.refuse-front-proxy-wrong-ca.wrongCa.expectCandidate'), /while trying to verify candidate authority certificate "front-proxy-ca"/.test(o.detail ?? ''), o.detail);
        });
    } finally { await stop(); }
  },
});

export const refuseRequestheaderName = refusalScenario({
  name: 'refuse-requestheader-name',
  title: EN('scenario.refuse-requestheader-name.title'),
  summary: EN('scenario.refuse-requestheader-name.summary'),
  async run(ctx, { pki, cluster }) {
    const { ms, stop } = await withMetricsServer(ctx, cluster);
    try {
      await ctx.step(ctx.t('scenario.refuse-requestheader-name.impostor.title'), ctx.t('scenario.refuse-requestheader-name.impostor.lesson'), async () => {
        const identity = await clientCert(pki, 'front-proxy-ca', 'aggregator-impostor');
        const o = await probe(ctx.trace, { client: 'aggregator-impostor', server: 'metrics-server', url: msUrl(ms.address!), serverCa: ms.caBundle, identity, method: 'GET', path: NODE_METRICS, headers: ADMIN_HEADERS });
        expectVerdict(ctx, 'aggregator-impostor', o, { layer: 'authentication', decision: 'unauthenticated', status: 401, reason: /subject with cn=aggregator-impostor is not in the allowed list/ });
      });
      await ctx.step(ctx.t('scenario.refuse-requestheader-name.allowed.title'), ctx.t('scenario.refuse-requestheader-name.allowed.lesson'), async () => {
        const o = await probe(ctx.trace, { client: 'front-proxy-client', server: 'metrics-server', url: msUrl(ms.address!), serverCa: ms.caBundle, identity: identityOf(pki, 'front-proxy-client'), method: 'GET', path: NODE_METRICS,
          headers: { 'X-Remote-User': 'kubernetes-admin', 'X-Remote-Group': ['kubeadm:cluster-admins'] } });
        ctx.say(ctx.t('scenario.refuse-requestheader-name.allowed.say', { status: o.status ?? '?', user: o.user ?? '?', reason: o.reason }));
        ctx.expect(ctx.t('scenario.refuse-requestheader-name.allowed.expect'), o.decision === 'allowed' && o.user === 'kubernetes-admin' && o.reason === 'authenticated by requestheader', JSON.stringify(o));
      });
    } finally { await stop(); }
  },
});

export const refuseRemoteUserSpoof = refusalScenario({
  name: 'refuse-remote-user-spoof',
  title: EN('scenario.refuse-remote-user-spoof.title'),
  summary: EN('scenario.refuse-remote-user-spoof.summary'),
  async run(ctx, { pki, cluster }) {
    const { ms, stop } = await withMetricsServer(ctx, cluster);
    try {
      await ctx.step(ctx.t('scenario.refuse-remote-user-spoof.mallory.title'), ctx.t('scenario.refuse-remote-user-spoof.mallory.lesson'), async () => {
        const identity = await clientCert(pki, 'ca', 'mallory');
        const o = await probe(ctx.trace, { client: 'mallory', server: 'metrics-server', url: msUrl(ms.address!), serverCa: ms.caBundle, identity, method: 'GET', path: NODE_METRICS, headers: ADMIN_HEADERS });
        expectVerdict(ctx, 'mallory', o, {
          layer: 'authorization', decision: 'forbidden', status: 403, user: 'mallory',
          reason: 'nodes.metrics.k8s.io is forbidden: User "mallory" cannot list resource "nodes" in API group "metrics.k8s.io" at the cluster scope',
        });
      });
    } finally { await stop(); }
  },
});

export const refuseKubeletSelfSigned = refusalScenario({
  name: 'refuse-kubelet-self-signed',
  title: EN('scenario.refuse-kubelet-self-signed.title'),
  summary: EN('scenario.refuse-kubelet-self-signed.summary'),
  async run(ctx, { pki, cluster, node }) {
    const kubelet = cluster.kubelets.get(node);
    if (!kubelet) throw new Error(`no kubelet for ${node}`);
    await ctx.step(ctx.t('scenario.refuse-kubelet-self-signed.selfSigned.title', { node }), ctx.t('scenario.refuse-kubelet-self-signed.selfSigned.lesson'), async () => {
      const spec = pki.table.certs.find((c) => c.name === kubeletServingName(node)) as LeafSpec;
      const leaf = await issueLeaf(spec, 'self', pki.plan.keyAlgorithm, new Date());
      kubelet.reloadTls({ servingIdentity: { cert: leaf.certPem, key: privateKeyPem(leaf.key.privateKey) } });
      ctx.expect(ctx.t('scenario.refuse-kubelet-self-signed.selfSigned.expect'), leaf.cert.issuer.includes(`${node}-ca@`));
    });
    const strict = await withMetricsServer(ctx, cluster);
    try {
      await ctx.step(ctx.t('scenario.refuse-kubelet-self-signed.scrape.title'), ctx.t('scenario.refuse-kubelet-self-signed.scrape.lesson'), async () => {
        await twoScrapes(strict.ms);
        const err = strict.ms.scrapeErrors.get(node) ?? '';
        ctx.say(`E scraper.go:149] "Failed to scrape node" err=${JSON.stringify(err)} node="${node}"`); // verbatim: metrics-server's log line
        ctx.expect(ctx.t('scenario.refuse-kubelet-self-signed.scrape.expectFailed'),
          /^Get "https:\/\/[^"]+\/metrics\/resource": tls: failed to verify certificate: x509: certificate signed by unknown authority$/.test(err), err);
        const admin = cluster.client('admin.conf', 'kubectl');
        const list = await admin.request<{ items: { metadata: { name?: string } }[] }>('GET', NODE_METRICS);
        ctx.expect(ctx.t('scenario.refuse-kubelet-self-signed.scrape.expectNothing', { node }), !list.items.some((i) => i.metadata.name === node));
      });
      await ctx.step(ctx.t('scenario.refuse-kubelet-self-signed.fix.title'), ctx.t('scenario.refuse-kubelet-self-signed.fix.lesson'), async () => {
        kubelet.reloadTls({ servingIdentity: identityOf(pki, kubeletServingName(node)) });
        await twoScrapes(strict.ms);
        ctx.expect(ctx.t('scenario.refuse-kubelet-self-signed.fix.expect'), strict.ms.scrapeErrors.get(node) === '', strict.ms.scrapeErrors.get(node));
      });
    } finally { await strict.stop(); }
    await ctx.step(ctx.t('scenario.refuse-kubelet-self-signed.insecure.title'),
      ctx.t('scenario.refuse-kubelet-self-signed.insecure.lesson'),
      async () => {
        const spec = pki.table.certs.find((c) => c.name === kubeletServingName(node)) as LeafSpec;
        const leaf = await issueLeaf(spec, 'self', pki.plan.keyAlgorithm, new Date(), generateKey(pki.plan.keyAlgorithm));
        kubelet.reloadTls({ servingIdentity: { cert: leaf.certPem, key: privateKeyPem(leaf.key.privateKey) } });
        const insecure = await withMetricsServer(ctx, cluster, { kubeletInsecureTls: true });
        try {
          await twoScrapes(insecure.ms);
          ctx.expect(ctx.t('scenario.refuse-kubelet-self-signed.insecure.expect'), insecure.ms.scrapeErrors.get(node) === '', insecure.ms.scrapeErrors.get(node));
          ctx.say(ctx.t('scenario.refuse-kubelet-self-signed.insecure.say'));
        } finally {
          await insecure.stop();
          kubelet.reloadTls({ servingIdentity: identityOf(pki, kubeletServingName(node)) });
        }
      });
  },
});
