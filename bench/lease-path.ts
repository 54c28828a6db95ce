/**
 * The idle path alone: N kubelet identities renew their Leases (one update each per round, as the
 * kubelet's lease controller sends it) against the embedded etcd and kube-apiserver in this process,
 * with one watcher of all Leases (the node lifecycle controller's informer). Prints CPU per renewal.
 *
 *   npx tsx bench/lease-path.ts [NODES=50] [ROUNDS=40]
 *
 * With `node --cpu-prof` it gives the renewal path's profile without a cluster's other work.
 */
import { KubeClient, resourcePath } from '../components/client/kube-client.js';
import type { KubeObject } from '../components/api/types.js';
import { issuePki } from '../pki/store.js';
import { kubeletClientName } from '../pki/spec.js';
import { clusterTls } from '../sim/wiring.js';
import { nodeLease } from '../components/kubelet/node-status.js';
import { rfc3339Micro } from '../components/kubelet/pod-runtime.js';
import { startApiserver } from './control-plane.js';

const nodes = Number(process.argv[2] ?? 50);
const rounds = Number(process.argv[3] ?? 40);
const names = Array.from({ length: nodes }, (_, i) => `node-${i + 1}`);
const pki = await issuePki({ nodes: names, keyAlgorithm: 'ecdsa-p256' });
const server = await startApiserver(pki);
const wiring = clusterTls(pki, { kubeletCertificateAuthority: true });
const admin = new KubeClient({ name: 'kube-controller-manager', server: server.url, ...wiring.client('admin.conf') });
type Lease = KubeObject & { spec: Record<string, unknown> };
const leasesPath = resourcePath({ group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease' });
let seen = 0;
const kubelets = names.map((n) => new KubeClient({ name: 'kubelet', server: server.url, ...wiring.client(kubeletClientName(n)) }));
const leases: Lease[] = [];
for (let i = 0; i < nodes; i++) {
  leases.push(await kubelets[i]!.create<Lease>(leasesPath, nodeLease(names[i]!, 40, new Date()) as Lease));
}
const list = await admin.list<Lease>('/apis/coordination.k8s.io/v1/leases');
const watch = admin.watch<Lease>('/apis/coordination.k8s.io/v1/leases', { resourceVersion: list.metadata.resourceVersion! }, () => { seen++; });
const renew = async (i: number): Promise<void> => {
  const l = leases[i]!;
  leases[i] = await kubelets[i]!.update<Lease>(`${leasesPath}/${names[i]}`, { ...l, spec: { ...l.spec, renewTime: rfc3339Micro(new Date()) } });
};
// One renewal at a time (an idle cluster's renewals are spread over the 10 s); LEASE_BURST=1: all at once.
const round = async (): Promise<void> => {
  if (process.env.LEASE_BURST) { await Promise.all(names.map((_, i) => renew(i))); return; }
  for (let i = 0; i < nodes; i++) await renew(i);
};
for (let r = 0; r < 5; r++) await round();
const want = seen + nodes * rounds;
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
for (let r = 0; r < rounds; r++) await round();
while (seen < want) await new Promise((r) => setImmediate(r));
const cpu = process.cpuUsage(c0);
const wall = Number(process.hrtime.bigint() - t0) / 1e6;
const perUpdate = (cpu.user + cpu.system) / 1000 / (nodes * rounds);
console.log(`${nodes * rounds} lease renewals: ${perUpdate.toFixed(3)} ms CPU each (client, apiserver, etcd and one watcher in this process), wall ${wall.toFixed(0)} ms; at 100/s (1,000 nodes) ${(perUpdate * 10).toFixed(1)}% of a core`);
console.log(`managedFields of the last: ${JSON.stringify((leases[0]!.metadata as Record<string, unknown>).managedFields)}`);
watch.stop();
admin.close();
for (const k of kubelets) k.close();
await server.stop();
