import { expect } from 'chai';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Pod } from '../../components/api/types.js';
import { EventBroadcaster, EventCorrelator, makeEvent } from '../../components/client/events.js';
import { resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import type { KubeEvent, ReplicaSet } from '../../components/api/types.js';
import type { RequestEvent } from '../../components/client/trace.js';
import { issuePki, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

/** A clock the test moves by hand. */
const manualClock = (start = Date.parse('2026-11-30T12:00:00Z')): { now: () => Date; advance: (ms: number) => void } => {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => { t += ms; } };
};

const rs = (name: string, uid = `uid-${name}`): ReplicaSet => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace: 'default', uid },
  spec: { selector: { matchLabels: { app: name } }, template: { spec: { containers: [] } } },
});
const target = (o: ReplicaSet) => ({ kind: 'ReplicaSet', apiVersion: 'apps/v1', object: o });

describe('event correlation (client-go tools/record)', () => {
  it('combines similar events from the tenth distinct message on, then counts them on the combined Event', () => {
    const clock = manualClock();
    const c = new EventCorrelator(clock);
    const out = Array.from({ length: 14 }, (_, i) => c.correlate(makeEvent(clock.now(), 'replicaset-controller', target(rs('web')), 'Normal', 'SuccessfulCreate', `Created pod: web-${i}`)));
    const sent = out.flatMap((r) => (r.skip ? [] : [r]));
    expect(sent).to.have.length(14);
    expect(sent.slice(0, 9).map((r) => [r.event.message, r.patch])).to.deep.equal(Array.from({ length: 9 }, (_, i) => [`Created pod: web-${i}`, undefined]));
    // The tenth opens the combined Event; the later ones patch its count.
    expect(sent[9]?.patch).to.equal(undefined);
    expect(sent[9]?.event.message).to.equal('(combined from similar events): Created pod: web-9');
    const combinedName = sent[9]?.event.metadata.name;
    expect(sent.slice(10).map((r) => [r.event.metadata.name, r.patch?.count, r.patch?.message])).to.deep.equal(
      [10, 11, 12, 13].map((i, k) => [combinedName, k + 2, `(combined from similar events): Created pod: web-${i}`]));
  });

  it('lets a source write 25 events about one object, then one every 5 minutes', () => {
    const clock = manualClock();
    const c = new EventCorrelator(clock);
    const once = (reason: string): boolean => !c.correlate(makeEvent(clock.now(), 'replicaset-controller', target(rs('burst')), 'Normal', reason, 'same')).skip;
    const first = Array.from({ length: 40 }, (_, i) => once(`Reason${i}`));
    expect(first.filter(Boolean)).to.have.length(25);
    expect(first.slice(25).some(Boolean)).to.equal(false);
    // Another object, or another source, has its own budget.
    expect(c.correlate(makeEvent(clock.now(), 'replicaset-controller', target(rs('other')), 'Normal', 'X', 'm')).skip).to.equal(false);
    expect(c.correlate(makeEvent(clock.now(), 'deployment-controller', target(rs('burst')), 'Normal', 'X', 'm')).skip).to.equal(false);
    clock.advance(299_000);
    expect(once('Late')).to.equal(false);
    clock.advance(2_000);
    expect(once('Later')).to.equal(true);
    expect(once('Later2')).to.equal(false);
  });

  it('counts a repeated event on the Event first written', () => {
    const clock = manualClock();
    const c = new EventCorrelator(clock);
    const e = (): KubeEvent => makeEvent(clock.now(), 'deployment-controller', target(rs('d')), 'Normal', 'ScalingReplicaSet', 'Scaled up replica set d-1 to 1');
    const a = c.correlate(e());
    clock.advance(5_000);
    const b = c.correlate(e());
    if (a.skip || b.skip) throw new Error('not expected to be filtered');
    expect(b.event.metadata.name).to.equal(a.event.metadata.name);
    expect(b.patch).to.deep.equal({ count: 2, lastTimestamp: '2026-11-30T12:00:05Z', message: 'Scaled up replica set d-1 to 1' });
    expect(b.event.firstTimestamp).to.equal('2026-11-30T12:00:00Z');
  });
});

