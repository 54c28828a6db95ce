import { expect } from 'chai';
import { Informer } from '../../components/client/informer.js';
import { WorkQueue } from '../../components/client/workqueue.js';
import type { KubeClient, ListOptions, Watch } from '../../components/client/kube-client.js';
import type { KubeList, KubeObject, WatchEvent } from '../../components/api/types.js';
import { silentLogger } from '../../sim/logger.js';

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'default', resourceVersion: rv } });

/** A scripted apiserver: lists answer from `lists`, each watch is handed to the test. */
class FakeApi {
  readonly lists: KubeList[] = [];
  readonly watches: { options: ListOptions; emit: (e: WatchEvent) => void; end: () => void; stopped: boolean }[] = [];
  private waiters: (() => void)[] = [];

  list(_path: string, _o: ListOptions): Promise<KubeList> {
    const l = this.lists.shift();
    return l ? Promise.resolve(l) : Promise.reject(new Error('no list scripted'));
  }

  watch(_path: string, options: ListOptions, onEvent: (e: WatchEvent) => void): Watch {
    let resolve!: () => void;
    const done = new Promise<void>((r) => { resolve = r; });
    const w = { options, emit: onEvent, end: resolve, stopped: false };
    this.watches.push(w);
    for (const f of this.waiters.splice(0)) f();
    return { done, stop: () => { w.stopped = true; resolve(); } };
  }

  /** Resolves once `n` watches have been opened. */
  async watchCount(n: number): Promise<void> {
    while (this.watches.length < n) await new Promise<void>((r) => this.waiters.push(r));
  }
}

const list = (rv: string, items: KubeObject[]): KubeList => ({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: rv }, items });

describe('informer', () => {
  it('lists, watches from the list\'s resourceVersion, resumes a closed watch, and re-lists after 410', async () => {
    const api = new FakeApi();
    api.lists.push(list('10', [obj('a', '5'), obj('b', '6')]));
    const inf = new Informer<KubeObject>({ client: api as unknown as KubeClient, path: '/api/v1/pods', logger: silentLogger(), kind: '*v1.Pod' });
    const seen: string[] = [];
    inf.addHandlers({ add: (o) => seen.push(`add ${o.metadata.name ?? ''}`), update: (_a, o) => seen.push(`update ${o.metadata.name ?? ''}`), delete: (o) => seen.push(`delete ${o.metadata.name ?? ''}`) });
    await inf.start();
    expect(seen).to.deep.equal(['add a', 'add b']);
    await api.watchCount(1);
    expect(api.watches[0]?.options.resourceVersion).to.equal('10');
    api.watches[0]?.emit({ type: 'MODIFIED', object: obj('a', '11') });
    api.watches[0]?.emit({ type: 'ADDED', object: obj('c', '12') });
    // The server closes the stream (its timeout): the informer resumes from the last version seen.
    api.watches[0]?.end();
    await api.watchCount(2);
    expect(api.watches[1]?.options.resourceVersion).to.equal('12');
    // Compacted: 410 → list again; b vanished meanwhile, c changed.
    api.lists.push(list('20', [obj('a', '11'), obj('c', '19')]));
    api.watches[1]?.emit({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', metadata: {} } as unknown as KubeObject });
    await api.watchCount(3);
    expect(api.watches[1]?.stopped).to.equal(true);
    expect(api.watches[2]?.options.resourceVersion).to.equal('20');
    expect(seen).to.deep.equal(['add a', 'add b', 'update a', 'add c', 'update c', 'delete b']);
    expect(inf.list().map((o) => o.metadata.name).sort()).to.deep.equal(['a', 'c']);
    await inf.stop();
    expect(api.watches[2]?.stopped).to.equal(true);
  });
});

describe('work queue', () => {
  it('processes each key serially, coalesces duplicates, and re-runs a key added while it runs', async () => {
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const q = new WorkQueue({
      name: 't', logger: silentLogger(),
      handler: async (k) => { log.push(`start ${k}`); if (k === 'a' && log.filter((l) => l === 'start a').length === 1) await gate; log.push(`end ${k}`); },
    });
    q.add('a');
    q.add('b');
    q.add('b');
    q.add('a'); // while a runs: marked dirty, runs again afterwards
    release();
    await q.idle();
    expect(log).to.deep.equal(['start a', 'end a', 'start b', 'end b', 'start a', 'end a']);
    q.stop();
  });

  it('retries a failing key with backoff until it succeeds', async () => {
    let calls = 0;
    let done!: () => void;
    const finished = new Promise<void>((r) => { done = r; });
    const q = new WorkQueue({ name: 't', logger: silentLogger(), baseDelayMs: 1, handler: (k) => { calls += 1; if (calls < 3) return Promise.reject(new Error(`fail ${k}`)); done(); return Promise.resolve(); } });
    q.add('x');
    await finished;
    expect(calls).to.equal(3);
    q.stop();
  });
});
