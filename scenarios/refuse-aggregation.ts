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

const ADMIN_HEADERS = { 'X-Remote-User': 'system:admin', 'X-Remote-Group': ['system:masters'] };
const msUrl = (a: { address: string; port: number }): string => `https://${a.address}:${a.port}`;

export const refuseFrontProxyWrongCa = refusalScenario({
  name: 'refuse-front-proxy-wrong-ca',
  title: 'front-proxy-client from the wrong CA: metrics-server refuses the identity headers (401)',
  summary: 'A front-proxy-client certificate signed by a CA that is also called "front-proxy-ca" but is not the one in\n' +
    'requestheader-client-ca-file (a regenerated CA, a second control plane made apart): the handshake completes, then\n' +
    'neither the request-header nor the x509 authenticator verifies it, and metrics-server answers 401 (metrics-server#474).',
  async run(ctx, { pki, cluster }) {
    const { ms, stop } = await withMetricsServer(ctx, cluster);
    try {
      await ctx.step('front-proxy-client from another "front-proxy-ca", with X-Remote-User: kubernetes-admin',
        'What the aggregator would send if --proxy-client-cert-file came from a CA the extension does not trust.',
        async () => {
          const identity = await clientCert(pki, { foreignCaName: 'front-proxy-ca' }, 'front-proxy-client');
          const o = await probe(ctx.trace, { client: 'front proxy (wrong CA)', server: 'metrics-server', url: msUrl(ms.address!), serverCa: ms.caBundle, identity, method: 'GET', path: NODE_METRICS,
            headers: { 'X-Remote-User': 'kubernetes-admin', 'X-Remote-Group': ['kubeadm:cluster-admins'] } });
          expectVerdict(ctx, 'front proxy (wrong CA)', o, { layer: 'authentication', decision: 'unauthenticated', status: 401, reason: /certificate signed by unknown authority/ });
          ctx.expect('metrics-server names the candidate CA it tried', /while trying to verify candidate authority certificate "front-proxy-ca"/.test(o.detail ?? ''), o.detail);
        });
    } finally { await stop(); }
  },
});

export const refuseRequestheaderName = refusalScenario({
  name: 'refuse-requestheader-name',
  title: 'A front-proxy-ca certificate whose name is not in requestheader-allowed-names (401)',
  summary: 'The request-header CA is trusted only for the names in requestheader-allowed-names (kubeadm: front-proxy-client).\n' +
    'Any other certificate of that CA is refused by the request-header authenticator, and the x509 authenticator\n' +
    'does not know the CA: 401, whatever the headers say.',
  async run(ctx, { pki, cluster }) {
    const { ms, stop } = await withMetricsServer(ctx, cluster);
    try {
      await ctx.step('CN=aggregator-impostor from front-proxy-ca, claiming system:admin', 'The right CA, the wrong name.', async () => {
        const identity = await clientCert(pki, 'front-proxy-ca', 'aggregator-impostor');
        const o = await probe(ctx.trace, { client: 'aggregator-impostor', server: 'metrics-server', url: msUrl(ms.address!), serverCa: ms.caBundle, identity, method: 'GET', path: NODE_METRICS, headers: ADMIN_HEADERS });
        expectVerdict(ctx, 'aggregator-impostor', o, { layer: 'authentication', decision: 'unauthenticated', status: 401, reason: /subject with cn=aggregator-impostor is not in the allowed list/ });
      });
      await ctx.step('The same CA with the allowed name: front-proxy-client', 'Its headers are believed: this is the aggregator\'s own certificate.', async () => {
        const o = await probe(ctx.trace, { client: 'front-proxy-client', server: 'metrics-server', url: msUrl(ms.address!), serverCa: ms.caBundle, identity: identityOf(pki, 'front-proxy-client'), method: 'GET', path: NODE_METRICS,
          headers: { 'X-Remote-User': 'kubernetes-admin', 'X-Remote-Group': ['kubeadm:cluster-admins'] } });
        ctx.say(`front-proxy-client: HTTP ${o.status ?? '?'} as ${o.user ?? '?'} (${o.reason})`);
        ctx.expect('front-proxy-client\'s headers are taken: allowed as kubernetes-admin', o.decision === 'allowed' && o.user === 'kubernetes-admin' && o.reason === 'authenticated by requestheader', JSON.stringify(o));
      });
    } finally { await stop(); }
  },
});

