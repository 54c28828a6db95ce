/**
 * A watch-fed cache of one stored resource (what the real apiserver's informers give its RBAC and
 * Node authorizers): list the key prefix, then follow an etcd watch from the next revision. A
 * compacted watch or a broken stream relists.
 */
import type { Logger } from 'pino';
import type { KubeObject } from '../types.js';
import { storageKey, type ResourceDef } from './registry.js';
import { decode, type KvBackend, type KvEvent, type KvWatchHandle } from './storage.js';

export type CacheListener<T extends KubeObject> = (type: 'put' | 'delete', object: T, previous: T | undefined) => void;

export class ObjectCache<T extends KubeObject = KubeObject> {
  readonly def: ResourceDef;
  private readonly kv: KvBackend;
  private readonly logger: Logger;
  private readonly items = new Map<string, T>();
  private readonly listeners = new Set<CacheListener<T>>();
  private handle: KvWatchHandle | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The last revision applied. */
  revision = 0;

  constructor(def: ResourceDef, kv: KvBackend, logger: Logger) {
    this.def = def;
    this.kv = kv;
    this.logger = logger;
  }

  /** Lists and starts watching; resolves once the first list is in. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.relist();
  }

  private async relist(): Promise<void> {
    const prefix = storageKey(this.def, undefined);
    const { kvs, revision } = await this.kv.list(prefix);
    if (this.stopped) return;
    const fresh = new Map(kvs.map((kv) => [kv.key, decode<T>(kv)]));
    for (const [key, old] of this.items) if (!fresh.has(key)) { this.items.delete(key); this.emit('delete', old, old); }
    for (const [key, obj] of fresh) {
      const old = this.items.get(key);
      this.items.set(key, obj);
      if (old?.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('put', obj, old);
    }
    this.revision = revision;
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
        this.items.delete(ev.kv.key);
        if (old) this.emit('delete', old, old);
      } else {
        const obj = decode<T>(ev.kv);
        this.items.set(ev.kv.key, obj);
        this.emit('put', obj, old);
      }
      this.revision = Math.max(this.revision, ev.kv.modRevision);
    }
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

  list(namespace?: string): T[] {
    const all = [...this.items.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  stop(): void {
    this.stopped = true;
    this.handle?.cancel();
    this.handle = undefined;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.listeners.clear();
  }
}
