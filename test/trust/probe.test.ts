import { expect } from 'chai';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Trace } from '../../components/client/trace.js';
import { initPki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { miswire, type Miswiring } from '../../sim/miswire.js';
import { main, probeCommand, renderJson, renderText } from '../../cli/probe.js';
import { parseXml, type XmlElement } from '../helpers/xml.js';

interface JsonCell {
  client: string; server: string; decision: string; layer: string; refusedBy?: string; status?: number; reason: string; via?: string; ok: boolean;
  code?: string; diagnosis?: { code: string; reason: string; against: string }; expected?: { decision: string; refusedBy?: string; status?: number; why: string };
}
interface JsonRun { differences: number; cells: JsonCell[]; clients: { name: string; whoami?: { user: string; groups: string[] } }[]; expiry: { certificates: { name: string; flag?: string }[] } }

/** A cluster on a PKI written to a directory (mis-wired on request), probed through the CLI. */
async function probeOf(miswiring?: Miswiring, extra: string[] = []): Promise<{ code: number; json: JsonRun; text: string; dir: string; junit: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'probe-'));
  let { pki } = await initPki(dir, { nodes: ['node-1', 'node-2'] });
  let options = {};
  if (miswiring) ({ pki, options } = await miswire(dir, pki, miswiring));
  const cluster = await new Cluster({ pki, trace: new Trace(), logger: silentLogger(), ports: 'ephemeral', ...options }).start();
  try {
    const ep = cluster.endpoints;
    const args = ['--pki-dir', dir, '--apiserver', ep.apiserver, '--etcd', ep.etcd, '--kubelet', Object.entries(ep.kubelets).map(([n, u]) => `${n}=${u}`).join(','), ...extra];
    const junit = path.join(dir, 'junit.xml');
    const r = await probeCommand([...args, '--junit', junit]);
    if ('help' in r) throw new Error('help');
    // One probe, both renderings: the text a user reads and the JSON a script reads.
    return { code: r.code, json: JSON.parse(renderJson(r.run)) as JsonRun, text: renderText(r.run), dir, junit: await readFile(junit, 'utf8') };
  } finally {
    await cluster.stop();
  }
}

const cell = (j: JsonRun, client: string, server: string, hop = false): JsonCell => {
  const c = j.cells.find((x) => x.client === client && x.server === server && (x.via !== undefined) === hop);
  if (!c) throw new Error(`no cell ${client} → ${server}`);
  return c;
};

/** Every private key's body under dir (PEM files and kubeconfigs' client-key-data). */
async function secretsIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) { await walk(f); continue; }
      const t = await readFile(f, 'utf8');
      for (const m of t.matchAll(/client-key-data: (\S+)/g)) out.push(m[1]!.slice(0, 40), Buffer.from(m[1]!, 'base64').toString().split('\n')[1]!);
      if (/PRIVATE KEY-----/.test(t)) out.push(...t.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l)).slice(0, 2));
    }
  };
  await walk(dir);
  return out;
}

/** The JUnit shape Jenkins' junit plugin (Ant's JUnit schema) and GitLab's test reports read. */
function checkJunit(root: XmlElement): XmlElement[] {
  expect(root.name).to.equal('testsuites');
  const cases: XmlElement[] = [];
  for (const suite of root.children) {
    expect(suite.name).to.equal('testsuite');
    for (const a of ['name', 'tests', 'failures', 'errors', 'skipped', 'time', 'timestamp', 'hostname']) expect(suite.attributes, a).to.have.property(a);
    expect(suite.attributes.timestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/); // ISO 8601 without a zone, as the schema's xs:dateTime pattern
    expect(Number(suite.attributes.tests)).to.equal(suite.children.length);
    const failed = suite.children.filter((c) => c.children.some((x) => x.name === 'failure')).length;
    expect(Number(suite.attributes.failures)).to.equal(failed);
    expect(Number(suite.attributes.skipped)).to.equal(suite.children.filter((c) => c.children.some((x) => x.name === 'skipped')).length);
    for (const tc of suite.children) {
      expect(tc.name).to.equal('testcase');
      expect(tc.attributes.name).to.be.a('string').and.not.equal('');
      expect(tc.attributes.classname).to.be.a('string').and.not.equal('');
      expect(Number.isFinite(Number(tc.attributes.time))).to.equal(true);
      for (const f of tc.children) {
        expect(['failure', 'skipped', 'error', 'system-out', 'system-err']).to.include(f.name);
        if (f.name === 'failure') { expect(f.attributes.message).to.be.a('string'); expect(f.attributes.type).to.be.a('string'); }
      }
      cases.push(tc);
    }
  }
  expect(Number(root.attributes.tests)).to.equal(cases.length);
  expect(Number(root.attributes.failures)).to.equal(cases.filter((c) => c.children.some((x) => x.name === 'failure')).length);
  return cases;
}

