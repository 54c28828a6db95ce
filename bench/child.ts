/** The bench's side of bench/control-plane.ts: fork it, wait for its URL, ask for its CPU time, stop it. */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ServerMode } from './control-plane.js';

export interface ServerChild {
  readonly url: string;
  readonly pid: number;
  /** The child's process CPU time so far (user + system, ms). */
  cpuMs(): Promise<number>;
  /** Profiles the child's CPU from now until the returned function is called, which writes `file` (a .cpuprofile). */
  profile(file: string): Promise<() => Promise<void>>;
  stop(): Promise<void>;
}

export async function forkServer(mode: ServerMode, pkiDir: string): Promise<ServerChild> {
  // BENCH_CPU_PROF_DIR=DIR: each server child writes a V8 CPU profile there when it stops (open it in Chrome's DevTools).
  const prof = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF_DIR] : [];
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'control-plane.ts'), [mode, pkiDir], { execArgv: ['--import', 'tsx', ...prof], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => { child.once('exit', () => resolve()); });
  const next = <T>(): Promise<T> => new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => { child.off('message', onMessage); reject(new Error(`bench: the ${mode} child ended (exit code ${code})`)); };
    const onMessage = (m: unknown): void => { child.off('exit', onExit); resolve(m as T); };
    child.once('message', onMessage);
    child.once('exit', onExit);
  });
  const { url } = await next<{ url: string }>();
  if (prof.length) process.stderr.write(`bench: the ${mode} child (pid ${child.pid}) writes its CPU profile to ${process.env.BENCH_CPU_PROF_DIR} as it stops\n`);
  return {
    url, pid: child.pid!,
    cpuMs: async () => { const reply = next<{ cpuUs: number }>(); child.send({ cpu: true }); return (await reply).cpuUs / 1000; },
    profile: async (file) => {
      const started = next<unknown>();
      child.send({ profile: 'start' });
      await started;
      return async () => { const written = next<unknown>(); child.send({ profile: 'stop', file }); await written; };
    },
    stop: async () => { if (child.connected) child.disconnect(); await exited; },
  };
}
