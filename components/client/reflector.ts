/**
 * client-go's Reflector (tools/cache/reflector.go), reduced: list a collection (the first list at
 * resourceVersion "0", which the apiserver's watch cache answers without reading etcd; after a 410 a
 * consistent list at ""), hand the items to a store, then watch from the list's resourceVersion and hand it every event; a watch that ends is
 * resumed from the last resourceVersion seen; a 410 Gone (an ERROR event, or the watch's own HTTP
 * status: the revision was compacted) lists again. Failures back off exponentially, capped, as the
 * reflector's backoff manager does; a success resets the backoff. Nothing polls.
 *
 * The one list-and-watch loop of the project: the Informer is built on it, and the kubelet (its own
 * pods) feeds it a store of its own.
 */
import type { Logger } from 'pino';
import { ApiError, type KubeClient, type Watch } from './kube-client.js';
import type { KubeList, KubeObject, Status, WatchEvent } from '../api/types.js';

/** Where a reflector puts what it lists and watches (client-go's cache.Store: Replace, Add/Update/Delete). */
export interface ReflectorStore<T extends KubeObject> {
  /** A full list arrived (the first list, or a re-list after 410): it replaces everything known. */
  replace(items: T[], resourceVersion: string): void;
  /** One watch event. */
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void;
}

export interface ReflectorOptions {
  readonly client: KubeClient;
  /** The collection path (`/api/v1/pods`, `/apis/apps/v1/replicasets`). */
  readonly path: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  readonly logger: Logger;
  /** For logs: `*v1.Pod`. */
  readonly kind: string;
  /** The first pause after a failure (ms), doubled on each further failure; default 200. */
  readonly retryMs?: number;
  /** The longest pause (ms); default 10 000. */
  readonly maxRetryMs?: number;
}

/** A watch the server ends sooner than this after it began (no events, no error) is not retried at once. */
const SHORT_WATCH_MS = 100;

export class Reflector<T extends KubeObject> {
  private readonly options: ReflectorOptions;
  private readonly store: ReflectorStore<T>;
  private stopped = false;
  private watch: Watch | undefined;
  private timer: { handle: NodeJS.Timeout; wake: () => void } | undefined;
  private loop: Promise<void> | undefined;
  /** The server said the last resourceVersion is gone (410): the next list is a consistent one. */
  private lastResourceVersionUnavailable = false;
  /** The resourceVersion the next watch starts from. */
  lastResourceVersion = '';
  /** How many lists were made (1 after start; more after 410s and failures). */
  lists = 0;

  constructor(options: ReflectorOptions, store: ReflectorStore<T>) {
    this.options = options;
    this.store = store;
  }

  /** Lists once (rejecting if that fails: WaitForCacheSync), then keeps watching in the background. */
  async start(): Promise<void> {
    if (this.loop) throw new Error(`reflector for ${this.options.kind} already started`);
    await this.list();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    if (this.timer) { clearTimeout(this.timer.handle); this.timer.wake(); }
    await this.loop;
  }

  private selectors(): { fieldSelector?: string; labelSelector?: string } {
    const { fieldSelector, labelSelector } = this.options;
    return { ...(fieldSelector ? { fieldSelector } : {}), ...(labelSelector ? { labelSelector } : {}) };
  }

  /**
   * relistResourceVersion: the first list at "0" (served from the apiserver's watch cache), a relist at the
   * last resourceVersion seen, and at "" (a consistent read from etcd) after the server said it is gone.
   */
  private relistResourceVersion(): string {
    if (this.lastResourceVersionUnavailable) return '';
    return this.lastResourceVersion === '' ? '0' : this.lastResourceVersion;
  }

  private async list(): Promise<void> {
    let list: KubeList<T>;
    try {
      list = await this.options.client.list<T>(this.options.path, { ...this.selectors(), resourceVersion: this.relistResourceVersion() });
    } catch (err) {
      if (err instanceof ApiError && err.httpStatus === 410) this.lastResourceVersionUnavailable = true;
      throw err;
    }
    this.lists += 1;
    if (this.stopped) return;
    this.lastResourceVersionUnavailable = false;
    this.lastResourceVersion = list.metadata.resourceVersion ?? '';
    this.store.replace(list.items, this.lastResourceVersion);
  }

  private async run(): Promise<void> {
    let failures = 0;
    let relist = false;
    while (!this.stopped) {
      try {
        if (relist) { await this.list(); relist = false; }
        if (this.stopped) return;
        const began = Date.now();
        relist = (await this.watchOnce()) === 'gone';
        failures = 0;
        if (!relist && !this.stopped && Date.now() - began < SHORT_WATCH_MS) await this.pause(this.options.retryMs ?? 200);
      } catch (err) {
        if (this.stopped) return;
        relist = true;
        if (err instanceof ApiError && err.httpStatus === 410) { this.lastResourceVersionUnavailable = true; continue; }
        failures += 1;
        const delay = Math.min(this.options.maxRetryMs ?? 10_000, (this.options.retryMs ?? 200) * 2 ** (failures - 1));
        this.options.logger.warn({ err: (err as Error).message, kind: this.options.kind, path: this.options.path, retryInMs: delay }, 'list/watch failed; will list again');
        await this.pause(delay);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => { this.timer = undefined; resolve(); };
      this.timer = { handle: setTimeout(wake, ms), wake };
    });
  }

  /** One watch stream; 'ended' when the server closes it, 'gone' after an ERROR event (410: list again). */
  private async watchOnce(): Promise<'ended' | 'gone'> {
    let gone = false;
    const watch = this.options.client.watch<T>(this.options.path, { ...this.selectors(), resourceVersion: this.lastResourceVersion }, (e: WatchEvent<T>) => {
      if (gone || this.stopped) return;
      if (e.type === 'ERROR') {
        const status = e.object as unknown as Status;
        this.options.logger.info({ code: status.code, message: status.message, kind: this.options.kind }, 'watch ended with an error; listing again');
        gone = true;
        // 410 Expired/Gone: the next list reads etcd (isLastSyncResourceVersionUnavailable).
        if (status.code === 410) this.lastResourceVersionUnavailable = true;
        watch.stop();
        return;
      }
      const rv = e.object.metadata.resourceVersion;
      if (rv) this.lastResourceVersion = rv;
      if (e.type === 'BOOKMARK') return;
      this.store.apply(e.type, e.object);
    });
    this.watch = watch;
    try {
      await watch.done;
    } finally {
      this.watch = undefined;
    }
    return gone ? 'gone' : 'ended';
  }
}
