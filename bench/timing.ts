/**
 * What the benches share: timing a command in a fresh process, medians and paired ratios, and the two
 * process-level benches that both print their own lines (`npm run bench -- pki|tour`) and feed the
 * default table (bench/table.ts): `pki init` against the openssl CLI, and the tour cold and warm.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..');
/** The peer baseline beside the clone, or the project's own copy of the same openssl steps on a lone clone. */
const OPENSSL_SCRIPT = [path.resolve(ROOT, '../shared/bench/openssl-pki.sh'), path.resolve(ROOT, 'test/fixtures/openssl-pki.sh')].find((p) => existsSync(p))!;

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The q-quantile (0..1) of `xs`, nearest rank. */
export const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
};

/** The median of the per-run ratios ours[i] / base[i] (paired runs). */
export const pairedRatio = (ours: readonly number[], base: readonly number[]): number => median(ours.map((o, i) => o / base[i]!));

export function timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.toString().trim()}`);
  return ms;
}

export const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'bench-'));
export const node = (script: string, ...args: string[]): [string, string[]] => [process.execPath, ['--import', 'tsx', path.join(ROOT, script), ...args]];
/** cli/main.ts as `npm run scenario` and `npm run cluster` start it: through cli/launch.mjs (its bundle, built once). */
export const launch = (...args: string[]): [string, string[]] => [process.execPath, [path.join(ROOT, 'cli/launch.mjs'), 'main', ...args]];

export function row(label: string, ours: number[], base: number[], baseLabel: string): string {
  return `${label.padEnd(28)} ours ${median(ours).toFixed(0).padStart(6)} ms   ${baseLabel} ${median(base).toFixed(0).padStart(6)} ms   ratio ${pairedRatio(ours, base).toFixed(3)} (median of ${ours.length} paired runs)`;
}

/** A fresh plain-node process that makes `count` RSA-2048 key pairs in parallel on the thread pool: the floor under a cold init. */
const KEYGEN_FLOOR = `const { generateKeyPair } = require('node:crypto'); let n = 18;
for (let i = 0; i < 18; i++) generateKeyPair('rsa', { modulusLength: 2048 }, (e) => { if (e) throw e; if (--n === 0) process.exit(0); });`;

export interface PkiTimes { ours: number[]; openssl: number[]; oursEc: number[]; opensslEc: number[]; floor: number[]; warm: number[]; bare: number[] }

export function measurePki(runs: number): PkiTimes {
  const t: PkiTimes = { ours: [], openssl: [], oursEc: [], opensslEc: [], floor: [], warm: [], bare: [] };
  for (let i = 0; i < runs; i++) {
    const dirs = [tmp(), tmp(), tmp(), tmp()] as const;
    try {
      const [cmd, args] = node('cli/pki.ts', 'init', dirs[0], '--nodes', 'node-1');
      const [cmdEc, argsEc] = node('cli/pki.ts', 'init', dirs[2], '--nodes', 'node-1', '--key-algorithm', 'ecdsa-p256');
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
  return t;
}

export function printPki(t: PkiTimes): void {
  console.log('pki: the kubeadm set for one worker node (3 CAs, 14 leaves, sa pair: 18 key pairs), each run a fresh process');
  console.log(row('cold init vs openssl CLI', t.ours, t.openssl, 'openssl-pki.sh'));
  console.log(row('  its 18 RSA keygens alone', t.floor, t.openssl, 'openssl-pki.sh'));
  console.log(row('cold init, ECDSA P-256', t.oursEc, t.opensslEc, 'openssl-pki.sh ec'));
  console.log(row('warm init vs process start', t.warm, t.bare, 'tsx no-op'));
}

export interface TourTimes { cold: number[]; warm: number[]; pkiOnly: number[] }

export function measureTour(runs: number): TourTimes {
  const t: TourTimes = { cold: [], warm: [], pkiOnly: [] };
  // Builds the launcher's bundle if a source changed since the last one, so that no timed run pays for it.
  timeCommand(...launch('scenario', '--list'));
  for (let i = 0; i < runs; i++) {
    const dir = tmp();
    const d2 = tmp();
    try {
      // Cold: the tour makes its PKI in an empty directory; warm: the same directory again.
      t.cold.push(timeCommand(...launch('scenario', 'tour', '--quiet', '--pki-dir', dir)));
      t.warm.push(timeCommand(...launch('scenario', 'tour', '--quiet', '--pki-dir', dir)));
      t.pkiOnly.push(timeCommand(...node('cli/pki.ts', 'init', d2)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(d2, { recursive: true, force: true });
    }
  }
  return t;
}

export function printTour(t: TourTimes): void {
  console.log('tour: `npm run scenario` end to end (2 nodes, through cli/launch.mjs as npm runs it), each run a fresh process');
  console.log(row('tour cold vs PKI init alone', t.cold, t.pkiOnly, 'pki init'));
  console.log(row('tour warm vs tour cold', t.warm, t.cold, 'tour cold'));
}
