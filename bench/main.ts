/**
 * `npm run bench [-- --json] [--quick] [--only ...]`: the default table (bench/suite.ts): PKI, the tour,
 * handshakes, scheduler bindings/s and watch fan-out, side by side in one run, one row per figure.
 * `npm run bench -- handshakes|scheduler|fanout [...]`: one of those alone, in the same table.
 * `npm run bench -- pki|signing|tour|store|authz|capture|report [--runs N] [--cpu-prof-dir DIR (authz: profile the server)]`
 * and `npm run bench -- scale --nodes 10,100,1000` (bench/scale.ts) print their own lines.
 *
 * Every figure is a ratio against a baseline measured in the same run, interleaved with it, because
 * these machines are shared and noisy: absolute times are printed for reference only.
 *   pki      cold `pki init` of the whole set vs ../shared/bench/openssl-pki.sh (or test/fixtures' copy; the openssl CLI, as
 *            "Kubernetes The Hard Way" does); warm `pki init` (all present) vs bare process start.
 *   signing  forge's pure-JS RSA signature vs node:crypto's native one, over the same TBSCertificate.
 *   tour     the tour's wall time cold (PKI made in memory) and warm (PKI read from disk), and the
 *            tour's time over PKI generation alone.
 *   capture  the tour with --capture DIR (every connection recorded at the socket, the pcapng and key log
 *            written) vs the same tour without, on one warm PKI, paired and alternating which goes first.
 *   authz    denied requests/s over allowed requests/s on the same 4 keep-alive connections to an
 *            apiserver (with the embedded etcd) in a child process: the same GET of a ConfigMap by a
 *            service account bound to cluster-admin (200), by one with no binding (403) and with no
 *            credentials (anonymous, 403); then again with 400 RoleBindings in the namespace; then an
 *            admin's latency alone and under an anonymous flood.
 *   report   the report of a 200-node cluster (--nodes N, --keep DIR) loaded in headless chromium: time to the load event and renderer CPU, PASS/FAIL against 3 s (bench/report.ts).
 *   store    the embedded etcd's write throughput with its write-ahead log (each write fsynced before it
 *            is acknowledged; one writer, then 64 concurrent writers sharing group commits) vs the
 *            in-memory store, in the same run.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import https from 'node:https';
import { createInterface } from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import forge from 'node-forge';
import type { KubeObject } from '../components/api/types.js';
import { MvccStore } from '../components/etcd/store.js';
import { Wal } from '../components/etcd/wal.js';
import { silentLogger } from '../sim/logger.js';
import { benchReport } from './report.js';
import { measurePki, measureTour, median, node, printPki, printTour, ROOT, row, timeCommand, tmp } from './timing.js';

function benchSigning(runs: number): void {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const tbs = Buffer.alloc(1200, 7); // the size of a typical TBSCertificate
  const forgeTimes: number[] = [];
  const nativeTimes: number[] = [];
  const per = 20;
  for (let i = 0; i < runs; i++) {
    let t = process.hrtime.bigint();
    for (let j = 0; j < per; j++) {
      const md = forge.md.sha256.create();
      md.update(tbs.toString('binary'));
      forgeKey.sign(md);
    }
    forgeTimes.push(Number(process.hrtime.bigint() - t) / 1e6 / per);
    t = process.hrtime.bigint();
    for (let j = 0; j < per; j++) sign('sha256', tbs, privateKey);
    nativeTimes.push(Number(process.hrtime.bigint() - t) / 1e6 / per);
  }
  console.log('signing: one RSA-2048 SHA-256 signature over a 1200-byte TBSCertificate');
  console.log(row('forge (pure JS) vs native', forgeTimes, nativeTimes, 'node:crypto'));
}

function benchCapture(runs: number): void {
  const plain: number[] = [];
  const captured: number[] = [];
  const dir = tmp();
  const out = tmp();
  try {
    timeCommand(...node('cli/pki.ts', 'init', dir));
    for (let i = 0; i < runs; i++) {
      const a = (): void => { plain.push(timeCommand(...node('cli/main.ts', 'scenario', 'tour', '--quiet', '--pki-dir', dir))); };
      const b = (): void => { captured.push(timeCommand(...node('cli/main.ts', 'scenario', 'tour', '--quiet', '--pki-dir', dir, '--capture', out))); };
      if (i % 2 === 0) { a(); b(); } else { b(); a(); }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
  console.log('capture: `npm run scenario -- --capture DIR` end to end (the tour, 2 nodes, warm PKI), each run a fresh process');
  console.log(row('tour --capture vs tour', captured, plain, 'tour'));
}

/** Acknowledged puts per second: `writers` loops each doing put → (await durable) until `total` are done. */
async function storeThroughput(total: number, writers: number, durableDir?: string): Promise<number> {
  const store = new MvccStore();
  const wal = durableDir ? (await Wal.open(durableDir, store, { logger: silentLogger() })).wal : undefined;
  const value = Buffer.alloc(600, 'x'); // about a small ConfigMap's JSON
  let n = 0;
  const t = process.hrtime.bigint();
  await Promise.all(Array.from({ length: writers }, async () => {
    while (n < total) {
      store.put(Buffer.from(`/registry/configmaps/default/cm-${n++ % 500}`), value);
      if (wal) await wal.durable();
      else await Promise.resolve();
    }
  }));
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  await wal?.close();
  return total / s;
}

