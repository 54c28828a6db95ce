/**
 * `npm run scenario -- join-node`: a worker joins with nothing but the apiserver's address, a bootstrap
 * token and the CA's public-key hash (kubeadm join ... --token --discovery-token-ca-cert-hash).
 *
 *   1. kubeadm init wrote kube-public/cluster-info (the CA and the server, readable anonymously); the
 *      controller-manager's bootstrap signer adds `jws-kubeconfig-<id>` for each signing token.
 *   2. Discovery: an anonymous, unverified read; the JWS proves the content came from someone holding
 *      the token; the CA is pinned by its key hash; a second read over verified TLS.
 *   3. TLS bootstrap: as system:bootstrap:<id> the kubelet posts a CSR; csrapproving approves it after a
 *      SubjectAccessReview (certificatesigningrequests/nodeclient), csrsigning signs it with ca.key.
 *   4. The kubelet runs as system:node:<name> and runs a pod.
 * Then every way it goes wrong, in kubeadm's words.
 */
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CertificateSigningRequest } from '../components/api/certificates.js';
import { ApiError, KubeClient, resourcePath } from '../components/client/kube-client.js';
import { discover, JoinError, newKubeletKey, requestCertificate, tlsBootstrap, type Bootstrapped, type DiscoveredCluster } from '../components/kubelet/bootstrap.js';
import { Kubelet } from '../components/kubelet/index.js';
import type { KubeObject, Pod } from '../components/api/types.js';
import { generateKey, privateKeyPem, selfSignCa, signCsr } from '../pki/issue.js';
import { nodePlan } from '../pki/spec.js';
import { caPem, issuePki } from '../pki/store.js';
import { createCsr } from '../pki/x509.js';
import { caCertHash, createBootstrapToken } from '../sim/join.js';
import { createLogger } from '../sim/logger.js';
import type { Scenario } from '../sim/scenario.js';
import type { RequestEvent, TlsClientEvent } from '../components/client/trace.js';
import { waitFor } from '../sim/wait.js';
import { inJoinWorkspace, waitForSignature } from './node-join.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

