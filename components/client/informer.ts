/**
 * client-go's shared informer (tools/cache/shared_informer.go), reduced: a Reflector feeding an
 * in-memory store keyed `namespace/name`, and handlers called in event order with add, update and
 * delete; a re-list reconciles the store with the list (objects that vanished are deleted). The
 * SharedInformerFactory gives every controller of a component the same informer for a collection,
 * so each is listed and watched once.
 */
import type { Logger } from 'pino';
import type { KubeClient } from './kube-client.js';
import type { KubeObject } from '../api/types.js';
import { Reflector, type ReflectorOptions, type ReflectorStore } from './reflector.js';

export interface InformerHandlers<T extends KubeObject> {
  add?(obj: T): void;
  update?(old: T, cur: T): void;
  delete?(obj: T): void;
}

/** What a controller reads of an informer: its store, and its events. */
export interface Lister<T extends KubeObject> {
  get(key: string): T | undefined;
  list(): T[];
  addHandlers(h: InformerHandlers<T>): void;
}

export type InformerOptions = ReflectorOptions;

/** `namespace/name`, or `name` for cluster-scoped objects (cache.MetaNamespaceKeyFunc). */
export const keyOf = (o: KubeObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name ?? ''}` : o.metadata.name ?? '');

export const splitKey = (key: string): { namespace?: string; name: string } => {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
};

export class Informer<T extends KubeObject> implements Lister<T>, ReflectorStore<T> {
  private readonly store = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly logger: Logger;
  private readonly kind: string;
  private readonly reflector: Reflector<T>;

  constructor(options: InformerOptions) {
    this.logger = options.logger;
    this.kind = options.kind;
    this.reflector = new Reflector<T>(options, this);
  }

  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  /** Lists once and resolves when the store is filled (WaitForCacheSync); then watches until stop(). */
  start(): Promise<void> {
    return this.reflector.start();
  }

  stop(): Promise<void> {
    return this.reflector.stop();
  }

  /** ReflectorStore: a list replaces the store, as add/update/delete events for what changed. */
  replace(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      const key = keyOf(item);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, item);
      if (!old) this.emit('add', item);
      else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) this.emit('update', item, old);
    }
    for (const [key, old] of [...this.store]) {
      if (seen.has(key)) continue;
      this.store.delete(key);
      this.emit('delete', old);
    }
  }

  /** ReflectorStore: one watch event. */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void {
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (type === 'DELETED') {
      this.store.delete(key);
      this.emit('delete', old ?? obj);
      return;
    }
    this.store.set(key, obj);
    if (old) this.emit('update', obj, old);
    else this.emit('add', obj);
  }

  private emit(kind: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'add') h.add?.(obj);
        else if (kind === 'update') h.update?.(old ?? obj, obj);
        else h.delete?.(obj);
      } catch (err) {
        this.logger.error({ err, kind: this.kind }, 'informer handler threw');
      }
    }
  }
}

/** informers.NewSharedInformerFactory: one informer per collection and selector, started and stopped together. */
export class SharedInformerFactory {
  private readonly client: KubeClient;
  private readonly logger: Logger;
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private readonly defaults: Pick<ReflectorOptions, 'retryMs' | 'maxRetryMs'>;

  constructor(client: KubeClient, logger: Logger, defaults: Pick<ReflectorOptions, 'retryMs' | 'maxRetryMs'> = {}) {
    this.client = client;
    this.logger = logger;
    this.defaults = defaults;
  }

  /** The informer for `path` (with these selectors), made on first request. */
  informerFor<T extends KubeObject>(path: string, kind: string, selectors: { fieldSelector?: string; labelSelector?: string } = {}): Informer<T> {
    const key = `${path}?${selectors.fieldSelector ?? ''}&${selectors.labelSelector ?? ''}`;
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new Informer<KubeObject>({ client: this.client, path, kind, logger: this.logger, ...selectors, ...this.defaults });
      this.informers.set(key, inf);
    }
    return inf as unknown as Informer<T>;
  }

  /** Starts every informer made so far and resolves once each has listed (WaitForCacheSync). */
  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
