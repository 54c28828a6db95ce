/**
 * The watch cache, as the real apiserver's Cacher (k8s.io/apiserver/pkg/storage/cacher) serves watches:
 * ONE etcd watch per resource, whatever the number of watchers, a window of recent events, and each
 * event decoded once and serialized once per event type for every watcher that receives it
 * (cachingObject). Without it a thousand kubelets watching pods are a thousand etcd watches, each
 * decoding and re-encoding every pod change.
 *
 * - A watch from resourceVersion N inside the window replays the window's events after N, then follows.
 *   N older than the window: served straight from etcd, as with --watch-cache=false (the real cacher
 *   answers 410 there; this is never less than etcd gives, and compaction still answers 410).
 * - resourceVersion unset: a consistent start (the cache first reaches etcd's current revision, as
 *   1.31's consistent reads from cache do), then an ADDED per object; "0": the cache's state at once.
 * - Pods watched with `spec.nodeName=X` (every kubelet) are indexed by node, as the real cacher's
 *   indexed trigger does: a pod's change reaches only its node's kubelet and the unindexed watchers.
 * - A broken etcd watch relists and ends every watcher; clients re-watch from their last revision.
 *
 * It is also what the apiserver's own readers read (cache.ts CachedResource: the authorizers, admission,
 * the aggregator): each etcd event is decoded once, into the one copy of the object this apiserver keeps.
 */
