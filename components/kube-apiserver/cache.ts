/**
 * A watch-fed cache of one stored resource (what the real apiserver's informers give its RBAC and
 * Node authorizers): list the key prefix, then follow an etcd watch from the next revision. A
 * compacted watch or a broken stream relists.
 *
 * Reads never touch etcd: `get` is a map lookup, `list(namespace)` a per-namespace index, and the
 * arrays `list` returns are kept until the next change (callers must not mutate them).
 *
 * Freshness: `noteWrite(revision)` records a write this apiserver made under the prefix (see
 * `revisionTrackingBackend`); `behind` says the watch has not delivered it yet, and `caughtUp(ms)`
 * waits (bounded) until it has. The authorizers use it to decide a denial again once they have seen
 * the client's own just-acknowledged writes, without reading etcd.
 */
import type { Logger } from 'pino';
import type { KubeObject } from '../api/types.js';
import { type ResourceDef } from '../api/resources.js';
import { storageKey } from './routes.js';
import { decode, type KvBackend, type KvEvent, type KvWatchHandle, type TxnResult } from './storage.js';

export type CacheListener<T extends KubeObject> = (type: 'put' | 'delete', object: T, previous: T | undefined) => void;

/** What a cache tells about its freshness, whatever it holds. */
export interface CacheFreshness {
  readonly prefix: string;
  readonly behind: boolean;
  noteWrite(revision: number): void;
  caughtUp(timeoutMs: number): Promise<boolean>;
}

export class ObjectCache<T extends KubeObject = KubeObject> implements CacheFreshness {
  readonly def: ResourceDef;
  private readonly kv: KvBackend;
  private readonly logger: Logger;
  private readonly items = new Map<string, T>();
  /** namespace ('' for cluster-scoped objects) -> key -> object. */
  private readonly byNamespace = new Map<string, Map<string, T>>();
  /** `list` answers, kept until the next change: '\u0000' for all, else the namespace. */
  private readonly lists = new Map<string, T[]>();
  private readonly listeners = new Set<CacheListener<T>>();
  private waiters: { revision: number; resolve: () => void }[] = [];
  private handle: KvWatchHandle | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The last revision applied. */
  revision = 0;
  /** The highest revision of a write under the prefix this apiserver has been acknowledged (noteWrite). */
  private written = 0;

  /** The key prefix it follows (`/registry/pods/`). */
  readonly prefix: string;

  constructor(def: ResourceDef, kv: KvBackend, logger: Logger) {
    this.def = def;
    this.prefix = storageKey(def, undefined);
    this.kv = kv;
    this.logger = logger;
  }

  /** Lists and starts watching; resolves once the first list is in. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.relist();
  }

  private async relist(): Promise<void> {
    const prefix = this.prefix;
    const { kvs, revision } = await this.kv.list(prefix);
    if (this.stopped) return;
    const fresh = new Map(kvs.map((kv) => [kv.key, decode<T>(kv)]));
    for (const [key, old] of this.items) if (!fresh.has(key)) { this.remove(key, old); this.emit('delete', old, old); }
    for (const [key, obj] of fresh) {
      const old = this.items.get(key);
      this.put(key, obj, old);
      if (old?.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('put', obj, old);
    }
    this.advance(revision);
    this.handle?.cancel();
    this.handle = this.kv.watch(prefix, revision + 1, (events) => this.apply(events), (err) => {
      if (this.stopped) return;
      this.logger.warn({ err: err.message, resource: this.def.resource }, 'cache watch ended; relisting');
      this.handle = undefined;
      this.retry = setTimeout(() => { this.retry = undefined; void this.relist().catch((e: Error) => this.logger.error({ err: e.message }, 'relist failed')); }, 200);
      this.retry.unref();
    });
  }

  private apply(events: readonly KvEvent[]): void {
    for (const ev of events) {
      const old = this.items.get(ev.kv.key);
      if (ev.type === 'delete') {
        if (old) { this.remove(ev.kv.key, old); this.emit('delete', old, old); }
      } else {
        const obj = decode<T>(ev.kv);
        this.put(ev.kv.key, obj, old);
        this.emit('put', obj, old);
      }
      this.advance(ev.kv.modRevision);
    }
  }

  private put(key: string, obj: T, old: T | undefined): void {
    if (old) this.remove(key, old);
    this.items.set(key, obj);
    const ns = obj.metadata.namespace ?? '';
    let m = this.byNamespace.get(ns);
    if (!m) { m = new Map(); this.byNamespace.set(ns, m); }
    m.set(key, obj);
    this.lists.clear();
  }

  private remove(key: string, old: T): void {
    this.items.delete(key);
    const ns = old.metadata.namespace ?? '';
    const m = this.byNamespace.get(ns);
    m?.delete(key);
    if (m?.size === 0) this.byNamespace.delete(ns);
    this.lists.clear();
  }

  private advance(revision: number): void {
    if (revision <= this.revision) return;
    this.revision = revision;
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) if (w.revision <= revision) w.resolve(); else still.push(w);
    this.waiters = still;
  }

  /** A write under this cache's prefix was acknowledged at `revision` (the watch will deliver it). */
  noteWrite(revision: number): void {
    if (revision > this.written) this.written = revision;
  }

  /** Whether a write this apiserver made under the prefix has not reached the cache yet. */
  get behind(): boolean {
    return this.revision < this.written;
  }

  /**
   * Resolves once the cache has applied every write noted so far, or after `timeoutMs` (resolving
   * false): never an etcd read, only the watch it already follows.
   */
  caughtUp(timeoutMs: number): Promise<boolean> {
    const target = this.written;
    if (this.revision >= target || this.stopped) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const waiter = { revision: target, resolve: () => { clearTimeout(timer); resolve(true); } };
      this.waiters.push(waiter);
    });
  }

  private emit(type: 'put' | 'delete', obj: T, old: T | undefined): void {
    for (const l of this.listeners) l(type, obj, old);
  }

  onChange(listener: CacheListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(storageKey(this.def, this.def.namespaced ? namespace : undefined, name));
  }

  /** Every object (in one namespace): a shared array, valid until the next change; do not mutate it. */
  list(namespace?: string): readonly T[] {
    const k = namespace ?? '\u0000';
    let l = this.lists.get(k);
    if (!l) {
      l = namespace === undefined ? [...this.items.values()] : [...(this.byNamespace.get(namespace)?.values() ?? [])];
      this.lists.set(k, l);
    }
    return l;
  }

  stop(): void {
    this.stopped = true;
    this.handle?.cancel();
    this.handle = undefined;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.listeners.clear();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }
}

/**
 * The key-value backend the apiserver's storage writes through: every acknowledged write (create,
 * update, delete) is noted on the caches whose prefix holds the key, so they know which revision
 * they must reach to reflect it. Reads and watches pass through unchanged.
 */
export function revisionTrackingBackend(kv: KvBackend, caches: () => Iterable<CacheFreshness>): KvBackend {
  const note = (key: string, r: TxnResult): TxnResult => {
    if (r.succeeded) for (const c of caches()) if (key.startsWith(c.prefix)) c.noteWrite(r.revision);
    return r;
  };
  return {
    get: (key) => kv.get(key),
    list: (prefix) => kv.list(prefix),
    create: async (key, value) => note(key, await kv.create(key, value)),
    update: async (key, value, modRevision) => note(key, await kv.update(key, value, modRevision)),
    delete: async (key, modRevision) => note(key, await kv.delete(key, modRevision)),
    watch: (prefix, from, onEvents, onError) => kv.watch(prefix, from, onEvents, onError),
  };
}
