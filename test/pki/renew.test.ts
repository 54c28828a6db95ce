import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PkiError } from '../../pki/errors.js';
import { main } from '../../cli/pki.js';
import { CA_VALIDITY_MS } from '../../pki/issue.js';
import { parseKubeconfig } from '../../pki/kubeconfig.js';
import { checkExpiration, renderExpiration, renewCertificates, shortHumanDuration, tabwrite } from '../../pki/renew.js';
import { initPki, loadPki } from '../../pki/store.js';
import { tempDir } from '../pki/helpers.js';

const DAY = 24 * 3600 * 1000;
const snapshot = async (dir: string, files: string[]): Promise<Record<string, string>> =>
  Object.fromEntries(await Promise.all(files.map(async (f) => [f, await fs.readFile(path.join(dir, f), 'utf8')] as const)));
const ALL_FILES = ['pki/ca.crt', 'pki/ca.key', 'pki/apiserver.crt', 'pki/apiserver.key', 'pki/etcd/server.crt', 'pki/etcd/ca.crt', 'admin.conf', 'scheduler.conf', 'nodes/node-1/kubelet.conf'];

async function failure(p: Promise<unknown>): Promise<PkiError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, 'expected a PkiError').to.be.instanceOf(PkiError);
  return err as PkiError;
}

