import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { KubeClient, resourcePath } from '../../components/client/kube-client.js';
import type { KubeObject, Node, Pod } from '../../components/api/types.js';
import type { RequestEvent, TlsServerEvent } from '../../components/client/trace.js';
import { caPem, credential, issuePki, kubeletClientName, type Pki } from '../../pki/store.js';
import { clientFor, startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { apiError } from '../helpers/api-error.js';

/** A PKCS#10 request (CN=demo), made once with openssl; its content does not matter here. */
const SOME_CSR = `-----BEGIN CERTIFICATE REQUEST-----
MIHJMHECAQAwDzENMAsGA1UEAwwEZGVtbzBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABKzt7k+7GF9dZsDsmoKUHiSdUVcicp14ziyAD/gHoQOoKhVLNmSeBerpThls
UmxLsIh2bHHM26Zoi3kx2++hhRegADAKBggqhkjOPQQDAgNIADBFAiEAi2ssc7QQ
kjJvrU7YH6rfDuYhjBat3WHA2W2FoP132ngCIEjvQ/TpyCXPw52fPq/68cdB8nt4
wglj81xAsvUL8HeB
-----END CERTIFICATE REQUEST-----
`;

const node = (name: string): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: {} });

describe('kube-apiserver authentication and authorization', () => {
  let pki: Pki;
  let foreign: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;

  before(async () => {
    [pki, foreign] = await Promise.all([issuePki(), issuePki()]);
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    await admin.create(resourcePath({ resource: 'nodes' }), node('node-1'));
  });
  after(async () => { await cp?.stop(); });

  const requests = (): RequestEvent[] => cp.recorder.events.filter((e): e is RequestEvent => e.type === 'request');

  it('answers 401 Unauthorized (not a reset) to a client certificate from a foreign CA', async () => {
    const c = cp.client('admin.conf');
    const intruder = new KubeClient({ name: 'intruder', server: cp.url, identity: { cert: credential(foreign, 'admin.conf').certPem, key: credential(foreign, 'admin.conf').keyPem }, serverCa: caPem(pki, 'ca'), trace: cp.trace });
    try {
      const res = await intruder.raw('GET', '/api/v1/namespaces/default/pods');
      expect(res.status).to.equal(401);
      expect(JSON.parse(res.body)).to.deep.equal({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    } finally {
      intruder.close();
      c.close();
    }
    const hs = cp.recorder.events.filter((e): e is TlsServerEvent => e.type === 'tls-server' && e.server === 'kube-apiserver' && e.clientCert?.cn === 'kubernetes-admin' && !e.verified);
    expect(hs.at(-1)).to.deep.include({ handshake: 'ok', verified: false, reason: 'x509: certificate signed by unknown authority' });
    const req = requests().filter((e) => e.decision === 'unauthenticated').at(-1)!;
    expect(req).to.deep.include({ status: 401, user: '', verb: 'list', resource: 'pods' });
    expect(req.reason).to.match(/^verifying certificate SN=\d+, .* failed: x509: certificate signed by unknown authority$/);
  });

  it('lets anonymous requests reach /healthz but forbids listing pods', async () => {
    const anon = new KubeClient({ name: 'curl', server: cp.url, serverCa: caPem(pki, 'ca') });
    try {
      const health = await anon.raw('GET', '/healthz');
      expect(health.status).to.equal(200);
      expect(health.body).to.equal('ok');
      const err = await apiError(anon.list('/api/v1/pods'));
      expect(err.httpStatus).to.equal(403);
      expect(err.status).to.deep.include({
        reason: 'Forbidden',
        message: 'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" at the cluster scope',
      });
      expect(err.status?.details).to.deep.equal({ kind: 'pods' });
    } finally {
      anon.close();
    }
  });

  it('answers 401 to a request with no credentials when anonymous auth is off', async () => {
    const strict = await startControlPlane(pki, { anonymousAuth: false, kubeadmBindings: false });
    const anon = new KubeClient({ name: 'curl', server: strict.url, serverCa: caPem(pki, 'ca') });
    try {
      expect((await anon.raw('GET', '/healthz')).status).to.equal(401);
      const ok = strict.client('super-admin.conf');
      expect((await ok.raw('GET', '/healthz')).status).to.equal(200);
    } finally {
      anon.close();
      await strict.stop();
    }
  });

  it('forbids the scheduler to delete a node, with the exact message, and traces the decision', async () => {
    const scheduler = cp.client('scheduler.conf', 'kube-scheduler');
    const err = await apiError(scheduler.delete(resourcePath({ resource: 'nodes', name: 'node-1' })));
    expect(err.httpStatus).to.equal(403);
    expect(err.message).to.equal('nodes "node-1" is forbidden: User "system:kube-scheduler" cannot delete resource "nodes" in API group "" at the cluster scope');
    expect(err.status?.details).to.deep.equal({ name: 'node-1', kind: 'nodes' });
    const ev = requests().filter((e) => e.user === 'system:kube-scheduler').at(-1)!;
    expect(ev).to.deep.include({ server: 'kube-apiserver', method: 'DELETE', verb: 'delete', resource: 'nodes', decision: 'deny', status: 403 });
    expect(ev.groups).to.deep.equal(['system:authenticated']);
    expect(ev.peer).to.match(/^127\.\d+\.\d+\.\d+:\d+$/);
    // What it may do: read nodes and bind pods.
    expect((await scheduler.get<Node>(resourcePath({ resource: 'nodes', name: 'node-1' }))).metadata.name).to.equal('node-1');
    const allowed = requests().filter((e) => e.user === 'system:kube-scheduler').at(-1)!;
    expect(allowed).to.deep.include({ decision: 'allow', status: 200, verb: 'get' });
    expect(allowed.reason).to.match(/^RBAC: allowed by ClusterRoleBinding "system:kube-scheduler" of ClusterRole "system:kube-scheduler" to User "system:kube-scheduler"$/);
  });

  it('lets a kubelet read only pods bound to its node (Node authorizer)', async () => {
    const pods = resourcePath({ resource: 'pods', namespace: 'default' });
    await admin.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'on-2' }, spec: { nodeName: 'node-2', containers: [{ name: 'c', image: 'busybox' }] } } as Pod);
    await admin.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'on-1' }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox' }] } } as Pod);
    const kubelet = cp.client(kubeletClientName('node-1'), 'kubelet (node-1)');
    // Right after the write: a denial by the (watch-fed) cache is re-checked against etcd.
    const own = await kubelet.get<Pod>(`${pods}/on-1`);
    expect(own.spec.nodeName).to.equal('node-1');
    const err = await apiError(kubelet.get(`${pods}/on-2`));
    expect(err.httpStatus).to.equal(403);
    expect(err.message).to.equal('pods "on-2" is forbidden: User "system:node:node-1" cannot get resource "pods" in API group "" in the namespace "default": no relationship found between node \'node-1\' and this object');
  });

  it('issues a service-account token that authenticates as the service account', async () => {
    const sas = resourcePath({ resource: 'serviceaccounts', namespace: 'default' });
    await admin.create(sas, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'builder' } });
    const tr = await admin.create<KubeObject & { status: { token: string; expirationTimestamp: string }; spec: { audiences: string[] } }>(`${sas}/builder/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { expirationSeconds: 600 } } as KubeObject);
    expect(tr.kind).to.equal('TokenRequest');
    expect(tr.spec.audiences).to.deep.equal(['https://kubernetes.default.svc.cluster.local']);
    expect(tr.status.token.split('.')).to.have.length(3);
    const sa = new KubeClient({ name: 'builder', server: cp.url, serverCa: caPem(pki, 'ca'), token: tr.status.token });
    try {
      const err = await apiError(sa.list(resourcePath({ resource: 'secrets', namespace: 'default' })));
      expect(err.httpStatus).to.equal(403);
      expect(err.message).to.contain('User "system:serviceaccount:default:builder" cannot list resource "secrets"');
      const tooShort = await apiError(admin.create(`${sas}/builder/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { expirationSeconds: 60 } } as KubeObject));
      expect(tooShort.httpStatus).to.equal(422);
    } finally {
      sa.close();
    }
  });

  it('answers SubjectAccessReviews and SelfSubjectAccessReviews with the authorizer\'s decision', async () => {
    const sar = (user: string, verb: string, resource: string): KubeObject => ({
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {},
      spec: { user, groups: ['system:authenticated'], resourceAttributes: { verb, resource, name: 'node-1' } },
    } as KubeObject);
    const path = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
    const denied = await admin.create<KubeObject & { status: { allowed: boolean } }>(path, sar('system:kube-scheduler', 'delete', 'nodes'));
    expect(denied.status.allowed).to.equal(false);
    const allowed = await admin.create<KubeObject & { status: { allowed: boolean; reason: string } }>(path, sar('system:kube-scheduler', 'get', 'nodes'));
    expect(allowed.status.allowed).to.equal(true);
    expect(allowed.status.reason).to.match(/^RBAC: allowed by ClusterRoleBinding/);
    const scheduler = cp.client('scheduler.conf');
    const self = await scheduler.create<KubeObject & { status: { allowed: boolean } }>('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: { resourceAttributes: { verb: 'create', resource: 'pods', subresource: 'binding', namespace: 'default' } },
    } as KubeObject);
    expect(self.status.allowed).to.equal(true);
  });

  it('tells the caller who it is (SelfSubjectReview, kubectl auth whoami): CN, every O, system:authenticated, the certificate\'s SHA-256', async () => {
    type Review = KubeObject & { status: { userInfo: { username: string; groups: string[]; extra?: Record<string, string[]> } } };
    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} } as KubeObject;
    const who = await cp.client('nodes/node-1/kubelet.conf').create<Review>('/apis/authentication.k8s.io/v1/selfsubjectreviews', review);
    const fingerprint = new X509Certificate(credential(pki, 'nodes/node-1/kubelet.conf').certPem).fingerprint256.replace(/:/g, '').toLowerCase();
    expect(who.status.userInfo).to.deep.equal({
      username: 'system:node:node-1', groups: ['system:nodes', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/credential-id': [`X509SHA256=${fingerprint}`] },
    });
    // Anyone authenticated may ask (system:basic-user); a CSR records the same identity in spec.extra.
    const csr = await admin.create<KubeObject & { spec: { extra?: Record<string, string[]> } }>('/apis/certificates.k8s.io/v1/certificatesigningrequests', {
      apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'whoami' },
      spec: { request: Buffer.from(SOME_CSR).toString('base64'), signerName: 'example.com/demo', usages: ['client auth'] },
    } as KubeObject);
    const adminPrint = new X509Certificate(credential(pki, 'admin.conf').certPem).fingerprint256.replace(/:/g, '').toLowerCase();
    expect(csr.spec.extra).to.deep.equal({ 'authentication.kubernetes.io/credential-id': [`X509SHA256=${adminPrint}`] });
  });

  it('lists the caller\'s rules with SelfSubjectRulesReview (kubectl auth can-i --list)', async () => {
    const scheduler = cp.client('scheduler.conf');
    const review = await scheduler.create<KubeObject & { status: { incomplete: boolean; resourceRules: { verbs: string[]; resources: string[] }[] } }>('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', metadata: {}, spec: { namespace: 'default' },
    } as KubeObject);
    expect(review.status.incomplete).to.equal(false);
    expect(review.status.resourceRules.some((r) => r.resources.includes('pods/binding') && r.verbs.includes('create'))).to.equal(true);
    expect(review.status.resourceRules.some((r) => r.resources.includes('nodes') && r.verbs.includes('delete'))).to.equal(false);
  });

  it('serves /version, discovery and /openapi like the real server', async () => {
    const version = JSON.parse((await admin.raw('GET', '/version?timeout=5s')).body) as Record<string, string>;
    expect(version).to.include({ major: '1', minor: '32', gitVersion: 'v1.32.5', compiler: 'gc', platform: 'linux/amd64' });
    expect(version.gitVersion).to.match(/^v1\.32\.\d+$/);
    expect(Object.keys(version)).to.include.members(['gitCommit', 'gitTreeState', 'buildDate', 'goVersion']);
    const api = JSON.parse((await admin.raw('GET', '/api')).body) as { kind: string; versions: string[] };
    expect(api).to.deep.include({ kind: 'APIVersions', versions: ['v1'] });
    const apis = JSON.parse((await admin.raw('GET', '/apis')).body) as { groups: { name: string }[] };
    expect(apis.groups.map((g) => g.name)).to.include.members(['apps', 'coordination.k8s.io', 'rbac.authorization.k8s.io', 'authorization.k8s.io']);
    const v1 = JSON.parse((await admin.raw('GET', '/api/v1')).body) as { resources: { name: string; shortNames?: string[]; namespaced: boolean; kind: string; verbs: string[] }[] };
    const byName = new Map(v1.resources.map((r) => [r.name, r]));
    expect(byName.get('pods')).to.deep.include({ namespaced: true, kind: 'Pod', shortNames: ['po'] });
    expect(byName.get('nodes')).to.deep.include({ namespaced: false, shortNames: ['no'] });
    expect(byName.get('pods/binding')?.verbs).to.deep.equal(['create']);
    for (const [n, s] of [['services', 'svc'], ['namespaces', 'ns'], ['endpoints', 'ep'], ['events', 'ev'], ['configmaps', 'cm'], ['serviceaccounts', 'sa']]) {
      expect(byName.get(n!)?.shortNames, n).to.deep.equal([s]);
    }
    const apps = JSON.parse((await admin.raw('GET', '/apis/apps/v1')).body) as { groupVersion: string; resources: { name: string; shortNames?: string[] }[] };
    expect(apps.groupVersion).to.equal('apps/v1');
    expect(apps.resources.find((r) => r.name === 'deployments')?.shortNames).to.deep.equal(['deploy']);
    expect(apps.resources.find((r) => r.name === 'replicasets')?.shortNames).to.deep.equal(['rs']);
    const v2 = await admin.raw('GET', '/openapi/v2');
    expect(v2.status).to.equal(200);
    expect(v2.body).to.equal('');
    expect(v2.headers['content-type']).to.equal('application/octet-stream');
    expect((await admin.raw('GET', '/openapi/v3')).status).to.equal(404);
    expect((await admin.raw('GET', '/apis/nope.example.com/v1')).status).to.equal(404);
  });

  it('runs impersonated requests (kubectl --as) as the impersonated user, after authorizing the impersonation', async () => {
    const asScheduler = await admin.raw('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'delete', resource: 'nodes' } },
    });
    expect((JSON.parse(asScheduler.body) as { status: { allowed: boolean } }).status.allowed, 'the admin itself may').to.equal(true);
    const impersonated = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const c = credential(pki, 'admin.conf');
      const url = new URL(cp.url);
      const body = JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'delete', resource: 'nodes' } } });
      const req = https.request({
        host: url.hostname, port: url.port, method: 'POST', path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', ca: caPem(pki, 'ca'), cert: c.certPem, key: c.keyPem,
        headers: { 'Content-Type': 'application/json', 'Impersonate-User': 'system:kube-scheduler' },
      }, (res) => { let b = ''; res.on('data', (d: Buffer) => { b += d.toString(); }); res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b })); });
      req.on('error', reject);
      req.end(body);
    });
    expect(impersonated.status).to.equal(201);
    expect((JSON.parse(impersonated.body) as { status: { allowed: boolean } }).status.allowed).to.equal(false);
    const last = requests().at(-1)!;
    expect(last).to.deep.include({ user: 'system:kube-scheduler', decision: 'allow' });
    expect(last.groups).to.deep.equal(['system:authenticated']);
    // The scheduler may not impersonate anyone.
    const s = credential(pki, 'scheduler.conf');
    const denied = await new Promise<number>((resolve, reject) => {
      const url = new URL(cp.url);
      const req = https.request({ host: url.hostname, port: url.port, path: '/api/v1/nodes', ca: caPem(pki, 'ca'), cert: s.certPem, key: s.keyPem, headers: { 'Impersonate-User': 'kubernetes-admin' } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.end();
    });
    expect(denied).to.equal(403);
  });

  it('prints a meta.k8s.io Table when kubectl asks for one', async () => {
    const res = await admin.raw('GET', '/api/v1/nodes', undefined, 'application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json');
    const table = JSON.parse(res.body) as { kind: string; apiVersion: string; columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[]; object: { kind: string; metadata: { name: string } } }[] };
    expect(table).to.deep.include({ kind: 'Table', apiVersion: 'meta.k8s.io/v1' });
    expect(table.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).to.deep.equal(['Name', 'Status', 'Roles', 'Age', 'Version']);
    expect(table.rows[0]!.cells.slice(0, 3)).to.deep.equal(['node-1', 'Unknown', '<none>']);
    expect(table.rows[0]!.object).to.deep.include({ kind: 'PartialObjectMetadata' });
    const plain = JSON.parse((await admin.raw('GET', '/api/v1/nodes')).body) as { kind: string };
    expect(plain.kind).to.equal('NodeList');
  });

  it('reports its checks on /readyz?verbose and fails /healthz when etcd is gone', async () => {
    const ready = await admin.raw('GET', '/readyz?verbose');
    expect(ready.status).to.equal(200);
    expect(ready.body).to.equal('[+]ping ok\n[+]etcd ok\nreadyz check passed\n');
    const own = await startControlPlane(pki, { kubeadmBindings: false });
    try {
      const c = own.client('super-admin.conf');
      await own.etcd.stop();
      const health = await c.raw('GET', '/healthz');
      expect(health.status).to.equal(500);
      expect(health.body).to.equal('[+]ping ok\n[-]etcd failed: reason withheld\nhealthz check failed\n');
    } finally {
      await own.stop();
    }
  });

  it('uses clientFor to reach the same server as the helper', async () => {
    const c = clientFor(pki, 'admin.conf', cp.url, cp.trace);
    try {
      expect((await c.raw('GET', '/livez')).body).to.equal('ok');
    } finally {
      c.close();
    }
  });
});

describe('kube-apiserver admission (NodeRestriction)', () => {
  let pki: Pki;
  let cp: ControlPlane;

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    const admin = cp.client('admin.conf');
    await admin.create(resourcePath({ resource: 'nodes' }), node('node-2'));
  });
  after(async () => { await cp?.stop(); });

  it('lets a kubelet register and update its own Node but not another node\'s', async () => {
    const kubelet = cp.client(kubeletClientName('node-1'), 'kubelet (node-1)');
    const own = await kubelet.create<Node>(resourcePath({ resource: 'nodes' }), node('node-1'));
    expect(own.metadata.name).to.equal('node-1');
    const patched = await kubelet.patch<Node>(resourcePath({ resource: 'nodes', name: 'node-1', subresource: 'status' }), { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'strategic');
    expect(patched.status?.conditions?.[0]?.type).to.equal('Ready');
    const err = await apiError(kubelet.patch(resourcePath({ resource: 'nodes', name: 'node-2', subresource: 'status' }), { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, 'strategic'));
    expect(err.httpStatus).to.equal(403);
    expect(err.message).to.equal('nodes "node-2" is forbidden: node "node-1" is not allowed to modify node "node-2"');
  });
});
