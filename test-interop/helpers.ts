/**
 * Interop test helpers: the real binaries (kubectl, etcd, etcdctl, curl, openssl), `npm run cluster`
 * as a child process, and running a command with a time limit.
 *
 * A binary that is missing skips the tests that need it with a line saying what to install; under CI
 * (CI=true, where .ci/run installs everything) a missing binary fails instead, so nothing is skipped there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findBinary } from '../components/etcd/process.js';

export const ROOT = path.resolve(import.meta.dirname, '..');

/** Where .ci/run extracts Debian's kubernetes-client (kubectl 1.20); KUBECTL_1_20 overrides. */
export const KUBECTL_120 = process.env.KUBECTL_1_20 ?? '/opt/kubectl-1.20/usr/bin/kubectl';

/** The image's kubectl 1.33 (kubectl >= 1.32 sends some bodies as protobuf); KUBECTL_1_33 overrides. */
export const KUBECTL_133 = process.env.KUBECTL_1_33 ?? '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';

export interface Tool {
  readonly label: string;
  readonly path: string | undefined;
  readonly install: string;
}

export const tools = {
  kubectl: { label: 'kubectl (the image\'s dispatcher)', path: findBinary('kubectl'), install: 'kubectl on PATH (google-cloud-cli\'s dispatcher, or any kubectl 1.27+)' },
  kubectl120: { label: 'kubectl 1.20 (Debian)', path: existsSync(KUBECTL_120) ? KUBECTL_120 : undefined, install: 'cd /tmp && apt-get download kubernetes-client && dpkg-deb -x kubernetes-client_*.deb /opt/kubectl-1.20' },
  kubectl133: { label: 'kubectl 1.33 (sends protobuf)', path: existsSync(KUBECTL_133) ? KUBECTL_133 : undefined, install: 'google-cloud-cli\'s kubectl.1.33 (or KUBECTL_1_33=path)' },
  etcd: { label: 'etcd', path: findBinary('etcd'), install: 'apt-get install -y etcd-server' },
  etcdctl: { label: 'etcdctl', path: findBinary('etcdctl'), install: 'apt-get install -y etcd-client' },
  curl: { label: 'curl', path: findBinary('curl'), install: 'apt-get install -y curl' },
  openssl: { label: 'openssl', path: findBinary('openssl'), install: 'apt-get install -y openssl' },
} satisfies Record<string, Tool>;

/** In a `before`: skips the suite (or fails under CI) when a tool is missing. */
export function need(ctx: Mocha.Context, ...wanted: Tool[]): void {
  const missing = wanted.filter((t) => !t.path);
  if (missing.length === 0) return;
  const why = missing.map((t) => `${t.label} is missing (${t.install})`).join('; ');
  if (process.env.CI === 'true') throw new Error(`interop: ${why}`);
  process.stderr.write(`      skipped: ${why}\n`);
  ctx.skip();
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a command to its end (killed after timeoutMs) and returns what it printed. */
export function run(file: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    if (options.input !== undefined) child.stdin!.end(options.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, ms: Date.now() - started }); });
  });
}

/** Splits kubectl's table output into rows of columns (two or more spaces separate columns). */
export function table(output: string): { header: string[]; rows: string[][] } {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const [head, ...rest] = lines;
  const split = (l: string): string[] => l.trim().split(/\s{2,}/);
  return { header: head ? split(head) : [], rows: rest.map(split) };
}

export interface ClusterInfo {
  readonly apiserver: string;
  readonly etcd: string;
  readonly kubelets: Record<string, string>;
  readonly pkiDir: string;
  readonly kubeconfigs: Record<'admin' | 'super-admin' | 'scheduler' | 'controller-manager' | 'kube-proxy', string>;
}

export interface SimCluster {
  readonly info: ClusterInfo;
  readonly dir: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** `npm run cluster -- --pki-dir <temp> ...args` as a child process, until it prints that it is up. */
export async function startSimCluster(args: readonly string[] = [], timeoutMs = 60_000): Promise<SimCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'interop-cluster-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'cluster', '--pki-dir', dir, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { out += c; });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { out += c; });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const up = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const check = (): void => { if (out.includes('Ctrl-C stops it.')) { clearTimeout(timer); resolve(true); } };
    child.stdout!.on('data', check);
    void exited.then(() => { clearTimeout(timer); resolve(false); });
  });
  if (!up) {
    await stop();
    throw new Error(`npm run cluster did not come up:\n${out}`);
  }
  const info = JSON.parse(await fs.readFile(path.join(dir, 'cluster.json'), 'utf8')) as ClusterInfo;
  return { info, dir, output: () => out, stop };
}

/** Waits for `check` to return a value (bounded poll). */
export { waitFor } from '../sim/wait.js';
