import { waitFor } from '../../sim/wait.js';
import { expect } from 'chai';
import { KubeScheduler, type ScheduleOutcome } from '../../components/kube-scheduler/index.js';
import { milliValue } from '../../components/api/quantity.js';
import { resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import type { KubeEvent, Lease, Node, Pod } from '../../components/api/types.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

const nodeObj = (name: string, cpu: string, memory: string): Node => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {},
  status: { allocatable: { cpu, memory, pods: '110' }, capacity: { cpu, memory, pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});

const podObj = (name: string, cpu: string, memory = '64Mi'): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu, memory } } }] },
});

/** Waits (bounded) until `n` outcomes matching `pred` have been seen. */
function collect(s: KubeScheduler, n: number, pred: (o: ScheduleOutcome) => boolean, timeoutMs = 15_000): Promise<ScheduleOutcome[]> {
  const seen: ScheduleOutcome[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`saw ${seen.length}/${n} outcomes: ${JSON.stringify(seen)}`)); }, timeoutMs);
    const off = s.onOutcome((o) => {
      if (!pred(o)) return;
      seen.push(o);
      if (seen.length >= n) { clearTimeout(timer); off(); resolve(seen); }
    });
  });
}

describe('kube-scheduler against the apiserver', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  let scheduler: KubeScheduler;

  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    for (const n of [nodeObj('node-1', '1', '2Gi'), nodeObj('node-2', '2', '4Gi')]) {
      const created = await admin.create<Node>(resourcePath({ resource: 'nodes' }), n);
      // Status is a subresource: the create drops it, as the real apiserver does.
      await admin.update(resourcePath({ resource: 'nodes', name: n.metadata.name ?? '', subresource: 'status' }), { ...created, status: n.status });
    }
    const cred = credential(pki, 'scheduler.conf');
    scheduler = new KubeScheduler({ apiserver: cp.url, identity: { cert: cred.certPem, key: cred.keyPem }, serverCa: caPem(pki, 'ca') }, { logger: silentLogger(), trace: cp.trace });
    await scheduler.start();
  });

  after(async () => {
    await scheduler?.stop();
    await cp?.stop();
  });

  it('binds a pod to the least allocated node, as system:kube-scheduler through pods/binding', async () => {
    const bound = scheduler.waitForBinding('default/first');
    await admin.create(resourcePath({ resource: 'pods', namespace: 'default' }), podObj('first', '500m'));
    // node-1: (1000-500)/1000 = 50 cpu; node-2: (2000-500)/2000 = 75 → node-2.
    expect((await bound).node).to.equal('node-2');
    const live = await admin.get<Pod>(resourcePath({ resource: 'pods', namespace: 'default', name: 'first' }));
    expect(live.spec.nodeName).to.equal('node-2');
    const binding = cp.recorder.events.find((e) => e.type === 'request' && e.path.endsWith('/pods/first/binding'));
    expect(binding).to.include({ user: 'system:kube-scheduler', method: 'POST', decision: 'allow', status: 201 });
  });

  it('binds many pods without overcommitting any node, and reports the ones that fit nowhere', async () => {
    // Free: node-1 1000m, node-2 1500m; 300m each → 3 + 5 = 8 fit, 2 do not.
    const outcomes = collect(scheduler, 10, (o) => o.pod.startsWith('default/many-'));
    for (let i = 0; i < 10; i++) await admin.create(resourcePath({ resource: 'pods', namespace: 'default' }), podObj(`many-${i}`, '300m'));
    const seen = await outcomes;
    expect(seen.filter((o) => o.result === 'bound')).to.have.length(8);
    const failed = seen.filter((o) => o.result === 'unschedulable');
    expect(failed).to.have.length(2);
    expect(failed[0]?.message).to.equal('0/2 nodes are available: 2 Insufficient cpu.');

    const pods = await admin.list<Pod>(resourcePath({ resource: 'pods', namespace: 'default' }));
    const nodes = await admin.list<Node>(resourcePath({ resource: 'nodes' }));
    for (const n of nodes.items) {
      const used = pods.items.filter((p) => p.spec.nodeName === n.metadata.name)
        .reduce((m, p) => m + milliValue(p.spec.containers[0]?.resources?.requests?.cpu ?? '0'), 0);
      expect(used, n.metadata.name).to.be.at.most(milliValue(n.status?.allocatable?.cpu ?? '0'));
    }
    expect(pods.items.filter((p) => !p.spec.nodeName)).to.have.length(2);

    // Events are queued and written by the broadcaster's own writer, after the outcome: wait for them.
    const events = await waitFor('both FailedScheduling Events', async () => {
      const list = await admin.list<KubeEvent>(resourcePath({ resource: 'events', namespace: 'default' }));
      return list.items.filter((e) => e.reason === 'FailedScheduling').length >= 2 ? list : undefined;
    });
    const fails = events.items.filter((e) => e.reason === 'FailedScheduling');
    expect(fails).to.have.length(2);
    expect(fails[0]).to.deep.include({ type: 'Warning', message: '0/2 nodes are available: 2 Insufficient cpu.' });
    expect(fails[0]?.involvedObject.kind).to.equal('Pod');
    const scheduled = events.items.find((e) => e.reason === 'Scheduled' && e.message === 'Successfully assigned default/first to node-2');
    expect(scheduled).to.deep.include({ type: 'Normal', source: { component: 'default-scheduler' }, reportingComponent: 'default-scheduler', count: 1 });
    expect(scheduled?.involvedObject).to.deep.include({ kind: 'Pod', namespace: 'default', name: 'first' });
    const stuck = await admin.get<Pod>(resourcePath({ resource: 'pods', namespace: 'default', name: failed[0]?.pod.split('/')[1] ?? '' }));
    expect(stuck.status?.conditions?.find((c) => c.type === 'PodScheduled')).to.deep.include({ status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient cpu.' });
  });

  it('retries an unschedulable pod when room is freed', async () => {
    const pending = (await admin.list<Pod>(resourcePath({ resource: 'pods', namespace: 'default' }))).items.filter((p) => !p.spec.nodeName);
    expect(pending.length).to.be.greaterThan(0);
    const next = collect(scheduler, 1, (o) => o.result === 'bound' && pending.some((p) => `default/${p.metadata.name ?? ''}` === o.pod));
    const victim = (await admin.list<Pod>(resourcePath({ resource: 'pods', namespace: 'default' }))).items.find((p) => p.metadata.name?.startsWith('many-') && p.spec.nodeName);
    await admin.delete(resourcePath({ resource: 'pods', namespace: 'default', name: victim?.metadata.name ?? '' }));
    const [o] = await next;
    expect(o?.node).to.equal(victim?.spec.nodeName);
  });

  it('leaves pods of another scheduler alone', async () => {
    const other: Pod = { ...podObj('other', '10m'), spec: { ...podObj('other', '10m').spec, schedulerName: 'my-scheduler' } };
    const marker = scheduler.waitForBinding('default/marker');
    await admin.create(resourcePath({ resource: 'pods', namespace: 'default' }), other);
    await admin.create(resourcePath({ resource: 'pods', namespace: 'default' }), podObj('marker', '10m'));
    await marker;
    const live = await admin.get<Pod>(resourcePath({ resource: 'pods', namespace: 'default', name: 'other' }));
    expect(live.spec.nodeName).to.equal(undefined);
    const list = await admin.list<Pod>(resourcePath({ resource: 'pods', namespace: 'default' }), { fieldSelector: 'spec.nodeName=' });
    expect(list.items.map((p) => p.metadata.name)).to.include('other');
  });

  it('with leader election, holds the kube-scheduler Lease; a second scheduler waits until stopped', async () => {
    const cred = credential(pki, 'scheduler.conf');
    const opts = { apiserver: cp.url, identity: { cert: cred.certPem, key: cred.keyPem }, serverCa: caPem(pki, 'ca'), leaderElect: true, leaseDurationSeconds: 30 };
    const leader = new KubeScheduler(opts, { logger: silentLogger(), trace: cp.trace });
    await leader.start();
    try {
      const lease = await admin.get<Lease>(resourcePath({ group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-system', name: 'kube-scheduler' }));
      expect(lease.spec.holderIdentity).to.match(/^cp-1_[0-9a-f-]{36}$/);
      expect(lease.spec.leaseDurationSeconds).to.equal(30);
      const leasePath = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler';
      const gets = (): number => cp.recorder.events.filter((e) => e.type === 'request' && e.method === 'GET' && e.path === leasePath).length;
      const before = gets();
      const standby = new KubeScheduler(opts, { logger: silentLogger(), trace: cp.trace });
      let failure: unknown;
      const starting = standby.start().catch((err: unknown) => { failure = err; });
      // The standby reads the lease, finds it held and not expired, and waits instead of taking it.
      await waitFor('the standby to read the lease', () => (gets() > before ? true : undefined), 2000, 10);
      const after = await admin.get<Lease>(resourcePath({ group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-system', name: 'kube-scheduler' }));
      expect(after.spec.holderIdentity).to.equal(lease.spec.holderIdentity);
      await standby.stop();
      await starting;
      expect(failure).to.be.instanceOf(Error);
    } finally {
      await leader.stop();
    }
  });
});
