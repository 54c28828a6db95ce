/**
 * A work queue as client-go's workqueue: a key is queued at most once, a key being processed that is
 * added again is processed again afterwards (never twice at once), and a failed key is retried with a
 * per-key exponential backoff (5 ms doubling to 1000 s in client-go; capped lower here). One worker:
 * keys are reconciled serially.
 */
import type { Logger } from 'pino';

export interface WorkQueueOptions {
  readonly name: string;
  readonly logger: Logger;
  readonly handler: (key: string) => Promise<void>;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  private processing: string | undefined;
  private dirty = false;
  private stopped = false;
  private readonly options: WorkQueueOptions;

  constructor(options: WorkQueueOptions) {
    this.options = options;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing === key) { this.dirty = true; return; }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds the key after a delay (used for retries). */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => { this.timers.delete(t); this.add(key); }, ms);
    this.timers.add(t);
  }

  /** The queue's name (workqueue metrics' `name` label). */
  get name(): string {
    return this.options.name;
  }

  get length(): number {
    return this.queue.length + (this.processing === undefined ? 0 : 1);
  }

  /** Resolves when nothing is queued or being processed (retries waiting on a timer do not count). */
  idle(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
  }

  private pump(): void {
    if (this.processing !== undefined || this.stopped) return;
    const key = this.queue.shift();
    if (key === undefined) {
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    this.queued.delete(key);
    this.processing = key;
    this.dirty = false;
    void this.options.handler(key).then(
      () => { this.failures.delete(key); },
      (err: unknown) => {
        if (this.stopped) return;
        const n = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, n);
        const delay = Math.min(this.options.maxDelayMs ?? 5_000, (this.options.baseDelayMs ?? 5) * 2 ** (n - 1));
        this.options.logger.warn({ queue: this.options.name, key, err: err instanceof Error ? err.message : String(err), retryInMs: delay }, 'sync failed; requeued');
        this.addAfter(key, delay);
      },
    ).finally(() => {
      this.processing = undefined;
      if (this.dirty) { this.dirty = false; this.add(key); }
      this.pump();
    });
  }
}