import { batchedWriter } from '../client/lines.js';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { KubeObject, WatchEvent } from '../api/types.js';
import { apiVersionOf, type ResourceDef } from '../api/resources.js';
import { selects, type Selection } from '../api/selectors.js';
import { toStatusError } from '../api/errors.js';
import { storageKey } from './routes.js';
import { ObjectIndex, type CachedResource, type CacheListener } from './cache.js';
import { decode, type KeyValue, type KvBackend, type KvEvent, type KvWatchHandle } from './storage.js';
import { serveWatch, tooLargeResourceVersion, type ActiveWatch, type WatchOptions, longTimer, type LongTimer } from './watch.js';
import { parseResourceVersion } from './list-options.js';

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One etcd change, decoded once: `object` is the object after (a delete: as it was, at the deletion's revision). */
interface CachedEvent {
  readonly revision: number;
  readonly object: KubeObject;
  /** The object before a put (undefined for a create and for a delete). */
  readonly prev: KubeObject | undefined;
  readonly deleted: boolean;
  /** The serialized `{"type":T,"object":...}\n` per type, made on first use. */
  lines?: Partial<Record<EventType, string>>;
}

interface Watcher {
  readonly namespace: string | undefined;
  readonly selection: Selection;
  /** Only events after this revision. */
  readonly after: number;
  /** The `spec.nodeName` this watcher is indexed under (pods only). */
  readonly node: string | undefined;
  send(line: string | (() => string)): void;
  end(): void;
}

export interface WatchCacheOptions {
  /** How long an event stays in the window at least (the real cacher's eventFreshDuration, 75 s). */
  readonly freshMs?: number;
  /** The most events the window holds whatever their age. */
  readonly maxEvents?: number;
  readonly now?: () => number;
}

const lineOf = (type: EventType, object: KubeObject): string => `${JSON.stringify({ type, object })}\n`;
/** The line for an object's initial ADDED event, kept with the object (objects are replaced, never changed). */
const addedLines = new WeakMap<KubeObject, string>();
const addedLine = (o: KubeObject): string => {
  let l = addedLines.get(o);
  if (l === undefined) { l = lineOf('ADDED', o); addedLines.set(o, l); }
  return l;
};

/** The node a pod selection names with `spec.nodeName=X` (the field the real cacher indexes pods by). */
function indexedNode(def: ResourceDef, selection: Selection): string | undefined {
  if (def.resource !== 'pods') return undefined;
  const f = selection.fields.find((s) => s.field === 'spec.nodeName' && s.operator === '=');
  return f?.value;
}

const nodeOf = (o: KubeObject | undefined): string | undefined => (o as { spec?: { nodeName?: string } } | undefined)?.spec?.nodeName || undefined;

export class WatchCache implements CachedResource {
  readonly def: ResourceDef;
  private readonly kv: KvBackend;
  private readonly logger: Logger;
  readonly prefix: string;
  private readonly freshMs: number;
  private readonly maxEvents: number;
  private readonly now: () => number;
  private readonly objects = new ObjectIndex();
  /** What etcd holds for each key, as it arrived (GuaranteedUpdate's first guess at the current state). */
  private readonly raw = new Map<string, KeyValue>();
  /** The window: events in revision order, with when each arrived. */
  private events: CachedEvent[] = [];
  private arrived: number[] = [];
  /** Every event after this revision is in the window. */
  private oldest = 0;
  /** The last revision applied. */
  revision = 0;
  /** The highest revision of a write under the prefix this apiserver was acknowledged (noteWrite). */
  private written = 0;
  private readonly unindexed = new Set<Watcher>();
  private readonly byNode = new Map<string, Set<Watcher>>();
  private waiters: { revision: number; resolve: (ok: boolean) => void }[] = [];
  private handle: KvWatchHandle | undefined;
  private retry: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  private stopped = false;

  constructor(def: ResourceDef, kv: KvBackend, logger: Logger, options: WatchCacheOptions = {}) {
    this.def = def;
    this.kv = kv;
    this.logger = logger;
    this.prefix = storageKey(def, undefined);
    this.freshMs = options.freshMs ?? 75_000;
    this.maxEvents = options.maxEvents ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** Lists and follows; resolves once the first list is in (shared by concurrent callers). */
  start(): Promise<void> {
    this.starting ??= this.relist();
    return this.starting;
  }

  /** Stamps a freshly decoded object (nobody else holds it) with its kind and apiVersion, as `{ ...o, kind, apiVersion }` would. */
  private withType(o: KubeObject): KubeObject {
    o.kind = this.def.kind;
    o.apiVersion = apiVersionOf(this.def);
    return o;
  }

  /**
   * The object a change replaced: the cache's own copy when it is the revision etcd reports as the
   * previous one (as the real cacher takes the previous object from its store, not from a second decode),
   * else etcd's prevKv decoded.
   */
  private previous(ev: KvEvent, revision?: number): KubeObject | undefined {
    const old = this.objects.get(ev.kv.key);
    if (!ev.prevKv) return old && revision !== undefined ? { ...old, metadata: { ...old.metadata, resourceVersion: String(revision) } } : old;
    if (old && old.metadata.resourceVersion === String(ev.prevKv.modRevision)) {
      return revision === undefined ? old : { ...old, metadata: { ...old.metadata, resourceVersion: String(revision) } };
    }
    return this.withType(decode(ev.prevKv, revision));
  }

  private async relist(): Promise<void> {
    const { kvs, revision } = await this.kv.list(this.prefix);
    if (this.stopped) return;
    // Every watcher of the old state ends: it re-watches from its last revision.
    for (const w of [...this.unindexed, ...[...this.byNode.values()].flatMap((s) => [...s])]) w.end();
    this.raw.clear();
    const fresh = new Map<string, KubeObject>();
    for (const kv of kvs) { fresh.set(kv.key, this.withType(decode(kv))); this.raw.set(kv.key, kv); }
    this.objects.replace(fresh);
    this.events = [];
    this.arrived = [];
    this.oldest = revision;
    this.advance(revision);
    this.handle?.cancel();
    this.handle = this.kv.watch(this.prefix, revision + 1, (events) => this.apply(events), (err) => {
      if (this.stopped) return;
      this.logger.warn({ err: err.message, resource: this.def.resource }, 'watch cache: etcd watch ended; relisting');
      this.handle = undefined;
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.starting = this.relist().catch((e: Error) => { this.logger.error({ err: e.message }, 'watch cache relist failed'); });
      }, 200);
      this.retry.unref();
    });
  }

  private apply(events: readonly KvEvent[]): void {
    const at = this.now();
    for (const ev of events) {
      let cached: CachedEvent;
      if (ev.type === 'delete') {
        const was = this.previous(ev, ev.kv.modRevision);
        this.raw.delete(ev.kv.key);
        this.objects.delete(ev.kv.key);
        if (!was) { this.advance(ev.kv.modRevision); continue; }
        cached = { revision: ev.kv.modRevision, object: was, prev: undefined, deleted: true };
      } else {
        const obj = this.withType(decode(ev.kv));
        const prev = this.previous(ev);
        this.raw.set(ev.kv.key, ev.kv);
        this.objects.set(ev.kv.key, obj, prev);
        cached = { revision: ev.kv.modRevision, object: obj, prev, deleted: false };
      }
      this.events.push(cached);
      this.arrived.push(at);
      this.dispatch(cached);
      this.advance(ev.kv.modRevision);
    }
    this.trim(at);
  }

  /** Drops events older than freshMs from the front, and any beyond maxEvents. */
  private trim(at: number): void {
    let drop = 0;
    while (drop < this.events.length && (this.events.length - drop > this.maxEvents || at - this.arrived[drop]! > this.freshMs)) drop++;
    if (drop === 0) return;
    this.oldest = this.events[drop - 1]!.revision;
    this.events = this.events.slice(drop);
    this.arrived = this.arrived.slice(drop);
  }

  /** The watch event type a watcher with `selection` sees for `ev`, if any (see watch.ts toWatchEvent). */
  private static typeFor(ev: CachedEvent, selection: Selection): EventType | undefined {
    if (ev.deleted) return selects(selection, ev.object) ? 'DELETED' : undefined;
    const now = selects(selection, ev.object);
    const before = ev.prev !== undefined && selects(selection, ev.prev);
    if (now && before) return 'MODIFIED';
    if (now) return 'ADDED';
    if (before) return 'DELETED';
    return undefined;
  }

  private deliver(w: Watcher, ev: CachedEvent): void {
    if (ev.revision <= w.after) return;
    if (w.namespace !== undefined && ev.object.metadata.namespace !== w.namespace) return;
    const type = WatchCache.typeFor(ev, w.selection);
    if (!type) return;
    w.send(() => {
      const lines = (ev.lines ??= {});
      return (lines[type] ??= lineOf(type, ev.object));
    });
  }

  private dispatch(ev: CachedEvent): void {
    for (const w of this.unindexed) this.deliver(w, ev);
    if (this.byNode.size === 0) return;
    const a = nodeOf(ev.object);
    const b = nodeOf(ev.prev);
    if (a) for (const w of this.byNode.get(a) ?? []) this.deliver(w, ev);
    if (b && b !== a) for (const w of this.byNode.get(b) ?? []) this.deliver(w, ev);
  }

  private advance(revision: number): void {
    if (revision <= this.revision) return;
    this.revision = revision;
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) if (w.revision <= revision) w.resolve(true); else still.push(w);
    this.waiters = still;
  }

  /** Resolves true once the cache has applied `revision`, false after `timeoutMs`. */
  private reach(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.revision >= revision || this.stopped) return Promise.resolve(this.revision >= revision);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiters = this.waiters.filter((w) => w !== waiter); resolve(false); }, timeoutMs);
      timer.unref();
      const waiter = { revision, resolve: (ok: boolean) => { clearTimeout(timer); resolve(ok); } };
      this.waiters.push(waiter);
    });
  }

  /** A write under the prefix was acknowledged at `revision` (revisionTrackingBackend calls it). */
  noteWrite(revision: number): void {
    if (revision > this.written) this.written = revision;
  }

  get behind(): boolean {
    return this.revision < this.written;
  }

  caughtUp(timeoutMs: number): Promise<boolean> {
    return this.reach(this.written, timeoutMs);
  }

  /**
   * The stored object as the cache holds it once it reflects every write this apiserver made (what an
   * informer's lister gives admission); `stale` when it could not catch up in time (read etcd instead).
   */
  async lookup(namespace: string | undefined, name: string): Promise<KubeObject | undefined | 'stale'> {
    await this.start();
    if (this.behind && !(await this.reach(this.written, 1000))) return 'stale';
    return this.objects.get(storageKey(this.def, this.def.namespaced ? namespace : undefined, name));
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(storageKey(this.def, this.def.namespaced ? namespace : undefined, name));
  }

  list(namespace?: string): readonly KubeObject[] {
    return this.objects.list(namespace);
  }

  /**
   * A list at resourceVersion "0" (any): what the cache holds now and the revision it is at, in etcd's key
   * order, as the cacher's GetList answers it without reading etcd (client-go's reflectors list so).
   */
  async listAny(namespace: string | undefined): Promise<{ items: KubeObject[]; revision: number }> {
    await this.start();
    const key = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
    const items = [...this.objects.list(this.def.namespaced ? namespace : undefined)].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    return { items, revision: this.revision };
  }

  onChange(listener: CacheListener<KubeObject>): () => void {
    return this.objects.onChange(listener);
  }

  /** Whether the first list is in and the etcd watch follows. */
  get following(): boolean {
    return this.handle !== undefined;
  }

  /** The key's value as last seen by the watch (possibly behind etcd), if the cache holds it. */
  peek(key: string): KeyValue | undefined {
    return this.raw.get(key);
  }

  private add(w: Watcher): void {
    if (w.node === undefined) { this.unindexed.add(w); return; }
    let s = this.byNode.get(w.node);
    if (!s) { s = new Set(); this.byNode.set(w.node, s); }
    s.add(w);
  }

  private remove(w: Watcher): void {
    if (w.node === undefined) { this.unindexed.delete(w); return; }
    const s = this.byNode.get(w.node);
    s?.delete(w);
    if (s?.size === 0) this.byNode.delete(w.node);
  }

  /** How many watchers it serves (the etcd watch it holds is one). */
  get watchers(): number {
    let n = this.unindexed.size;
    for (const s of this.byNode.values()) n += s.size;
    return n;
  }

  /**
   * Serves one watch on `res` (options as serveWatch's). Resolves once the stream is set up; errors
   * before it starts (a bad resourceVersion) reject with a Status error.
   */
  async serve(res: ServerResponse, options: WatchOptions): Promise<ActiveWatch> {
    await this.start();
    const rv = options.resourceVersion;
    let after: number;
    let initial: KubeObject[] | undefined;
    if (rv === undefined || rv === '' || rv === '0') {
      if (rv !== '0') {
        // Consistent: reach etcd's current revision first (a range on no key answers it).
        const { revision } = await this.kv.get(`${this.prefix}\u0000`);
        if (!(await this.reach(revision, options.blockTimeoutMs ?? 3000))) return serveWatch(this.kv, res, options);
      }
      after = this.revision;
      initial = [];
      const ns = this.def.namespaced ? options.namespace : undefined;
      for (const o of this.objects.values()) {
        if (ns !== undefined && o.metadata.namespace !== ns) continue;
        if (selects(options.selection, o)) initial.push(o);
      }
    } else {
      const n = parseResourceVersion(rv);
      after = n >= BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
      // Older than the window: etcd serves it (and answers 410 once compacted).
      if (after < this.oldest) return serveWatch(this.kv, res, options);
    }
    return this.stream(res, options, after, initial);
  }

  private stream(res: ServerResponse, options: WatchOptions, after: number, initial: KubeObject[] | undefined): ActiveWatch {
    const timers: LongTimer[] = [];
    let ended = false;
    const transform = options.transform;
    const write = batchedWriter(res);
    const end = (): void => {
      if (ended) return;
      ended = true;
      this.remove(watcher);
      for (const t of timers) t.clear();
      if (!res.writableEnded) res.end();
    };
    const watcher: Watcher = {
      namespace: this.def.namespaced ? options.namespace : undefined,
      selection: options.selection,
      after,
      node: indexedNode(this.def, options.selection),
      send: (line) => {
        if (ended) return;
        if (!transform) { write(typeof line === 'string' ? line : line()); return; }
        const e = JSON.parse(typeof line === 'string' ? line : line()) as WatchEvent;
        write(`${JSON.stringify({ type: e.type, object: transform(e.object) })}\n`);
      },
      end,
    };
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    res.once('close', end);
    for (const o of initial ?? []) watcher.send(addedLine(o));
    // Replay the window after `after` (binary search for the first later event), then follow.
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.events[mid]!.revision <= after) lo = mid + 1; else hi = mid; }
    for (let i = lo; i < this.events.length; i++) this.deliver(watcher, this.events[i]!);
    this.add(watcher);
    if (options.timeoutMs !== undefined) timers.push(longTimer(options.timeoutMs, end));
    if (initial === undefined && after > this.revision) {
      // A resourceVersion the cache has not reached: wait up to blockTimeout, then 504 TooLarge (as serveWatch).
      const wanted = after;
      void this.reach(wanted, options.blockTimeoutMs ?? 3000).then(async (ok) => {
        if (ok || ended) return;
        const { revision } = await this.kv.get(`${this.prefix}\u0000`);
        if (revision >= wanted || ended) return;
        watcher.send(`${JSON.stringify({ type: 'ERROR', object: tooLargeResourceVersion(wanted, revision).status })}\n`);
        end();
      }).catch((err: unknown) => {
        watcher.send(`${JSON.stringify({ type: 'ERROR', object: toStatusError(err).status })}\n`);
        end();
      });
    }
    return { stop: end };
  }

  stop(): void {
    this.stopped = true;
    this.handle?.cancel();
    this.handle = undefined;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    for (const w of [...this.unindexed, ...[...this.byNode.values()].flatMap((s) => [...s])]) w.end();
    this.objects.clearListeners();
    for (const w of this.waiters) w.resolve(false);
    this.waiters = [];
  }
}