export const refuseRemoteUserSpoof = refusalScenario({
  name: 'refuse-remote-user-spoof',
  title: 'X-Remote-User: system:admin with a Kubernetes-CA certificate straight to the extension (403 as itself)',
  summary: 'A client that can reach metrics-server directly sends X-Remote-User: system:admin and X-Remote-Group:\n' +
    'system:masters with its own certificate from the Kubernetes CA. Only front-proxy-ca certificates with an allowed\n' +
    'name may assert identity headers: the headers are ignored, the x509 authenticator makes it "mallory", and the\n' +
    'SubjectAccessReview for mallory is a 403. (Were the request-header CA the same as the client CA, this is where\n' +
    'anyone with a client certificate would become anyone: kubernetes/website#12890.)',
  async run(ctx, { pki, cluster }) {
    const { ms, stop } = await withMetricsServer(ctx, cluster);
    try {
      await ctx.step('mallory (Kubernetes CA) claims system:admin in the headers', 'The certificate verifies; the headers do not count.', async () => {
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
  title: 'metrics-server against self-signed kubelet serving certificates; the fix; --kubelet-insecure-tls',
  summary: "kubeadm's default kubelet serving certificate is self-signed (<node>-ca@<time>), so metrics-server, which checks\n" +
    'it against the cluster CA, cannot scrape that node and `kubectl top` has nothing for it (metrics-server#196,\n' +
    'kubeadm#1223). CA-signed serving certificates (serverTLSBootstrap or, here, the PKI\'s) fix it. --kubelet-insecure-tls\n' +
    'also makes the error go away, by checking nothing: whoever answers at the node\'s address gets the token.',
  async run(ctx, { pki, cluster, node }) {
    const kubelet = cluster.kubelets.get(node);
    if (!kubelet) throw new Error(`no kubelet for ${node}`);
    await ctx.step(`${node}'s kubelet serves kubeadm's self-signed pair`, 'A throw-away CA "<node>-ca@<unix>" signs "<node>@<unix>"; nobody else trusts it.', async () => {
      const spec = pki.table.certs.find((c) => c.name === kubeletServingName(node)) as LeafSpec;
      const leaf = await issueLeaf(spec, 'self', pki.plan.keyAlgorithm, new Date());
      kubelet.reloadTls({ servingIdentity: { cert: leaf.certPem, key: privateKeyPem(leaf.key.privateKey) } });
      ctx.expect('the serving certificate is self-signed', leaf.cert.issuer.includes(`${node}-ca@`));
    });
    const strict = await withMetricsServer(ctx, cluster);
    try {
      await ctx.step('metrics-server scrapes it', 'It checks the kubelet\'s certificate against the cluster CA: the handshake fails, and it logs why.', async () => {
        await twoScrapes(strict.ms);
        const err = strict.ms.scrapeErrors.get(node) ?? '';
        ctx.say(`E scraper.go:149] "Failed to scrape node" err=${JSON.stringify(err)} node="${node}"`);
        ctx.expect('the scrape failed with x509: certificate signed by unknown authority',
          /^Get "https:\/\/[^"]+\/metrics\/resource": tls: failed to verify certificate: x509: certificate signed by unknown authority$/.test(err), err);
        const admin = cluster.client('admin.conf', 'kubectl');
        const list = await admin.request<{ items: { metadata: { name?: string } }[] }>('GET', NODE_METRICS);
        ctx.expect(`kubectl top nodes has nothing for ${node}`, !list.items.some((i) => i.metadata.name === node));
      });
      await ctx.step('The fix: a serving certificate from the cluster CA', 'What serverTLSBootstrap and an approved kubelet-serving CSR give (here: the PKI\'s kubelet.crt).', async () => {
        kubelet.reloadTls({ servingIdentity: identityOf(pki, kubeletServingName(node)) });
        await twoScrapes(strict.ms);
        ctx.expect('the scrape works', strict.ms.scrapeErrors.get(node) === '', strict.ms.scrapeErrors.get(node));
      });
    } finally { await strict.stop(); }
    await ctx.step('The shortcut: --kubelet-insecure-tls, against the self-signed pair again',
      'No error, because nothing is checked: the same finding as CIS 1.2.5 for the apiserver without\n' +
      '--kubelet-certificate-authority; here the service-account token goes to whoever serves the node\'s address.',
      async () => {
        const spec = pki.table.certs.find((c) => c.name === kubeletServingName(node)) as LeafSpec;
        const leaf = await issueLeaf(spec, 'self', pki.plan.keyAlgorithm, new Date(), generateKey(pki.plan.keyAlgorithm));
        kubelet.reloadTls({ servingIdentity: { cert: leaf.certPem, key: privateKeyPem(leaf.key.privateKey) } });
        const insecure = await withMetricsServer(ctx, cluster, { kubeletInsecureTls: true });
        try {
          await twoScrapes(insecure.ms);
          ctx.expect('the scrape "works" without verifying the kubelet', insecure.ms.scrapeErrors.get(node) === '', insecure.ms.scrapeErrors.get(node));
          ctx.say('CIS-style finding: metrics-server runs with --kubelet-insecure-tls: kubelet serving certificates are not verified.');
        } finally {
          await insecure.stop();
          kubelet.reloadTls({ servingIdentity: identityOf(pki, kubeletServingName(node)) });
        }
      });
  },
});
