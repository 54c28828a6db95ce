/**
 * `npm run bench [-- --json] [--quick] [--only pki,tour,handshakes,scheduler,fanout,scale] [--runs N]`: the
 * default set, measured side by side in one run and printed as one table (bench/table.ts). Also
 * `npm run bench -- handshakes|scheduler|fanout [...]`, each the same table with its own rows only.
 *
 * One `pki init` (kubeadm's default RSA-2048, or --key-algorithm) in a temporary directory serves every
 * bench that needs a control plane; it is removed at the end.
 */
import { rmSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { benchFanout } from './fanout.js';
import { benchHandshakes } from './handshakes.js';
import { KWOK_OBJECTS_PER_SECOND, runOne } from './scale.js';
import { benchScheduler } from './scheduler.js';
import { jsonTable, printTable, type Row } from './table.js';
import { measurePki, measureTour, median, node, pairedRatio, timeCommand, tmp } from './timing.js';

export const SUITE = ['pki', 'tour', 'handshakes', 'scheduler', 'fanout', 'scale'] as const;
type Bench = (typeof SUITE)[number];

const int = (v: string | undefined, fallback: number, flag: string): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`bench: ${flag} "${v}" must be a positive integer`);
  return n;
};

function pkiRows(runs: number): Row[] {
  const t = measurePki(runs);
  const command = `npm run bench -- pki --runs ${runs}`;
  return [
    { figure: 'cold pki init (RSA-2048, 18 key pairs)', unit: 'ms', ours: median(t.ours), baselineLabel: 'openssl CLI', baseline: median(t.openssl), ratio: pairedRatio(t.ours, t.openssl), command },
    { figure: 'cold pki init (ECDSA P-256)', unit: 'ms', ours: median(t.oursEc), baselineLabel: 'openssl CLI ec', baseline: median(t.opensslEc), ratio: pairedRatio(t.oursEc, t.opensslEc), command },
    { figure: 'warm pki init (all present)', unit: 'ms', ours: median(t.warm), baselineLabel: 'tsx no-op', baseline: median(t.bare), ratio: pairedRatio(t.warm, t.bare), command },
  ];
}

function tourRows(runs: number): Row[] {
  const t = measureTour(runs);
  const command = `npm run bench -- tour --runs ${runs}`;
  const cold = median(t.cold);
  const warm = median(t.warm);
  return [
    { figure: 'the tour, cold (PKI made in memory)', unit: 'ms', ours: cold, baselineLabel: 'pki init alone', baseline: median(t.pkiOnly), ratio: pairedRatio(t.cold, t.pkiOnly), goal: '<= 5 s', pass: cold <= 5000, command },
    { figure: 'the tour, warm (PKI on disk)', unit: 'ms', ours: warm, baselineLabel: 'tour cold', baseline: cold, ratio: pairedRatio(t.warm, t.cold), goal: '<= 2 s', pass: warm <= 2000, command },
  ];
}

/**
 * One small size of the scale bench (bench/scale.ts) as rows, with KWOK's ~20 objects/s as the
 * baseline of the pods/s row and the per-node goals (they are stated for 1,000 nodes).
 */
async function scaleRows(nodes: number, idleSeconds: number): Promise<Row[]> {
  const r = await runOne(nodes, 10, idleSeconds, undefined, undefined);
  const command = `npm run bench -- scale --nodes ${nodes} --idle-seconds ${idleSeconds}`;
  const rate = r.pods / (r.podsMs / 1000);
  const idlePerNode = r.idleCpuPercent / nodes;
  const rssPerNode = r.peakRssMb / nodes;
  return [
    { figure: `scale: ${nodes} nodes all Ready (PKI present)`, unit: 'ms', ours: r.readyMs, command, detail: `CPU ${(r.readyCpuMs / 1000).toFixed(1)} s; ${r.workers} node worker processes; PKI for ${nodes} nodes made in ${(r.pkiMs / 1000).toFixed(1)} s before the clock starts` },
    {
      figure: `scale: ${r.pods} pods (10 a node) Running, pods/s`, unit: '/s', ours: rate, baselineLabel: 'KWOK', baseline: KWOK_OBJECTS_PER_SECOND, ratio: rate / KWOK_OBJECTS_PER_SECOND,
      goal: '>= 167/s', pass: rate >= 167, command, detail: `all Running after ${(r.podsMs / 1000).toFixed(1)} s (CPU ${(r.podsCpuMs / 1000).toFixed(1)} s, ${(r.pods / (r.podsCpuMs / 1000)).toFixed(0)} pods per CPU-s); KWOK creates ~${KWOK_OBJECTS_PER_SECOND} nodes or pods a second with one shared certificate and no kubelet TLS`,
    },
    { figure: `scale: idle CPU per node over ${idleSeconds} s`, unit: '%', ours: idlePerNode, goal: '<= 0.015%', pass: idlePerNode <= 0.015, command, detail: `${r.idleCpuPercent.toFixed(1)}% of a core for ${nodes} nodes (the goal: 15% for 1,000)` },
    { figure: 'scale: peak RSS per node', unit: 'MB', ours: rssPerNode, goal: '<= 1 MiB', pass: rssPerNode <= 1.048576, command, detail: `peak RSS ${r.peakRssMb.toFixed(0)} MB (cluster process and node workers); the control plane's share weighs most at small sizes` },
  ];
}