describe('EventBroadcaster against the apiserver', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  before(async () => {
    pki = await issuePki();
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
  });
  after(async () => { await cp?.stop(); });

  it('writes 30 events about one ReplicaSet as 9 Events and one combined Event counted by PATCH, without waiting the caller', async () => {
    const b = new EventBroadcaster({ client: admin, clock: { now: () => new Date() }, logger: silentLogger(), component: 'replicaset-controller' });
    const owner = rs('many');
    const mark = cp.recorder.events.length;
    for (let i = 0; i < 30; i++) b.record(target(owner), 'Normal', 'SuccessfulCreate', `Created pod: many-${i}`);
    await b.flush();
    const events = (await admin.list<KubeEvent>(resourcePath({ resource: 'events', namespace: 'default' }))).items.filter((e) => e.involvedObject.name === 'many');
    const combined = events.filter((e) => e.message.startsWith('(combined from similar events): '));
    expect(events).to.have.length(10);
    expect(combined).to.have.length(1);
    // 25 writes pass the spam filter: 9 single Events, the combined one, 15 patches of its count.
    expect(combined[0]).to.deep.include({ count: 16, reason: 'SuccessfulCreate', type: 'Normal', source: { component: 'replicaset-controller' } });
    expect(combined[0]?.message).to.equal('(combined from similar events): Created pod: many-24');
    const writes = cp.recorder.events.slice(mark).filter((e): e is RequestEvent => e.type === 'request' && e.path.includes('/events'));
    expect(writes.map((e) => e.method).filter((m) => m === 'POST')).to.have.length(10);
    expect(writes.filter((e) => e.method === 'PATCH').map((e) => e.status)).to.deep.equal(Array(15).fill(200));
    b.stop();
  });

  it('does not retry an event the server refused with a Status, and goes on with the next', async () => {
    const b = new EventBroadcaster({ client: admin, clock: { now: () => new Date() }, logger: silentLogger(), component: 'replicaset-controller' });
    b.record({ kind: 'ReplicaSet', apiVersion: 'apps/v1', object: { metadata: { name: 'x', namespace: 'no-such-namespace' } } }, 'Normal', 'R', 'refused: the namespace does not exist');
    b.record(target(rs('after-refusal')), 'Normal', 'R', 'written');
    await b.flush();
    const events = (await admin.list<KubeEvent>(resourcePath({ resource: 'events', namespace: 'default' }))).items.filter((e) => e.involvedObject.name === 'after-refusal');
    expect(events.map((e) => e.message)).to.deep.equal(['written']);
    b.stop();
  });
});

/**
 * A sink standing in for the apiserver's events endpoint: each create waits until the test answers it,
 * so the queue's behaviour (order, one at a time, drops) is seen exactly.
 */
function stalledSink(): { client: KubeClient; written: KubeEvent[]; open: () => number; maxOpen: () => number; answer: () => void; answered: (n: number) => Promise<void> } {
  const written: KubeEvent[] = [];
  const waiting: (() => void)[] = [];
  let open = 0;
  let maxOpen = 0;
  let pump: (() => void) | undefined;
  const client = {
    create: (_path: string, obj: KubeEvent) => new Promise((resolve) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      waiting.push(() => { open--; written.push(obj); resolve(obj); });
      pump?.();
    }),
  } as unknown as KubeClient;
  return {
    client, written, open: () => open, maxOpen: () => maxOpen,
    answer: () => waiting.shift()?.(),
    // Answers every create, those to come included, until `n` Events are written.
    answered: (n) => new Promise((resolve) => {
      pump = (): void => {
        while (waiting.length && written.length < n) waiting.shift()!();
        if (written.length >= n) { pump = undefined; resolve(); }
      };
      pump();
    }),
  };
}

