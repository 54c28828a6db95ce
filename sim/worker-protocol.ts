/**
 * The messages between the cluster (sim/workers.ts) and a node worker process (sim/node-worker.ts),
 * over the IPC channel `child_process.fork` opens. One channel per worker, in order both ways: a reply
 * is sent only after every trace event emitted before it, so `flush` is a barrier.
 *
 * The start message carries the private keys of that worker's nodes only (their kubelet client and
 * serving pairs) and kube-proxy.conf's: it is never logged on either side.
 */
import type { FromAnyWorker } from './worker-process.js';
import type { CommonToWorker } from './worker-child.js';
import type { KubeletReload, NodeCommon, NodeSpec, ProxyReload } from './nodes.js';

export type ToWorker =
  | { readonly type: 'start'; readonly common: NodeCommon; readonly nodes: readonly NodeSpec[]; readonly logLevel: string; readonly concurrency: number; readonly traceActive: boolean }
  | { readonly type: 'rules'; readonly id: number; readonly node: string }
  | { readonly type: 'ipvs'; readonly id: number; readonly node: string }
  | { readonly type: 'reload'; readonly id: number; readonly node: string; readonly kubelet?: KubeletReload; readonly proxy?: ProxyReload }
  /** trace-active (the parent's trace became active or inactive: forward every event, or only refusals), usage, flush, stop. */
  | CommonToWorker;

/** A worker's CPU time (process.cpuUsage, microseconds) and resident set size (bytes). */
export interface WorkerUsage {
  readonly pid: number;
  readonly user: number;
  readonly system: number;
  readonly rss: number;
}

export type FromWorker =
  | FromAnyWorker
  | { readonly type: 'started'; readonly nodes: readonly { readonly name: string; readonly url: string }[] };
