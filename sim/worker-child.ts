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

/** The messages every worker answers the same way. */
export type CommonToWorker =
  | { readonly type: 'trace-active'; readonly active: boolean }
  | { readonly type: 'usage'; readonly id: number }
  | { readonly type: 'flush'; readonly id: number }
  | { readonly type: 'stop'; readonly id: number };

/**
 * Serves the parent's messages: `own` handles the worker's own ones, the common ones are answered here
 * (`stop` drains through `stop('close')`, replies, and lets go of the channel). An error thrown while
 * handling a request is its reply. The worker also ends with `stop('destroy')` on SIGTERM or when the
 * IPC channel disconnects (the parent died: nothing may outlive the cluster). Ctrl-C in a terminal
 * reaches the whole process group: the parent decides when its workers stop.
 */
export function serve<M extends { readonly type: string }>(own: (m: M) => Promise<void> | void, stop: (mode: 'close' | 'destroy') => Promise<void>): void {
  let stopping = false;
  const handle = async (m: M | CommonToWorker): Promise<void> => {
    const c = m as CommonToWorker;
    switch (c.type) {
      case 'trace-active': forwardTrace(c.active); return;
      case 'usage': reply(c.id, { value: usage() }); return;
      case 'flush': reply(c.id, {}); return;
      case 'stop':
        stopping = true;
        await stop('close');
        reply(c.id, {});
        process.disconnect();
        return;
      default: await own(m as M);
    }
  };
  process.on('message', (m: M | CommonToWorker) => {
    handle(m).catch((err: unknown) => {
      if ('id' in m && typeof m.id === 'number') reply(m.id, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  process.once('disconnect', () => {
    void stop(stopping ? 'close' : 'destroy').finally(() => process.exit(0));
  });
  process.once('SIGTERM', () => {
    void stop('destroy').finally(() => process.exit(0));
  });
  process.on('SIGINT', () => undefined);
}
