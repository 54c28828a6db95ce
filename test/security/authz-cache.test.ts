import { expect } from 'chai';
import { ApiError, KubeClient, resourcePath } from '../../components/client/kube-client.js';
import type { KubeObject, Pod } from '../../components/api/types.js';
import type { RequestEvent } from '../../components/client/trace.js';
import { caPem, credential, issuePki, type LeafName, type Pki } from '../../pki/store.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { Etcd } from '../../components/etcd/index.js';
import { EtcdClient } from '../../components/client/etcd-client.js';
import { etcdBackend } from '../../components/kube-apiserver/etcd-backend.js';
import { KubeApiserver } from '../../components/kube-apiserver/index.js';
import type { KvBackend } from '../../components/kube-apiserver/storage.js';
import { silentLogger } from '../../sim/logger.js';

const RBAC = 'rbac.authorization.k8s.io';
const NS = 'fresh';

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof ApiError) return err.httpStatus;
    throw err;
  }
}

describe('kube-apiserver authorization from watch-fed caches', () => {
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  const clients: KubeClient[] = [];

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });
  after(async () => {
    for (const c of clients) c.close();
    await cp?.stop();
  });

  const etcdReads = (): number => cp.recorder.events.filter((e): e is RequestEvent => e.type === 'request' && e.server === 'etcd' && e.verb === 'kv/range').length;

  it('refuses without reading etcd (a denial costs what an allowed request costs)', async () => {
    const anon = new KubeClient({ name: 'curl', server: cp.url, serverCa: caPem(pki, 'ca') });
    clients.push(anon);
    const before = etcdReads();
    for (let i = 0; i < 20; i++) expect(await status(anon.list(resourcePath({ resource: 'secrets', namespace: NS })))).to.equal(403);
    expect(etcdReads() - before).to.equal(0);
  });

  it('honours a RoleBinding (and a new ServiceAccount\'s token) at once after the write is acknowledged', async () => {
    await admin.create(resourcePath({ resource: 'serviceaccounts', namespace: NS }), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader' } });
    const tr = await admin.create<KubeObject & { status: { token: string } }>(resourcePath({ resource: 'serviceaccounts', namespace: NS, name: 'reader', subresource: 'token' }), { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: 'reader' }, spec: {} } as KubeObject);
    const reader = new KubeClient({ name: 'reader', server: cp.url, serverCa: caPem(pki, 'ca'), token: tr.status.token });
    clients.push(reader);
    for (let i = 0; i < 10; i++) {
      await admin.create(resourcePath({ resource: 'configmaps', namespace: NS }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` } });
      await admin.create(resourcePath({ group: RBAC, resource: 'roles', namespace: NS }), { apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name: `read-${i}` }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: [`cm-${i}`] }] } as KubeObject);
      await admin.create(resourcePath({ group: RBAC, resource: 'rolebindings', namespace: NS }), {
        apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: `read-${i}` },
        roleRef: { apiGroup: RBAC, kind: 'Role', name: `read-${i}` }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: NS }],
      } as KubeObject);
      expect(await status(reader.get(resourcePath({ resource: 'configmaps', namespace: NS, name: `cm-${i}` }))), `cm-${i}`).to.equal(200);
    }
    // And a revoked one is refused at once.
    await admin.delete(resourcePath({ group: RBAC, resource: 'rolebindings', namespace: NS, name: 'read-0' }));
    expect(await status(reader.get(resourcePath({ resource: 'configmaps', namespace: NS, name: 'cm-0' })))).to.equal(403);
  });

  it('lets a kubelet read a pod right after the pod is bound to its node (the Node authorizer\'s graph)', async () => {
    const kubelet = cp.client('nodes/node-1/kubelet.conf');
    for (let i = 0; i < 5; i++) {
      const name = `p-${i}`;
      await admin.create(resourcePath({ resource: 'pods', namespace: NS }), { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'x' }] } } as Pod);
      expect(await status(kubelet.get(resourcePath({ resource: 'pods', namespace: NS, name }))), 'not yet bound').to.equal(403);
      await admin.create(resourcePath({ resource: 'pods', namespace: NS, name, subresource: 'binding' }), { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: 'node-1' } } as KubeObject);
      expect(await status(kubelet.get(resourcePath({ resource: 'pods', namespace: NS, name }))), name).to.equal(200);
    }
  });
});

/** A backend whose watches deliver each batch of events `ms` late (a busy informer), in order. */
function laggingWatches(kv: KvBackend, ms: number, timers: Set<NodeJS.Timeout>): KvBackend {
  return {
    ...kv,
    watch: (prefix, from, onEvents, onError) => kv.watch(prefix, from, (events) => {
      const t = setTimeout(() => { timers.delete(t); onEvents(events); }, ms);
      timers.add(t);
    }, onError),
  };
}

describe('kube-apiserver authorization when its caches lag behind its own writes', () => {
  let pki: Pki;
  let etcd: Etcd;
  let client: EtcdClient;
  let apiserver: KubeApiserver;
  const timers = new Set<NodeJS.Timeout>();
  const clients: KubeClient[] = [];
  const id = (name: LeafName): { cert: string; key: string } => ({ cert: credential(pki, name).certPem, key: credential(pki, name).keyPem });
  const kube = (name: string, extra: { token?: string; identity?: { cert: string; key: string } } = {}): KubeClient => {
    const c = new KubeClient({ name, server: apiserver.url, serverCa: caPem(pki, 'ca'), ...extra });
    clients.push(c);
    return c;
  };

  before(async () => {
    pki = await issuePki();
    const logger = silentLogger();
    const host = pki.plan.advertiseAddress;
    etcd = new Etcd({ host, port: 0, identity: id('etcd/server'), trustedCa: caPem(pki, 'etcd/ca'), logger });
    await etcd.start();
    const etcdOptions = { endpoints: [etcd.clientUrl], identity: id('apiserver-etcd-client'), ca: caPem(pki, 'etcd/ca') };
    client = new EtcdClient(etcdOptions);
    apiserver = new KubeApiserver({
      host, port: 0, identity: id('apiserver'), clientCa: caPem(pki, 'ca'), etcd: etcdOptions, kubeletClient: {},
      serviceAccount: pki.serviceAccount, advertiseAddress: host, logger, kv: laggingWatches(etcdBackend(client), 300, timers),
    });
    await apiserver.start();
  });
  after(async () => {
    for (const c of clients) c.close();
    await apiserver?.stop();
    client?.close();
    await etcd?.stop();
    for (const t of timers) clearTimeout(t);
  });

  it('waits for the caches to reflect a just-acknowledged ServiceAccount and RoleBinding before refusing', async () => {
    const admin = kube('admin', { identity: id('super-admin.conf') });
    await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await admin.create(resourcePath({ resource: 'serviceaccounts', namespace: NS }), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'late' } });
    const tr = await admin.create<KubeObject & { status: { token: string } }>(resourcePath({ resource: 'serviceaccounts', namespace: NS, name: 'late', subresource: 'token' }), { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: 'late' }, spec: {} } as KubeObject);
    const late = kube('late', { token: tr.status.token });
    expect(await status(late.list(resourcePath({ resource: 'configmaps', namespace: NS }))), 'authenticated, not yet authorized').to.equal(403);
    await admin.create(resourcePath({ group: RBAC, resource: 'rolebindings', namespace: NS }), {
      apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'late-view' },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'late', namespace: NS }],
    } as KubeObject);
    expect(await status(late.list(resourcePath({ resource: 'configmaps', namespace: NS })))).to.equal(200);
  });
});
