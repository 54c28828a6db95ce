/**
 * Nodes in worker processes, as kubemark runs hollow nodes: the cluster forks K node workers
 * (sim/node-worker.ts), spreads the nodes across them (node i to worker i mod K) and hands each worker
 * only its own nodes' key material over the IPC channel. Each worker's kubelets and kube-proxies dial
 * the apiserver over real TCP and mutual TLS and serve the kubelet API on their node's address; their
 * trace events come back over IPC and are recorded into the cluster's Trace in the order each worker
 * emitted them (with the time they were emitted).
 *
 * Child processes rather than worker_threads: each is a real process with its own event loop, CPU
 * accounting and kill semantics (a worker exits when its IPC channel disconnects, so none outlives a
 * parent that died), and it is the same code path a node joining from another machine runs
 * (`npm run node -- join`). (tsx's loader does not reach worker_threads on Node 20 either.)
 */
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { Component } from '../components/client/common.js';
import type { Trace } from '../components/client/trace.js';
import type { IpvsView } from '../components/kube-proxy/index.js';
import type { KubeletReload, NodeCommon, NodeKubelet, NodeProxy, NodeSpec, ProxyReload } from './nodes.js';
import type { FromWorker, ToWorker, WorkerUsage } from './worker-protocol.js';
import { forkWorker, WorkerProcess } from './worker-process.js';

/** Below this many nodes, `workers: 'auto'` keeps the nodes in the cluster's own process. */
export const AUTO_WORKERS_FROM = 50;
/** How many nodes `workers: 'auto'` gives each worker at least. */
const NODES_PER_AUTO_WORKER = 100;
/** How long a worker may take to drain its nodes and exit before it is killed (ms). */
const STOP_TIMEOUT_MS = 15_000;

/** How many worker processes to run `nodes` nodes in: 0 means in the cluster's own process. */
export function workerCount(choice: number | 'auto' | undefined, nodes: number): number {
  if (nodes === 0 || choice === undefined || choice === 0) return 0;
  if (choice === 'auto') return nodes < AUTO_WORKERS_FROM ? 0 : Math.max(1, Math.min(availableParallelism(), Math.ceil(nodes / NODES_PER_AUTO_WORKER)));
  if (!Number.isInteger(choice) || choice < 0) throw new Error(`workers: ${choice} is not a number of processes`);
  return Math.min(choice, nodes);
}

export interface NodeWorkersOptions {
  readonly count: number;
  readonly nodes: readonly NodeSpec[];
  readonly common: NodeCommon;
  readonly trace: Trace;
  readonly logger: Logger;
  /** How many nodes a worker starts at once (default 8). */
  readonly concurrency?: number;
}

/** The cluster's node workers, as one component: start() forks and starts them all, close() stops them. */
export class NodeWorkers implements Component {
  readonly name = 'node workers';
  private readonly options: NodeWorkersOptions;
  private readonly workers: WorkerProcess<ToWorker, FromWorker>[] = [];
  private readonly owner = new Map<string, WorkerProcess<ToWorker, FromWorker>>();
  /** Each node's kubelet API URL, once started. */
  readonly urls = new Map<string, string>();
  readonly kubelets = new Map<string, NodeKubelet>();
  readonly proxies = new Map<string, NodeProxy>();
  private ending: Promise<void> | undefined;
  private offActivity: (() => void) | undefined;

  constructor(options: NodeWorkersOptions) {
    this.options = options;
  }

  /** The worker processes' ids. */
  get pids(): number[] {
    return this.workers.map((w) => w.pid);
  }

  async start(): Promise<undefined> {
    const { count, nodes, common, trace, logger } = this.options;
    const shares = Array.from({ length: count }, (_, w) => nodes.filter((_, i) => i % count === w));
    const level = typeof logger.level === 'string' ? logger.level : 'silent';
    this.offActivity = trace.onActivity((active) => { for (const w of this.workers) w.send({ type: 'trace-active', active }); });
    const starts = shares.map(async (share) => {
      const w = new WorkerProcess<ToWorker, FromWorker>(forkWorker('./node-worker.ts'), 'node worker', trace, logger);
      this.workers.push(w);
      for (const n of share) this.owner.set(n.name, w);
      const reply = await w.start({ type: 'start', common, nodes: share, logLevel: level, concurrency: this.options.concurrency ?? 8, traceActive: trace.active });
      if (reply.type !== 'started') throw new Error(reply.type === 'failed' ? reply.error : `node worker ${w.pid}: unexpected ${reply.type}`);
      for (const n of reply.nodes) this.urls.set(n.name, n.url);
    });
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.destroy();
      throw failed.reason;
    }
    for (const n of nodes) {
      const w = this.owner.get(n.name)!;
      this.kubelets.set(n.name, {
        name: `kubelet (${n.name})`,
        reloadTls: (material: KubeletReload) => w.request<void>((id) => ({ type: 'reload', id, node: n.name, kubelet: material })),
      });
      this.proxies.set(n.name, {
        name: `kube-proxy (${n.name})`,
        mode: common.proxyMode ?? 'iptables',
        rules: () => w.request<string>((id) => ({ type: 'rules', id, node: n.name })),
        ipvs: () => w.request<IpvsView | undefined>((id) => ({ type: 'ipvs', id, node: n.name })),
        reloadTls: (material: ProxyReload) => w.request<void>((id) => ({ type: 'reload', id, node: n.name, proxy: material })),
      });
    }
    return undefined;
  }

  /** Resolves once every trace event the workers emitted before now has been recorded. */
  async flush(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request<void>((id) => ({ type: 'flush', id }))));
  }

  /** Each worker's CPU time and RSS (process.cpuUsage and memoryUsage, measured in the worker). */
  usage(): Promise<WorkerUsage[]> {
    return Promise.all(this.workers.map((w) => w.request<WorkerUsage>((id) => ({ type: 'usage', id }))));
  }

  /** New TLS material for one node's kubelet and kube-proxy, applied in its worker before this resolves. */
  async reload(node: string, material: { kubelet?: KubeletReload; proxy?: ProxyReload }): Promise<void> {
    const w = this.owner.get(node);
    if (!w) throw new Error(`no node worker runs ${node}`);
    await w.request<void>((id) => ({ type: 'reload', id, node, ...material }));
  }

  /** Each worker drains its nodes and exits; one that has not exited after 15 s is killed. */
  close(): Promise<void> {
    this.offActivity?.();
    this.ending ??= Promise.all(this.workers.map((w) => w.end({ type: 'stop', id: 0 }, STOP_TIMEOUT_MS))).then(() => undefined);
    return this.ending;
  }

  /** Each worker destroys its nodes at once (SIGTERM) and exits. */
  destroy(): Promise<void> {
    this.offActivity?.();
    this.ending ??= Promise.all(this.workers.map((w) => w.end(undefined, STOP_TIMEOUT_MS))).then(() => undefined);
    return this.ending;
  }

  stop(): Promise<void> {
    return this.close();
  }
}
