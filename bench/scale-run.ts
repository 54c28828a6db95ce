/**
 * One size of the scale bench (bench/scale.ts forks it): `scale-run.ts NODES PODS_PER_NODE IDLE_SECONDS [WORKERS]`.
 * Sends its ScaleResult to the parent over IPC; progress goes to stderr.
 */
import { readFileSync } from 'node:fs';
import type { KubeObject } from '../components/api/types.js';
import { resourcePath, type Watch } from '../components/client/kube-client.js';
import { Trace } from '../components/client/trace.js';
import { issuePki } from '../pki/store.js';
import { Cluster, type EtcdChoice } from '../sim/cluster.js';
import { silentLogger } from '../sim/logger.js';
import type { ScaleResult } from './scale.js';

const [nodes, podsPerNode, idleSeconds] = process.argv.slice(2, 5).map(Number) as [number, number, number];
const workersArg = process.argv[5];
const workers: number | 'auto' = workersArg === undefined || workersArg === 'auto' ? 'auto' : Number(workersArg);
const ms = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;
const say = (s: string): void => { process.stderr.write(`  [${nodes} nodes] ${s}\n`); };

interface Condition { type: string; status: string }
type NodeObj = KubeObject & { status?: { conditions?: Condition[] } };
type PodObj = KubeObject & { status?: { phase?: string } };

/** Resolves once `done(state)` holds, watching `path` (list + watch from its resourceVersion). */
function waitFor<T extends KubeObject>(cluster: Cluster, path: string, query: Record<string, string>, count: (items: Map<string, T>) => boolean): Promise<void> {
  const client = cluster.client('admin.conf', 'bench');
  const items = new Map<string, T>();
  return new Promise((resolve, reject) => {
    let w: Watch | undefined;
    let last = '';
    let still = 0;
    const check = (): void => { if (count(items)) { clearInterval(progress); w?.stop(); resolve(); } };
    // Progress on the terminal (stderr) while it waits, quiet when stderr is not a TTY.
    const progress = setInterval(() => {
      if (!process.stderr.isTTY && !process.env.BENCH_PROGRESS) return;
      const phases: Record<string, number> = {};
      for (const i of items.values()) {
        const st = (i as { status?: { phase?: string } }).status;
        const k = st?.phase ?? 'no phase';
        phases[k] = (phases[k] ?? 0) + 1;
      }
      say(`${path}: ${items.size} seen ${JSON.stringify(phases)}`);
      const key = JSON.stringify(phases);
      if (key === last) { if (++still === 4) for (const i of [...items.values()].filter((x) => (x as PodObj).status?.phase === 'Pending').slice(0, 10)) say(`stalled: ${i.metadata.name} ${JSON.stringify({ node: (i as { spec?: { nodeName?: string } }).spec?.nodeName, status: (i as PodObj).status })}`); } else { last = key; still = 0; }
    }, 5000);
    progress.unref();
    client.list<T>(path, query).then((list) => {
      for (const i of list.items) items.set(i.metadata.name!, i);
      check();
      w = client.watch<T>(path, { ...query, resourceVersion: list.metadata.resourceVersion! }, (e) => {
        if (e.type === 'DELETED') items.delete(e.object.metadata.name!);
        else if (e.type === 'ADDED' || e.type === 'MODIFIED') items.set(e.object.metadata.name!, e.object);
        check();
      });
    }, reject);
  });
}

const names = Array.from({ length: nodes }, (_, i) => `node-${i + 1}`);
let t = process.hrtime.bigint();
const pki = await issuePki({ nodes: names, keyAlgorithm: 'ecdsa-p256' });
const pkiMs = ms(t);
say(`PKI in ${(pkiMs / 1000).toFixed(1)} s`);
const trace = new Trace();
const counts = new Map<string, number>();
if (process.env.BENCH_COUNT) trace.on((e) => { const k = e.type === "request" ? `${e.server} ${e.user.replace(/node-\d+/, "node-N")} ${e.verb} ${e.resource} ${(e as {status?: number}).status ?? ""}` : `${e.type} ${(e as {client?: string}).client ?? ""} -> ${e.server}`; counts.set(k, (counts.get(k) ?? 0) + 1); });
// SCALE_ETCD (`--etcd`): real, the state in a real etcd process; own-process, the embedded etcd in a process
// of its own; embedded, in the cluster's process; unset, the cluster's default. Every process is counted.
const etcdChoice = process.env.SCALE_ETCD;
const etcd: EtcdChoice | undefined = etcdChoice === 'real' ? { kind: 'process' } : etcdChoice === 'own-process' ? { kind: 'embedded', ownProcess: true }
  : etcdChoice === 'embedded' ? { kind: 'embedded', ownProcess: false } : undefined;
