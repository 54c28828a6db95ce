import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApiError, KubeClient, resourcePath } from '../../components/client/kube-client.js';
import { newKubeletKey, requestCertificate } from '../../components/kubelet/bootstrap.js';
import type { CertificateSigningRequest } from '../../components/api/certificates.js';
import { runKubectl } from '../../components/kubectl/index.js';
import type { Pod } from '../../components/api/types.js';
import { nodePlan } from '../../pki/spec.js';
import { caPem, issuePki, type Pki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { caCertHash, createBootstrapToken, joinNode, type JoinedNode } from '../../sim/join.js';
import { silentLogger } from '../../sim/logger.js';
import { Trace, type RequestEvent, type TlsClientEvent } from '../../components/client/trace.js';
import { TraceRecorder } from '../../sim/trace.js';
import { waitFor } from '../../sim/wait.js';
import { renderKubeconfig } from '../../pki/kubeconfig.js';
import { credential } from '../../pki/store.js';

const CSRS = resourcePath({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests' });

async function startJoinCluster(pki: Pki, signing: { durationMs?: number; backdateMs?: number }): Promise<{ cluster: Cluster; trace: Trace; recorder: TraceRecorder; admin: KubeClient }> {
  const trace = new Trace();
  const recorder = new TraceRecorder(trace);
  const cluster = await new Cluster({ pki, trace, logger: silentLogger(), ports: 'ephemeral', nodes: [], clusterSigning: signing }).start();
  return { cluster, trace, recorder, admin: cluster.client('admin.conf') };
}

describe('kubelet client certificate rotation', function () {
  this.timeout(60_000);
  let pki: Pki;
  let env: Awaited<ReturnType<typeof startJoinCluster>>;
  let joined: JoinedNode | undefined;
  let dir: string;
  before(async () => {
    pki = await issuePki({ nodes: ['node-1'] });
    // Certificates that live 3 s, not backdated: the rotation deadline (70-90%) falls within the test.
    env = await startJoinCluster(pki, { durationMs: 3000, backdateMs: 0 });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rotate-'));
  });
  after(async () => {
    await joined?.kubelet.stop();
    await env?.cluster.stop();
    env?.recorder.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('rotates at 70-90% of the lifetime through a selfnodeclient CSR, switches identity and keeps its pod watch', async () => {
    const { token } = await createBootstrapToken(env.admin, { now: new Date() });
    const plan = nodePlan('node-5', 4, pki.plan.loopback);
    joined = await joinNode({
      apiserver: env.cluster.apiserverUrl, token, caCertHashes: [caCertHash(caPem(pki, 'ca'))], nodeName: 'node-5', node: plan,
      trace: env.trace, logger: silentLogger(), dir, discovery: { timeoutMs: 3000, intervalMs: 100 },
      kubelet: { rotateCertificates: true, leaseRenewIntervalMs: 200, rotationRandom: () => 0.5 },
    });
    const manager = joined.kubelet.clientCertificates!;
    const first = new X509Certificate(joined.bootstrapped.identity.cert);
    const lifetime = Date.parse(first.validTo) - Date.parse(first.validFrom);
    // 70% + 0.5 * 20% = 80% of the lifetime after notBefore.
    expect(manager.deadline!.getTime() - Date.parse(first.validFrom)).to.be.closeTo(0.8 * lifetime, 5);
    await waitFor('two rotations', () => (manager.rotations.length >= 2 ? true : undefined), 15_000);
    const [r1, r2] = manager.rotations;
    expect(r1!.previousSerial).to.equal(first.serialNumber);
    expect(r2!.previousSerial).to.equal(r1!.serial);
    // Each rotation happened at its deadline, before the old certificate expired.
    expect(r1!.at.getTime()).to.be.at.least(r1!.deadline!.getTime() - 5).and.below(Date.parse(first.validTo));
    const csr = await env.admin.get<CertificateSigningRequest>(`${CSRS}/${r1!.csr}`);
    expect(csr.metadata.name).to.match(/^csr-/);
    expect(csr.spec.username).to.equal('system:node:node-5');
    expect(csr.status?.conditions?.[0]).to.deep.include({ type: 'Approved', reason: 'AutoApproved', message: 'Auto approving self kubelet client certificate after SubjectAccessReview.' });
    // The new certificate is presented on new connections; kubelet.conf on disk holds it.
    const serials = new Set(env.recorder.events.filter((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === 'kubelet (node-5)').map((e) => e.clientCert?.serial));
    expect(serials).to.include(r1!.serial.toUpperCase());
    expect(await fs.readFile(path.join(dir, 'kubelet.conf'), 'utf8')).to.include(Buffer.from(manager.identity!.cert).toString('base64'));
    // The pod watch opened before the rotations still delivers: one watch, a pod bound afterwards runs.
    const watches = (): RequestEvent[] => env.recorder.events.filter((e): e is RequestEvent => e.type === 'request' && e.user === 'system:node:node-5' && e.path.startsWith('/api/v1/pods?') && e.path.includes('watch=true'));
    expect(watches()).to.have.length(1);
    await env.admin.create(resourcePath({ resource: 'pods', namespace: 'default' }), {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'after-rotation', namespace: 'default' }, spec: { nodeName: 'node-5', containers: [{ name: 'c', image: 'nginx:1.27' }] },
    });
    await waitFor('the pod to run', async () => ((await env.admin.get<Pod>(resourcePath({ resource: 'pods', namespace: 'default', name: 'after-rotation' }))).status?.phase === 'Running' ? true : undefined), 10_000);
    expect(watches()).to.have.length(1);
  });
});

describe('kubelet serving certificates by CSR (serverTLSBootstrap)', function () {
  this.timeout(60_000);
  let pki: Pki;
  let env: Awaited<ReturnType<typeof startJoinCluster>>;
  let joined: JoinedNode | undefined;
  let kubeconfigDir: string;
  before(async () => {
    pki = await issuePki({ nodes: ['node-1'] });
    env = await startJoinCluster(pki, {});
    kubeconfigDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kubectl-'));
    const a = credential(pki, 'admin.conf');
    await fs.writeFile(path.join(kubeconfigDir, 'admin.conf'), renderKubeconfig({ server: env.cluster.apiserverUrl, clusterName: 'kubernetes', user: 'kubernetes-admin', caPem: caPem(pki, 'ca'), certPem: a.certPem, keyPem: a.keyPem }), { mode: 0o600 });
  });
  after(async () => {
    await joined?.kubelet.stop();
    await env?.cluster.stop();
    env?.recorder.stop();
    await fs.rm(kubeconfigDir, { recursive: true, force: true });
  });
  const kubectl = (...args: string[]): ReturnType<typeof runKubectl> => runKubectl(['--kubeconfig', path.join(kubeconfigDir, 'admin.conf'), ...args]);

  it('the kubelet-serving CSR stays Pending, logs fail until `kubectl certificate approve`, then work; deny refuses a second decision', async () => {
    const { token } = await createBootstrapToken(env.admin, { now: new Date() });
    const plan = nodePlan('node-6', 5, pki.plan.loopback);
    joined = await joinNode({
      apiserver: env.cluster.apiserverUrl, token, caCertHashes: [caCertHash(caPem(pki, 'ca'))], nodeName: 'node-6', node: plan,
      trace: env.trace, logger: silentLogger(), discovery: { timeoutMs: 3000, intervalMs: 100 }, kubelet: { serverTLSBootstrap: true },
    });
    const serving = async (): Promise<CertificateSigningRequest | undefined> =>
      (await env.admin.list<CertificateSigningRequest>(CSRS)).items.find((c) => c.spec.signerName === 'kubernetes.io/kubelet-serving' && c.spec.username === 'system:node:node-6');
    const csr = await waitFor('the kubelet-serving CSR', serving, 10_000);
    const name = csr.metadata.name ?? '';
    await env.cluster.controllerManager!.idle();
    expect(env.cluster.controllerManager!.csrApprover!.decisions.get(name)).to.deep.equal({ outcome: 'not-recognized', reason: 'signerName kubernetes.io/kubelet-serving is not auto-approved' });
    const listed = await kubectl('get', 'csr');
    expect(listed.stdout.split("\n")[0]?.trimEnd()).to.match(/^NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION$/);
    expect(listed.stdout).to.match(new RegExp(`${name}\\s+\\S+\\s+kubernetes.io/kubelet-serving\\s+system:node:node-6\\s+<none>\\s+Pending`));

    await env.admin.create(resourcePath({ resource: 'pods', namespace: 'default' }), {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: 'node-6', containers: [{ name: 'web', image: 'nginx:1.27' }] },
    });
    await waitFor('the pod to run', async () => ((await env.admin.get<Pod>(resourcePath({ resource: 'pods', namespace: 'default', name: 'web' }))).status?.phase === 'Running' ? true : undefined), 10_000);
    const logsPath = resourcePath({ resource: 'pods', namespace: 'default', name: 'web', subresource: 'log' });
    const before = await env.admin.raw('GET', logsPath, undefined, undefined, '*/*');
    expect(before.status).to.equal(500);
    expect(before.body).to.include('remote error: tls: handshake failure');

    const approved = await kubectl('certificate', 'approve', name);
    expect(approved).to.deep.include({ code: 0, stdout: `certificatesigningrequest.certificates.k8s.io/${name} approved\n` });
    await waitFor('the kubelet to serve with its signed certificate', () => (joined!.kubelet.servingCertificates!.rotations.length > 0 ? true : undefined), 10_000);
    const cert = new X509Certificate(joined.kubelet.servingCertificates!.identity!.cert);
    expect(cert.subject).to.equal('O=system:nodes\nCN=system:node:node-6');
    expect(cert.subjectAltName).to.include(`IP Address:${plan.ip}`);
    const after = await env.admin.raw('GET', logsPath, undefined, undefined, '*/*');
    expect(after.status).to.equal(200);
    const final = await env.admin.get<CertificateSigningRequest>(`${CSRS}/${name}`);
    expect(final.status?.conditions?.[0]).to.deep.include({ type: 'Approved', reason: 'KubectlApprove', message: 'This CSR was approved by kubectl certificate approve.' });
    expect((await kubectl('get', 'csr', name)).stdout).to.match(/Approved,Issued/);
    const denied = await kubectl('certificate', 'deny', name);
    expect(denied.code).to.equal(1);
    expect(denied.stderr).to.include(`certificate signing request "${name}" is already Approved`);
  });

  it('approving takes update on certificatesigningrequests/approval (RBAC) and `approve` on the signer (admission)', async () => {
    const t = await createBootstrapToken(env.admin, { now: new Date() });
    const boot = new KubeClient({ name: 'bootstrap', server: env.cluster.apiserverUrl, serverCa: caPem(pki, 'ca'), token: t.token });
    let csr: CertificateSigningRequest;
    try {
      csr = await requestCertificate(boot, await newKubeletKey(), {
        signerName: 'kubernetes.io/kubelet-serving', subject: { cn: 'system:node:node-9', o: ['system:nodes'] }, sans: { dns: ['node-9'], ip: [] }, usages: ['digital signature', 'server auth'],
      });
    } finally {
      boot.close();
    }
    const path = `${CSRS}/${csr.metadata.name ?? ''}/approval`;
    const approve = { ...csr, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Manual', message: 'ok' }] } };
    // A node may create and read CSRs but not approve them: the authorizer says no.
    const node = env.cluster.client('nodes/node-1/kubelet.conf');
    const e1 = await node.update(path, approve).catch((e: unknown) => e);
    expect((e1 as ApiError).httpStatus).to.equal(403);
    expect((e1 as Error).message).to.include('cannot update resource "certificatesigningrequests/approval"');
    // The scheduler given update on /approval (but nothing on signers) passes RBAC and meets CertificateApproval.
    const rbac = (r: string): string => resourcePath({ group: 'rbac.authorization.k8s.io', resource: r });
    await env.admin.create(rbac('clusterroles'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'approval-only' }, rules: [{ verbs: ['update'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'] }] });
    await env.admin.create(rbac('clusterrolebindings'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'approval-only' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'approval-only' }, subjects: [{ kind: 'User', name: 'system:kube-scheduler' }] });
    const scheduler = env.cluster.client('scheduler.conf');
    const e2 = await scheduler.update(path, approve).catch((e: unknown) => e);
    expect((e2 as ApiError).httpStatus).to.equal(403);
    expect((e2 as Error).message).to.equal(`certificatesigningrequests.certificates.k8s.io "${csr.metadata.name ?? ''}" is forbidden: user not permitted to approve requests with signerName "kubernetes.io/kubelet-serving"`);
  });

  it('a user\'s client certificate by CSR (kube-apiserver-client): approved by an admin, signed with ca.key, and bob authenticates with it', async () => {
    const key = await newKubeletKey();
    const csr = await requestCertificate(env.admin, key, {
      name: 'bob', signerName: 'kubernetes.io/kube-apiserver-client', subject: { cn: 'bob', o: ['devs'] }, sans: { dns: [], ip: [] }, usages: ['client auth'], expirationSeconds: 86400,
    });
    const decision = await waitFor('the approver to look at bob\'s CSR', () => env.cluster.controllerManager!.csrApprover!.decisions.get('bob'), 10_000);
    expect(decision).to.deep.equal({ outcome: 'not-recognized', reason: 'signerName kubernetes.io/kube-apiserver-client is not auto-approved' });
    expect((await env.admin.get<CertificateSigningRequest>(`${CSRS}/bob`)).status?.certificate).to.equal(undefined);
    expect((await kubectl('certificate', 'approve', 'bob')).code).to.equal(0);
    const issued = await waitFor('bob\'s certificate', async () => (await env.admin.get<CertificateSigningRequest>(`${CSRS}/bob`)).status?.certificate, 10_000);
    const cert = new X509Certificate(Buffer.from(issued, 'base64'));
    expect(cert.subject).to.equal('O=devs\nCN=bob');
    expect(cert.checkIssued(new X509Certificate(caPem(pki, 'ca')))).to.equal(true);
    expect(cert.keyUsage).to.deep.equal(['1.3.6.1.5.5.7.3.2']);
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).to.be.at.most(86400_000);
    // The certificate authenticates over TLS; bob has no RBAC yet, so the answer is RBAC's 403 with his name.
    const bob = new KubeClient({ name: 'bob', server: env.cluster.apiserverUrl, serverCa: caPem(pki, 'ca'), identity: { cert: cert.toString(), key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } });
    try {
      const err = await bob.list(resourcePath({ resource: 'pods', namespace: 'default' })).catch((e: unknown) => e);
      expect((err as ApiError).httpStatus).to.equal(403);
      expect((err as Error).message).to.equal('pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"');
    } finally {
      bob.close();
    }
    expect(csr.spec.username).to.equal('kubernetes-admin');
  });

  it('the kube-apiserver-client signer refuses a request with a usage a client certificate may not have', async () => {
    await requestCertificate(env.admin, await newKubeletKey(), {
      name: 'carol', signerName: 'kubernetes.io/kube-apiserver-client', subject: { cn: 'carol', o: [] }, sans: { dns: [], ip: [] }, usages: ['client auth', 'server auth'],
    });
    expect((await kubectl('certificate', 'approve', 'carol')).code).to.equal(0);
    const failed = await waitFor('the Failed condition', async () => (await env.admin.get<CertificateSigningRequest>(`${CSRS}/carol`)).status?.conditions?.find((c) => c.type === 'Failed'), 10_000);
    expect(failed).to.deep.include({ status: 'True', reason: 'SignerValidationFailure', message: 'invalid usage for client certificate: server auth' });
  });

  it('the apiserver refuses a CSR without usages, with a bad signerName or a request that is not PEM', async () => {
    const err = await env.admin.create(CSRS, {
      apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'bad' },
      spec: { request: Buffer.from('not a pem').toString('base64'), signerName: 'example', usages: [] },
    }).catch((e: unknown) => e);
    expect((err as ApiError).httpStatus).to.equal(422);
    const msg = (err as Error).message;
    expect(msg).to.include('spec.request: Invalid value: []byte{...}: PEM block type must be CERTIFICATE REQUEST');
    expect(msg).to.include('spec.usages: Required value: usages must be provided');
    expect(msg).to.include(`spec.signerName: Invalid value: "example": must be a fully qualified domain and path of the form 'example.com/signer-name'`);
  });
});
