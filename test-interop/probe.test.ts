/**
 * `npm run probe` against a real etcd 3.4: the etcd cells are decided by the real etcd's handshake
 * (its alert or reset seen from the client, and its HTTP answer). One member spawned by the cluster,
 * the same mis-wired (etcd trusting the Kubernetes CA), and three members with peer TLS.
 */
import { expect } from 'chai';
import { mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Trace } from '../components/client/trace.js';
import { EtcdProcess, freePort } from '../components/etcd/process.js';
import { issueEtcdMemberCerts } from '../pki/etcd-member.js';
import { initPki } from '../pki/store.js';
import { Cluster, identityOf } from '../sim/cluster.js';
import { silentLogger } from '../sim/logger.js';
import { miswire } from '../sim/miswire.js';
import { probeCommand, renderJson } from '../cli/probe.js';
import { need, tools } from './helpers.js';

interface Cell { client: string; server: string; decision: string; refusedBy?: string; code?: string; ok: boolean; status?: number }

async function probeJson(args: string[]): Promise<{ code: number; cells: Cell[] }> {
  const r = await probeCommand([...args, '--no-expiry']);
  if ('help' in r) throw new Error('help');
  return { code: r.code, cells: (JSON.parse(renderJson(r.run)) as { cells: Cell[] }).cells };
}

const kubeletArgs = (kubelets: Record<string, string>): string => Object.entries(kubelets).map(([n, u]) => `${n}=${u}`).join(',');

describe('npm run probe on a real etcd 3.4', function () {
  this.timeout(300_000);
  const dirs: string[] = [];
  after(async () => { for (const d of dirs) await fs.rm(d, { recursive: true, force: true }); });

  it('equals kubeadm\'s wiring; every refusal is the real etcd\'s handshake', async function () {
    need(this, tools.etcd);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'probe-etcd-'));
    dirs.push(dir);
    const { pki } = await initPki(dir, { nodes: ['node-1', 'node-2'] });
    const cluster = await new Cluster({ pki, trace: new Trace(), logger: silentLogger(), ports: 'ephemeral', etcd: { kind: 'process' } }).start();
    try {
      const ep = cluster.endpoints;
      const r = await probeJson(['--pki-dir', dir, '--apiserver', ep.apiserver, '--etcd', ep.etcd, '--kubelet', kubeletArgs(ep.kubelets)]);
      expect(r.cells.filter((c) => !c.ok), JSON.stringify(r.cells.filter((c) => !c.ok))).to.deep.equal([]);
      expect(r.code).to.equal(0);
      const refused = r.cells.filter((c) => c.server === 'etcd' && c.decision === 'handshake refused');
      expect(refused.length).to.be.greaterThan(10);
      // Go's TLS server answers a certificate it does not trust with alert bad_certificate (or the client sees the reset).
      for (const c of refused) expect(c.refusedBy).to.equal('server');
      expect(refused.some((c) => c.code === 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' || c.code === 'ECONNRESET'), JSON.stringify(refused.map((c) => c.code))).to.equal(true);
      expect(r.cells.find((c) => c.client === 'apiserver-etcd-client' && c.server === 'etcd')).to.include({ decision: 'allowed', status: 200 });
    } finally {
      await cluster.stop();
    }
  });

  it('catches a real etcd that trusts the Kubernetes CA: a kubelet\'s certificate reads /registry/', async function () {
    need(this, tools.etcd);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'probe-etcd-bad-'));
    dirs.push(dir);
    const init = await initPki(dir, { nodes: ['node-1'] });
    const { pki, options } = await miswire(dir, init.pki, 'etcd-trusts-kubernetes-ca');
    const cluster = await new Cluster({ pki, trace: new Trace(), logger: silentLogger(), ports: 'ephemeral', etcd: { kind: 'process' }, ...options }).start();
    try {
      const ep = cluster.endpoints;
      const r = await probeJson(['--pki-dir', dir, '--apiserver', ep.apiserver, '--etcd', ep.etcd]);
      expect(r.code).to.equal(1);
      expect(r.cells.find((c) => c.client === 'nodes/node-1/kubelet.conf' && c.server === 'etcd')).to.include({ decision: 'allowed', status: 200, ok: false });
      expect(r.cells.find((c) => c.client === 'foreign CA' && c.server === 'etcd')).to.include({ decision: 'handshake refused', ok: true });
    } finally {
      await cluster.stop();
    }
  });

  it('three members with peer TLS: each member\'s cells equal kubeadm\'s etcd cells', async function () {
    need(this, tools.etcd);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'probe-etcd3-'));
    dirs.push(dir);
    const { pki } = await initPki(dir, { nodes: ['node-1'] });
    const members = [1, 2, 3].map((i) => ({ name: `etcd-${i}`, ip: `127.0.3.${i}` }));
    const ports = await Promise.all(members.map(async (m) => ({ client: await freePort(m.ip), peer: await freePort(m.ip) })));
    const initialCluster = members.map((m, i) => ({ name: m.name, peerUrl: `https://${m.ip}:${ports[i]!.peer}` }));
    const certs = await Promise.all(members.map((m) => issueEtcdMemberCerts(pki, m)));
    const procs = members.map((m, i) => new EtcdProcess({
      name: m.name, host: m.ip, clientPort: ports[i]!.client, peerPort: ports[i]!.peer, identity: certs[i]!.server, peerIdentity: certs[i]!.peer,
      healthcheckIdentity: identityOf(pki, 'etcd/healthcheck-client'), trustedCa: pki.signers.get('etcd/ca')!.cert.toString(),
      initialCluster, clusterToken: 'probe-3', dataDir: path.join(dir, 'data', m.name), logger: silentLogger(),
    }));
    let cluster: Cluster | undefined;
    try {
      await Promise.all(procs.map((p) => p.start()));
      cluster = await new Cluster({ pki, trace: new Trace(), logger: silentLogger(), ports: 'ephemeral', etcd: { kind: 'external', endpoints: procs.map((p) => p.clientUrl) } }).start();
      const r = await probeJson(['--pki-dir', dir, '--apiserver', cluster.endpoints.apiserver, '--etcd', procs.map((p) => p.clientUrl).join(','), '--kubelet', kubeletArgs(cluster.endpoints.kubelets)]);
      expect(r.cells.filter((c) => !c.ok), JSON.stringify(r.cells.filter((c) => !c.ok))).to.deep.equal([]);
      expect(r.code).to.equal(0);
      for (const p of procs) {
        const server = `etcd (${new URL(p.clientUrl).host})`;
        expect(r.cells.filter((c) => c.server === server)).to.have.length(r.cells.filter((c) => c.server === 'kube-apiserver').length);
        expect(r.cells.find((c) => c.client === 'etcd/healthcheck-client' && c.server === server)).to.include({ decision: 'allowed', status: 200 });
      }
    } finally {
      await cluster?.stop();
      await Promise.all(procs.map((p) => p.stop()));
    }
  });
});
