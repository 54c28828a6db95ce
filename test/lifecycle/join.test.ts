import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { bootstrapTokenSecret, computeDetachedSignature, detachedTokenIsValid, KUBEADM_DEFAULT_NODE_TOKEN_GROUP } from '../../components/api/bootstrap-token.js';
import { ApiError, KubeClient, resourcePath } from '../../components/client/kube-client.js';
import { discover, JoinError, newKubeletKey, requestCertificate, tlsBootstrap, waitForCertificate } from '../../components/kubelet/bootstrap.js';
import { certificate } from '../../components/kubectl/index.js';
import { Kubelet } from '../../components/kubelet/index.js';
import type { CertificateSigningRequest } from '../../components/api/certificates.js';
import { nodePlan } from '../../pki/spec.js';
import { caPem, issuePki, type Pki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { caCertHash, createBootstrapToken } from '../../sim/join.js';
import { silentLogger } from '../../sim/logger.js';
import { Trace, type RequestEvent, type TlsClientEvent } from '../../components/client/trace.js';
import { TraceRecorder } from '../../sim/trace.js';
import { waitFor } from '../../sim/wait.js';
import type { KubeObject } from '../../components/api/types.js';

const CSRS = resourcePath({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests' });

describe('node join (discovery, bootstrap token, CSR approval and signing)', function () {
  this.timeout(60_000);
  let pki: Pki;
  let foreign: Pki;
  let cluster: Cluster;
  let trace: Trace;
  let recorder: TraceRecorder;
  let admin: KubeClient;
  let hash: string;
  before(async () => {
    [pki, foreign] = await Promise.all([issuePki({ nodes: ['node-1'] }), issuePki({ nodes: ['node-1'] })]);
    trace = new Trace();
    recorder = new TraceRecorder(trace);
    cluster = await new Cluster({ pki, trace, logger: silentLogger(), ports: 'ephemeral', nodes: [], clusterSigning: {} }).start();
    admin = cluster.client('admin.conf');
    hash = caCertHash(caPem(pki, 'ca'));
  });
  after(async () => {
    await cluster?.stop();
    recorder?.stop();
  });

  const token = async (options: { ttlMs?: number } = {}): Promise<string> => (await createBootstrapToken(admin, { now: new Date(), ...options })).token;
  const fast = { timeoutMs: 1500, intervalMs: 100 };

  it('the detached JWS is HS256 over the kubeconfig keyed by the token secret, and nothing else verifies it', () => {
    const sig = computeDetachedSignature('content', 'abcdef', '0123456789abcdef');
    const [header, payload] = sig.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).to.deep.equal({ alg: 'HS256', kid: 'abcdef' });
    expect(payload).to.equal('');
    expect(detachedTokenIsValid(sig, 'content', 'abcdef', '0123456789abcdef')).to.equal(true);
    expect(detachedTokenIsValid(sig, 'content!', 'abcdef', '0123456789abcdef')).to.equal(false);
    expect(detachedTokenIsValid(sig, 'content', 'abcdef', '0123456789abcdeg')).to.equal(false);
  });

  it('a kubeadm token Secret has the bootstrap type, usages and the default node-token group', () => {
    const { secret } = bootstrapTokenSecret({ token: 'abcdef.0123456789abcdef', now: new Date('2026-01-01T00:00:00Z') });
    const d = (k: string): string => Buffer.from(secret.data![k]!, 'base64').toString();
    expect(secret.metadata.name).to.equal('bootstrap-token-abcdef');
    expect(secret.type).to.equal('bootstrap.kubernetes.io/token');
    expect([d('usage-bootstrap-authentication'), d('usage-bootstrap-signing'), d('auth-extra-groups'), d('expiration')])
      .to.deep.equal(['true', 'true', KUBEADM_DEFAULT_NODE_TOKEN_GROUP, '2026-01-02T00:00:00Z']);
  });

  it('joins: discovery pins the CA, the kubelet authenticates as system:bootstrap:<id>, its CSR is auto-approved and signed with ca.key', async () => {
    const t = await token();
    const id = t.split('.')[0]!;
    const mark = recorder.events.length;
    const found = await discover({ apiserver: cluster.apiserverUrl, token: t, caCertHashes: [hash], ...fast, trace });
    expect(found.caPem).to.equal(caPem(pki, 'ca'));
    expect(found.server).to.equal(cluster.apiserverUrl);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'join-'));
    try {
      const b = await tlsBootstrap({ nodeName: 'node-7', server: found.server, caPem: found.caPem, token: t, dir, trace, waitTimeoutMs: 10_000 });
      const cert = new X509Certificate(b.identity.cert);
      expect(cert.subject).to.equal('O=system:nodes\nCN=system:node:node-7');
      expect(cert.verify(new X509Certificate(caPem(pki, 'ca')).publicKey)).to.equal(true);
      const csr = await admin.get<CertificateSigningRequest>(`${CSRS}/${b.csrName}`);
      expect(b.csrName).to.match(/^node-csr-/);
      expect(csr.spec.username).to.equal(`system:bootstrap:${id}`);
      expect(csr.spec.groups).to.include.members(['system:bootstrappers', KUBEADM_DEFAULT_NODE_TOKEN_GROUP, 'system:authenticated']);
      expect(csr.status?.conditions?.[0]).to.deep.include({ type: 'Approved', status: 'True', reason: 'AutoApproved', message: 'Auto approving kubelet client certificate after SubjectAccessReview.' });
      for (const f of b.files) expect((await fs.stat(path.join(dir, f))).mode & 0o777).to.equal(0o600);
      expect(await fs.readFile(path.join(dir, 'kubelet.conf'), 'utf8')).to.include('client-certificate-data');
      // The first read of cluster-info was anonymous and unverified; the second verified against the pinned CA.
      const reads = recorder.events.slice(mark).filter((e): e is RequestEvent => e.type === 'request' && e.method === 'GET' && e.path.includes('cluster-info'));
      expect(reads.length).to.be.at.least(2);
      expect(new Set(reads.map((r) => `${r.user} ${r.status}`))).to.deep.equal(new Set(['system:anonymous 200']));
      const dials = recorder.events.slice(mark).filter((e): e is TlsClientEvent => e.type === 'tls-client' && e.client.startsWith('kubeadm join'));
      expect([...new Set(dials.map((d) => `${d.client}: ${d.trusts} ${d.handshake}`))]).to.deep.equal([
        'kubeadm join (discovery, TLS unverified): none ok', 'kubeadm join (discovery, TLS pinned): kubernetes ok']);
      const creates = recorder.events.slice(mark).filter((e): e is RequestEvent => e.type === 'request' && e.method === 'POST' && e.path === CSRS);
      expect(creates.map((r) => [r.user, r.status])).to.deep.equal([[`system:bootstrap:${id}`, 201]]);
      // The node runs as system:node:node-7 with that certificate.
      const plan = nodePlan('node-7', 6, pki.plan.loopback);
      const kubelet = new Kubelet({
        nodeName: 'node-7', nodeIP: plan.ip, podCIDR: plan.podCIDR, apiserver: found.server, identity: b.identity, serverCa: found.caPem,
        servingIdentity: b.identity, clientCa: found.caPem, port: 0,
      }, { logger: silentLogger(), trace });
      await kubelet.start();
      try {
        const node = await admin.get<KubeObject>(resourcePath({ resource: 'nodes', name: 'node-7' }));
        expect(node.metadata.name).to.equal('node-7');
      } finally {
        await kubelet.stop();
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('a wrong CA hash: "none of the public keys ... are pinned", nothing is requested over TLS after', async () => {
    const t = await token();
    const wrong = caCertHash(caPem(foreign, 'ca'));
    const mark = recorder.events.length;
    const err = await discover({ apiserver: cluster.apiserverUrl, token: t, caCertHashes: [wrong], ...fast, trace, name: 'wrong-hash join' }).catch((e: unknown) => e);
    const dials = recorder.events.slice(mark).filter((e): e is TlsClientEvent => e.type === 'tls-client' && e.client.startsWith('wrong-hash join'));
    expect([...new Set(dials.map((d) => d.client))]).to.deep.equal(['wrong-hash join (discovery, TLS unverified)']);
    expect(err).to.be.instanceOf(JoinError);
    expect((err as JoinError).code).to.equal('CA_NOT_PINNED');
    expect((err as Error).message).to.equal(`cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${hash}" are pinned`);
  });

  it('an unknown token: no JWS for its id; the apiserver refuses it as a bearer token (401)', async () => {
    const err = await discover({ apiserver: cluster.apiserverUrl, token: 'zzzzzz.0123456789abcdef', caCertHashes: [hash], ...fast }).catch((e: unknown) => e);
    expect((err as JoinError).code).to.equal('JWS_MISSING');
    expect((err as Error).message).to.equal('could not find a JWS signature in the cluster-info ConfigMap for token ID "zzzzzz"');
    const c = new KubeClient({ name: 'bootstrap', server: cluster.apiserverUrl, serverCa: caPem(pki, 'ca'), token: 'zzzzzz.0123456789abcdef' });
    try {
      const e = await c.list(CSRS).catch((x: unknown) => x);
      expect((e as ApiError).httpStatus).to.equal(401);
    } finally {
      c.close();
    }
  });

  it('an expired token: its signature is removed from cluster-info and the apiserver no longer authenticates it', async () => {
    const t = await token({ ttlMs: 1500 });
    const id = t.split('.')[0]!;
    const cm = (): Promise<KubeObject & { data?: Record<string, string> }> => admin.get(resourcePath({ resource: 'configmaps', namespace: 'kube-public', name: 'cluster-info' }));
    await waitFor('the JWS for the new token', async () => ((await cm()).data?.[`jws-kubeconfig-${id}`] !== undefined ? true : undefined), 5000);
    const c = new KubeClient({ name: 'bootstrap', server: cluster.apiserverUrl, serverCa: caPem(pki, 'ca'), token: t });
    try {
      expect((await c.list(CSRS)).kind).to.equal('CertificateSigningRequestList');
      await waitFor('the JWS to be removed', async () => ((await cm()).data?.[`jws-kubeconfig-${id}`] === undefined ? true : undefined), 5000);
      const e = await c.list(CSRS).catch((x: unknown) => x);
      expect((e as ApiError).httpStatus).to.equal(401);
    } finally {
      c.close();
    }
    const err = await discover({ apiserver: cluster.apiserverUrl, token: t, caCertHashes: [hash], ...fast }).catch((e: unknown) => e);
    expect((err as Error).message).to.equal(`could not find a JWS signature in the cluster-info ConfigMap for token ID "${id}"`);
  });

  it('an approved request the signer refuses gets Failed (SignerValidationFailure); a denied one ends the wait with its reason', async () => {
    const t = await token();
    const c = new KubeClient({ name: 'bootstrap', server: cluster.apiserverUrl, serverCa: caPem(pki, 'ca'), token: t });
    try {
      // A kubelet-serving request without any SAN: an admin may approve it, csrsigning will not sign it.
      const bad = await requestCertificate(c, await newKubeletKey(), {
        signerName: 'kubernetes.io/kubelet-serving', subject: { cn: 'system:node:node-8', o: ['system:nodes'] }, sans: { dns: [], ip: [] }, usages: ['digital signature', 'server auth'],
      });
      const name = bad.metadata.name ?? '';
      const waiting = waitForCertificate(c, bad, 10_000);
      const approve = await certificate({ client: admin, namespace: 'default', namespaceExplicit: false, now: new Date(), cwd: '.' }, 'approve', [name]);
      expect(approve.stdout).to.equal(`certificatesigningrequest.certificates.k8s.io/${name} approved\n`);
      const err = await waiting.catch((e: unknown) => e);
      expect((err as JoinError).code).to.equal('CSR_FAILED');
      expect((err as Error).message).to.equal('certificate signing request failed, reason: SignerValidationFailure, message: DNS or IP subjectAltName is required');
      const denied = await requestCertificate(c, await newKubeletKey(), {
        signerName: 'kubernetes.io/kubelet-serving', subject: { cn: 'system:node:node-8', o: ['system:nodes'] }, sans: { dns: ['node-8'], ip: [] }, usages: ['digital signature', 'server auth'],
      });
      const waiting2 = waitForCertificate(c, denied, 10_000);
      await certificate({ client: admin, namespace: 'default', namespaceExplicit: false, now: new Date(), cwd: '.' }, 'deny', [denied.metadata.name ?? '']);
      const err2 = await waiting2.catch((e: unknown) => e);
      expect((err2 as Error).message).to.equal('certificate signing request is denied, reason: KubectlDeny, message: This CSR was denied by kubectl certificate deny.');
    } finally {
      c.close();
    }
  });

  for (const [what, subject, sans, reason] of [
    ['asking for system:masters', { cn: 'system:node:node-8', o: ['system:nodes', 'system:masters'] }, { dns: [], ip: [] }, 'subject organization is not system:nodes'],
    ['with a SAN', { cn: 'system:node:node-8', o: ['system:nodes'] }, { dns: ['node-8'], ip: [] }, 'DNS subjectAltNames are not allowed'],
  ] as const) {
    it(`a bootstrap CSR ${what} is not approved (${reason}) and stays Pending`, async () => {
      const t = await token();
      const c = new KubeClient({ name: 'bootstrap', server: cluster.apiserverUrl, serverCa: caPem(pki, 'ca'), token: t });
      try {
        const csr = await requestCertificate(c, await newKubeletKey(), {
          signerName: 'kubernetes.io/kube-apiserver-client-kubelet', subject, sans, usages: ['digital signature', 'client auth'],
        });
        const name = csr.metadata.name ?? '';
        const approver = cluster.controllerManager!.csrApprover!;
        await waitFor('the approver to look at the CSR', () => approver.decisions.get(name), 5000);
        expect(approver.decisions.get(name)).to.deep.equal({ outcome: 'not-recognized', reason });
        const stored = await admin.get<CertificateSigningRequest>(`${CSRS}/${name}`);
        expect(stored.status?.conditions ?? []).to.deep.equal([]);
        expect(stored.status?.certificate).to.equal(undefined);
      } finally {
        c.close();
      }
    });
  }
});
