import { expect } from 'chai';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import { kubeletClientName, type LeafName } from '../../pki/spec.js';
import { Cluster } from '../../sim/cluster.js';
import { Trace, type RequestEvent } from '../../components/client/trace.js';
import { silentLogger } from '../../sim/logger.js';
import type { KubeClient } from '../../components/client/kube-client.js';
import type { SecureServingInfo } from '../../components/client/secure-serving.js';
import type { KubeObject } from '../../components/api/types.js';
import { foreignAdmin } from '../../scenarios/tour.js';
import { clientCert, CN, name as rdnName, O, UTF8 } from '../helpers/x509-names.js';

interface Answer { status: number; body: string }

/** One GET to a secure port, verifying it against `ca`, with an optional client certificate or bearer token. */
function get(info: SecureServingInfo, path: string, auth: { cert?: string; key?: string; token?: string; headers?: Record<string, string> } = {}, ca = info.servingCa): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.get({
      host: '127.0.0.1', port: info.address.port, path, ca, servername: 'localhost', agent: false,
      ...(auth.cert && auth.key ? { cert: auth.cert, key: auth.key } : {}),
      headers: { ...(auth.token ? { Authorization: `Bearer ${auth.token}` } : {}), ...auth.headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
  });
}

const message = (a: Answer): string => (JSON.parse(a.body) as { message: string }).message;