async function benchStore(runs: number): Promise<void> {
  const r = { mem: [] as number[], seq: [] as number[], conc: [] as number[] };
  for (let i = 0; i < runs; i++) {
    const dirs = [tmp(), tmp()] as const;
    try {
      r.mem.push(await storeThroughput(20_000, 64));
      r.seq.push(await storeThroughput(500, 1, dirs[0]));
      r.conc.push(await storeThroughput(5_000, 64, dirs[1]));
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }
  const line = (label: string, xs: number[]): string => {
    const ratios = xs.map((x, i) => x / r.mem[i]!);
    return `${label.padEnd(34)} ${median(xs).toFixed(0).padStart(8)} writes/s   ratio to in-memory ${median(ratios).toFixed(5)} (median of ${ratios.length})`;
  };
  console.log(`store: acknowledged puts of 600-byte values, the embedded etcd's MvccStore (${os.tmpdir()} for the WAL)`);
  console.log(`${'in memory (before the WAL)'.padEnd(34)} ${median(r.mem).toFixed(0).padStart(8)} writes/s`);
  console.log(line('WAL, 1 writer (fsync per write)', r.seq));
  console.log(line('WAL, 64 writers (group commit)', r.conc));
}

/** What the authz bench's child process (`bench/main.ts authz-server`) prints once the control plane is up. */
interface AuthzTarget { url: string; ca: string; allowedToken: string; deniedToken: string; path: string }

/**
 * The child: PKI in memory, the embedded etcd and the apiserver on loopback, a namespace with a
 * ConfigMap, two service accounts (one bound to cluster-admin, one bound to nothing) and their tokens.
 * Reads commands on stdin (`rolebindings N`), answers `ok`; stdin's end stops it.
 */
async function authzServer(): Promise<void> {
  const [{ issuePki, caPem, credential }, { Etcd }, { KubeApiserver }, { KubeClient, resourcePath }] = await Promise.all([
    import('../pki/store.js'), import('../components/etcd/index.js'), import('../components/kube-apiserver/index.js'),
    import('../components/client/kube-client.js'),
  ]);
  const pki = await issuePki();
  const id = (name: import('../pki/store.js').LeafName): { cert: string; key: string } => ({ cert: credential(pki, name).certPem, key: credential(pki, name).keyPem });
  const logger = silentLogger();
  const host = pki.plan.advertiseAddress;
  const etcd = new Etcd({ host, port: 0, identity: id('etcd/server'), trustedCa: caPem(pki, 'etcd/ca'), logger });
  await etcd.start();
  const apiserver = new KubeApiserver({
    host, port: 0, identity: id('apiserver'), clientCa: caPem(pki, 'ca'),
    etcd: { endpoints: [etcd.clientUrl], identity: id('apiserver-etcd-client'), ca: caPem(pki, 'etcd/ca') },
    kubeletClient: {}, serviceAccount: pki.serviceAccount, advertiseAddress: host, logger,
  });
  await apiserver.start();
  const admin = new KubeClient({ name: 'bench', server: apiserver.url, identity: id('super-admin.conf'), serverCa: caPem(pki, 'ca') });
  const ns = 'bench';
  const rbac = (resource: string, namespace?: string): string => resourcePath({ group: 'rbac.authorization.k8s.io', resource, ...(namespace ? { namespace } : {}) });
  await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await admin.create(resourcePath({ resource: 'configmaps', namespace: ns }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe' }, data: { a: 'b' } });
  const token = async (name: string): Promise<string> => {
    await admin.create(resourcePath({ resource: 'serviceaccounts', namespace: ns }), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
    const request = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name }, spec: { expirationSeconds: 3600 } } as KubeObject;
    const tr = await admin.create<{ status: { token: string } } & KubeObject>(resourcePath({ resource: 'serviceaccounts', namespace: ns, name, subresource: 'token' }), request);
    return tr.status.token;
  };
  await admin.create(rbac('clusterrolebindings'), {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'bench-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'admin', namespace: ns }],
  });
  const target: AuthzTarget = { url: apiserver.url, ca: caPem(pki, 'ca'), allowedToken: await token('admin'), deniedToken: await token('nobody'), path: `/api/v1/namespaces/${ns}/configmaps/probe` };
  process.stdout.write(`${JSON.stringify(target)}\n`);
  let made = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    const m = /^rolebindings (\d+)$/.exec(line.trim());
    if (!m) continue;
    for (; made < Number(m[1]); made++) {
      await admin.create(rbac('rolebindings', ns), {
        apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: `viewer-${made}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'User', name: `user-${made}` }, { kind: 'Group', name: `group-${made}` }],
      });
    }
    process.stdout.write('ok\n');
  }
  admin.close();
  await apiserver.stop();
  await etcd.stop();
}

/** `concurrency` closed-loop clients for `ms` on `agent`: requests/s with the expected status, and the median latency. */
async function load(target: AuthzTarget, agent: https.Agent, auth: string | undefined, expect: number, ms: number, concurrency: number): Promise<{ rps: number; p50: number }> {
  const url = new URL(target.url);
  const end = Date.now() + ms;
  const latencies: number[] = [];
  let ok = 0;
  const one = (): Promise<number> => new Promise((resolve, reject) => {
    const req = https.request({ host: url.hostname, port: url.port, path: target.path, agent, headers: { Accept: 'application/json', ...(auth ? { Authorization: `Bearer ${auth}` } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      const t = process.hrtime.bigint();
      const status = await one();
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (status !== expect) throw new Error(`authz bench: expected HTTP ${expect}, got ${status}`);
      ok++;
    }
  }));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rps: ok / secs, p50: median(latencies) };
}

async function benchAuthz(runs: number, profileDir: string | undefined): Promise<void> {
  // --cpu-prof-dir DIR: the server process writes a V8 CPU profile there (open it in Chrome's DevTools).
  const prof = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', path.join(ROOT, 'bench/main.ts'), 'authz-server'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error('authz bench: the server process ended early');
    return r.value;
  };
  try {
    const target = JSON.parse(await next()) as AuthzTarget;
    const agent = new https.Agent({ keepAlive: true, maxSockets: 4, ca: target.ca });
    const solo = new https.Agent({ keepAlive: true, maxSockets: 1, ca: target.ca });
    const phaseMs = 1500;
    console.log(`authz: GET ${target.path} on the same 4 keep-alive connections, ${phaseMs} ms a phase, ${runs} interleaved runs (after one warm-up)`);
    for (const bindings of [0, 400]) {
      if (bindings) { child.stdin!.write(`rolebindings ${bindings}\n`); await next(); }
      const r = { allowed: [] as number[], denied: [] as number[], anonymous: [] as number[] };
      const phases = [
        async () => { r.allowed.push((await load(target, agent, target.allowedToken, 200, phaseMs, 4)).rps); },
        async () => { r.denied.push((await load(target, agent, target.deniedToken, 403, phaseMs, 4)).rps); },
        async () => { r.anonymous.push((await load(target, agent, undefined, 403, phaseMs, 4)).rps); },
      ];
      await load(target, agent, target.allowedToken, 200, phaseMs, 4);
      await load(target, agent, undefined, 403, phaseMs, 4);
      for (let i = 0; i < runs; i++) for (let j = 0; j < phases.length; j++) await phases[(i + j) % phases.length]!();
      const ratio = (xs: number[]): string => median(xs.map((x, i) => x / r.allowed[i]!)).toFixed(3);
      const rps = (xs: number[]): string => median(xs).toFixed(0).padStart(6);
      console.log(`  ${String(bindings).padStart(3)} RoleBindings: allowed ${rps(r.allowed)} req/s   denied (no binding) ${rps(r.denied)} req/s, ratio ${ratio(r.denied)}   anonymous ${rps(r.anonymous)} req/s, ratio ${ratio(r.anonymous)}`);
      const alone: number[] = [];
      const flooded: number[] = [];
      for (let i = 0; i < runs; i++) {
        alone.push((await load(target, solo, target.allowedToken, 200, phaseMs / 3, 1)).p50);
        const [admin] = await Promise.all([load(target, solo, target.allowedToken, 200, phaseMs, 1), load(target, agent, undefined, 403, phaseMs, 4)]);
        flooded.push(admin.p50);
      }
      console.log(`  ${String(bindings).padStart(3)} RoleBindings: an admin's median latency alone ${median(alone).toFixed(2)} ms, under an anonymous flood on 4 connections ${median(flooded).toFixed(2)} ms`);
    }
    agent.destroy();
    solo.destroy();
  } finally {
    child.stdin!.end();
    await new Promise<void>((resolve) => { if (child.exitCode !== null) resolve(); else child.once('exit', () => resolve()); });
  }
}

const sub = process.argv[2];
if (sub === 'scale') {
  const { benchScale } = await import('./scale.js');
  await benchScale(process.argv.slice(3));
  process.exit(0);
}
if (sub === undefined || sub.startsWith('-') || sub === 'handshakes' || sub === 'scheduler' || sub === 'fanout') {
  // The default table (every row set), or one of the side-by-side benches alone in the same table.
  const { runSuite, SUITE } = await import('./suite.js');
  const own = sub !== undefined && !sub.startsWith('-');
  try {
    await runSuite(process.argv.slice(own ? 3 : 2), own ? [sub as 'handshakes'] : SUITE, `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`);
  } catch (err) {
    console.error(process.env.BENCH_DEBUG && err instanceof Error ? err.stack : err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
  process.exit(process.exitCode ?? 0);
}
const { values, positionals } = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: { runs: { type: 'string' }, 'cpu-prof-dir': { type: 'string' }, nodes: { type: 'string' }, running: { type: 'string' }, keep: { type: 'string' } } });
const which = positionals;
const runs = Number(values.runs ?? 5);
for (const w of which) {
  if (w === 'authz-server') await authzServer();
  else if (w === 'authz') await benchAuthz(runs, values['cpu-prof-dir']);
  else if (w === 'pki') printPki(measurePki(runs));
  else if (w === 'signing') benchSigning(runs);
  else if (w === 'store') await benchStore(runs);
  else if (w === 'capture') benchCapture(runs);
  else if (w === 'report') await benchReport(Number(values.nodes ?? 200), runs, Number(values.running ?? 2), values.keep);
  else if (w === 'tour') {
    if (!existsSync(path.join(ROOT, 'cli/main.ts'))) { console.log('tour: cli/main.ts not present yet, skipped'); continue; }
    printTour(measureTour(runs));
  } else {
    console.error(`bench: unknown benchmark "${w}" (pki, signing, tour, store, authz, capture, report, handshakes, scheduler, fanout; scale has its own options)`);
    process.exitCode = 2;
  }
}
