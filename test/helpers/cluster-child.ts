/**
 * `npm run cluster` without the command line, for restart tests: the Cluster over the PKI in DIR (made
 * when missing) with no nodes, on free ports, keeping etcd's state in DIR/etcd (or nothing, with
 * --ephemeral), printing one JSON line `{"apiserver": url, "revision": n}` once up, and stopping on SIGTERM.
 *
 *   node --import tsx test/helpers/cluster-child.ts DIR [--ephemeral]
 */
import { Etcd } from '../../components/etcd/index.js';
import { initPki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { Trace } from '../../components/client/trace.js';

const [dir, flag] = process.argv.slice(2);
if (!dir) throw new Error('usage: cluster-child.ts DIR [--ephemeral]');
const { pki } = await initPki(dir, { nodes: [] });
const cluster = new Cluster({ pki, trace: new Trace(), logger: silentLogger(), ports: 'ephemeral', nodes: [], ...(flag === '--ephemeral' ? {} : { stateDir: dir }) });
await cluster.start();
const revision = cluster.etcd instanceof Etcd ? cluster.etcd.recovery?.revision ?? 0 : 0;
process.stdout.write(`${JSON.stringify({ apiserver: cluster.apiserverUrl, revision })}\n`);
process.once('SIGTERM', () => { void cluster.stop().then(() => { process.exitCode = 0; }); });
