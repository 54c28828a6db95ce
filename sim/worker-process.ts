/**
 * One forked worker process as the cluster sees it (node workers, sim/workers.ts; the embedded etcd in
 * its own process, sim/etcd-child.ts): its trace events recorded into the cluster's Trace as they
 * arrive, requests matched to their replies by id, and its exit failing whatever still waits on it.
 * The messages both ways share three shapes: `trace`, `reply` and `failed`; any other message from
 * the worker goes to `started` (the answer to its start message).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { Trace, TraceEvent } from '../components/client/trace.js';

/** The messages every worker may send, besides its own. */
export type FromAnyWorker =
  | { readonly type: 'trace'; readonly events: readonly TraceEvent[] }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'reply'; readonly id: number; readonly value?: unknown; readonly error?: string };

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** Forks `entry` (a TypeScript module next to this one) through tsx's loader, as the cluster itself runs. */
export function forkWorker(entry: string): ChildProcess {
  const file = fileURLToPath(new URL(entry, import.meta.url));
  // The worker runs the TypeScript sources as the cluster does, through tsx's loader (its "." export).
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return fork(file, [], { execArgv: ['--import', tsx], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
}

export class WorkerProcess<To extends { readonly type: string }, From extends { readonly type: string }> {
  readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  readonly exited: Promise<void>;
  started: ((m: From | FromAnyWorker) => void) | undefined;

  /** `what` names the worker in errors and logs ("node worker", "etcd"). */
  constructor(child: ChildProcess, private readonly what: string, trace: Trace, logger: Logger) {
    this.child = child;
    child.on('message', (m: From | FromAnyWorker) => {
      const any = m as FromAnyWorker;
      if (any.type === 'trace') for (const e of any.events) trace.record(e);
      else if (any.type === 'reply') {
        const p = this.pending.get(any.id);
        this.pending.delete(any.id);
        if (any.error !== undefined) p?.reject(new Error(any.error));
        else p?.resolve(any.value);
      } else this.started?.(m);
    });
    child.on('error', (err) => logger.warn({ pid: child.pid, err: err.message }, `${what} error`));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const why = `${what} ${child.pid ?? '?'} exited (${signal ?? `code ${code ?? '?'}`})`;
        if (code !== 0) logger.warn({ pid: child.pid, code, signal }, `${what} exited`);
        for (const p of this.pending.values()) p.reject(new Error(why));
        this.pending.clear();
        this.started?.({ type: 'failed', error: why });
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  send(m: To): void {
    if (this.child.connected) this.child.send(m);
  }

  request<T>(make: (id: number) => To): Promise<T> {
    if (!this.child.connected) return Promise.reject(new Error(`${this.what} ${this.pid} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send(make(id));
    });
  }

  /** Sends the start message and waits for the worker's answer (or its exit). */
  async start(message: To): Promise<From | FromAnyWorker> {
    const reply = await new Promise<From | FromAnyWorker>((resolve) => {
      this.started = resolve;
      this.send(message);
    });
    this.started = undefined;
    return reply;
  }

  /** Asks the worker to stop (`message`), or SIGTERM without one; SIGKILL after `timeoutMs`. */
  async end(message: To | undefined, timeoutMs: number): Promise<void> {
    if (message) this.send(message);
    else this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
