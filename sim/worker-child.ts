/**
 * The worker side of sim/worker-process.ts: what every worker process (node workers, the etcd
 * process) does the same way. Its trace goes to the parent event by event, before whatever the
 * component writes next on its sockets, so the parent records it no later than it could see what
 * followed on the wire in most cases; a reply is sent after every event emitted before it, so `flush`
 * is a barrier. While nobody listens in the parent, the forwarder is passive: the components build no
 * events but refusals.
 */
import { Trace } from '../components/client/trace.js';
import type { FromAnyWorker } from './worker-process.js';

if (!process.send) {
  process.stderr.write(`${process.argv[1] ?? 'worker'}: must be started by the cluster with an IPC channel (child_process.fork)\n`);
  process.exit(2);
}

export function send<M extends { readonly type: string }>(m: M | FromAnyWorker): void {
  if (process.connected) process.send!(m);
}

export const reply = (id: number, result: { value?: unknown; error?: string }): void => {
  send({ type: 'reply', id, ...result });
};

/** This process's trace bus, forwarded to the parent. */
export const trace = new Trace();
let forwarding: (() => void) | undefined;
/** Forward every event (`active`), or only refusals while nobody listens in the parent. */
export function forwardTrace(active: boolean): void {
  forwarding?.();
  forwarding = trace.on((e) => send({ type: 'trace', events: [e] }), { passive: !active });
}
forwardTrace(true);

/** This process's CPU time and resident set, for the parent's accounting. */
export const usage = (): { pid: number; user: number; system: number; rss: number } => {
  const cpu = process.cpuUsage();
  return { pid: process.pid, user: cpu.user, system: cpu.system, rss: process.memoryUsage().rss };
};

/**
 * How the worker ends: `stop('close')` when told to, `stop('destroy')` on SIGTERM or when the IPC
 * channel disconnects (the parent died: nothing may outlive the cluster). Ctrl-C in a terminal
 * reaches the whole process group: the parent decides when its workers stop.
 */
export function onEnd(stop: (mode: 'close' | 'destroy') => Promise<void>, stopping: () => boolean): void {
  process.once('disconnect', () => {
    void stop(stopping() ? 'close' : 'destroy').finally(() => process.exit(0));
  });
  process.once('SIGTERM', () => {
    void stop('destroy').finally(() => process.exit(0));
  });
  process.on('SIGINT', () => undefined);
}
