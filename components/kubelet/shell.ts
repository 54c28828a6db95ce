/**
 * What a simulated container answers to exec: a small POSIX-ish shell (busybox's `sh` as a plain
 * image would have it) with `hostname`, `env`, `cat`, `ls`, `id`, `echo`, `pwd`, `true`, `false`,
 * `exit N`; `sh -c 'script'` runs a script, `sh` alone reads commands from stdin until `exit` or end
 * of input. Exit codes are the shell's: 127 for an unknown command, 1 for a missing file. A program
 * that is not in the image is the runtime's error (OCI: executable file not found), not an exit code.
 */
import type { Container, Pod } from '../api/types.js';
import { KubeSimError } from '../../pki/errors.js';

export interface ShellContext {
  readonly pod: Pod;
  readonly container: Container;
  readonly podIP: string;
  /** The `kubernetes` Service's ClusterIP and port (KUBERNETES_SERVICE_HOST/PORT, as the kubelet injects them). */
  readonly serviceHost?: string;
}

export interface ShellIo {
  out(text: string): void;
  err(text: string): void;
}

/** The runtime could not start the program: the kubelet reports an InternalError Status, no exit code. */
export class ExecStartError extends KubeSimError<'EXEC_START'> {
  constructor(message: string) {
    super('EXEC_START', message);
  }
}

const SHELLS = new Set(['sh', '/bin/sh', 'bash', '/bin/bash', 'ash', '/bin/ash']);
const PROGRAMS = new Set(['hostname', 'env', 'cat', 'ls', 'id', 'echo', 'pwd', 'true', 'false', 'printenv', 'whoami', 'uname']);

const FILES = (ctx: ShellContext): Record<string, string> => {
  const host = hostnameOf(ctx.pod);
  return {
    '/etc/hostname': `${host}\n`,
    '/etc/hosts': `# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ctx.podIP}\t${host}\n`,
    '/etc/resolv.conf': `search ${ctx.pod.metadata.namespace ?? 'default'}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n`,
    '/var/run/secrets/kubernetes.io/serviceaccount/namespace': ctx.pod.metadata.namespace ?? 'default',
  };
};

const DIRS: Record<string, string[]> = {
  '/': ['bin', 'dev', 'etc', 'home', 'lib', 'proc', 'root', 'sys', 'tmp', 'usr', 'var'],
  '/etc': ['hostname', 'hosts', 'passwd', 'resolv.conf'],
  '/tmp': [],
  '/root': [],
  '/var/run/secrets/kubernetes.io/serviceaccount': ['ca.crt', 'namespace', 'token'],
};

export const hostnameOf = (pod: Pod): string => (pod.spec as { hostname?: string }).hostname ?? pod.metadata.name ?? '';