const pod = (name: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { containers: [] } });

function logLines(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('EventBroadcaster (client-go tools/record, recording to the apiserver)', () => {
  it('returns at once and writes the Events one at a time, in the order recorded, each stamped when recorded', async () => {
    const sink = stalledSink();
    let now = new Date('2026-01-02T03:04:05Z');
    const b = new EventBroadcaster({ client: sink.client, clock: { now: () => now }, logger: logLines().logger, component: 'default-scheduler' });
    for (let i = 0; i < 5; i++) {
      b.record({ kind: 'Pod', apiVersion: 'v1', object: pod(`p${i}`) }, 'Normal', 'Scheduled', `Successfully assigned default/p${i} to node-1`);
      now = new Date(now.getTime() + 1000);
    }
    expect(sink.open()).to.equal(1);
    expect(b.pending).to.equal(5);
    await sink.answered(5);
    await b.flush();
    expect(sink.maxOpen()).to.equal(1);
    expect(sink.written.map((e) => e.involvedObject.name)).to.deep.equal(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(sink.written[3]).to.deep.include({ reason: 'Scheduled', type: 'Normal', message: 'Successfully assigned default/p3 to node-1', firstTimestamp: '2026-01-02T03:04:08Z', source: { component: 'default-scheduler' }, reportingComponent: 'default-scheduler', reportingInstance: '' });
    expect(sink.written[3]?.involvedObject).to.deep.include({ kind: 'Pod', apiVersion: 'v1', namespace: 'default', name: 'p3', uid: 'uid-p3' });
  });

  it('drops an Event beyond 1000 + 1000 waiting, with client-go\'s error, and keeps the ones already queued', async () => {
    const sink = stalledSink();
    const { logger, lines } = logLines();
    const b = new EventBroadcaster({ client: sink.client, clock: { now: () => new Date() }, logger, component: 'default-scheduler' });
    // One is being written; MAX_QUEUED wait behind it; the next two are dropped.
    for (let i = 0; i < EventBroadcaster.MAX_QUEUED + 3; i++) b.record({ kind: 'Pod', object: pod(`p${i}`) }, 'Normal', 'Scheduled', 'm');
    expect(b.droppedEvents).to.equal(2);
    expect(lines.filter((l) => l.msg === 'Unable to record event: too many queued events, dropped event')).to.have.length(2);
    await sink.answered(EventBroadcaster.MAX_QUEUED + 1);
    expect(sink.written.at(-1)?.involvedObject.name).to.equal(`p${EventBroadcaster.MAX_QUEUED}`);
  });

  it('on shutdown writes what is queued, or drops it when told to; later Events are not taken', async () => {
    const sink = stalledSink();
    const b = new EventBroadcaster({ client: sink.client, clock: { now: () => new Date() }, logger: logLines().logger, component: 'default-scheduler' });
    for (let i = 0; i < 3; i++) b.record({ kind: 'Pod', object: pod(`a${i}`) }, 'Normal', 'Scheduled', 'm');
    const drained = b.shutdown(false);
    b.record({ kind: 'Pod', object: pod('late') }, 'Normal', 'Scheduled', 'm');
    await sink.answered(3);
    await drained;
    expect(sink.written.map((e) => e.involvedObject.name)).to.deep.equal(['a0', 'a1', 'a2']);

    const sink2 = stalledSink();
    const b2 = new EventBroadcaster({ client: sink2.client, clock: { now: () => new Date() }, logger: logLines().logger, component: 'default-scheduler' });
    for (let i = 0; i < 3; i++) b2.record({ kind: 'Pod', object: pod(`b${i}`) }, 'Normal', 'Scheduled', 'm');
    const dropped = b2.shutdown(true);
    sink2.answer();
    await dropped;
    expect(sink2.written.map((e) => e.involvedObject.name)).to.deep.equal(['b0']);
    expect(b2.pending).to.equal(0);
  });
});
