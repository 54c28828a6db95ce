/**
 * Nodes in this process or in node worker processes: time to N nodes Ready and the CPU each process
 * spent (process.cpuUsage of the cluster's process and of each worker), at start and idle.
 *
 *   npx tsx bench/workers.ts --nodes 200 --workers 2 [--idle-seconds 10]
 *
 * One configuration per run, in a fresh process (so JIT warm-up and caches do not carry over); prints
 * one JSON line. The PKI (ECDSA P-256, as the issue's figures) is made before the clock starts.
 */
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import type { Node } from '../components/api/types.js';
import { Trace } from '../components/client/trace.js';
import { issuePki } from '../pki/store.js';
import { Cluster } from '../sim/cluster.js';
import { silentLogger } from '../sim/logger.js';
import { waitFor } from '../sim/wait.js';

const { values } = parseArgs({ options: { nodes: { type: 'string' }, workers: { type: 'string' }, 'idle-seconds': { type: 'string' } } });
const n = Number(values.nodes ?? 50);
const workers = Number(values.workers ?? 0);
const idleSeconds = Number(values['idle-seconds'] ?? 10);
const pki = await issuePki({ nodes: Array.from({ length: n }, (_, i) => `node-${i + 1}`), keyAlgorithm: 'ecdsa-p256' });

const cpu = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
const t0 = performance.now();
const c0 = process.cpuUsage();
const cluster = await new Cluster({ pki, trace: new Trace(), logger: silentLogger(), ports: 'ephemeral', workers }).start();
const started = performance.now();
const admin = cluster.client('admin.conf');
await waitFor(`${n} nodes Ready`, async () => {
  const nodes = await admin.list<Node>('/api/v1/nodes');
  return nodes.items.filter((x) => x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === n ? true : undefined;
}, 600_000, 200);
const ready = performance.now();
const c1 = process.cpuUsage(c0);
const w1 = (await cluster.nodeWorkers?.usage()) ?? [];
await delay(idleSeconds * 1000);
const c2 = process.cpuUsage(c0);
const w2 = (await cluster.nodeWorkers?.usage()) ?? [];
const rss = process.memoryUsage().rss;
await cluster.stop();

const workerCpu = (us: typeof w1): number => us.reduce((s, u) => s + (u.user + u.system) / 1000, 0);
const idleMs = idleSeconds * 1000;
process.stdout.write(`${JSON.stringify({
  nodes: n, workers,
  startSeconds: +((started - t0) / 1000).toFixed(1),
  readySeconds: +((ready - t0) / 1000).toFixed(1),
  cpuToReadySeconds: { parent: +(cpu(c1) / 1000).toFixed(1), workers: +(workerCpu(w1) / 1000).toFixed(1) },
  idleCpuPercentOfACore: {
    parent: +((cpu(c2) - cpu(c1)) / idleMs * 100).toFixed(1),
    workers: +((workerCpu(w2) - workerCpu(w1)) / idleMs * 100).toFixed(1),
  },
  rssMB: { parent: Math.round(rss / 2 ** 20), workers: w2.map((u) => Math.round(u.rss / 2 ** 20)) },
})}\n`);
