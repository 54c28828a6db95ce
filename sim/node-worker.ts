/**
 * A node worker process, like kubemark's hollow nodes: forked by the cluster (sim/workers.ts) with an
 * IPC channel, it runs the kubelet and kube-proxy of the nodes it is given, each with its own
 * certificates and its own connections to the apiserver over real TCP and mutual TLS. Everything its
 * components emit on their trace bus goes to the parent, which records it into the cluster's trace.
 *
 * It ends when told to stop (the nodes drain, then the process exits), on SIGTERM, and when the IPC
 * channel disconnects (the parent died): then its nodes are destroyed and it exits, so no worker
 * outlives the cluster.
 */
import { createLogger } from './logger.js';
import { startNode, stopNode, type RunningNode } from './nodes.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';
import { forwardTrace, reply, send as sendAny, serve, trace, type CommonToWorker } from './worker-child.js';

const send = (m: FromWorker): void => sendAny(m);

const nodes = new Map<string, RunningNode>();
let stopping: Promise<void> | undefined;

function stopAll(mode: 'close' | 'destroy'): Promise<void> {
  stopping ??= Promise.all([...nodes.values()].map((n) => stopNode(n, mode).catch(() => undefined))).then(() => undefined);
  return stopping;
}

/** Starts `specs` with at most `concurrency` nodes starting at once; on a failure, stops what started. */
async function startAll(message: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const logger = createLogger({ level: message.logLevel, name: `node-worker ${process.pid}` });
  const queue = [...message.nodes];
  let failed: unknown;
  const lane = async (): Promise<void> => {
    for (let spec = queue.shift(); spec && failed === undefined; spec = queue.shift()) {
      try {
        nodes.set(spec.name, await startNode(spec, message.common, { logger, trace }));
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, message.concurrency) }, lane));
  if (failed !== undefined) {
    await stopAll('destroy');
    throw failed;
  }
}

function node(name: string): RunningNode {
  const n = nodes.get(name);
  if (!n) throw new Error(`node-worker ${process.pid}: no node ${name} here`);
  return n;
}

type Own = Exclude<ToWorker, CommonToWorker>;

serve<Own>(async (m) => {
  switch (m.type) {
    case 'start':
      forwardTrace(m.traceActive);
      try {
        await startAll(m);
        send({ type: 'started', nodes: [...nodes.values()].map((n) => ({ name: n.name, url: n.url })) });
      } catch (err) {
        send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
      }
      return;
    case 'rules':
      reply(m.id, { value: node(m.node).proxy.rules() });
      return;
    case 'ipvs':
      reply(m.id, { value: node(m.node).proxy.ipvs() });
      return;
    case 'reload': {
      const n = node(m.node);
      if (m.kubelet) n.kubelet.reloadTls(m.kubelet);
      if (m.proxy) n.proxy.reloadTls(m.proxy);
      reply(m.id, {});
      return;
    }
  }
}, stopAll);
