/**
 * The embedded etcd in a process of its own (sim/etcd-worker.ts), as kubeadm runs etcd as its own
 * static pod: the apiserver reaches it over TCP and mutual TLS exactly as it reaches the in-process
 * one, and its handshakes and requests come back into the cluster's trace over IPC. With nodes in
 * workers too, the cluster's main process keeps the apiserver and the controllers, and etcd's work
 * (its TLS server, the store, the watch streams) runs on the other core.
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Component } from '../components/client/common.js';
import type { Identity } from '../components/client/tls.js';
import type { Trace } from '../components/client/trace.js';
import type { EtcdOptions } from '../components/etcd/index.js';
import type { Recovery } from '../components/etcd/wal.js';
import { forkWorker, WorkerProcess, type FromAnyWorker } from './worker-process.js';
import type { WorkerUsage } from './worker-protocol.js';
import type { CommonToWorker } from './worker-child.js';

/** What crosses the IPC channel of EtcdOptions: plain data (no logger, trace or clock). */
export type EtcdChildOptions = Omit<EtcdOptions, 'logger' | 'trace' | 'clock'>;

export type EtcdToWorker =
  | { readonly type: 'start'; readonly options: EtcdChildOptions; readonly logLevel: string; readonly traceActive: boolean }
  | { readonly type: 'reload'; readonly id: number; readonly material: { identity?: Identity; trustedCa?: string } }
  | CommonToWorker;

export type EtcdFromWorker =
  | FromAnyWorker
  | { readonly type: 'started'; readonly address: AddressInfo; readonly recovery?: Recovery }
  | { readonly type: 'failed'; readonly error: string; readonly code?: string };

/** How long etcd may take to drain and exit before it is killed (ms). */
const STOP_TIMEOUT_MS = 15_000;

export class EtcdChild implements Component {
  readonly name: string;
  private worker: WorkerProcess<EtcdToWorker, EtcdFromWorker> | undefined;
  private addr: AddressInfo | undefined;
  private ending: Promise<void> | undefined;
  private offActivity: (() => void) | undefined;
  /** What the start recovered from `dataDir`. */
  recovery: Recovery | undefined;

  constructor(private readonly options: EtcdChildOptions & { readonly logger: Logger; readonly trace: Trace }) {
    this.name = options.name ?? 'etcd';
  }

  get address(): AddressInfo | undefined {
    return this.addr;
  }

  /** The etcd process's id (for CPU and memory accounting). */
  get pid(): number | undefined {
    return this.worker?.pid;
  }

  async start(): Promise<AddressInfo> {
    if (this.addr) return this.addr;
    const { logger, trace, ...options } = this.options;
    const w = new WorkerProcess<EtcdToWorker, EtcdFromWorker>(forkWorker('./etcd-worker.ts'), this.name, trace, logger);
    this.worker = w;
    this.offActivity = trace.onActivity((active) => w.send({ type: 'trace-active', active }));
    const level = typeof logger.level === 'string' ? logger.level : 'silent';
    const reply = await w.start({ type: 'start', options, logLevel: level, traceActive: trace.active });
    if (reply.type !== 'started') {
      await this.destroy();
      const err: NodeJS.ErrnoException = new Error(reply.type === 'failed' ? reply.error : `${this.name}: unexpected ${reply.type}`);
      if (reply.type === 'failed' && 'code' in reply && reply.code) err.code = reply.code;
      throw err;
    }
    this.addr = reply.address;
    this.recovery = reply.recovery;
    return reply.address;
  }

  /** New serving certificate and/or trusted CA, applied in the etcd process before this resolves. */
  async reloadTls(material: { identity?: Identity; trustedCa?: string }): Promise<void> {
    if (!this.worker) throw new Error(`${this.name}: not started`);
    await this.worker.request<void>((id) => ({ type: 'reload', id, material }));
  }

  /** Resolves once every trace event etcd emitted before now has been recorded. */
  async flush(): Promise<void> {
    await this.worker?.request<void>((id) => ({ type: 'flush', id }));
  }

  usage(): Promise<WorkerUsage> {
    if (!this.worker) return Promise.reject(new Error(`${this.name}: not started`));
    return this.worker.request<WorkerUsage>((id) => ({ type: 'usage', id }));
  }

  close(): Promise<void> {
    return this.end(true);
  }

  destroy(): Promise<void> {
    return this.end(false);
  }

  stop(): Promise<void> {
    return this.close();
  }

  private end(drain: boolean): Promise<void> {
    this.offActivity?.();
    const w = this.worker;
    this.ending ??= (w ? w.end(drain ? { type: 'stop', id: 0 } : undefined, STOP_TIMEOUT_MS) : Promise.resolve()).then(() => { this.addr = undefined; });
    return this.ending;
  }
}