const cluster = new Cluster({ pki, trace, logger: silentLogger(), ports: 'ephemeral', workers, ...(etcd ? { etcd } : {}) });
t = process.hrtime.bigint();
/** CPU time (ms) of this process and of the cluster's node worker processes (Linux /proc; 100 ticks a second). */
const procCpuMs = (pid: number): number => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch { return 0; }
};
const workerPids = (): number[] => {
  const pids = [...(cluster.nodeWorkers?.pids ?? [])];
  const etcdPid = cluster.etcd && 'pid' in cluster.etcd ? cluster.etcd.pid : undefined;
  if (etcdPid !== undefined) pids.push(etcdPid);
  return pids;
};
const totalCpuMs = (): number => { const c = process.cpuUsage(); return (c.user + c.system) / 1000 + workerPids().reduce((a, p) => a + procCpuMs(p), 0); };
let c0 = totalCpuMs();
const cpuMs = (): number => totalCpuMs() - c0;
/** Peak RSS (MB) of this process plus the workers' (VmHWM). */
const peakRss = (): number => process.resourceUsage().maxRSS / 1024 + workerPids().reduce((a, p) => {
  try { return a + Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024; } catch { return a; }
}, 0);
await cluster.start();
await waitFor<NodeObj>(cluster, '/api/v1/nodes', {}, (m) => [...m.values()].filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === nodes);
const readyMs = ms(t);
const readyCpuMs = cpuMs();
say(`all ${nodes} Ready after ${(readyMs / 1000).toFixed(1)} s (CPU ${(readyCpuMs / 1000).toFixed(1)} s)`);

const replicas = nodes * podsPerNode;
const admin = cluster.client('admin.conf', 'bench');
t = process.hrtime.bigint();
c0 = totalCpuMs();
await admin.create(resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default' }), {
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'scale', labels: { app: 'scale' } },
  spec: {
    replicas, selector: { matchLabels: { app: 'scale' } },
    template: { metadata: { labels: { app: 'scale' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
  },
} as KubeObject);
await waitFor<PodObj>(cluster, '/api/v1/namespaces/default/pods', { labelSelector: 'app=scale' }, (m) => {
  let running = 0;
  for (const p of m.values()) if (p.status?.phase === 'Running') running++;
  return running === replicas;
});
const podsMs = ms(t);
const podsCpuMs = cpuMs();
say(`${replicas} pods Running after ${(podsMs / 1000).toFixed(1)} s (CPU ${(podsCpuMs / 1000).toFixed(1)} s)`);

// Settle: the Events queued during the run (the scheduler's 2,000 waiting, the controllers') are written
// before the idle window opens, so it holds what a settled cluster does (leases, watches).
const settle0 = process.hrtime.bigint();
await Promise.all([cluster.scheduler?.eventsWritten(), cluster.controllerManager?.idle()]);
say(`settled after ${(ms(settle0) / 1000).toFixed(1)} s (queued Events written)`);

// BENCH_COUNT=1: the requests and handshakes of the idle window, by server, user (node-N), verb and resource.
counts.clear();
const idle0 = totalCpuMs();
const wall0 = process.hrtime.bigint();
await new Promise((r) => setTimeout(r, idleSeconds * 1000));
const idleCpuPercent = (totalCpuMs() - idle0) / ms(wall0) * 100;
const peakRssMb = peakRss();
const workerCount = cluster.nodeWorkers?.pids.length ?? 0;
/** Resident set now (MB): this process plus the workers' (VmRSS). */
const idleRssMb = process.memoryUsage().rss / 2 ** 20 + workerPids().reduce((a, p) => {
  try { return a + Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024; } catch { return a; }
}, 0);
const mem = process.memoryUsage();
const mb = (n: number): string => (n / 2 ** 20).toFixed(0);
// Where this process's resident set is: the JS heap, and memory outside it (Buffers, OpenSSL's TLS state, code).
say(`idle ${idleCpuPercent.toFixed(1)}% of a core, peak RSS ${peakRssMb.toFixed(0)} MB, RSS now ${idleRssMb.toFixed(0)} MB (this process: RSS ${mb(mem.rss)} MB, JS heap used ${mb(mem.heapUsed)} of ${mb(mem.heapTotal)} MB, external ${mb(mem.external)} MB)`);
await cluster.stop();
if (process.env.BENCH_COUNT) for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 45)) say(`${v} ${k}`);
const result: ScaleResult = { nodes, pkiMs, readyMs, readyCpuMs, pods: replicas, podsMs, podsCpuMs, idleCpuPercent, idleSeconds, peakRssMb, idleRssMb, workers: workerCount };
process.send!(result);
process.disconnect();