const CSRS = resourcePath({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests' });
const DISCOVERY = { timeoutMs: 2000, intervalMs: 200 };

const failureOf = async (p: Promise<unknown>): Promise<Error | undefined> => p.then(() => undefined, (e: unknown) => (e instanceof Error ? e : new Error(String(e))));

export const joinNode: Scenario = {
  name: 'join-node',
  title: EN('scenario.join-node.title'),
  summary: EN('scenario.join-node.summary'),
  needsCluster: false,
  async run(ctx) {
    await inJoinWorkspace(ctx, 'k8s-join-', async (w) => {
      const started = await ctx.step(ctx.t('scenario.join-node.init.title'),
        ctx.t('scenario.join-node.init.lesson'),
        async () => {
          const s = await w.startCluster();
          const { token, secret } = await createBootstrapToken(s.admin, { now: new Date(), description: 'join-node scenario' });
          const id = token.split('.')[0]!;
          const data = await waitForSignature(s.admin, id);
          const hash = caCertHash(caPem(ctx.pki, 'ca'));
          ctx.say(ctx.t('scenario.join-node.init.saySecret', { name: secret.metadata.name ?? '' }));
          ctx.say(ctx.t('scenario.join-node.init.sayKeys', { keys: Object.keys(data).sort().join(', ') }));
          ctx.say(`kubeadm join ${new URL(s.cluster.apiserverUrl).host} --token ${token} \\\n    --discovery-token-ca-cert-hash ${hash}`); // verbatim: kubeadm's command line
          ctx.expect(ctx.t('scenario.join-node.init.expect', { id }), data[`jws-kubeconfig-${id}`] !== undefined);
          return { ...s, token, id, hash };
        }, { show: () => false });
      const { cluster, admin, token, id, hash } = started;
      const apiserver = cluster.apiserverUrl;

      const mark = ctx.events.length;
      const found: DiscoveredCluster = await ctx.step(ctx.t('scenario.join-node.discovery.title'),
        ctx.t('scenario.join-node.discovery.lesson'),
        async () => {
          const d = await discover({ apiserver, token, caCertHashes: [hash], trace: ctx.trace, ...DISCOVERY });
          const dials = ctx.since(mark).filter((e): e is TlsClientEvent => e.type === 'tls-client' && e.client.startsWith('kubeadm join'));
          ctx.expect(ctx.t('scenario.join-node.discovery.expectUnverified'), dials.some((e) => e.client.endsWith('TLS unverified)') && e.trusts === 'none' && e.handshake === 'ok'));
          ctx.expect(ctx.t('scenario.join-node.discovery.expectPinned'), dials.some((e) => e.client.endsWith('TLS pinned)') && e.trusts === 'kubernetes' && e.handshake === 'ok'));
          const reads = ctx.since(mark).filter((e): e is RequestEvent => e.type === 'request' && e.path.includes('cluster-info') && e.method === 'GET');
          ctx.expect(ctx.t('scenario.join-node.discovery.expectAnonymous'), reads.length >= 2 && reads.every((r) => r.user === 'system:anonymous' && r.status === 200));
          ctx.expect(ctx.t('scenario.join-node.discovery.expectCa'), d.caPem === caPem(ctx.pki, 'ca'));
          return d;
        }, { show: (client) => client.startsWith('kubeadm join') });

      const boot: Bootstrapped = await ctx.step(ctx.t('scenario.join-node.bootstrap.title'),
        ctx.t('scenario.join-node.bootstrap.lesson'),
        async () => {
          const b = await tlsBootstrap({ nodeName: 'node-3', server: found.server, caPem: found.caPem, token, dir: w.dir, trace: ctx.trace, waitTimeoutMs: 20_000 });
          const csr = await admin.get<CertificateSigningRequest>(`${CSRS}/${b.csrName}`);
          const cert = new X509Certificate(b.identity.cert);
          const approved = csr.status?.conditions?.find((c) => c.type === 'Approved');
          ctx.say(ctx.t('scenario.join-node.bootstrap.sayCsr', { csr: b.csrName, user: csr.spec.username ?? '', groups: (csr.spec.groups ?? []).join(', ') }));
          ctx.say(`Approved: ${approved?.reason ?? ''} — ${approved?.message ?? ''}`); // verbatim: the CSR's condition
          ctx.expect(ctx.t('scenario.join-node.bootstrap.expectRequester', { id }), csr.spec.username === `system:bootstrap:${id}`);
          ctx.expect(ctx.t('scenario.join-node.bootstrap.expectApproved'),
            approved?.reason === 'AutoApproved' && approved.message === 'Auto approving kubelet client certificate after SubjectAccessReview.');
          ctx.expect(ctx.t('scenario.join-node.bootstrap.expectCert'),
            cert.subject === 'O=system:nodes\nCN=system:node:node-3' && cert.verify(new X509Certificate(caPem(ctx.pki, 'ca')).publicKey));
          const modes = await Promise.all(b.files.map(async (f) => (await fs.stat(path.join(w.dir, f))).mode & 0o777));
          ctx.expect(ctx.t('scenario.join-node.bootstrap.expectModes'), b.files.length === 2 && modes.every((m) => m === 0o600));
          return b;
        }, { show: (client) => client.includes('bootstrap') });

      await ctx.step(ctx.t('scenario.join-node.runs.title'),
        ctx.t('scenario.join-node.runs.lesson'),
        async () => {
          const plan = nodePlan('node-3', 2, ctx.pki.plan.loopback);
          const now = new Date();
          const stamp = Math.floor(now.getTime() / 1000);
          const [caKey, key] = await Promise.all([generateKey('ecdsa-p256'), generateKey('ecdsa-p256')]);
          const own = selfSignCa({ name: 'node-3-ca', cn: `node-3-ca@${stamp}` }, caKey, now);
          const serving = signCsr(createCsr({ cn: `node-3@${stamp}`, o: [] }, { dns: ['node-3'], ip: [plan.ip] }, key), own, { usages: ['serverAuth'], now });
          const kubelet = new Kubelet({
            nodeName: 'node-3', nodeIP: plan.ip, podCIDR: plan.podCIDR, apiserver: found.server, identity: boot.identity, serverCa: found.caPem,
            servingIdentity: { cert: serving.toString() + own.cert.toString(), key: privateKeyPem(key.privateKey) }, clientCa: found.caPem, port: 0,
          }, { logger: createLogger(), trace: ctx.trace });
          await kubelet.start();
          w.defer(() => kubelet.stop());
          await admin.create(resourcePath({ resource: 'pods', namespace: 'default' }), {
            apiVersion: 'v1', kind: 'Pod', metadata: { name: 'hello', namespace: 'default' }, spec: { containers: [{ name: 'hello', image: 'nginx:1.27' }] },
          } as KubeObject);
          const pod = await waitFor('pod hello running', async () => {
            const p = await admin.get<Pod>(resourcePath({ resource: 'pods', namespace: 'default', name: 'hello' }));
            return p.status?.phase === 'Running' ? p : undefined;
          }, 20_000);
          ctx.expect(ctx.t('scenario.join-node.runs.expectRegistered'), ctx.events.some((e) => e.type === 'request' && e.user === 'system:node:node-3' && e.method === 'POST' && e.path === '/api/v1/nodes' && e.status === 201));
          ctx.expect(ctx.t('scenario.join-node.runs.expectPod', { ip: pod.status?.podIP ?? '' }), pod.spec.nodeName === 'node-3' && pod.status?.phase === 'Running');
        }, { show: (client) => client === 'kubelet (node-3)' });

      await ctx.step(ctx.t('scenario.join-node.wrongHash.title'),
        ctx.t('scenario.join-node.wrongHash.lesson'),
        async () => {
          const foreign = await issuePki({ nodes: [] });
          const err = await failureOf(discover({ apiserver, token, caCertHashes: [caCertHash(caPem(foreign, 'ca'))], trace: ctx.trace, name: 'kubeadm join (wrong hash)', ...DISCOVERY }));
          ctx.say(ctx.t('scenario.join-node.error', { message: err?.message ?? ctx.t('scenario.join-node.none') }));
          ctx.expect(`"cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${hash}" are pinned"`, // verbatim: kubeadm's error
            err instanceof JoinError && err.message === `cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${hash}" are pinned`);
        }, { show: (client) => client.startsWith('kubeadm join (wrong hash)') });

      await ctx.step(ctx.t('scenario.join-node.unknownToken.title'),
        ctx.t('scenario.join-node.unknownToken.lesson'),
        async () => {
          const err = await failureOf(discover({ apiserver, token: 'zzzzzz.0123456789abcdef', caCertHashes: [hash], trace: ctx.trace, name: 'kubeadm join (unknown token)', ...DISCOVERY }));
          ctx.say(ctx.t('scenario.join-node.error', { message: err?.message ?? ctx.t('scenario.join-node.none') }));
          ctx.expect('"could not find a JWS signature in the cluster-info ConfigMap for token ID "zzzzzz""', // verbatim: kubeadm's error
            err?.message === 'could not find a JWS signature in the cluster-info ConfigMap for token ID "zzzzzz"');
          const c = new KubeClient({ name: 'kubelet (bootstrap, unknown token)', server: apiserver, serverCa: found.caPem, token: 'zzzzzz.0123456789abcdef', trace: ctx.trace });
          try {
            const e = await failureOf(c.list(CSRS));
            ctx.expect(ctx.t('scenario.join-node.unknownToken.expect401'), e instanceof ApiError && e.httpStatus === 401);
          } finally {
            c.close();
          }
        }, { show: (client) => client.includes('unknown token') });

      await ctx.step(ctx.t('scenario.join-node.expiredToken.title'),
        ctx.t('scenario.join-node.expiredToken.lesson'),
        async () => {
          const short = await createBootstrapToken(admin, { now: new Date(), ttlMs: 2000 });
          const sid = short.token.split('.')[0]!;
          await waitForSignature(admin, sid, true);
          await waitForSignature(admin, sid, false);
          const err = await failureOf(discover({ apiserver, token: short.token, caCertHashes: [hash], trace: ctx.trace, name: 'kubeadm join (expired token)', ...DISCOVERY }));
          ctx.say(ctx.t('scenario.join-node.error', { message: err?.message ?? ctx.t('scenario.join-node.none') }));
          ctx.expect(`"could not find a JWS signature in the cluster-info ConfigMap for token ID "${sid}""`, // verbatim: kubeadm's error
            err?.message === `could not find a JWS signature in the cluster-info ConfigMap for token ID "${sid}"`);
          const c = new KubeClient({ name: 'kubelet (bootstrap, expired token)', server: apiserver, serverCa: found.caPem, token: short.token, trace: ctx.trace });
          try {
            const e = await failureOf(c.list(CSRS));
            ctx.expect(ctx.t('scenario.join-node.expiredToken.expect401'), e instanceof ApiError && e.httpStatus === 401);
          } finally {
            c.close();
          }
        }, { show: (client) => client.includes('expired token') });

      for (const [title, subject, sans, reason] of [
        [ctx.t('scenario.join-node.masters.title'), { cn: 'system:node:node-4', o: ['system:nodes', 'system:masters'] }, { dns: [], ip: [] }, 'subject organization is not system:nodes'],
        [ctx.t('scenario.join-node.san.title'), { cn: 'system:node:node-4', o: ['system:nodes'] }, { dns: ['node-4.example'], ip: [] }, 'DNS subjectAltNames are not allowed'],
      ] as const) {
        await ctx.step(title,
          ctx.t('scenario.join-node.shape.lesson'),
          async () => {
            const c = new KubeClient({ name: 'kubelet (bootstrap)', server: apiserver, serverCa: found.caPem, token, trace: ctx.trace });
            try {
              const csr = await requestCertificate(c, await newKubeletKey(), { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', subject, sans, usages: ['digital signature', 'client auth'] });
              const name = csr.metadata.name ?? '';
              const approver = cluster.controllerManager!.csrApprover!;
              const decision = await waitFor('csrapproving to look at the CSR', () => approver.decisions.get(name), 10_000);
              await cluster.controllerManager!.idle();
              const stored = await admin.get<CertificateSigningRequest>(`${CSRS}/${name}`);
              ctx.say(`csrapproving: couldn't validate kubelet client csr: ${decision.outcome === 'not-recognized' ? decision.reason : decision.outcome}`); // verbatim: csrapproving's log line
              ctx.expect(ctx.t('scenario.join-node.shape.expectNotApproved', { reason }), decision.outcome === 'not-recognized' && decision.reason === reason);
              ctx.expect(ctx.t('scenario.join-node.shape.expectPending', { csr: name }), (stored.status?.conditions ?? []).length === 0 && !stored.status?.certificate);
            } finally {
              c.close();
            }
          }, { show: (client) => client === 'kubelet (bootstrap)' });
      }
    });
  },
};