export async function runSuite(argv: string[], defaults: readonly Bench[], title = 'npm run bench'): Promise<Row[]> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      json: { type: 'boolean' }, quick: { type: 'boolean' }, only: { type: 'string' }, runs: { type: 'string' },
      'key-algorithm': { type: 'string' }, 'phase-ms': { type: 'string' }, concurrency: { type: 'string' }, path: { type: 'string' },
      nodes: { type: 'string' }, pods: { type: 'string' }, proxies: { type: 'string' }, trials: { type: 'string' },
      'scale-nodes': { type: 'string' }, 'idle-seconds': { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const which = values.only ? values.only.split(',') : [...defaults];
  const unknown = which.filter((w) => !(SUITE as readonly string[]).includes(w));
  if (unknown.length) throw new Error(`bench: unknown row set ${unknown.join(', ')} (the table has ${SUITE.join(', ')})`);
  const runs = int(values.runs, quick ? 1 : 3, '--runs');
  const rows: Row[] = [];
  const needsPki = which.some((w) => w === 'handshakes' || w === 'scheduler' || w === 'fanout');
  const dir = needsPki ? tmp() : undefined;
  const keyAlgorithm = values['key-algorithm'] ?? 'rsa-2048';
  if (values.path !== undefined && !/^\/[\x21-\x7e]*$/.test(values.path)) throw new Error(`bench: --path "${values.path}" must be a request path such as /version`);
  let failed = false;
  const rowSet = async (w: Bench): Promise<Row[]> => {
    if (w === 'pki') return pkiRows(runs);
    if (w === 'tour') return tourRows(quick ? 1 : Math.min(runs, 2));
    if (w === 'handshakes') {
      return benchHandshakes(dir!, {
        runs, phaseMs: int(values['phase-ms'], quick ? 400 : 1500, '--phase-ms'), concurrency: int(values.concurrency, 8, '--concurrency'),
        path: values.path ?? '/version',
      });
    }
    if (w === 'scheduler') return [await benchScheduler(dir!, { runs, nodes: int(values.nodes, quick ? 20 : 1000, '--nodes'), pods: int(values.pods, quick ? 100 : 2000, '--pods') })];
    if (w === 'fanout') return benchFanout(dir!, { runs, proxies: int(values.proxies, quick ? 5 : 100, '--proxies'), trials: int(values.trials, quick ? 3 : 20, '--trials') });
    return scaleRows(int(values['scale-nodes'], quick ? 3 : 10, '--scale-nodes'), int(values['idle-seconds'], quick ? 2 : 10, '--idle-seconds'));
  };
  try {
    if (dir) timeCommand(...node('cli/pki.ts', 'init', dir, '--nodes', 'node-1', '--key-algorithm', keyAlgorithm));
    for (const w of which as Bench[]) {
      // One row set failing leaves the others' figures: it becomes a row naming the error, and the exit code is 1.
      try {
        rows.push(...await rowSet(w));
      } catch (err) {
        failed = true;
        rows.push({ figure: `${w}: failed`, unit: '', ours: NaN, command: `npm run bench -- --only ${w}`, detail: err instanceof Error ? err.message : String(err) });
      }
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  const load = os.loadavg().map((x) => x.toFixed(2));
  if (values.json) process.stdout.write(jsonTable(rows, { quick, runs, keyAlgorithm, loadAverage: load, cpus: os.cpus().length, node: process.version }));
  else printTable(rows, `${title}: ours against a baseline measured in the same run (load average ${load.join(' ')}, ${os.cpus().length} CPUs)`);
  if (failed) process.exitCode = 1;
  return rows;
}
