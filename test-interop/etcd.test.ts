/**
 * Real etcd 3.4 (Debian's etcd-server): EtcdProcess's failure modes, `npm run cluster -- --etcd real`
 * read back with the real etcdctl, the tour (and the trust matrix, when it exists) on the real etcd,
 * `--etcd-endpoints`, and a three-member cluster with per-member peer certificates that loses and
 * regains a member without losing an object.
 */
import { expect } from 'chai';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EtcdProcess, EtcdProcessError, freePort } from '../components/etcd/process.js';
import { EtcdClient } from '../components/client/etcd-client.js';
import { KubeApiserver } from '../components/kube-apiserver/index.js';
import { KubeClient } from '../components/client/kube-client.js';
import { issueEtcdMemberCerts } from '../pki/etcd-member.js';
import { caPem, issuePki, type Pki } from '../pki/store.js';
import { Cluster, identityOf } from '../sim/cluster.js';
import { silentLogger } from '../sim/logger.js';
import { Trace } from '../components/client/trace.js';
import { TraceRecorder } from '../sim/trace.js';
import { need, ROOT, run, startSimCluster, tools, waitFor, type SimCluster } from './helpers.js';

describe('real etcd 3.4', function () {
  this.timeout(180_000);
  let pki: Pki;

  before(async () => {
    pki = await issuePki({ nodes: ['node-1'] });
  });

  const processOptions = (overrides: Partial<ConstructorParameters<typeof EtcdProcess>[0]> = {}): ConstructorParameters<typeof EtcdProcess>[0] => ({
    host: '127.0.1.1', clientPort: 0, peerPort: 0, identity: identityOf(pki, 'etcd/server'), peerIdentity: identityOf(pki, 'etcd/peer'),
    trustedCa: caPem(pki, 'etcd/ca'), healthcheckIdentity: identityOf(pki, 'etcd/healthcheck-client'), logger: silentLogger(), ...overrides,
  });

  describe('EtcdProcess', () => {
    it('names a missing binary in one error', async () => {
      const e = new EtcdProcess(processOptions({ binary: '/nonexistent/etcd' }));
      const err = await e.start().then(() => undefined, (x: unknown) => x);
      expect(err).to.be.instanceOf(EtcdProcessError);
      expect((err as EtcdProcessError).code).to.equal('BINARY_MISSING');
      expect((err as Error).message).to.contain('/nonexistent/etcd');
      await e.stop();
    });

    it('refuses a busy client port with EADDRINUSE before spawning', async function () {
      need(this, tools.etcd);
      const squatter = createServer();
      await new Promise<void>((resolve) => squatter.listen(0, '127.0.1.1', resolve));
      const port = (squatter.address() as AddressInfo).port;
      const e = new EtcdProcess(processOptions({ clientPort: port }));
      try {
        const err = await e.start().then(() => undefined, (x: unknown) => x);
        expect((err as EtcdProcessError).code).to.equal('EADDRINUSE');
        expect((err as Error).message).to.contain(`127.0.1.1:${port} is already in use`);
        expect(e.pid).to.equal(undefined);
      } finally {
        await e.stop();
        await new Promise((resolve) => squatter.close(resolve));
      }
    });

    it('serves the v3 gateway over mTLS and refuses a Kubernetes-CA certificate in the handshake, with etcd\'s reason in the trace', async function () {
      need(this, tools.etcd);
      const trace = new Trace();
      const recorder = new TraceRecorder(trace);
      const e = new EtcdProcess(processOptions({ trace }));
      await e.start();
      const good = new EtcdClient({ endpoints: [e.clientUrl], identity: identityOf(pki, 'apiserver-etcd-client'), ca: caPem(pki, 'etcd/ca') });
      const bad = new EtcdClient({ endpoints: [e.clientUrl], identity: identityOf(pki, 'nodes/node-1/kubelet.conf'), ca: caPem(pki, 'etcd/ca'), timeoutMs: 3000 });
      try {
        expect((await good.version()).etcdserver).to.match(/^3\.4\./);
        expect(await good.create('/registry/x', 'v')).to.be.a('number');
        const err = await bad.get('/registry/x').then(() => undefined, (x: unknown) => x);
        expect((err as { code?: string }).code).to.equal('UNAVAILABLE');
        const refused = await waitFor('etcd to log the refusal', () => recorder.events.find((ev) => ev.type === 'tls-server' && ev.handshake === 'refused'));
        expect(refused).to.include({ server: 'etcd', reason: 'x509: certificate signed by unknown authority', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', cause: 'unknown-authority' });
        expect(e.logTail.some((l) => l.includes('rejected connection') && l.includes('certificate signed by unknown authority'))).to.equal(true);
      } finally {
        good.close();
        bad.close();
        await e.stop();
        recorder.stop();
      }
      expect(e.pid).to.equal(undefined);
    });
  });

  describe('npm run cluster -- --etcd real', () => {
    let cluster: SimCluster | undefined;
    before(async function () {
      need(this, tools.etcd, tools.etcdctl);
      cluster = await startSimCluster(['--etcd', 'real']);
    });
    after(async () => {
      await cluster?.stop();
    });

    it('says it runs the etcd binary, and etcdctl with etcd/healthcheck-client reads what the apiserver wrote under /registry/', async () => {
      expect(cluster!.output()).to.contain('(the etcd binary)');
      const d = path.join(cluster!.info.pkiDir, 'pki', 'etcd');
      const env = { ...process.env, ETCDCTL_API: '3' };
      const base = ['--endpoints', cluster!.info.etcd, '--cacert', path.join(d, 'ca.crt')];
      const health = await run(tools.etcdctl.path!, [...base, '--cert', path.join(d, 'healthcheck-client.crt'), '--key', path.join(d, 'healthcheck-client.key'), 'endpoint', 'health'], { env });
      expect(health.stdout + health.stderr).to.match(/is healthy: successfully committed proposal/);
      const keys = await waitFor('both nodes registered', async () => {
        const r = await run(tools.etcdctl.path!, [...base, '--cert', path.join(d, 'healthcheck-client.crt'), '--key', path.join(d, 'healthcheck-client.key'), 'get', '/registry/', '--prefix', '--keys-only'], { env });
        const ks = r.stdout.split('\n').filter(Boolean);
        return ks.includes('/registry/minions/node-1') && ks.includes('/registry/minions/node-2') ? ks : undefined;
      }, 30_000, 300);
      expect(keys).to.include.members(['/registry/namespaces/default', '/registry/clusterrolebindings/kubeadm:cluster-admins', '/registry/clusterroles/cluster-admin']);
      const ns = await run(tools.etcdctl.path!, [...base, '--cert', path.join(d, 'healthcheck-client.crt'), '--key', path.join(d, 'healthcheck-client.key'), 'get', '/registry/namespaces/default', '--print-value-only'], { env });
      expect(JSON.parse(ns.stdout) as { kind: string; metadata: { name: string } }).to.deep.include({ kind: 'Namespace' });
    });

    it('etcdctl with a Kubernetes-CA certificate is refused in the handshake: context deadline exceeded', async () => {
      const d = cluster!.info.pkiDir;
      const r = await run(tools.etcdctl.path!, ['--endpoints', cluster!.info.etcd, '--cacert', path.join(d, 'pki', 'etcd', 'ca.crt'),
        '--cert', path.join(d, 'pki', 'apiserver-kubelet-client.crt'), '--key', path.join(d, 'pki', 'apiserver-kubelet-client.key'),
        '--dial-timeout', '2s', '--command-timeout', '3s', 'get', '/registry/', '--prefix', '--keys-only'], { env: { ...process.env, ETCDCTL_API: '3' } });
      expect(r.code).to.not.equal(0);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.contain('context deadline exceeded');
    });
  });

  describe('scenarios on the real etcd', () => {
    before(function () {
      need(this, tools.etcd);
    });

    const scenario = (names: string[]) => run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/main.ts'), 'scenario', ...names, '--quiet', '--etcd', 'real', '--pki-dir', scenarioDir], { timeoutMs: 170_000 });
    let scenarioDir: string;
    before(() => { scenarioDir = mkdtempSync(path.join(os.tmpdir(), 'interop-scenario-')); });
    after(() => { rmSync(scenarioDir, { recursive: true, force: true }); });

    it('the tour passes unchanged', async () => {
      const r = await scenario(['tour']);
      expect(r.stdout, r.stderr).to.match(/PASS tour: (\d+)\/\1 expectations held/);
      expect(r.code).to.equal(0);
    });

    it('the trust matrix passes unchanged', async () => {
      const r = await scenario(['matrix']);
      expect(r.stdout, r.stderr).to.match(/PASS matrix: (\d+)\/\1 expectations held/);
      expect(r.code).to.equal(0);
    });
  });

  describe('--etcd-endpoints: an etcd the user runs', () => {
    it('the cluster uses it, and objects land in it', async function () {
      need(this, tools.etcd);
      const etcd = new EtcdProcess(processOptions());
      await etcd.start();
      const cluster = new Cluster({ pki, trace: new Trace(), logger: silentLogger(), ports: 'ephemeral', nodes: [], etcd: { kind: 'external', endpoints: [etcd.clientUrl] } });
      const reader = new EtcdClient({ endpoints: [etcd.clientUrl], identity: identityOf(pki, 'etcd/healthcheck-client'), ca: caPem(pki, 'etcd/ca') });
      try {
        await cluster.start();
        expect(cluster.endpoints.etcd).to.equal(etcd.clientUrl);
        expect(cluster.etcd).to.equal(undefined);
        await cluster.client('admin.conf').create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'external' } });
        const { kv } = await reader.get('/registry/namespaces/external');
        expect(JSON.parse(kv!.value) as { metadata: { name: string } }).to.have.nested.property('metadata.name', 'external');
      } finally {
        reader.close();
        await cluster.stop();
        await etcd.stop();
      }
    });
  });

  describe('a three-member etcd cluster with peer TLS', () => {
    const members = [1, 2, 3].map((i) => ({ name: `etcd-${i}`, ip: `127.0.3.${i}` }));
    let root: string;
    let procs: EtcdProcess[] = [];
    let apiserver: KubeApiserver | undefined;
    let admin: KubeClient | undefined;

    before(async function () {
      need(this, tools.etcd);
      root = mkdtempSync(path.join(os.tmpdir(), 'etcd3-'));
      const ports = await Promise.all(members.map(async (m) => ({ client: await freePort(m.ip), peer: await freePort(m.ip) })));
      const initialCluster = members.map((m, i) => ({ name: m.name, peerUrl: `https://${m.ip}:${ports[i]!.peer}` }));
      const certs = await Promise.all(members.map((m) => issueEtcdMemberCerts(pki, m)));
      procs = members.map((m, i) => new EtcdProcess(processOptions({
        name: m.name, host: m.ip, clientPort: ports[i]!.client, peerPort: ports[i]!.peer, identity: certs[i]!.server, peerIdentity: certs[i]!.peer,
        initialCluster, clusterToken: 'interop-3', dataDir: path.join(root, m.name),
      })));
      await Promise.all(procs.map((p) => p.start()));
      apiserver = new KubeApiserver({
        host: '127.0.1.1', port: 0, identity: identityOf(pki, 'apiserver'), clientCa: caPem(pki, 'ca'),
        etcd: { endpoints: procs.map((p) => p.clientUrl), identity: identityOf(pki, 'apiserver-etcd-client'), ca: caPem(pki, 'etcd/ca') },
        kubeletClient: { identity: identityOf(pki, 'apiserver-kubelet-client') }, serviceAccount: pki.serviceAccount,
        advertiseAddress: '127.0.1.1', logger: silentLogger(),
      });
      await apiserver.start();
      admin = new KubeClient({ name: 'kubectl', server: apiserver.url, identity: identityOf(pki, 'super-admin.conf'), serverCa: caPem(pki, 'ca') });
    });

    after(async () => {
      admin?.close();
      await apiserver?.stop();
      await Promise.all(procs.map((p) => p.stop()));
      if (root) await fs.rm(root, { recursive: true, force: true });
    });

    it('each member serves its own certificate (CN = member name, its IP in the SANs) and they form one cluster', async () => {
      for (const [i, p] of procs.entries()) {
        const c = new EtcdClient({ endpoints: [p.clientUrl], identity: identityOf(pki, 'etcd/healthcheck-client'), ca: caPem(pki, 'etcd/ca') });
        try {
          const members = await c.call('cluster/member/list', {}) as { members: Array<{ name: string; peerURLs: string[] }> };
          expect(members.members.map((m) => m.name).sort()).to.deep.equal(['etcd-1', 'etcd-2', 'etcd-3']);
        } finally {
          c.close();
        }
        const tlsSocket = await import('node:tls');
        const peer = await new Promise<{ cn: string; san: string }>((resolve, reject) => {
          const url = new URL(p.clientUrl);
          const s = tlsSocket.connect({ host: url.hostname, port: Number(url.port), ca: caPem(pki, 'etcd/ca'), ...identityOf(pki, 'etcd/healthcheck-client') }, () => {
            const cert = s.getPeerCertificate();
            resolve({ cn: String(cert.subject.CN), san: cert.subjectaltname ?? '' });
            s.end();
          });
          s.once('error', reject);
        });
        expect(peer.cn).to.equal(members[i]!.name);
        expect(peer.san).to.contain(`IP Address:${members[i]!.ip}`);
      }
    });

    it('one member stopped and restarted: no object lost, and the restarted member has every object', async () => {
      const cm = (n: number) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${n}`, namespace: 'default' }, data: { n: String(n) } });
      for (let n = 0; n < 20; n++) await admin!.create('/api/v1/namespaces/default/configmaps', cm(n));
      // Stop the member the apiserver talks to first: its requests and its watches move to the others.
      const victim = procs[0]!;
      await victim.stop();
      expect(victim.pid).to.equal(undefined);
      for (let n = 20; n < 30; n++) await admin!.create('/api/v1/namespaces/default/configmaps', cm(n));
      const during = await admin!.list<{ metadata: { name: string } }>('/api/v1/namespaces/default/configmaps');
      expect(during.items.filter((i) => i.metadata.name.startsWith('cm-'))).to.have.length(30);
      await victim.start();
      const direct = new EtcdClient({ endpoints: [victim.clientUrl], identity: identityOf(pki, 'etcd/healthcheck-client'), ca: caPem(pki, 'etcd/ca') });
      try {
        const { kvs } = await waitFor('the restarted member to catch up', async () => {
          const l = await direct.list('/registry/configmaps/default/cm-');
          return l.kvs.length === 30 ? l : undefined;
        }, 30_000, 200);
        expect(kvs.map((kv) => (JSON.parse(kv.value) as { data: { n: string } }).data.n).map(Number).sort((a, b) => a - b)).to.deep.equal([...Array(30).keys()]);
      } finally {
        direct.close();
      }
      await admin!.create('/api/v1/namespaces/default/configmaps', cm(30));
      const after = await admin!.list<{ metadata: { name: string } }>('/api/v1/namespaces/default/configmaps');
      expect(after.items.filter((i) => i.metadata.name.startsWith('cm-'))).to.have.length(31);
    });
  });
});



