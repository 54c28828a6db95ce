/**
 * The embedded etcd in a process of its own (forked by sim/etcd-child.ts): the same Etcd component,
 * listening on the control plane's address over mutual TLS, with its key material from the parent
 * over IPC (never logged). Its trace goes to the parent (sim/worker-child.ts). It ends when told to
 * stop (drained: watches ended, requests in flight answered, the log synced), on SIGTERM, and when the
 * parent goes away.
 */
import { createLogger } from './logger.js';
import { Etcd } from '../components/etcd/index.js';
import type { EtcdFromWorker, EtcdToWorker } from './etcd-child.js';
import { forwardTrace, reply, send, serve, trace, type CommonToWorker } from './worker-child.js';

let etcd: Etcd | undefined;
let stopping: Promise<void> | undefined;
const stop = (mode: 'close' | 'destroy'): Promise<void> => {
  stopping ??= (etcd ? etcd[mode]() : Promise.resolve()).catch(() => undefined);
  return stopping;
};

type Own = Exclude<EtcdToWorker, CommonToWorker>;

serve<Own>(async (m) => {
  switch (m.type) {
    case 'start': {
      forwardTrace(m.traceActive);
      const logger = createLogger({ level: m.logLevel, name: `etcd ${process.pid}` });
      etcd = new Etcd({ ...m.options, logger, trace });
      try {
        const address = await etcd.start();
        send<EtcdFromWorker>({ type: 'started', address, ...(etcd.recovery ? { recovery: etcd.recovery } : {}) });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        send<EtcdFromWorker>({ type: 'failed', error: err instanceof Error ? err.message : String(err), ...(code ? { code } : {}) });
      }
      return;
    }
    case 'reload':
      if (!etcd) throw new Error('etcd: not started');
      etcd.reloadTls(m.material);
      reply(m.id, {});
      return;
  }
}, stop);