describe('npm run probe: the trust matrix of a running cluster from the outside', function () {
  this.timeout(180_000);
  const dirs: string[] = [];
  after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

  it('on kubeadm\'s wiring: every cell equals the golden copy, exit 0, valid JUnit, no private key printed', async function () {
    const r = await probeOf();
    dirs.push(r.dir);
    expect(r.code, r.text).to.equal(0);
    expect(r.json.differences).to.equal(0);
    expect(r.text).to.match(/All \d+ compared cells equal the expected wiring/);
    // 18 identities (16 in the directory, no certificate, foreign CA) × 4 servers, and the apiserver's hop to each kubelet.
    expect(r.json.cells.filter((c) => !c.via)).to.have.length(18 * 4);
    expect(r.json.cells.filter((c) => c.via)).to.have.length(2);
    const etcd = cell(r.json, 'admin.conf', 'etcd');
    expect(etcd).to.include({ decision: 'handshake refused', refusedBy: 'server', layer: 'tls' });
    expect(etcd.diagnosis).to.deep.equal({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', reason: 'x509: certificate signed by unknown authority', against: 'pki/etcd/ca.crt' });
    expect(cell(r.json, 'foreign CA', 'kube-apiserver')).to.include({ decision: 'unauthenticated', status: 401 });
    expect(cell(r.json, 'super-admin.conf', 'kube-apiserver')).to.include({ decision: 'allowed', status: 200, user: 'kubernetes-super-admin' });
    expect(r.json.clients.find((c) => c.name === 'admin.conf')?.whoami).to.deep.equal({ user: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] });
    // Time: every certificate, with kubelet.conf's embedded certificate flagged (kubeadm#2185).
    expect(r.text).to.match(/CERTIFICATE\s+EXPIRES\s+RESIDUAL TIME\s+CERTIFICATE AUTHORITY\s+EXTERNALLY MANAGED\s+NEXT ROTATION/);
    expect(r.json.expiry.certificates.find((c) => c.name === 'nodes/node-1/kubelet.conf')?.flag).to.match(/kubeadm certs renew.*skips \(kubeadm#2185\)/);
    expect(r.json.expiry.certificates.find((c) => c.name === 'apiserver')?.flag).to.equal(undefined);
    const cases = checkJunit(parseXml(r.junit));
    expect(cases).to.have.length(74);
    expect(cases.every((c) => c.children.length === 0)).to.equal(true);
    const secrets = await secretsIn(r.dir);
    expect(secrets.length).to.be.greaterThan(10);
    for (const out of [r.text, JSON.stringify(r.json), r.junit]) {
      expect(out).to.not.include('PRIVATE KEY');
      for (const s of secrets) expect(out.includes(s), 'a private key\'s text was printed').to.equal(false);
    }
  });

  it('a saved golden copy: --save-golden, then --golden compares cell for cell', async function () {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'probe-golden-'));
    dirs.push(dir);
    const golden = path.join(dir, 'mine.json');
    const { pki } = await initPki(dir, { nodes: ['node-1', 'node-2'] });
    const cluster = await new Cluster({ pki, trace: new Trace(), logger: silentLogger(), ports: 'ephemeral' }).start();
    try {
      const ep = cluster.endpoints;
      const args = ['--pki-dir', dir, '--apiserver', ep.apiserver, '--etcd', ep.etcd, '--kubelet', Object.entries(ep.kubelets).map(([n, u]) => `${n}=${u}`).join(','), '--no-expiry'];
      expect(await main([...args, '--save-golden', golden], () => undefined)).to.equal(0);
      expect((await stat(golden)).size).to.be.greaterThan(1000);
      const out: string[] = [];
      expect(await main([...args, '--golden', golden], (s) => out.push(s))).to.equal(0);
      expect(out.join('\n')).to.include(`equal the expected wiring (${golden})`);
      // Without the kubelets, the saved copy's kubelet cells are missing: a difference.
      const missing: string[] = [];
      expect(await main(['--pki-dir', dir, '--apiserver', ep.apiserver, '--etcd', ep.etcd, '--no-expiry', '--golden', golden], (s) => missing.push(s))).to.equal(1);
      expect(missing.join('\n')).to.include('admin.conf → kubelet (node-1): expected allowed 200, but the probe made no such cell');
    } finally {
      await cluster.stop();
    }
  });

  it('catches etcd trusting the Kubernetes CA: a kubelet\'s certificate reaches etcd', async function () {
    const r = await probeOf('etcd-trusts-kubernetes-ca');
    dirs.push(r.dir);
    expect(r.code).to.equal(1);
    const c = cell(r.json, 'nodes/node-1/kubelet.conf', 'etcd');
    expect(c).to.include({ decision: 'allowed', status: 200, user: 'system:node:node-1', ok: false });
    expect(c.expected).to.include({ decision: 'handshake refused', refusedBy: 'server' });
    expect(r.text).to.include('✘ nodes/node-1/kubelet.conf → etcd: expected handshake refused by the server, got allowed 200');
    // Every Kubernetes-CA client certificate now reaches etcd; the etcd CA's and the foreign one are unchanged.
    expect(r.json.cells.filter((x) => x.server === 'etcd' && !x.ok).map((x) => x.client)).to.include.members(['admin.conf', 'kube-proxy.conf', 'nodes/node-2/kubelet.conf', 'apiserver-kubelet-client']);
    expect(cell(r.json, 'foreign CA', 'etcd').ok).to.equal(true);
    const failure = checkJunit(parseXml(r.junit)).find((t) => t.attributes.name === 'nodes/node-1/kubelet.conf → etcd')!.children[0]!;
    expect(failure.name).to.equal('failure');
    expect(failure.attributes.message).to.equal('expected handshake refused by the server, got allowed 200');
  });

  it('catches an apiserver without --kubelet-certificate-authority: it reaches a kubelet whose certificate does not verify', async function () {
    const r = await probeOf('no-kubelet-certificate-authority');
    dirs.push(r.dir);
    expect(r.code).to.equal(1);
    const direct = cell(r.json, 'admin.conf', 'kubelet (node-1)');
    expect(direct).to.include({ decision: 'handshake refused', refusedBy: 'client', code: 'SELF_SIGNED_CERT_IN_CHAIN', reason: 'x509: certificate signed by unknown authority' });
    const hop = cell(r.json, 'kube-apiserver (apiserver-kubelet-client)', 'kubelet (node-1)', true);
    expect(hop).to.include({ decision: 'allowed', status: 200, ok: false });
    expect(hop.expected?.why).to.include('--kubelet-certificate-authority refuses it');
    expect(cell(r.json, 'kube-apiserver (apiserver-kubelet-client)', 'kubelet (node-2)', true).ok).to.equal(true);
    expect(r.text).to.match(/✘ kube-apiserver \(apiserver-kubelet-client\) → kubelet \(node-1\) \(GET \/api\/v1\/nodes\/node-1\/proxy\/pods as admin.conf\): expected handshake refused by the client, got allowed 200/);
  });

  it('catches a kube-proxy certificate with O=system:masters', async function () {
    const r = await probeOf('kube-proxy-masters');
    dirs.push(r.dir);
    expect(r.code).to.equal(1);
    const c = cell(r.json, 'kube-proxy.conf', 'kube-apiserver');
    expect(c).to.include({ decision: 'allowed', status: 200, user: 'system:kube-proxy', ok: false });
    expect(c.expected).to.include({ decision: 'forbidden', status: 403 });
    expect(r.json.clients.find((x) => x.name === 'kube-proxy.conf')?.whoami?.groups).to.include('system:masters');
    // Its kubelet cells change too (system:masters passes the kubelet's SubjectAccessReview).
    expect(cell(r.json, 'kube-proxy.conf', 'kubelet (node-1)')).to.include({ decision: 'allowed', ok: false });
    expect(r.json.cells.filter((x) => !x.ok).every((x) => x.client === 'kube-proxy.conf')).to.equal(true);
  });

  it('catches a kubelet serving certificate without IP SANs', async function () {
    const r = await probeOf('kubelet-serving-no-ip-sans');
    dirs.push(r.dir);
    expect(r.code).to.equal(1);
    const c = cell(r.json, 'admin.conf', 'kubelet (node-1)');
    expect(c).to.include({ decision: 'handshake refused', refusedBy: 'client', layer: 'tls', ok: false });
    expect(c.reason).to.match(/^x509: cannot validate certificate for 127\.0\.2\.1 because it doesn't contain any IP SANs$/);
    // The apiserver (with --kubelet-certificate-authority) refuses it too: its hop agrees with the probe.
    const hop = cell(r.json, 'kube-apiserver (apiserver-kubelet-client)', 'kubelet (node-1)', true);
    expect(hop).to.include({ decision: 'handshake refused', ok: true });
    expect(hop.reason).to.include("doesn't contain any IP SANs");
    expect(r.json.cells.filter((x) => !x.ok).every((x) => x.server === 'kubelet (node-1)')).to.equal(true);
  });

  it('refuses bad input in one line', async function () {
    const fail = async (args: string[]): Promise<string> => main(args, () => undefined).then(() => 'no error', (e: Error) => e.message);
    expect(await fail(['--apiserver', 'https://127.0.0.1:1'])).to.match(/^--pki-dir DIR is required/);
    expect(await fail(['--pki-dir', '/nonexistent', '--apiserver', 'http://x'])).to.equal('--apiserver "http://x": not an https:// URL');
    expect(await fail(['--pki-dir', '/nonexistent', '--apiserver', 'https://127.0.0.1:1', '--kubelet', 'node-1'])).to.equal('--kubelet "node-1": expected NODE=https://ip:port');
    expect(await fail(['--pki-dir', '/nonexistent', '--apiserver', 'https://127.0.0.1:1'])).to.equal('/nonexistent: no such directory');
  });
});
