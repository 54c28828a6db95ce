import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pkiFromDirectory } from '../../pki/import.js';
import { PkiError } from '../../pki/errors.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { Trace } from '../../components/client/trace.js';
import { buildMatrix } from '../../scenarios/matrix.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('pkiFromDirectory (a user\'s own certificate set, read by role)', function () {
  this.timeout(120_000);
  let dir = '';
  before(async function () {
    // A user's own set, made with the openssl CLI by the project's fixture script.
    const script = path.resolve(ROOT, 'test/fixtures/openssl-pki.sh');
    dir = await mkdtemp(path.join(os.tmpdir(), 'openssl-pki-'));
    const r = spawnSync('bash', [script, dir, 'ec']);
    if (r.status !== 0) throw new Error(`openssl-pki.sh failed: ${r.stderr.toString()}`);
  });
  after(async function () { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('places the flat openssl-made set by role, with its keys, and reads the plan off the certificates', async function () {
    const before = (await readdir(dir)).sort();
    const pki = await pkiFromDirectory(dir);
    expect([...pki.signers.keys()]).to.have.members(['ca', 'etcd/ca', 'front-proxy-ca']);
    expect([...pki.leaves.keys()]).to.include.members(['apiserver', 'apiserver-etcd-client', 'etcd/server', 'etcd/peer', 'admin.conf', 'super-admin.conf',
      'scheduler.conf', 'controller-manager.conf', 'kube-proxy.conf', 'nodes/node-1/kubelet.conf', 'nodes/node-1/kubelet']);
    expect(pki.plan.nodes.map((n) => n.name)).to.deep.equal(['node-1']);
    expect(pki.plan.advertiseAddress).to.equal('127.0.0.1');
    expect(pki.plan.keyAlgorithm).to.equal('ecdsa-p256');
    expect(pki.leaves.get('nodes/node-1/kubelet')!.cert.subject).to.include('CN=system:node:node-1');
    expect((await readdir(dir)).sort(), 'nothing written').to.deep.equal(before);
  });

  it('runs the matrix on it over real connections: the same wiring as kubeadm\'s', async function () {
    const pki = await pkiFromDirectory(dir);
    const trace = new Trace();
    const cluster = await new Cluster({ pki, trace, logger: silentLogger(), ports: 'ephemeral' }).start();
    try {
      const m = await buildMatrix(pki, cluster, trace);
      const cell = (client: string, server: string): string => { const c = m.cells.find((x) => x.client === client && x.server === server); return `${c?.decision} ${c?.code ?? c?.status ?? ''}`; };
      expect(m.servers).to.deep.equal(['etcd', 'kube-apiserver', 'kubelet (node-1)', 'kube-controller-manager', 'kube-scheduler', 'metrics-server']);
      expect(cell('admin.conf', 'kube-scheduler')).to.equal('allowed 200');
      expect(cell('kube-proxy.conf', 'kube-controller-manager')).to.equal('forbidden 403');
      expect(cell('apiserver-etcd-client', 'etcd')).to.equal('allowed 200');
      expect(cell('admin.conf', 'etcd')).to.equal('handshake refused UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      expect(cell('admin.conf', 'kube-apiserver')).to.equal('allowed 200');
      expect(cell('kube-proxy.conf', 'kube-apiserver')).to.equal('forbidden 403');
      expect(cell('nodes/node-1/kubelet', 'kube-apiserver')).to.equal('unauthenticated INVALID_PURPOSE');
      expect(cell('apiserver-kubelet-client', 'kubelet (node-1)')).to.equal('allowed 200');
    } finally {
      await cluster.stop();
    }
  });

  it('names the fault in one line: no CA, or a CA without its key', async function () {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'empty-pki-'));
    try {
      const err = await pkiFromDirectory(empty).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(PkiError);
      expect((err as PkiError).message).to.equal(`${empty}: no Kubernetes CA found (expected ${empty}/pki/ca.crt or ${empty}/ca.crt)`);
      await writeFile(path.join(empty, 'ca.crt'), await readFile(path.join(dir, 'ca.crt'), 'utf8'));
      const noKey = await pkiFromDirectory(empty).then(() => undefined, (e: unknown) => e);
      expect((noKey as PkiError).message).to.match(/^ca\.key: missing while ca\.crt is present/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