/** One WatchCache per resource, made on its first watch. */
export class WatchCaches {
  private readonly caches = new Map<string, WatchCache>();
  private readonly kv: KvBackend;
  private readonly logger: Logger;
  private readonly options: WatchCacheOptions;
  private stopped = false;

  constructor(kv: KvBackend, logger: Logger, options: WatchCacheOptions = {}) {
    this.kv = kv;
    this.logger = logger;
    this.options = options;
  }

  for(def: ResourceDef): WatchCache | undefined {
    if (this.stopped) return undefined;
    return this.cache(def);
  }

  /** The resource's cache, made on first use (the apiserver's readers take theirs when it starts). */
  cache(def: ResourceDef): WatchCache {
    const key = `${def.group}/${def.resource}`;
    let c = this.caches.get(key);
    if (!c) { c = new WatchCache(def, this.kv, this.logger, this.options); this.caches.set(key, c); }
    return c;
  }

  /**
   * GuaranteedUpdate's starting guess for `key` of `def` (the real store's cachedExistingObject): the
   * value the resource's watch cache holds, once it is following (the first update of a resource
   * starts its cache and reads etcd); the store confirms the guess with its compare-and-swap.
   */
  peek(def: ResourceDef, key: string): KeyValue | undefined {
    const c = this.for(def);
    if (!c) return undefined;
    if (!c.following) { void c.start().catch(() => undefined); return undefined; }
    return c.peek(key);
  }

  /** Every cache made so far (their freshness, for revisionTrackingBackend). */
  all(): Iterable<WatchCache> {
    return this.caches.values();
  }

  /** Watchers served and etcd watches held, per resource (for tests and the bench). */
  stats(): { resource: string; watchers: number }[] {
    return [...this.caches.entries()].map(([resource, c]) => ({ resource, watchers: c.watchers }));
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.caches.values()) c.stop();
    this.caches.clear();
  }
}
