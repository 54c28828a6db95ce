/**
 * A cluster whose nodes run in node worker processes, for the tests that kill its process: 2 nodes in
 * 2 workers on free ports, printing one JSON line `{"apiserver": url, "workers": [pid, ...]}` once up,
 * and stopping on SIGTERM.
 *
 *   node --import tsx test/helpers/workers-child.ts
 */
import { issuePki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { Trace } from '../../components/client/trace.js';

const pki = await issuePki({ nodes: ['node-1', 'node-2'] });
const cluster = await new Cluster({ pki, trace: new Trace(), logger: silentLogger(), ports: 'ephemeral', workers: 2 }).start();
process.stdout.write(`${JSON.stringify({ apiserver: cluster.apiserverUrl, workers: cluster.nodeWorkers?.pids ?? [] })}\n`);
process.once('SIGTERM', () => { void cluster.stop(); });
