import { expect } from 'chai';
import { Trace } from '../../components/client/trace.js';
import { TraceRecorder } from '../../sim/trace.js';

const request = (i: number): Parameters<Trace['emit']>[0] => ({
  type: 'request', server: 'kube-apiserver', peer: `127.0.0.1:${1000 + (i % 7)}`, method: 'GET', path: `/api/v1/pods/${i}`, user: 'u', groups: [],
  verb: 'get', resource: 'pods', decision: 'allow', layer: 'none', status: 200,
});

describe('the trace in a long-running cluster', () => {
  it('keeps only the most recent events under maxEvents, in order, and counts what it dropped', () => {
    const trace = new Trace();
    const ring = new TraceRecorder(trace, { maxEvents: 1000 });
    const all = new TraceRecorder(trace);
    for (let i = 0; i < 10_000; i++) trace.emit(request(i));
    expect(all.events).to.have.length(10_000);
    expect(ring.events.length).to.be.at.least(1000).and.at.most(1250);
    expect(ring.dropped + ring.events.length).to.equal(10_000);
    const paths = ring.events.map((e) => (e.type === 'request' ? e.path : ''));
    expect(paths.at(-1)).to.equal('/api/v1/pods/9999');
    expect(paths).to.deep.equal(all.events.slice(ring.dropped).map((e) => (e.type === 'request' ? e.path : '')));
    ring.stop();
    all.stop();
    expect(trace.active).to.equal(false);
  });
});

describe('Trace activity', () => {
  it('tells its activity listeners when the first non-passive listener comes and the last goes, and not for passive ones', () => {
    const trace = new Trace();
    const seen: boolean[] = [];
    const off = trace.onActivity((a) => seen.push(a));
    const passive = trace.on(() => undefined, { passive: true });
    expect(trace.active).to.equal(false);
    const one = trace.on(() => undefined);
    const two = trace.on(() => undefined);
    one();
    expect(trace.active).to.equal(true);
    two();
    passive();
    off();
    trace.on(() => undefined);
    expect(seen).to.deep.equal([true, false]);
  });
});