describe('the secure ports of kube-scheduler (10259) and kube-controller-manager (10257)', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cluster: Cluster;
  let admin: KubeClient;
  const events: RequestEvent[] = [];
  const id = (name: LeafName): { cert: string; key: string } => ({ cert: credential(pki, name).certPem, key: credential(pki, name).keyPem });
  before(async function () {
    pki = await issuePki({ nodes: ['node-1'] });
    const trace = new Trace();
    trace.on((e) => { if (e.type === 'request' && (e.server === 'kube-scheduler' || e.server === 'kube-controller-manager')) events.push(e); });
    cluster = await new Cluster({ pki, trace, logger: silentLogger(), ports: 'ephemeral' }).start();
    admin = cluster.client('admin.conf');
  });
  after(async function () { await cluster?.stop(); });

  const ports = (): [string, SecureServingInfo][] => [
    ['kube-scheduler', cluster.scheduler!.secureServing!],
    ['kube-controller-manager', cluster.controllerManager!.secureServing!],
  ];

  it('serve a self-signed certificate made at start (localhost@<unix>, by localhost-ca@<unix>) that the cluster CA does not verify', async function () {
    for (const [name, info] of ports()) {
      const leaf = new X509Certificate(info.servingCert);
      const ca = new X509Certificate(info.servingCa);
      expect(leaf.subject, name).to.match(/^CN=localhost@\d+$/);
      expect(leaf.issuer, name).to.match(/^CN=localhost-ca@\d+$/);
      expect(leaf.subjectAltName, name).to.equal('DNS:localhost, IP Address:127.0.0.1');
      expect(leaf.verify(ca.publicKey), name).to.equal(true);
      expect(info.address.address, name).to.equal('127.0.0.1');
      const err = await get(info, '/healthz', {}, caPem(pki, 'ca')).then(() => undefined, (e: NodeJS.ErrnoException) => e);
      // It sends its own CA after the leaf, as certutil's bundle has it; Go's client says "certificate signed by unknown authority".
      expect(err?.code, name).to.equal('SELF_SIGNED_CERT_IN_CHAIN');
    }
  });

  it('answer /healthz, /livez and /readyz to anyone, with no certificate and no token', async function () {
    for (const [name, info] of ports()) {
      for (const path of ['/healthz', '/livez', '/readyz']) expect(await get(info, path), `${name} ${path}`).to.deep.equal({ status: 200, body: 'ok' });
    }
    const e = events.find((x) => x.server === 'kube-scheduler' && x.path === '/healthz');
    expect(e).to.deep.include({ user: 'system:anonymous', decision: 'allow', status: 200 });
  });

  it('refuse /metrics to system:anonymous with 403, after a SubjectAccessReview for get on the non-resource URL', async function () {
    for (const [name, info] of ports()) {
      const a = await get(info, '/metrics');
      expect(a.status, name).to.equal(403);
      expect(JSON.parse(a.body), name).to.deep.include({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: 'forbidden: User "system:anonymous" cannot get path "/metrics"' });
    }
  });

  it('serve /metrics to admin.conf (cluster-admin), refuse it to a node certificate the client CA verifies', async function () {
    const [, sched] = ports()[0]!;
    const [, kcm] = ports()[1]!;
    const s = await get(sched, '/metrics', id('admin.conf'));
    expect(s.status).to.equal(200);
    expect(s.body).to.match(/^scheduler_schedule_attempts_total\{profile="default-scheduler",result="scheduled"\} \d+$/m);
    const k = await get(kcm, '/metrics', id('admin.conf'));
    expect(k.status).to.equal(200);
    expect(k.body).to.match(/^workqueue_depth\{name="replicaset-controller"\} \d+$/m);
    const node = await get(sched, '/metrics', id(kubeletClientName('node-1')));
    expect(node.status).to.equal(403);
    expect(message(node)).to.equal('forbidden: User "system:node:node-1" cannot get path "/metrics"');
    const e = events.find((x) => x.user === 'system:node:node-1');
    expect(e).to.deep.include({ decision: 'deny', layer: 'authorization', status: 403 });
    expect(e?.reason).to.include('(authenticated by x509)');
  });

  it('read a client certificate\'s name as Go does (attacker\'s cases): the last CN, every O of a multi-valued RDN, 401 for a name Go cannot parse', async function () {
    const signer = pki.signers.get('ca')!;
    const two = clientCert(signer, rdnName([[CN, UTF8, 'kubernetes-admin']], [[CN, UTF8, 'mallory']]));
    const multi = clientCert(signer, rdnName([[CN, UTF8, 'carol'], [O, UTF8, 'kubeadm:cluster-admins']]));
    const universal = clientCert(signer, rdnName([[CN, 0x1c, Buffer.from([0, 0, 0, 0x61])]]));
    for (const [component, info] of ports()) {
      const a = await get(info, '/metrics', two);
      expect(a.status, component).to.equal(403);
      expect(message(a), component).to.equal('forbidden: User "mallory" cannot get path "/metrics"');
      expect((await get(info, '/metrics', multi)).status, component).to.equal(200);
      expect((await get(info, '/healthz', universal)).status, component).to.equal(401);
    }
  });

  it('ignore X-Remote-User/X-Remote-Group from a certificate that is not the request-header CA\'s: the node stays itself and is refused', async function () {
    for (const [name, info] of ports()) {
      const spoof = await get(info, '/metrics', { ...id(kubeletClientName('node-1')), headers: { 'X-Remote-User': 'kubernetes-admin', 'X-Remote-Group': 'system:masters' } });
      expect(spoof.status, name).to.equal(403);
      expect(message(spoof), name).to.equal('forbidden: User "system:node:node-1" cannot get path "/metrics"');
    }
  });

  it('authenticate a bearer token by TokenReview: a service account reaches the SubjectAccessReview, a made-up token is 401', async function () {
    const [, sched] = ports()[0]!;
    await admin.create('/api/v1/namespaces/kube-system/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'kube-system' } } as KubeObject);
    const tr = await admin.create<KubeObject & { status?: { token: string } }>('/api/v1/namespaces/kube-system/serviceaccounts/default/token',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: 'default', namespace: 'kube-system' }, spec: {} } as KubeObject);
    const sa = await get(sched, '/metrics', { token: tr.status!.token });
    expect(sa.status).to.equal(403);
    expect(message(sa)).to.equal('forbidden: User "system:serviceaccount:kube-system:default" cannot get path "/metrics"');
    const bad = await get(sched, '/metrics', { token: 'not-a-token' });
    expect(bad).to.deep.include({ status: 401 });
    expect(message(bad)).to.equal('Unauthorized');
  });

  it('refuse a client certificate from a foreign CA with 401 on every path, /healthz included (a failed authenticator is never anonymous)', async function () {
    const foreign = await foreignAdmin(pki);
    const mark = events.length;
    for (const [name, info] of ports()) {
      for (const path of ['/metrics', '/healthz']) {
        const a = await get(info, path, foreign);
        expect(a.status, `${name} ${path}`).to.equal(401);
        expect(JSON.parse(a.body), name).to.deep.include({ reason: 'Unauthorized', message: 'Unauthorized' });
      }
    }
    const e = events.slice(mark).find((x) => x.decision === 'unauthenticated' && x.server === 'kube-controller-manager');
    // The union's errors, request header's first then x509's: both verify the chain and fail it.
    expect(e?.reason).to.match(/^\[x509: certificate signed by unknown authority .*, x509: certificate signed by unknown authority .*\]$/);
  });

  it('make kubectl get cs show controller-manager and scheduler Healthy (the apiserver probes without verifying)', async function () {
    const list = await admin.request<{ items: { metadata: { name: string }; conditions: { type: string; status: string; message?: string }[] }[] }>('GET', '/api/v1/componentstatuses');
    const byName = new Map(list.items.map((i) => [i.metadata.name, i.conditions[0]]));
    expect(byName.get('controller-manager')).to.deep.equal({ type: 'Healthy', status: 'True', message: 'ok' });
    expect(byName.get('scheduler')).to.deep.equal({ type: 'Healthy', status: 'True', message: 'ok' });
  });
});
