/**
 * The library entry point (`import { startCluster, probe, runScenario } from 'k8s-mtls-sim'`, package.json
 * `exports`): what a platform team needs to pin its trust wiring in its own CI, with mocha or anything else.
 *
 *   startCluster({ nodes, miswire })   a cluster on a fresh kubeadm certificate set written to a temporary
 *                                      directory (or `dir`), real TLS on loopback, ephemeral ports
 *   probe(cluster | endpoints)         `npm run probe`'s matrix, each cell a real handshake and request,
 *                                      compared with kubeadm's wiring; `cell(client, server)` finds one
 *   runScenario(name)                  one scenario of `npm run scenario`, its expectations and connections
 *
 * Entry points sit on the top floor with the CLIs: this file imports the floors below and adds nothing
 * they do not do; it is TypeScript, run with tsx (`node --import tsx`, or mocha's `node-option: import=tsx`).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Trace } from '../components/client/trace.js';
import { initPki, type Pki } from '../pki/store.js';
import { Cluster, type Endpoints } from '../sim/cluster.js';
import type { ProbeCell, ProbeResult } from '../sim/cluster-probe.js';
import { silentLogger } from '../sim/logger.js';
import { miswire as applyMiswiring, MISWIRINGS, type Miswiring } from '../sim/miswire.js';
import type { CellResult, Comparison } from '../sim/probe-compare.js';
import { differenceLines } from '../sim/probe-compare.js';
import { runScenario as run, type RunResult } from '../sim/scenario.js';
import { SCENARIOS } from '../scenarios/index.js';
import { probeCommand } from './probe.js';

export type { Endpoints, Miswiring, ProbeCell, ProbeResult, CellResult, Comparison, RunResult };
export { MISWIRINGS };

export interface StartClusterOptions {
  /** Worker nodes (default node-1, node-2). */
  readonly nodes?: readonly string[];
  /** Start it wired wrong on purpose (sim/miswire.ts): what the probe should catch. */
  readonly miswire?: Miswiring;
  /** Where the certificate set goes (kubeadm's layout); default a fresh temporary directory, removed by stop(). */
  readonly dir?: string;
}

export interface SimCluster {
  /** The certificate directory, laid out as kubeadm lays out /etc/kubernetes (keys 0600). */
  readonly dir: string;
  readonly pki: Pki;
  readonly endpoints: Endpoints;
  /** The running cluster (clients, components), for tests that go further. */
  readonly cluster: Cluster;
  /** Stops every component, newest first, and removes a temporary directory. */
  stop(): Promise<void>;
}

/** A cluster on its own certificate set, started; `stop()` it in an `after` hook. */
export async function startCluster(options: StartClusterOptions = {}): Promise<SimCluster> {
  if (options.miswire !== undefined && !MISWIRINGS.includes(options.miswire)) throw new Error(`miswire "${String(options.miswire)}": one of ${MISWIRINGS.join(', ')}`);
  const temporary = options.dir === undefined;
  const dir = options.dir ?? await fs.mkdtemp(path.join(os.tmpdir(), 'k8s-mtls-sim-'));
  try {
    let { pki } = await initPki(dir, { nodes: [...(options.nodes ?? ['node-1', 'node-2'])] });
    let wiring = {};
    if (options.miswire) ({ pki, options: wiring } = await applyMiswiring(dir, pki, options.miswire));
    const cluster = await new Cluster({ pki, trace: new Trace(), logger: silentLogger(), ports: 'ephemeral', ...wiring }).start();
    return {
      dir, pki, cluster, endpoints: cluster.endpoints,
      async stop() {
        await cluster.stop();
        if (temporary) await fs.rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (temporary) await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Any cluster laid out as kubeadm lays it out: its certificate directory and the endpoints to probe. */
export interface ProbeTarget {
  readonly dir: string;
  readonly endpoints: { readonly apiserver: string; readonly etcd?: string | readonly string[]; readonly kubelets?: Readonly<Record<string, string>> };
}

export interface ProbeReport {
  readonly result: ProbeResult;
  /** Each cell against kubeadm's wiring (scenarios/matrix.golden.json). */
  readonly comparison: Comparison;
  /** The cells that differ from kubeadm's wiring, one line each (empty: the wiring is kubeadm's). */
  readonly differences: readonly string[];
  /** One cell: `client` as the probe names identities (`admin.conf`, `nodes/node-1/kubelet.conf`), `server` as it names servers (`etcd`, `kube-apiserver`, `kubelet (node-1)`). */
  cell(client: string, server: string): CellResult;
}

/** The trust matrix over real connections (read-only: GETs and dry runs), compared with kubeadm's wiring. */
export async function probe(target: ProbeTarget | SimCluster): Promise<ProbeReport> {
  const ep = target.endpoints;
  const etcd = ep.etcd === undefined ? [] : typeof ep.etcd === 'string' ? [ep.etcd] : [...ep.etcd];
  const kubelets = Object.entries(ep.kubelets ?? {});
  const argv = ['--pki-dir', target.dir, '--apiserver', ep.apiserver, '--no-expiry',
    ...(etcd.length ? ['--etcd', etcd.join(',')] : []), ...(kubelets.length ? ['--kubelet', kubelets.map(([n, u]) => `${n}=${u}`).join(',')] : [])];
  const r = await probeCommand(argv);
  if ('help' in r) throw new Error('unreachable: no --help given');
  const { result, comparison } = r.run;
  return {
    result, comparison, differences: differenceLines(comparison),
    cell(client, server) {
      const base = (s: string): string => s.replace(/ \(\d[\d.:[\]]*\)$/, '');
      const found = comparison.results.find((c) => c.cell.client === client && !c.cell.via && (c.cell.server === server || base(c.cell.server) === server));
      if (!found) throw new Error(`no cell ${client} → ${server} (clients: ${result.clients.map((c) => c.name).join(', ')}; servers: ${result.servers.join(', ')})`);
      return found;
    },
  };
}

export interface RunScenarioOptions {
  /** Where the narration goes (default: nowhere). */
  readonly write?: (line: string) => void;
  /** Worker nodes of the cluster the scenario starts, if it needs one (default node-1, node-2). */
  readonly nodes?: readonly string[];
}

/** One scenario by name (`npm run scenario -- --list`), on a fresh in-memory certificate set. */
export async function runScenario(name: string, options: RunScenarioOptions = {}): Promise<RunResult> {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`unknown scenario "${name}" (one of ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k8s-mtls-sim-scenario-'));
  try {
    const { pki } = await initPki(dir, { nodes: [...(options.nodes ?? ['node-1', 'node-2'])] });
    return await run(scenario, {
      pki, write: options.write ?? (() => undefined), quiet: options.write === undefined,
      startCluster: (p, trace) => new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral' }).start(),
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
