/**
 * client-go's reflector, reduced: list a collection, then watch it from the list's resourceVersion;
 * resume a watch that ended from the last resourceVersion seen; re-list when the apiserver says the
 * version is too old (410 Gone, as an ERROR event or as the watch's HTTP status). Used by the kubelet
 * (its own pods) and by kube-proxy (services, endpoints).
 */
import type { Logger } from 'pino';
import { ApiError, type KubeClient, type Watch } from '../kube-client.js';
import type { KubeObject, Status, WatchEvent } from '../types.js';

export interface ReflectorOptions<T extends KubeObject> {
  readonly client: KubeClient;
  /** The collection, e.g. `/api/v1/pods`. */
  readonly path: string;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
  readonly logger: Logger;
  /** A full list arrived (first list, or a re-list): replace everything known. */
  readonly onReplace: (items: T[]) => void;
  /** One watch event (ADDED, MODIFIED, DELETED). */
  readonly onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T) => void;
  /** Pause after a failed list or watch before trying again (ms). */
  readonly retryMs?: number;
}

export class Reflector<T extends KubeObject> {
  private readonly options: ReflectorOptions<T>;
  private stopped = false;
  private watch: Watch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  /** The resourceVersion the next watch starts from. */
  lastResourceVersion = '';
  /** How many lists were made (1 after start; more after 410s). */
  lists = 0;

  constructor(options: ReflectorOptions<T>) {
    this.options = options;
  }

  /** Lists once (rejecting if that fails), then keeps watching in the background. */
  async start(): Promise<void> {
    await this.list();
    this.loop = this.run();
  }

  private selectors(): { fieldSelector?: string; labelSelector?: string } {
    return {
      ...(this.options.fieldSelector ? { fieldSelector: this.options.fieldSelector } : {}),
      ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
    };
  }

  private async list(): Promise<void> {
    const list = await this.options.client.list<T>(this.options.path, this.selectors());
    this.lists += 1;
    this.lastResourceVersion = list.metadata.resourceVersion ?? '';
    if (!this.stopped) this.options.onReplace(list.items);
  }

  private async run(): Promise<void> {
    let relist = false;
    while (!this.stopped) {
      try {
        if (relist) {
          await this.list();
          relist = false;
        }
        const began = Date.now();
        relist = await this.watchOnce();
        // A watch the server closes at once (no events, no error) is not retried in a tight loop.
        if (!relist && !this.stopped && Date.now() - began < 100) await this.pause();
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof ApiError && err.code === 410) { relist = true; continue; }
        this.options.logger.warn({ err: (err as Error).message, path: this.options.path }, 'list/watch failed; retrying');
        relist = relist || !(err instanceof ApiError);
        await this.pause();
      }
    }
  }

  /** One watch; resolves true when a re-list is needed. */
  private watchOnce(): Promise<boolean> {
    let gone = false;
    const w = this.options.client.watch<T>(this.options.path, { ...this.selectors(), resourceVersion: this.lastResourceVersion }, (e: WatchEvent<T>) => {
      if (this.stopped || gone) return;
      if (e.type === 'ERROR') {
        const status = e.object as unknown as Status;
        this.options.logger.info({ code: status.code, message: status.message, path: this.options.path }, 'watch ended with an error; re-listing');
        gone = true;
        w.stop();
        return;
      }
      const rv = e.object.metadata.resourceVersion;
      if (rv) this.lastResourceVersion = rv;
      if (e.type === 'BOOKMARK') return;
      this.options.onEvent(e.type, e.object);
    });
    this.watch = w;
    return w.done.then(() => gone);
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, this.options.retryMs ?? 500);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }
}