describe('pki renew (kubeadm certs renew)', function () {
  this.timeout(60_000);
  const now = new Date();
  let yearOld: { dir: string; remove: () => void };
  before(async () => {
    yearOld = tempDir('renew-');
    await initPki(yearOld.dir, { nodes: ['node-1'], now: () => new Date(now.getTime() - 366 * DAY) });
  });
  after(() => yearOld.remove());

  it('renews every leaf of a year-old directory: valid a year from now, same subject/SANs/usages, new keys, CAs untouched', async () => {
    const t = tempDir('renew-all-');
    try {
      await fs.cp(yearOld.dir, t.dir, { recursive: true });
      const before = await loadPki(t.dir);
      const r = await renewCertificates(t.dir, ['all'], { now });
      expect(r.renewed.map((x) => x.name)).to.include.members(['apiserver', 'etcd-peer', 'admin.conf', 'super-admin.conf', 'kube-proxy.conf', 'nodes/node-1/kubelet.conf', 'nodes/node-1/kubelet']);
      const after = await loadPki(t.dir);
      for (const n of ['ca', 'etcd/ca', 'front-proxy-ca']) expect(after.signers.get(n)!.cert.fingerprint256, n).to.equal(before.signers.get(n)!.cert.fingerprint256);
      for (const [name, leaf] of after.leaves) {
        const old = before.leaves.get(name)!;
        expect(leaf.cert.subject, name).to.equal(old.cert.subject);
        expect(leaf.cert.subjectAltName, name).to.equal(old.cert.subjectAltName);
        expect(leaf.cert.keyUsage, name).to.deep.equal(old.cert.keyUsage);
        expect(leaf.cert.serialNumber, name).to.not.equal(old.cert.serialNumber);
        expect(leaf.cert.publicKey.export({ type: 'spki', format: 'der' }).equals(old.cert.publicKey.export({ type: 'spki', format: 'der' })), `${name} has a new key`).to.equal(false);
        expect(new Date(leaf.cert.validTo).getTime() - now.getTime(), name).to.be.closeTo(365 * DAY, DAY);
      }
      expect((await fs.stat(path.join(t.dir, 'pki/apiserver.key'))).mode & 0o777).to.equal(0o600);
      expect((await fs.stat(path.join(t.dir, 'admin.conf'))).mode & 0o777).to.equal(0o600);
      const kcBefore = parseKubeconfig(await fs.readFile(path.join(yearOld.dir, 'admin.conf'), 'utf8'), 'admin.conf');
      const kcAfter = parseKubeconfig(await fs.readFile(path.join(t.dir, 'admin.conf'), 'utf8'), 'admin.conf');
      expect(kcAfter.server).to.equal(kcBefore.server);
      expect(kcAfter.caPem).to.equal(kcBefore.caPem);
      expect(kcAfter.certPem).to.not.equal(kcBefore.certPem);
      const e = await checkExpiration(t.dir, now);
      expect(e.certificates.map((c) => c.residual)).to.deep.equal(Array(11).fill('364d'));
    } finally { t.remove(); }
  });

  it('renews only the names given; every other file stays byte-identical', async () => {
    const t = tempDir('renew-one-');
    try {
      await fs.cp(yearOld.dir, t.dir, { recursive: true });
      const before = await snapshot(t.dir, ALL_FILES);
      const r = await renewCertificates(t.dir, ['apiserver', 'scheduler.conf'], { now });
      expect([...r.written].sort()).to.deep.equal(['pki/apiserver.crt', 'pki/apiserver.key', 'scheduler.conf']);
      const after = await snapshot(t.dir, ALL_FILES);
      for (const f of ALL_FILES) {
        if (['pki/apiserver.crt', 'pki/apiserver.key', 'scheduler.conf'].includes(f)) expect(after[f], f).to.not.equal(before[f]);
        else expect(after[f], f).to.equal(before[f]);
      }
    } finally { t.remove(); }
  });

  it('refuses with CA_EXPIRED past the CA\'s ten years and changes nothing', async () => {
    const t = tempDir('renew-ca-expired-');
    try {
      await initPki(t.dir, { nodes: ['node-1'], now: () => new Date(now.getTime() - CA_VALIDITY_MS - DAY) });
      const before = await snapshot(t.dir, ALL_FILES);
      const err = await failure(renewCertificates(t.dir, ['all'], { now }));
      expect(err.code).to.equal('CA_EXPIRED');
      expect(err.message).to.match(/^pki\/ca\.crt: CA "kubernetes" is expired or not yet valid/);
      expect(await snapshot(t.dir, ALL_FILES)).to.deep.equal(before);
      const e = await checkExpiration(t.dir, now);
      expect(e.authorities.map((a) => a.residual)).to.deep.equal(['<invalid>', '<invalid>', '<invalid>']);
    } finally { t.remove(); }
  });

  it('rejects an unknown name, no name, and a missing directory with one line each', async () => {
    expect((await failure(renewCertificates(yearOld.dir, ['apiserver', 'bogus'], { now }))).message).to.match(/^renew: unknown certificate "bogus" \(one of all, admin\.conf, apiserver/);
    expect((await failure(renewCertificates(yearOld.dir, [], { now }))).code).to.equal('BAD_ARGUMENT');
    expect((await failure(renewCertificates('/nonexistent/k8s', ['all'], { now }))).code).to.equal('DIR_MISSING');
  });
});

describe('pki CLI: renew and check-expiration', function () {
  this.timeout(60_000);
  let t: { dir: string; remove: () => void };
  before(async () => { t = tempDir('renew-cli-'); await initPki(t.dir, { nodes: ['node-1'] }); });
  after(() => t.remove());
  const run = async (...argv: string[]): Promise<{ code: number; out: string }> => {
    const lines: string[] = [];
    const code = await main(argv, (s) => lines.push(s));
    return { code, out: lines.join('\n') };
  };

  it('check-expiration prints kubeadm\'s header lines and both tables, exit 0', async () => {
    const { code, out } = await run('check-expiration', t.dir);
    expect(code).to.equal(0);
    const lines = out.split('\n');
    expect(lines.slice(0, 4)).to.deep.equal([
      '[check-expiration] Reading configuration from the cluster...',
      "[check-expiration] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'",
      '[check-expiration] Error reading configuration from the Cluster. Falling back to default configuration',
      '',
    ]);
    expect(lines[4]).to.equal('CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED');
    expect(lines[5]).to.match(/^admin\.conf {17}[A-Z][a-z]{2} \d\d, \d{4} \d\d:\d\d UTC {3}364d {12}ca {22}no {6}$/);
    expect(lines.slice(5, 16).map((l) => l.split(/\s+/)[0])).to.deep.equal(['admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf',
      'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client', 'scheduler.conf', 'super-admin.conf']);
    expect(lines[7]).to.match(/^apiserver-etcd-client .* {3}etcd-ca {17}no {6}$/);
    expect(lines[16]).to.equal('');
    expect(lines[17]).to.equal('CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED');
    expect(lines.slice(18).map((l) => l.split(/\s+/)[0])).to.deep.equal(['ca', 'etcd-ca', 'front-proxy-ca']);
    expect(lines[18]).to.match(/^ca {22}[A-Z][a-z]{2} \d\d, \d{4} \d\d:\d\d UTC {3}9y {14}no {6}$/);
  });

  it('check-expiration marks missing certificates as kubeadm does', async () => {
    const c = tempDir('renew-missing-');
    try {
      await fs.cp(t.dir, c.dir, { recursive: true });
      await fs.rm(path.join(c.dir, 'pki/front-proxy-client.crt'));
      const e = await checkExpiration(c.dir);
      const out = renderExpiration(e).split('\n');
      // Go's tabwriter pads the empty cells too, and the long first cell widens the whole column.
      const row = out.find((l) => l.includes('front-proxy-client'))!;
      expect(row.trimEnd()).to.equal('!MISSING! front-proxy-client');
      expect(out.find((l) => l.startsWith('admin.conf'))).to.match(/^admin\.conf {21}[A-Z]/);
    } finally { c.remove(); }
  });

  it('renew DIR NAME prints kubeadm\'s lines; bad input is one error, nothing written', async () => {
    const ok = await run('renew', t.dir, 'apiserver');
    expect(ok.code).to.equal(0);
    expect(ok.out).to.include('certificate for serving the Kubernetes API renewed');
    expect(ok.out).to.include('Done renewing certificates.');
    const before = await snapshot(t.dir, ALL_FILES);
    for (const argv of [['renew', t.dir], ['renew', t.dir, 'nope'], ['renew'], ['check-expiration'], ['check-expiration', t.dir, 'extra']]) {
      const err = await main(argv, () => undefined).then(() => undefined, (e: unknown) => e);
      expect(err, argv.join(' ')).to.be.instanceOf(PkiError);
      expect((err as PkiError).code, argv.join(' ')).to.equal('BAD_ARGUMENT');
      expect((err as PkiError).message.split('\n')[0]!.length).to.be.greaterThan(10);
    }
    expect(await snapshot(t.dir, ALL_FILES)).to.deep.equal(before);
    const missing = await main(['check-expiration', '/nonexistent/k8s'], () => undefined).then(() => undefined, (e: unknown) => e);
    expect((missing as PkiError).code).to.equal('DIR_MISSING');
    const empty = tempDir('renew-empty-');
    try {
      const noCa = await main(['check-expiration', empty.dir], () => undefined).then(() => undefined, (e: unknown) => e);
      expect((noCa as PkiError).code).to.equal('FILE_MISSING');
    } finally { empty.remove(); }
  });
});

describe('kubeadm output helpers', () => {
  it('shortHumanDuration follows apimachinery', () => {
    const h = 3600_000;
    expect([-5000, -500, 30_000, 5 * 60_000, 5 * h, 364 * 24 * h + h, 365 * 24 * h, 3649 * 24 * h].map(shortHumanDuration))
      .to.deep.equal(['<invalid>', '0s', '30s', '5m', '5h', '364d', '1y', '9y']);
  });
  it('tabwrite pads cells to the widest plus 3 (at least 10) and leaves the last cell as is', () => {
    expect(tabwrite(['A\tBB\tlast', 'CCCCCCCCCCCC\tD\tx  '])).to.equal(`A${' '.repeat(14)}BB        last\nCCCCCCCCCCCC   D         x  `);
  });
});
