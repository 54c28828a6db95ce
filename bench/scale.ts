/**
 * `npm run bench -- scale --nodes 10,100,1000 [--pods-per-node 10] [--idle-seconds 30] [--workers K] [--etcd real] [--cpu-prof-dir DIR]`
 *
 * One cluster per size, each in a fresh child process (`bench/scale.ts run N ...`) so one size's heap
 * and sockets do not weigh on the next: the PKI for N nodes made in memory (ECDSA P-256, every node its
 * own kubelet client and serving certificates), then the control plane and N kubelets + kube-proxies
 * started, each dialling the apiserver over its own mutual-TLS connections. Measured in the child:
 *   ready     start of the cluster (PKI present) until every Node reports Ready (watched, not polled)
 *   pods      one Deployment of N x pods-per-node replicas created, until all its pods are Running
 *   idle      CPU time of the cluster's processes over `idle-seconds` of wall time once all is Running and
 *             the Events queued meanwhile are written (the cluster settled: leases renewing, watches open)
 *   rss       peak resident set size of the cluster's processes, and the resident set at the end of the idle window
 * KWOK's published creation rate (about 20 nodes or pods a second) is the reference line.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';

export interface ScaleResult {
  readonly nodes: number;
  readonly pkiMs: number;
  readonly readyMs: number;
  /** CPU time the cluster's processes spent until all Ready: unlike wall time, not inflated by other load. */
  readonly readyCpuMs: number;
  readonly pods: number;
  readonly podsMs: number;
  readonly podsCpuMs: number;
  readonly idleCpuPercent: number;
  readonly idleSeconds: number;
  readonly peakRssMb: number;
  /** Resident set size at the end of the idle window (what a long-running cluster holds, start-up transients gone). */
  readonly idleRssMb: number;
  readonly workers: number;
}

export const KWOK_OBJECTS_PER_SECOND = 20;

/** One size in a fresh child process (scale-run.ts). */
export async function runOne(n: number, podsPerNode: number, idleSeconds: number, workers: string | undefined, profileDir: string | undefined, etcd?: 'embedded' | 'own-process' | 'real'): Promise<ScaleResult> {
  const execArgv = ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])];
  const child = fork(path.join(import.meta.dirname, 'scale-run.ts'), [String(n), String(podsPerNode), String(idleSeconds), ...(workers ? [workers] : [])], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...(etcd ? { SCALE_ETCD: etcd } : {}) } });
  return new Promise((resolve, reject) => {
    let result: ScaleResult | undefined;
    child.on('message', (m) => { result = m as ScaleResult; });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result && code === 0) resolve(result);
      else reject(new Error(`scale bench: the ${n}-node run ended with exit code ${code}`));
    });
  });
}

export async function benchScale(argv: string[]): Promise<ScaleResult[]> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: { nodes: { type: 'string' }, 'pods-per-node': { type: 'string' }, 'idle-seconds': { type: 'string' }, workers: { type: 'string' }, 'cpu-prof-dir': { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean' }, etcd: { type: 'string' } },
  });
  const sizes = (values.nodes ?? '10,100').split(',').map(Number);
  if (sizes.some((s) => !Number.isInteger(s) || s < 1)) throw new Error(`--nodes "${values.nodes}": a list of node counts such as 10,100,1000`);
  const podsPerNode = Number(values['pods-per-node'] ?? 10);
  const idle = Number(values['idle-seconds'] ?? 30);
  const results: ScaleResult[] = [];
  if (values.etcd !== undefined && values.etcd !== 'embedded' && values.etcd !== 'own-process' && values.etcd !== 'real') throw new Error(`--etcd "${values.etcd}": embedded, own-process or real`);
  const etcd = values.etcd as 'embedded' | 'own-process' | 'real' | undefined;
  for (const n of sizes) results.push(await runOne(n, podsPerNode, idle, values.workers, values['cpu-prof-dir'], etcd));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ benchmark: 'scale', kwokObjectsPerSecond: KWOK_OBJECTS_PER_SECOND, results }, null, 2)}\n`);
    return results;
  }
  console.log(`scale: npm run bench -- scale --nodes ${sizes.join(',')} (ECDSA P-256, own certificates per node; ${podsPerNode} pods a node; idle over ${idle} s; etcd ${etcd === 'real' ? 'real (its process counted)' : etcd === 'own-process' ? 'embedded, in its own process (counted)' : etcd ?? 'default'})`);
  console.log(`${'nodes'.padStart(6)} ${'workers'.padStart(7)} ${'pki'.padStart(8)} ${'all Ready'.padStart(10)} ${'(CPU)'.padStart(7)} ${'pods'.padStart(7)} ${'all Running'.padStart(12)} ${'(CPU)'.padStart(7)} ${'pods/s'.padStart(7)} ${'/CPU-s'.padStart(7)} ${'x KWOK'.padStart(7)} ${'idle CPU'.padStart(9)} ${'per node'.padStart(9)} ${'peak RSS'.padStart(9)} ${'per node'.padStart(9)} ${'idle RSS'.padStart(9)} ${'per node'.padStart(9)}`);
  for (const r of results) {
    const rate = r.pods / (r.podsMs / 1000);
    console.log(`${String(r.nodes).padStart(6)} ${String(r.workers).padStart(7)} ${(r.pkiMs / 1000).toFixed(1).padStart(7)}s ${(r.readyMs / 1000).toFixed(1).padStart(9)}s ${(r.readyCpuMs / 1000).toFixed(1).padStart(6)}s ${String(r.pods).padStart(7)} ${(r.podsMs / 1000).toFixed(1).padStart(11)}s ${(r.podsCpuMs / 1000).toFixed(1).padStart(6)}s ${rate.toFixed(0).padStart(7)} ${(r.pods / (r.podsCpuMs / 1000)).toFixed(0).padStart(7)} ${(rate / KWOK_OBJECTS_PER_SECOND).toFixed(1).padStart(7)} ${r.idleCpuPercent.toFixed(1).padStart(8)}% ${(r.idleCpuPercent / r.nodes).toFixed(3).padStart(8)}% ${r.peakRssMb.toFixed(0).padStart(7)}MB ${(r.peakRssMb / r.nodes).toFixed(2).padStart(7)}MB ${r.idleRssMb.toFixed(0).padStart(7)}MB ${(r.idleRssMb / r.nodes).toFixed(2).padStart(7)}MB`);
  }
  console.log('pods/s is end to end on the wall clock; /CPU-s is pods per CPU-second of the cluster, which other load on the machine does not change');
  console.log(`reference: KWOK creates about ${KWOK_OBJECTS_PER_SECOND} nodes or pods a second with one shared certificate and no kubelet TLS (x KWOK = our pods/s over that)`);
  return results;
}
