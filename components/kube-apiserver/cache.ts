/**
 * What the apiserver's own readers (the RBAC and Node authorizers, NodeRestriction, the service-account
 * and bootstrap-token authenticators, the aggregator's availability controller) read of a stored
 * resource: its watch cache (cacher.ts), the one copy of each object this apiserver decodes from etcd,
 * as the real apiserver's informers and watch cache follow etcd for it. There is no second cache.
 *
 * Reads never touch etcd: `get` is a map lookup, `list(namespace)` a per-namespace index, and the
 * arrays `list` returns are kept until the next change (callers must not mutate them).
 *
 * Freshness: `noteWrite(revision)` records a write this apiserver made under the prefix (see
 * `revisionTrackingBackend`); `behind` says the watch has not delivered it yet, and `caughtUp(ms)`
 * waits (bounded) until it has. The authorizers use it to decide a denial again once they have seen
 * the client's own just-acknowledged writes, without reading etcd.
 */
import type { KubeObject } from '../api/types.js';
import type { ResourceDef } from '../api/resources.js';
import type { KvBackend, TxnResult } from './storage.js';

export type CacheListener<T extends KubeObject> = (type: 'put' | 'delete', object: T, previous: T | undefined) => void;

/** What a cache tells about its freshness, whatever it holds. */
export interface CacheFreshness {
  readonly prefix: string;
  readonly behind: boolean;
  noteWrite(revision: number): void;
  caughtUp(timeoutMs: number): Promise<boolean>;
}

/** One resource as the apiserver's readers see it (an informer's lister and event handlers). */
export interface CachedResource<T extends KubeObject = KubeObject> extends CacheFreshness {
  readonly def: ResourceDef;
  /** Lists and follows; resolves once the first list is in. */
  start(): Promise<void>;
  get(namespace: string | undefined, name: string): T | undefined;
  /** Every object (in one namespace): a shared array, valid until the next change; do not mutate it. */
  list(namespace?: string): readonly T[];
  /** Called after each change is applied (a relist reports what it changed); returns the unsubscribe. */
  onChange(listener: CacheListener<T>): () => void;
  stop(): void;
}

/** Where the apiserver's readers get a resource's cache from (the watch caches, WatchCaches.cache). */
export type CacheSource = (def: ResourceDef) => CachedResource;

/**
 * The objects of one resource by storage key, with the `list` answers memoized until the next change
 * and the listeners told of each change.
 */
export class ObjectIndex {
  private readonly objects = new Map<string, KubeObject>();
  /** `list` answers: '\u0000' for all, else the namespace; built on demand, dropped on any change. */
  private lists: Map<string, KubeObject[]> | undefined;
  private readonly listeners = new Set<CacheListener<KubeObject>>();

  get size(): number {
    return this.objects.size;
  }

  get(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  values(): IterableIterator<KubeObject> {
    return this.objects.values();
  }

  set(key: string, obj: KubeObject, previous: KubeObject | undefined): void {
    this.objects.set(key, obj);
    this.lists = undefined;
    this.emit('put', obj, previous);
  }

  delete(key: string): void {
    const old = this.objects.get(key);
    if (!old) return;
    this.objects.delete(key);
    this.lists = undefined;
    this.emit('delete', old, old);
  }

  /** A relist: every object at once; listeners hear of each key that went away or whose revision changed. */
  replace(fresh: ReadonlyMap<string, KubeObject>): void {
    const gone = [...this.objects].filter(([key]) => !fresh.has(key));
    for (const [key] of gone) this.delete(key);
    for (const [key, obj] of fresh) {
      const old = this.objects.get(key);
      this.objects.set(key, obj);
      this.lists = undefined;
      if (old?.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('put', obj, old);
    }
  }

  list(namespace?: string): readonly KubeObject[] {
    if (!this.lists) {
      // One pass makes the answer for every namespace: a burst of list(ns) after a change costs one walk.
      const lists = new Map<string, KubeObject[]>([['\u0000', [...this.objects.values()]]]);
      for (const o of lists.get('\u0000')!) {
        const ns = o.metadata.namespace ?? '';
        let l = lists.get(ns);
        if (!l) { l = []; lists.set(ns, l); }
        l.push(o);
      }
      this.lists = lists;
    }
    return this.lists.get(namespace ?? '\u0000') ?? [];
  }

  onChange(listener: CacheListener<KubeObject>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  clearListeners(): void {
    this.listeners.clear();
  }

  private emit(type: 'put' | 'delete', obj: KubeObject, old: KubeObject | undefined): void {
    for (const l of this.listeners) l(type, obj, old);
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
