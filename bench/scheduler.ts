/**
 * `npm run bench -- scheduler [--nodes 1000] [--pods 2000] [--runs N]`
 *
 * Bindings per second from kube-scheduler alone. The apiserver (with the embedded etcd) runs in a child
 * process with nothing else; here, as kubernetes-admin, N Node objects (no kubelets: their status,
 * allocatable and Ready, written as a kubelet would) and, per run, M pending pods in a fresh namespace,
 * deleted once the run is checked (so every run's scheduler lists the same pods).
 *   ours      a kube-scheduler (scheduler.conf, its real informers, filters, scores and Binding POSTs,
 *             plus the Scheduled Event each, queued to its event broadcaster as the real one's are)
 *             started after the pods exist: from its start until it has bound all M (its outcome feed;
 *             then checked with a list: every pod has spec.nodeName)
 *   baseline  the same M Binding POSTs for another M pending pods, as system:kube-scheduler, 32 at a
 *             time, round robin over the nodes: the apiserver's ceiling for the write scheduling ends in
 * Runs alternate which goes first. The goal (>= 500 bindings/s) is absolute; the ratio says how close
 * the scheduler gets to what the apiserver can take.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import type { Node, Pod } from '../components/api/types.js';
import { ApiError, KubeClient, resourcePath } from '../components/client/kube-client.js';
import { KubeScheduler } from '../components/kube-scheduler/index.js';
import { loadPki } from '../pki/store.js';
import { silentLogger } from '../sim/logger.js';
import { clusterTls } from '../sim/wiring.js';
import { forkServer, type ServerChild } from './child.js';
import type { Row } from './table.js';
import { median, pairedRatio } from './timing.js';

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; await fn(items[i]!, i); }
  }));
}

/**
 * The apiserver's etcd client sometimes meets a reset on a pooled keep-alive connection the embedded
 * etcd has just closed as idle (Node's 5 s keepAliveTimeout), and a write that may have been sent is
 * not retried: a 500. Tried once more here, counted and reported, and an AlreadyExists / already
 * bound answer to the retry taken as the first attempt's success.
 */
const resets = { count: 0 };
async function write(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof ApiError && err.httpStatus === 500 && /ECONNRESET|EPIPE/.test(err.message))) throw err;
    resets.count++;
    await fn().catch((again: unknown) => { if (!(again instanceof ApiError && again.httpStatus === 409)) throw again; });
  }
}

/**
 * BENCH_CPU_PROF_DIR=DIR: besides the apiserver child's whole-life profile (child.ts), each timed window
 * is profiled on both sides: `scheduler-<run>.cpuprofile` (this process: the kube-scheduler under test,
 * from its start until all pods are bound) with `scheduler-<run>-apiserver.cpuprofile`, and
 * `plain-<run>.cpuprofile` (the bare POSTs) with `plain-<run>-apiserver.cpuprofile`.
 */
