/** The bench's side of bench/control-plane.ts: fork it, wait for its URL, ask for its CPU time, stop it. */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ServerMode } from './control-plane.js';

export interface ServerChild {
  readonly url: string;
  readonly pid: number;
  /** The child's process CPU time so far (user + system, ms). */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

export async function forkServer(mode: ServerMode, pkiDir: string): Promise<ServerChild> {
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'control-plane.ts'), [mode, pkiDir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => { child.once('exit', () => resolve()); });
  const next = <T>(): Promise<T> => new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => { child.off('message', onMessage); reject(new Error(`bench: the ${mode} child ended (exit code ${code})`)); };
    const onMessage = (m: unknown): void => { child.off('exit', onExit); resolve(m as T); };
    child.once('message', onMessage);
    child.once('exit', onExit);
  });
  const { url } = await next<{ url: string }>();
  return {
    url, pid: child.pid!,
    cpuMs: async () => { const reply = next<{ cpuUs: number }>(); child.send({ cpu: true }); return (await reply).cpuUs / 1000; },
    stop: async () => { if (child.connected) child.disconnect(); await exited; },
  };
}
