import { expect } from 'chai';
import { waitFor } from '../../sim/wait.js';
import https from 'node:https';
import { resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import type { KubeObject, Pod, Status, WatchEvent } from '../../components/api/types.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

const pod = (name: string, labels: Record<string, string> = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
});

/** Collects watch events; `until(n)` waits (bounded) for the n-th. */
class Collector {
  readonly events: WatchEvent[] = [];
  private waiters: (() => void)[] = [];

  readonly push = (e: WatchEvent): void => {
    this.events.push(e);
    for (const w of this.waiters.splice(0)) w();
  };

  async until(n: number, timeoutMs = 5000): Promise<WatchEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} watch events; got ${JSON.stringify(this.summary())}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return this.events.slice(0, n);
  }

  summary(): string[] {
    return this.events.map((e) => `${e.type} ${e.object.metadata?.name ?? (e.object as unknown as Status).reason}`);
  }
}

describe('kube-apiserver watch', () => {
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  const ns = 'watch';
  const pods = resourcePath({ resource: 'pods', namespace: ns });

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  });
  after(async () => { await cp?.stop(); });

  it('resumes from a resourceVersion with no event lost or repeated', async () => {
    const a = await admin.create<Pod>(pods, pod('r-a'));
    const c1 = new Collector();
    const w1 = admin.watch(pods, { resourceVersion: a.metadata.resourceVersion! }, c1.push);
    await admin.create(pods, pod('r-b'));
    await admin.patch(`${pods}/r-a`, { metadata: { labels: { step: '1' } } });
    const seen1 = await c1.until(2);
    w1.stop();
    const lastRv = seen1[1]!.object.metadata.resourceVersion!;
    // Changes while nobody watches.
    await admin.patch(`${pods}/r-b`, { metadata: { labels: { step: '2' } } });
    await admin.delete(`${pods}/r-a`);
    const c2 = new Collector();
    const w2 = admin.watch(pods, { resourceVersion: lastRv }, c2.push);
    await admin.create(pods, pod('r-c'));
    const seen2 = await c2.until(3);
    w2.stop();
    const all = [...seen1, ...seen2];
    expect(all.map((e) => `${e.type} ${e.object.metadata.name}`)).to.deep.equal(['ADDED r-b', 'MODIFIED r-a', 'MODIFIED r-b', 'DELETED r-a', 'ADDED r-c']);
    const rvs = all.map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs).to.deep.equal([...rvs].sort((x, y) => x - y));
    expect(new Set(rvs).size).to.equal(rvs.length);
    expect(all[0]!.object).to.deep.include({ kind: 'Pod', apiVersion: 'v1' });
  });

  it('starts with ADDED for every existing object when resourceVersion is unset', async () => {
    const c = new Collector();
    const w = admin.watch(pods, { labelSelector: 'set=initial' }, c.push);
    await admin.create(pods, pod('i-1', { set: 'initial' }));
    await c.until(1);
    w.stop();
    await admin.create(pods, pod('i-2', { set: 'initial' }));
    const c2 = new Collector();
    const w2 = admin.watch(pods, { labelSelector: 'set=initial' }, c2.push);
    const initial = await c2.until(2);
    expect(initial.map((e) => `${e.type} ${e.object.metadata.name}`)).to.deep.equal(['ADDED i-1', 'ADDED i-2']);
    await admin.create(pods, pod('i-3', { set: 'initial' }));
    expect((await c2.until(3))[2]!.type).to.equal('ADDED');
    w2.stop();
  });

  it('turns an object leaving the selector into DELETED and one entering it into ADDED', async () => {
    const start = await admin.list(pods);
    const c = new Collector();
    const w = admin.watch(pods, { labelSelector: 'app=web', resourceVersion: start.metadata.resourceVersion! }, c.push);
    await admin.create(pods, pod('s-1', { app: 'web' }));
    await admin.create(pods, pod('s-2', { app: 'db' }));
    await admin.patch(`${pods}/s-1`, { metadata: { labels: { app: 'db' } } });
    await admin.patch(`${pods}/s-2`, { metadata: { labels: { app: 'web' } } });
    await admin.patch(`${pods}/s-2`, { metadata: { labels: { v: '2' } } });
    const events = await c.until(4);
    w.stop();
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).to.deep.equal(['ADDED s-1', 'DELETED s-1', 'ADDED s-2', 'MODIFIED s-2']);
  });

  it('filters a watch by spec.nodeName, as kubelets watch their pods', async () => {
    const start = await admin.list(pods);
    const c = new Collector();
    const w = admin.watch(resourcePath({ resource: 'pods' }), { fieldSelector: 'spec.nodeName=node-1', resourceVersion: start.metadata.resourceVersion! }, c.push);
    await admin.create(pods, pod('n-1'));
    await admin.create(`${pods}/n-1/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'n-1' }, target: { kind: 'Node', name: 'node-1' } } as KubeObject);
    const [added] = await c.until(1);
    w.stop();
    expect(added!.type).to.equal('ADDED');
    expect((added!.object as Pod).spec.nodeName).to.equal('node-1');
  });

  it('serves the /api/v1/watch/... form and sends the headers before any event', async () => {
    const admin = credential(pki, 'admin.conf');
    const url = new URL(cp.url);
    const got = await new Promise<{ status: number; type: string }>((resolve, reject) => {
      const req = https.get({
        host: url.hostname, port: url.port, path: `/api/v1/watch/namespaces/${ns}/pods?resourceVersion=999999999`,
        ca: caPem(pki, 'ca'), cert: admin.certPem, key: admin.keyPem,
      }, (res) => {
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']) });
        req.destroy();
      });
      req.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'ECONNRESET') reject(e); });
    });
    expect(got).to.deep.equal({ status: 200, type: 'application/json' });
  });

  it('sends an ERROR event with a 410 Expired Status for a resourceVersion older than the watch cache and compacted in etcd', async () => {
    // A control plane of its own whose watch cache holds one event (--default-watch-cache-size).
    const own = await startControlPlane(pki, { apiserver: { watchCacheSize: 1 } });
    try {
      const c0 = own.client('admin.conf');
      await c0.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const warm = c0.watch(pods, {}, () => undefined); // the cache follows pods from here on
      const p = await c0.create<Pod>(pods, pod('old'));
      const oldRv = Number(p.metadata.resourceVersion);
      await c0.patch(`${pods}/old`, { metadata: { labels: { a: '1' } } });
      const latest = await c0.patch<Pod>(`${pods}/old`, { metadata: { labels: { a: '2' } } });
      own.etcd.store.compact(Number(latest.metadata.resourceVersion));
      const c = new Collector();
      const w = c0.watch(pods, { resourceVersion: String(oldRv) }, c.push);
      const [err] = await c.until(1);
      await w.done;
      warm.stop();
      expect(err!.type).to.equal('ERROR');
      const status = err!.object as unknown as Status;
      expect(status).to.deep.include({ kind: 'Status', status: 'Failure', code: 410, reason: 'Expired' });
      expect(status.message).to.match(/^too old resource version: \d+ \(\d+\)$/);
    } finally {
      await own.stop();
    }
  });

  it('serves a resourceVersion inside the watch cache window even after etcd compacted it, as the real cacher does', async () => {
    const warm = admin.watch(pods, {}, () => undefined);
    const p = await admin.create<Pod>(pods, pod('windowed'));
    const rv = p.metadata.resourceVersion!;
    const latest = await admin.patch<Pod>(`${pods}/windowed`, { metadata: { labels: { a: '1' } } });
    cp.etcd.store.compact(Number(latest.metadata.resourceVersion));
    const c = new Collector();
    const w = admin.watch(pods, { resourceVersion: rv }, c.push);
    const [e] = await c.until(1);
    w.stop();
    warm.stop();
    expect(e!.type).to.equal('MODIFIED');
    expect(e!.object.metadata.name).to.equal('windowed');
    expect(e!.object.metadata.resourceVersion).to.equal(latest.metadata.resourceVersion);
  });

  it('serves every watcher of a resource from one etcd watch, and routes a pod only to its own node\'s kubelet watch', async () => {
    const served = (): number => cp.apiserver.watchCacheStats().find((x) => x.resource === '/pods')?.watchers ?? 0;
    const warm = admin.watch(pods, {}, () => undefined);
    await waitFor('the pods watch cache', () => served() > 0 || undefined);
    const base = cp.etcd.store.watcherCount;
    const before = served();
    const nodes = Array.from({ length: 20 }, (_, i) => `fan-${i}`);
    const collectors = nodes.map(() => new Collector());
    const all = new Collector();
    const watches = [
      warm,
      ...nodes.map((n, i) => admin.watch(pods, { fieldSelector: `spec.nodeName=${n}` }, collectors[i]!.push)),
      admin.watch(pods, { labelSelector: 'fan=yes' }, all.push),
    ];
    try {
      await waitFor('21 more watchers', () => served() >= before + 21 || undefined);
      // Twenty-one more watchers, and not one more etcd watch than before they came.
      expect(cp.etcd.store.watcherCount).to.equal(base);
      const created = await admin.create<Pod>(pods, { ...pod('fan-pod', { fan: 'yes' }), spec: { ...pod('x').spec, nodeName: 'fan-3' } });
      const [e] = await collectors[3]!.until(1);
      expect(e).to.deep.include({ type: 'ADDED' });
      expect(e!.object.metadata.resourceVersion).to.equal(created.metadata.resourceVersion);
      await all.until(1);
      expect(collectors.filter((c, i) => i !== 3 && c.events.length > 0)).to.have.length(0);
    } finally {
      for (const w of watches) w.stop();
    }
  });

  it('ends open watches when the apiserver stops: each stream is ended whole, not cut with its connection', async () => {
    const own = await startControlPlane(pki, { kubeadmBindings: false });
    const admin = credential(pki, 'super-admin.conf');
    const url = new URL(own.url);
    let complete: boolean | undefined;
    const ended = new Promise<void>((resolve, reject) => {
      const req = https.get({
        host: url.hostname, port: url.port, path: '/api/v1/pods?watch=true', agent: false,
        ca: caPem(pki, 'ca'), cert: admin.certPem, key: admin.keyPem,
      }, (res) => {
        res.resume();
        // `complete` is true only when the chunked body's last chunk arrived: the server ended the response.
        res.on('end', () => { complete = res.complete; resolve(); });
        res.on('error', () => { complete = false; resolve(); });
      });
      req.on('error', reject);
    });
    await waitFor('the watch request', () => own.recorder.events.some((e) => e.type === 'request' && e.server === 'kube-apiserver' && e.verb === 'watch') || undefined);
    expect(complete, 'the watch is open while the apiserver serves').to.equal(undefined);
    await own.stop();
    await ended;
    expect(complete).to.equal(true);
  });

});
