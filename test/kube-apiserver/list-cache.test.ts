/**
 * Lists at resourceVersion "0" come from the watch cache (the cacher's GetList), other lists from etcd;
 * client-go's reflector makes its first list at "0".
 */
import { expect } from 'chai';
import { ApiError, resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import type { KubeList, KubeObject } from '../../components/api/types.js';

type ConfigMap = KubeObject & { data?: Record<string, string> };
import type { RequestEvent } from '../../components/client/trace.js';
import { Informer } from '../../components/client/informer.js';
import { issuePki, kubeletClientName, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { waitFor } from '../../sim/wait.js';

describe('lists from the watch cache at resourceVersion 0', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  const ns = 'list-cache';
  const cms = resourcePath({ resource: 'configmaps', namespace: ns });
  const etcdRanges = (from: number): RequestEvent[] => cp.recorder.events.slice(from)
    .filter((e): e is RequestEvent => e.type === 'request' && e.server === 'etcd' && e.path === '/v3/kv/range' && e.resource.startsWith('/registry/configmaps/'));

  before(async () => {
    pki = await issuePki({ nodes: ['node-1'] });
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (const name of ['c', 'a', 'b']) await admin.create(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: name } });
    // Another namespace's object, which no list of list-cache may carry.
    await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'elsewhere' } });
    await admin.create(resourcePath({ resource: 'configmaps', namespace: 'elsewhere' }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aa' }, data: { secret: 'elsewhere' } });
  });
  after(async () => { await cp?.stop(); });

  it('answers a list at "0" from the cache (no etcd range, key order, limit ignored) and one at "" from etcd, with the same items', async () => {
    const last = (await admin.list<ConfigMap>(cms)).metadata.resourceVersion;
    // The cache starts on first use: it lists etcd once, then follows etcd's watch.
    await admin.list<ConfigMap>(cms, { resourceVersion: '0' });
    const mark = cp.recorder.events.length;
    const cached = await admin.list<ConfigMap>(cms, { resourceVersion: '0', limit: 1 });
    expect(etcdRanges(mark), 'no etcd read for a list at "0"').to.deep.equal([]);
    expect(cached.items.map((c) => c.metadata.name)).to.deep.equal(['a', 'b', 'c']);
    expect(cached.metadata).to.not.have.property('continue');
    expect(Number(cached.metadata.resourceVersion)).to.be.at.least(Number(last) - 1);
    const consistent = await admin.list<ConfigMap>(cms, { limit: 2 });
    expect(etcdRanges(mark).length, 'a list at "" reads etcd').to.be.greaterThan(0);
    expect(consistent.items.map((c) => c.metadata.name)).to.deep.equal(['a', 'b']);
    expect(consistent.metadata.continue, 'a limit outside the cache pages').to.be.a('string');
    const all = await admin.list<ConfigMap>(cms);
    expect(cached.items.map(({ metadata: { name, resourceVersion }, data }) => ({ name, resourceVersion, data })))
      .to.deep.equal(all.items.map(({ metadata: { name, resourceVersion }, data }) => ({ name, resourceVersion, data })));
    expect((cached as KubeList).kind).to.equal('ConfigMapList');
  });

  it('attacker\'s case: the cache answers only after authorization, and only the namespace asked for', async () => {
    const node = cp.client(kubeletClientName('node-1'));
    try {
      for (const path of [cms, resourcePath({ resource: 'configmaps' })]) {
        const err = await node.list<ConfigMap>(path, { resourceVersion: '0' }).then(() => undefined, (e: unknown) => e);
        expect(err, path).to.be.instanceOf(ApiError);
        expect((err as ApiError).httpStatus, path).to.equal(403);
      }
    } finally {
      node.close();
    }
    const mine = await admin.list<ConfigMap>(cms, { resourceVersion: '0' });
    expect(mine.items.map((c) => `${c.metadata.namespace}/${c.metadata.name}`)).to.deep.equal(['list-cache/a', 'list-cache/b', 'list-cache/c']);
    const selected = await admin.list<ConfigMap>(resourcePath({ resource: 'configmaps' }), { resourceVersion: '0', fieldSelector: 'metadata.namespace=elsewhere' });
    expect(selected.items.map((c) => c.metadata.name)).to.deep.equal(['aa']);
  });

  it('an informer lists at resourceVersion 0 first, then watches from the list\'s resourceVersion', async () => {
    const mark = cp.recorder.events.length;
    const informer = new Informer<ConfigMap>({ client: admin, path: cms, kind: '*v1.ConfigMap', logger: silentLogger() });
    try {
      await informer.start();
      expect(informer.list().map((c) => c.metadata.name).sort()).to.deep.equal(['a', 'b', 'c']);
      // A list at "" would have read etcd; the list at "0" and the watch after it are the cache's.
      expect(cp.recorder.events.slice(mark).some((e) => e.type === 'request' && e.server === 'kube-apiserver' && e.method === 'GET' && e.path.startsWith(cms))).to.equal(true);
      expect(etcdRanges(mark)).to.deep.equal([]);
      await admin.create(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd' } });
      await waitFor('the informer to see d', () => informer.list().some((c) => c.metadata.name === 'd') || undefined);
    } finally {
      await informer.stop();
    }
  });
});
