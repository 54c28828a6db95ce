import { expect } from 'chai';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { KubeEvent, Pod } from '../../components/api/types.js';
import { EventBroadcaster } from '../../components/client/events.js';
import type { KubeClient } from '../../components/client/kube-client.js';

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