async function profiled<T>(name: string, server: ServerChild, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_CPU_PROF_DIR;
  if (!dir) return fn();
  const serverDone = await server.profile(path.join(dir, `${name}-apiserver.cpuprofile`));
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    const file = path.join(dir, `${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    await serverDone();
    process.stderr.write(`bench: CPU profiles of the window, this process's and the apiserver's: ${file}, ${name}-apiserver.cpuprofile\n`);
  }
}

/** No pod bound for this long (from the scheduler's start, or the last binding) fails the row. */
const STALL_MS = 120_000;

const nodeName = (i: number): string => `bench-node-${i + 1}`;

function nodeObject(i: number): Node {
  const resources = { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName(i), labels: { 'kubernetes.io/hostname': nodeName(i), 'kubernetes.io/os': 'linux' } },
    spec: {},
    status: { capacity: resources, allocatable: resources, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }] },
  } as unknown as Node;
}

const podObject = (name: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'bench' } },
  spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
}) as Pod;

export interface SchedulerOptions { readonly runs: number; readonly nodes: number; readonly pods: number }

export async function benchScheduler(pkiDir: string, o: SchedulerOptions): Promise<Row> {
  const pki = await loadPki(pkiDir);
  const wiring = clusterTls(pki, { kubeletCertificateAuthority: true });
  const server = await forkServer('apiserver', pkiDir);
  const admin = new KubeClient({ name: 'bench', server: server.url, ...wiring.client('admin.conf') });
  try {
    await pool(Array.from({ length: o.nodes }, (_, i) => i), 32, async (i) => {
      await write(() => admin.create<Node>('/api/v1/nodes', nodeObject(i)));
      // Status is the kubelet's to write (nodes/status); where create kept none, write it there.
      const created = await admin.get<Node>(`/api/v1/nodes/${nodeName(i)}`);
      if (!created.status?.allocatable) await write(() => admin.patch(`/api/v1/nodes/${nodeName(i)}/status`, { status: nodeObject(i).status }, 'merge'));
    });
    const names = Array.from({ length: o.pods }, (_, i) => `pod-${i + 1}`);
    const pending = async (ns: string): Promise<void> => {
      await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      await pool(names, 32, (name) => write(() => admin.create(resourcePath({ resource: 'pods', namespace: ns }), podObject(name))));
    };
    const boundIn = async (ns: string): Promise<number> => (await admin.list<Pod>(resourcePath({ resource: 'pods', namespace: ns }))).items.filter((p) => p.spec.nodeName).length;
    // Each run's namespace (and its pods) goes once checked: the next scheduler lists the same pods as the first.
    const cleanUp = (ns: string): Promise<unknown> => admin.delete(resourcePath({ resource: 'namespaces', name: ns }));
    const scheduled: number[] = [];
    const failures: string[] = [];
    const plain: number[] = [];
    // Where the time goes, per run: the apiserver child's CPU (ms) per binding in each window, this process's
    // (the scheduler's) CPU per binding, and how long the scheduler took to its first binding (its informers' lists).
    const apiCpu = { ours: [] as number[], plain: [] as number[] };
    const ownCpu: number[] = [];
    const firstBound: number[] = [];
    const schedulerRun = async (i: number): Promise<void> => {
      const ns = `sched-${i}`;
      await pending(ns);
      const scheduler = new KubeScheduler({ apiserver: server.url, ...wiring.scheduler }, { logger: silentLogger() });
      let bound = 0;
      const cpu0 = await server.cpuMs();
      const own0 = process.cpuUsage();
      const t0 = performance.now();
      let watch: NodeJS.Timeout | undefined;
      const all = new Promise<void>((resolve, reject) => {
        // A failed binding is counted, not fatal: the scheduler keeps the pod among its unschedulable ones and
        // tries it again after a node or pod changes. Progress on a terminal (or BENCH_PROGRESS=1); no binding
        // for STALL_MS is a stall, reported with what is known.
        let last = performance.now();
        watch = setInterval(() => {
          if (process.stderr.isTTY || process.env.BENCH_PROGRESS) process.stderr.write(`  [scheduler ${ns}] ${bound}/${o.pods} bound, ${failures.length} failed bindings\n`);
          if (performance.now() - last > STALL_MS) {
            clearInterval(watch);
            reject(new Error(`scheduler bench: ${bound} of ${o.pods} bound, none for ${STALL_MS / 1000} s; failed bindings: ${failures.slice(0, 3).join('; ') || 'none'}`));
          }
        }, 5000);
        scheduler.onOutcome((x) => {
          if (!x.pod.startsWith(`${ns}/`)) return;
          if (x.result === 'bound') { last = performance.now(); if (bound === 0) firstBound.push(last - t0); }
          if (x.result === 'bound' && ++bound === o.pods) { clearInterval(watch); resolve(); } else if (x.result === 'unschedulable') { clearInterval(watch); reject(new Error(`scheduler bench: ${x.pod} unschedulable: ${x.message}`)); } else if (x.result === 'error') failures.push(`${x.pod}: ${x.message}`);
        });
      });
      try {
        await profiled(`scheduler-${i}`, server, async () => { await scheduler.start(); await all; });
        scheduled.push(o.pods / ((performance.now() - t0) / 1000));
        const own = process.cpuUsage(own0);
        ownCpu.push((own.user + own.system) / 1000 / o.pods);
        apiCpu.ours.push((await server.cpuMs() - cpu0) / o.pods);
      } finally {
        clearInterval(watch);
        all.catch(() => undefined);
        await scheduler.stop();
      }
      const n = await boundIn(ns);
      if (n !== o.pods) throw new Error(`scheduler bench: the scheduler reported ${o.pods} bound, the apiserver lists ${n} with spec.nodeName`);
      await cleanUp(ns);
    };
    const plainRun = async (i: number): Promise<void> => {
      const ns = `plain-${i}`;
      await pending(ns);
      const client = new KubeClient({ name: 'bench (bindings)', server: server.url, ...wiring.scheduler });
      try {
        const cpu0 = await server.cpuMs();
        const t0 = performance.now();
        await profiled(`plain-${i}`, server, () => pool(names, 32, (name, j) => write(() => client.create(resourcePath({ resource: 'pods', namespace: ns, name, subresource: 'binding' }), {
          apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: ns }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName(j % o.nodes) },
        }))));
        plain.push(o.pods / ((performance.now() - t0) / 1000));
        apiCpu.plain.push((await server.cpuMs() - cpu0) / o.pods);
      } finally {
        client.close();
      }
      const n = await boundIn(ns);
      if (n !== o.pods) throw new Error(`scheduler bench: ${o.pods} Binding POSTs answered, the apiserver lists ${n} with spec.nodeName`);
      await cleanUp(ns);
    };
    for (let i = 0; i < o.runs; i++) {
      if (i % 2 === 0) { await schedulerRun(i); await plainRun(i); } else { await plainRun(i); await schedulerRun(i); }
    }
    const ours = median(scheduled);
    return {
      figure: `scheduler bindings/s (${o.nodes} nodes, ${o.pods} pending pods)`, unit: '/s', ours,
      baselineLabel: 'bare Binding POSTs', baseline: median(plain), ratio: pairedRatio(scheduled, plain), goal: '>= 500/s', pass: ours >= 500,
      command: `npm run bench -- scheduler --nodes ${o.nodes} --pods ${o.pods} --runs ${o.runs}`,
      detail: `from kube-scheduler's start (its informers' lists included) until all ${o.pods} bound, each binding's Scheduled Event queued to its event broadcaster (written one at a time beside the bindings, the rest after the window); baseline: the same number of Binding POSTs, 32 in flight, same apiserver; ${o.runs} paired runs (${scheduled.map((x, k) => `${x.toFixed(0)}/${plain[k]?.toFixed(0) ?? '-'}`).join(', ')}); apiserver CPU per binding ${median(apiCpu.ours).toFixed(2)} ms (bare: ${median(apiCpu.plain).toFixed(2)} ms), the scheduler's own ${median(ownCpu).toFixed(2)} ms; first binding ${median(firstBound).toFixed(0)} ms after its start${resets.count ? `; ${resets.count} writes met an etcd connection reset (500) and were sent again` : ''}${failures.length ? `; ${failures.length} of the scheduler's bindings failed and were retried by it (first: ${failures[0]})` : ''}`,
    };
  } finally {
    admin.close();
    await server.stop();
  }
}
