import { expect } from 'chai';
import { EtcdClient, EtcdError } from '../../components/client/etcd-client.js';
import { resourcePath } from '../../components/client/kube-client.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import { waitFor } from '../../sim/wait.js';
import type { KubeObject } from '../../components/api/types.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

const CONFIGMAPS = resourcePath({ resource: 'configmaps', namespace: 'default' });
const configMap = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: '1' } } as KubeObject);

describe('kube-apiserver and etcd: compaction', () => {
  let pki: Pki;
  let cp: ControlPlane;

  before(async () => {
    pki = await issuePki();
    // --watch-cache=false: every watch is etcd's own, so a compacted revision is etcd's 410 (with the
    // cache, a revision inside its window is served from it: watch.test.ts).
    cp = await startControlPlane(pki, { apiserver: { etcdCompactionIntervalMs: 100, watchCache: false } });
  });
  after(async () => { await cp?.stop(); });

  it('compacts etcd every --etcd-compaction-interval to the revision seen at the previous tick, keeping compact_rev_key as Kubernetes does', async () => {
    const admin = cp.client('admin.conf');
    const created = await admin.create(CONFIGMAPS, configMap('old'));
    const rv = Number(created.metadata.resourceVersion ?? 0);
    const compacted = await waitFor('a compaction past the ConfigMap', () => (cp.etcd.store.compactRevision > rv ? cp.etcd.store.compactRevision : undefined), 10_000);
    expect(compacted).to.be.above(rv);
    const key = cp.etcd.store.range(Buffer.from('compact_rev_key'), Buffer.alloc(0)).kvs[0];
    expect(key?.version).to.be.at.least(2);
  });

  it('answers a watch from a compacted resourceVersion with 410 Expired: too old resource version', async () => {
    const admin = cp.client('admin.conf');
    const created = await admin.create(CONFIGMAPS, configMap('watched'));
    const rv = Number(created.metadata.resourceVersion ?? 0);
    await admin.patch(`${CONFIGMAPS}/watched`, { data: { v: '2' } });
    await waitFor('a compaction past the ConfigMap', () => (cp.etcd.store.compactRevision > rv + 1 ? true : undefined), 10_000);
    const res = await admin.raw('GET', `${CONFIGMAPS}?watch=1&resourceVersion=${rv}`);
    expect(res.status).to.equal(200);
    const event = JSON.parse(res.body.trim().split('\n')[0]!) as { type: string; object: { kind: string; code: number; reason: string; message: string } };
    expect(event.type).to.equal('ERROR');
    expect(event.object).to.include({ kind: 'Status', code: 410, reason: 'Expired' });
    expect(event.object.message).to.match(new RegExp(`^too old resource version: ${rv} \\(\\d+\\)$`));
  });

  it('etcd itself cancels a watch from a compacted revision with compact_revision: "required revision has been compacted"', async () => {
    const c = new EtcdClient({ endpoints: [cp.etcd.clientUrl], identity: { cert: credential(pki, 'apiserver-etcd-client').certPem, key: credential(pki, 'apiserver-etcd-client').keyPem }, ca: caPem(pki, 'etcd/ca') });
    try {
      const errors: EtcdError[] = [];
      const w = c.watch('/registry/configmaps/', 2, () => undefined, (e) => errors.push(e));
      await w.ready.catch(() => undefined);
      const err = await waitFor('the cancel', () => errors[0]);
      expect(err.code).to.equal('COMPACTED');
      expect(err.message).to.contain('etcdserver: mvcc: required revision has been compacted');
      expect(err.compactRevision).to.equal(cp.etcd.store.compactRevision);
    } finally {
      c.close();
    }
  });
});

describe('kube-apiserver and etcd: an outage', () => {
  let pki: Pki;
  let cp: ControlPlane;

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki, { apiserver: { etcdHealthcheckTimeoutMs: 300 } });
  });
  after(async () => { await cp?.stop(); });

  it('/readyz (and /readyz/etcd, ?verbose) fails while etcd is down and is ok again once it is back', async () => {
    const admin = cp.client('admin.conf');
    expect((await admin.raw('GET', '/readyz')).body).to.equal('ok');
    await cp.etcd.stop();
    const verbose = await admin.raw('GET', '/readyz?verbose');
    expect(verbose.status).to.equal(500);
    expect(verbose.body).to.equal('[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n');
    const one = await admin.raw('GET', '/readyz/etcd');
    expect(one.status).to.equal(500);
    expect(one.body).to.equal('internal server error: error getting data from etcd: context deadline exceeded\n');
    await cp.etcd.start();
    await waitFor('/readyz to pass again', async () => ((await admin.raw('GET', '/readyz')).status === 200 ? true : undefined));
    expect((await admin.raw('GET', '/readyz/etcd')).body).to.equal('ok');
  });

  it('retries a write etcd refused with a backoff, so it succeeds once etcd is back within the deadline', async () => {
    const admin = cp.client('admin.conf');
    await cp.etcd.stop();
    const refused = waitFor('the apiserver to be refused by etcd', () => cp.recorder.events.find((e) => e.type === 'tls-client' && e.client === 'kube-apiserver' && e.server === 'etcd' && e.handshake === 'refused' && e.code === 'ECONNREFUSED'));
    const pending = admin.raw('POST', CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'during-outage' } });
    await refused;
    await cp.etcd.start();
    const res = await pending;
    expect(res.status).to.equal(201);
    expect((await admin.raw('GET', `${CONFIGMAPS}/during-outage`)).status).to.equal(200);
  });
});
