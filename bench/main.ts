/**
 * `npm run bench [-- pki|signing|tour] [--runs N]`
 *
 * Every figure is a ratio against a baseline measured in the same run, interleaved with it, because
 * these machines are shared and noisy: absolute times are printed for reference only.
 *   pki      cold `pki init` of the whole set vs ../shared/bench/openssl-pki.sh (the openssl CLI, as
 *            "Kubernetes The Hard Way" does); warm `pki init` (all present) vs bare process start.
 *   signing  forge's pure-JS RSA signature vs node:crypto's native one, over the same TBSCertificate.
 *   tour     the tour's wall time cold (PKI made in memory) and warm (PKI read from disk), and the
 *            tour's time over PKI generation alone.
 *   store    the embedded etcd's write throughput with its write-ahead log (each write fsynced before it
 *            is acknowledged; one writer, then 64 concurrent writers sharing group commits) vs the
 *            in-memory store, in the same run.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import forge from 'node-forge';
import { MvccStore } from '../components/etcd/store.js';
import { Wal } from '../components/etcd/wal.js';
import { silentLogger } from '../sim/logger.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const OPENSSL_SCRIPT = path.resolve(ROOT, '../shared/bench/openssl-pki.sh');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.toString().trim()}`);
  return ms;
}

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'bench-'));
const node = (script: string, ...args: string[]): [string, string[]] => [process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args]];

function row(label: string, ours: number[], base: number[], baseLabel: string): string {
  const ratios = ours.map((o, i) => o / base[i]!);
  return `${label.padEnd(28)} ours ${median(ours).toFixed(0).padStart(6)} ms   ${baseLabel} ${median(base).toFixed(0).padStart(6)} ms   ratio ${median(ratios).toFixed(3)} (median of ${ratios.length} paired runs)`;
}

/** A fresh plain-node process that makes `count` RSA-2048 key pairs in parallel on the thread pool: the floor under a cold init. */
const KEYGEN_FLOOR = `const { generateKeyPair } = require('node:crypto'); let n = 18;
for (let i = 0; i < 18; i++) generateKeyPair('rsa', { modulusLength: 2048 }, (e) => { if (e) throw e; if (--n === 0) process.exit(0); });`;

function benchPki(runs: number): void {
  if (!existsSync(OPENSSL_SCRIPT)) throw new Error(`${OPENSSL_SCRIPT}: missing (the openssl baseline lives in ../shared/bench)`);
  const t = { ours: [] as number[], openssl: [] as number[], oursEc: [] as number[], opensslEc: [] as number[], floor: [] as number[], warm: [] as number[], bare: [] as number[] };
  for (let i = 0; i < runs; i++) {
    const dirs = [tmp(), tmp(), tmp(), tmp()] as const;
    try {
      const [cmd, args] = node('pki/cli.ts', 'init', dirs[0], '--nodes', 'node-1');
      const [cmdEc, argsEc] = node('pki/cli.ts', 'init', dirs[2], '--nodes', 'node-1', '--key-algorithm', 'ecdsa-p256');
      // Alternate which goes first so drift in machine load hits both alike.
      const pair = (a: () => void, b: () => void): void => { if (i % 2 === 0) { a(); b(); } else { b(); a(); } };
      pair(() => t.ours.push(timeCommand(cmd, args)), () => t.openssl.push(timeCommand('bash', [OPENSSL_SCRIPT, dirs[1]])));
      pair(() => t.oursEc.push(timeCommand(cmdEc, argsEc)), () => t.opensslEc.push(timeCommand('bash', [OPENSSL_SCRIPT, dirs[3], 'ec'])));
      t.floor.push(timeCommand(process.execPath, ['-e', KEYGEN_FLOOR]));
      t.warm.push(timeCommand(cmd, args));
      t.bare.push(timeCommand(...node('bench/noop.ts')));
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }
  console.log('pki: the kubeadm set for one worker node (3 CAs, 14 leaves, sa pair: 18 key pairs), each run a fresh process');
  console.log(row('cold init vs openssl CLI', t.ours, t.openssl, 'openssl-pki.sh'));
  console.log(row('  its 18 RSA keygens alone', t.floor, t.openssl, 'openssl-pki.sh'));
  console.log(row('cold init, ECDSA P-256', t.oursEc, t.opensslEc, 'openssl-pki.sh ec'));
  console.log(row('warm init vs process start', t.warm, t.bare, 'tsx no-op'));
}

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

function benchTour(runs: number): void {
  const cold: number[] = [];
  const warmT: number[] = [];
  const pkiOnly: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = tmp();
    const d2 = tmp();
    try {
      // Cold: the tour makes its PKI in an empty directory; warm: the same directory again.
      cold.push(timeCommand(...node('sim/main.ts', 'scenario', 'tour', '--quiet', '--pki-dir', dir)));
      warmT.push(timeCommand(...node('sim/main.ts', 'scenario', 'tour', '--quiet', '--pki-dir', dir)));
      pkiOnly.push(timeCommand(...node('pki/cli.ts', 'init', d2)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(d2, { recursive: true, force: true });
    }
  }
  console.log('tour: `npm run scenario` end to end (2 nodes), each run a fresh process');
  console.log(row('tour cold vs PKI init alone', cold, pkiOnly, 'pki init'));
  console.log(row('tour warm vs tour cold', warmT, cold, 'tour cold'));
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

const { values, positionals } = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: { runs: { type: 'string' } } });
const which = positionals.length > 0 ? positionals : ['signing', 'pki', 'tour'];
const runs = Number(values.runs ?? 5);
for (const w of which) {
  if (w === 'pki') benchPki(runs);
  else if (w === 'signing') benchSigning(runs);
  else if (w === 'store') await benchStore(runs);
  else if (w === 'tour') {
    if (!existsSync(path.join(ROOT, 'sim/main.ts'))) { console.log('tour: sim/main.ts not present yet, skipped'); continue; }
    benchTour(runs);
  } else {
    console.error(`bench: unknown benchmark "${w}" (pki, signing, tour, store)`);
    process.exitCode = 2;
  }
}
