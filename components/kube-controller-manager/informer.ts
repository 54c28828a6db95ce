/**
 * An informer as client-go's reflector + store: list a collection, then watch it from the list's
 * resourceVersion; a watch that ends is resumed from the last version seen; a 410 (the revision was
 * compacted) makes it list again and reconcile the store with what the list says (deleting objects
 * that vanished). Handlers are called in event order. Transport errors are retried with a capped
 * exponential backoff, as the reflector does; nothing polls.
 */
import type { Logger } from 'pino';
import { ApiError, type KubeClient, type Watch } from '../kube-client.js';
import type { KubeObject, Status, WatchEvent } from '../types.js';

export interface InformerHandlers<T extends KubeObject> {
  add?(obj: T): void;
  update?(old: T, cur: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  readonly client: KubeClient;
  /** The collection path (`/api/v1/pods`, `/apis/apps/v1/replicasets`). */
  readonly path: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  readonly logger: Logger;
  /** For logs: `*v1.Pod`. */
  readonly kind: string;
}

/** `namespace/name`, or `name` for cluster-scoped objects (cache.MetaNamespaceKeyFunc). */
export const keyOf = (o: KubeObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name ?? ''}` : o.metadata.name ?? '');

export const splitKey = (key: string): { namespace?: string; name: string } => {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
};

const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 10_000;

export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly options: InformerOptions;
  private stopped = false;
  private running: Promise<void> | undefined;
  private watch: Watch | undefined;
  private timer: { handle: NodeJS.Timeout; wake: () => void } | undefined;
  private resourceVersion = '';

  constructor(options: InformerOptions) {
    this.options = options;
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

  /**
   * Lists once and resolves when the store is filled (WaitForCacheSync); a failure of that first
   * list rejects. Afterwards it keeps watching in the background until `stop()`.
   */
  async start(): Promise<void> {
    if (this.running) throw new Error(`informer for ${this.options.kind} already started`);
    await this.relist();
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    if (this.timer) { clearTimeout(this.timer.handle); this.timer.wake(); }
    await this.running;
  }

  private async relist(): Promise<void> {
    const { client, path, fieldSelector, labelSelector } = this.options;
    const list = await client.list<T>(path, { ...(fieldSelector ? { fieldSelector } : {}), ...(labelSelector ? { labelSelector } : {}) });
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const item of list.items) {
      // Lists carry kind on the list, not on each item.
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
    this.resourceVersion = list.metadata.resourceVersion ?? '';
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let needList = false;
    while (!this.stopped) {
      try {
        if (needList) { await this.relist(); needList = false; }
        if (this.stopped) return;
        const outcome = await this.watchOnce();
        failures = 0;
        if (outcome === 'gone') needList = true;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof ApiError && err.code === 410) { needList = true; continue; }
        failures += 1;
        needList = true;
        const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (failures - 1));
        this.options.logger.warn({ err: (err as Error).message, kind: this.options.kind, retryInMs: delay }, 'watch failed; will list again');
        await this.backoff(delay);
      }
    }
  }

  private backoff(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => { this.timer = undefined; resolve(); };
      this.timer = { handle: setTimeout(wake, ms), wake };
    });
  }

  /** One watch stream; resolves 'ended' when the server closes it, 'gone' after a 410 ERROR event. */
  private async watchOnce(): Promise<'ended' | 'gone'> {
    const { client, path, fieldSelector, labelSelector } = this.options;
    let gone = false;
    const watch = client.watch<T>(path, {
      resourceVersion: this.resourceVersion,
      ...(fieldSelector ? { fieldSelector } : {}), ...(labelSelector ? { labelSelector } : {}),
    }, (e: WatchEvent<T>) => {
      if (gone || this.stopped) return;
      if (e.type === 'ERROR') {
        const status = e.object as unknown as Status;
        if (status.code === 410) { gone = true; watch.stop(); return; }
        this.options.logger.warn({ kind: this.options.kind, status }, 'watch error event');
        gone = true;
        watch.stop();
        return;
      }
      this.apply(e);
    });
    this.watch = watch;
    try {
      await watch.done;
    } finally {
      this.watch = undefined;
    }
    return gone ? 'gone' : 'ended';
  }

  private apply(e: WatchEvent<T>): void {
    const obj = e.object;
    if (obj.metadata.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
    if (e.type === 'BOOKMARK') return;
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (e.type === 'DELETED') {
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
        this.options.logger.error({ err, kind: this.options.kind }, 'informer handler threw');
      }
    }
  }
}