/** The container's environment, as the kubelet builds it: PATH and HOSTNAME, the spec's literal values, the service variables. */
export function environment(ctx: ShellContext): [string, string][] {
  const env: [string, string][] = [['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ['HOSTNAME', hostnameOf(ctx.pod)]];
  for (const e of ctx.container.env ?? []) if (e.value !== undefined) env.push([e.name, e.value]);
  const host = ctx.serviceHost ?? '10.96.0.1';
  env.push(['KUBERNETES_SERVICE_HOST', host], ['KUBERNETES_SERVICE_PORT', '443'], ['KUBERNETES_SERVICE_PORT_HTTPS', '443'],
    ['KUBERNETES_PORT', `tcp://${host}:443`], ['HOME', '/root']);
  return env;
}

/** Splits a command line into words: single and double quotes, backslash escapes, `$VAR` outside single quotes. */
export function words(line: string, env: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") { if (c === "'") quote = undefined; else cur += c; continue; }
    if (c === '\\' && i + 1 < line.length) { cur += line[++i]!; inWord = true; continue; }
    if (c === '$') {
      const m = /^\$(\?|[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})/.exec(line.slice(i));
      if (m) { cur += env.get(m[1]!.replace(/[{}]/g, '')) ?? ''; i += m[0].length - 1; inWord = true; continue; }
    }
    if (quote === '"') { if (c === '"') quote = undefined; else cur += c; continue; }
    if (c === '"' || c === "'") { quote = c; inWord = true; continue; }
    if (/\s/.test(c)) { if (inWord) out.push(cur); cur = ''; inWord = false; continue; }
    cur += c;
    inWord = true;
  }
  if (inWord) out.push(cur);
  return out;
}

/** A shell session: runs lines, keeps `$?`, knows when `exit` was called. */
export class Shell {
  private readonly ctx: ShellContext;
  private readonly io: ShellIo;
  private readonly env: Map<string, string>;
  /** Set once `exit` ran: the code the shell ends with. */
  exited: number | undefined;
  status = 0;

  constructor(ctx: ShellContext, io: ShellIo) {
    this.ctx = ctx;
    this.io = io;
    this.env = new Map(environment(ctx));
  }

  /** Runs one line (commands separated by `;`, `&&`, `||`). */
  line(text: string): void {
    const parts = text.split(/(;|&&|\|\|)/);
    let skip = false;
    for (let i = 0; i < parts.length && this.exited === undefined; i += 2) {
      const op = i > 0 ? parts[i - 1] : ';';
      skip = op === '&&' ? this.status !== 0 : op === '||' ? this.status === 0 : false;
      if (skip) continue;
      this.env.set('?', String(this.status));
      const argv = words(parts[i]!.replace(/#.*$/, ''), this.env);
      if (argv.length) this.status = this.run(argv, true);
    }
  }

  /** Runs one program; `inShell` says whether an unknown name is the shell's 127 or the runtime's error. */
  run(argv: string[], inShell: boolean): number {
    const [cmd, ...args] = argv as [string, ...string[]];
    const { out, err } = this.io;
    const files = FILES(this.ctx);
    const base = cmd.replace(/^\/(usr\/)?s?bin\//, '');
    switch (inShell || PROGRAMS.has(base) ? base : cmd) {
      case 'hostname': out(`${hostnameOf(this.ctx.pod)}\n`); return 0;
      case 'env': case 'printenv':
        if (args.length) { const v = this.env.get(args[0]!); if (v === undefined) return 1; out(`${v}\n`); return 0; }
        for (const [k, v] of this.env) if (k !== '?') out(`${k}=${v}\n`);
        return 0;
      case 'echo': out(`${args.join(' ')}\n`); return 0;
      case 'id': out('uid=0(root) gid=0(root) groups=0(root),10(wheel)\n'); return 0;
      case 'whoami': out('root\n'); return 0;
      case 'pwd': out('/\n'); return 0;
      case 'uname': out(args.includes('-a') ? `Linux ${hostnameOf(this.ctx.pod)} 6.1.0 #1 SMP x86_64 GNU/Linux\n` : 'Linux\n'); return 0;
      case 'true': return 0;
      case 'false': return 1;
      case 'cat': {
        let code = 0;
        for (const f of args) {
          if (files[f] !== undefined) out(files[f]);
          else if (DIRS[f.replace(/(.)\/$/, '$1')]) { err(`cat: read error: Is a directory\n`); code = 1; } else { err(`cat: can't open '${f}': No such file or directory\n`); code = 1; }
        }
        return code;
      }
      case 'ls': {
        const target = (args.filter((a) => !a.startsWith('-'))[0] ?? '/').replace(/(.)\/$/, '$1');
        const dir = DIRS[target];
        if (dir) { if (dir.length) out(`${dir.join('\n')}\n`); return 0; }
        if (files[target] !== undefined) { out(`${target}\n`); return 0; }
        err(`ls: ${target}: No such file or directory\n`);
        return 1;
      }
      case 'exit': {
        const n = args[0] === undefined ? this.status : Number(args[0]);
        this.exited = Number.isInteger(n) ? ((n % 256) + 256) % 256 : 2;
        return this.exited;
      }
      default:
        if (!inShell) throw new ExecStartError(`exec: "${cmd}": executable file not found in $PATH`);
        err(`sh: ${cmd}: not found\n`);
        return 127;
    }
  }
}

/** Is argv a shell the image has (so stdin is read as commands)? */
export const isShell = (argv: readonly string[]): boolean => argv.length > 0 && SHELLS.has(argv[0]!);
