import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { main } from '../../cli/pki.js';
import { PkiError } from '../../pki/errors.js';
import { inspect } from '../../pki/inspect.js';
import { KUBEADM_CERTS, renewCertificates } from '../../pki/renew.js';
import { initPki } from '../../pki/store.js';
import { renderTimeline, timeline } from '../../pki/timeline.js';
import { tempDir } from './helpers.js';

const DAY = 24 * 3600 * 1000;

/** Moves node-1's client certificate out of kubelet.conf into kubelet-client-current.pem, as kubeadm join leaves it. */
async function pointAtCurrentPem(dir: string): Promise<string> {
  const conf = path.join(dir, 'nodes/node-1/kubelet.conf');
  const k = parse(await fs.readFile(conf, 'utf8')) as { users: { user: Record<string, string> }[] };
  const u = k.users[0]!.user;
  const cert = Buffer.from(u['client-certificate-data']!, 'base64').toString();
  await fs.writeFile(path.join(dir, 'nodes/node-1/pki/kubelet-client-current.pem'), cert + Buffer.from(u['client-key-data']!, 'base64').toString(), { mode: 0o600 });
  delete u['client-certificate-data'];
  delete u['client-key-data'];
  u['client-certificate'] = u['client-key'] = '/var/lib/kubelet/pki/kubelet-client-current.pem';
  await fs.writeFile(conf, stringify(k), { mode: 0o600 });
  return cert;
}

describe('pki timeline', function () {
  this.timeout(120_000);
  const now = new Date();
  const t = tempDir('timeline-');
  // Made 300 days ago; then `kubeadm certs renew` of every kubeadm name (and what this sim adds besides
  // the kubelet's client certificate): kubelet.conf is left behind as kubeadm#2185 reports.
  before(async () => {
    await initPki(t.dir, { nodes: ['node-1', 'node-2'], now: () => new Date(now.getTime() - 300 * DAY) });
    await renewCertificates(t.dir, [...KUBEADM_CERTS.map((k) => k.name), 'kube-proxy.conf', 'nodes/node-1/kubelet', 'nodes/node-2/kubelet'], { now });
  });
  after(() => t.remove());

  it('after kubeadm certs renew, the kubelets fail first: kubelet.conf\'s embedded certificate, day 64-65, 401 from the apiserver', async () => {
    const tl = timeline(await inspect(t.dir, now));
    const conf = new X509Certificate(Buffer.from((parse(await fs.readFile(path.join(t.dir, 'nodes/node-1/kubelet.conf'), 'utf8')) as { users: { user: Record<string, string> }[] }).users[0]!.user['client-certificate-data']!, 'base64'));
    expect(tl.first?.client).to.match(/^kubelet \(node-[12]\)$/);
    expect(tl.first?.server).to.equal('kube-apiserver');
    expect(tl.first?.failsAt.getTime()).to.equal(Date.parse(conf.validTo));
    expect(tl.first?.day).to.be.within(64, 65);
    expect(tl.first?.why).to.match(/^nodes\/node-[12]\/kubelet\.conf .*expires; nothing renews it$/);
    expect(tl.first?.refusal).to.match(/^kube-apiserver answers 401 Unauthorized: .*x509: certificate has expired or is not yet valid: current time \S+ is after \S+/);
    const kubelets = tl.flows.slice(0, 2).map((f) => f.client).sort();
    expect(kubelets).to.deep.equal(['kubelet (node-1)', 'kubelet (node-2)']);
    // Everything kubeadm renewed now lives a year from now.
    const rest = tl.flows.slice(2);
    expect(rest.length).to.be.greaterThan(8);
    for (const f of rest) expect(f.day, `${f.client} → ${f.server}`).to.be.within(363, 365);
    const entry = tl.certificates.find((c) => c.name === 'nodes/node-1/kubelet.conf')!;
    expect(entry.renewer).to.equal('nobody');
    expect(entry.note).to.include('kubeadm#2185');
    const serving = tl.certificates.find((c) => c.name === 'nodes/node-1/kubelet')!;
    expect(serving.renewer).to.equal('kubelet-serving CSR');
    const life = serving.notAfter.getTime() - serving.notBefore.getTime();
    expect(serving.renewFrom.getTime() - serving.notBefore.getTime()).to.be.closeTo(0.7 * life, 1000);
    expect(serving.renewBy.getTime() - serving.notBefore.getTime()).to.be.closeTo(0.9 * life, 1000);
    expect(tl.authorities.map((a) => [a.name, a.lifetimeDays])).to.deep.equal([['ca', 3650], ['etcd-ca', 3650], ['front-proxy-ca', 3650]].sort());
    const text = renderTimeline(tl);
    expect(text).to.match(/^FIRST TO FAIL: kubelet \(node-[12]\) → kube-apiserver on [A-Z][a-z]{2} \d\d, \d{4} \d\d:\d\d UTC \(day 6[45]\), with 1 other flow\(s\) at the same moment$/m);
  });

  it('a kubelet whose certificate is in kubelet-client-current.pem rotates it at 70-90%; its flow then ends with the apiserver\'s certificate', async () => {
    const c = tempDir('timeline-pem-');
    try {
      await fs.cp(t.dir, c.dir, { recursive: true });
      const pem = new X509Certificate(await pointAtCurrentPem(c.dir));
      const tl = timeline(await inspect(c.dir, now));
      const entry = tl.certificates.find((e) => e.file === 'nodes/node-1/pki/kubelet-client-current.pem')!;
      expect(entry.renewer).to.equal('kubelet rotation');
      expect(entry.automatic).to.equal(true);
      const nb = Date.parse(pem.validFrom);
      const life = Date.parse(pem.validTo) - nb;
      expect(entry.renewFrom.getTime() - nb).to.be.closeTo(0.7 * life, 1000);
      expect(entry.renewBy.getTime() - nb).to.be.closeTo(0.9 * life, 1000);
      // The rotation window is already past its start (day 210 of 365): the kubelet is rotating it.
      expect(entry.renewFrom.getTime()).to.be.lessThan(now.getTime());
      const flow = tl.flows.find((f) => f.client === 'kubelet (node-1)')!;
      expect(flow.because).to.equal('apiserver');
      expect(flow.day).to.be.within(363, 365);
      expect(tl.first?.client).to.equal('kubelet (node-2)');
    } finally { c.remove(); }
  });

  it('a CA that expires before its leaves ends their flows, in the words of the side that verifies', async () => {
    const c = tempDir('timeline-ca-');
    try {
      // The etcd CA made 3649 days ago: it expires tomorrow, long before the etcd leaves renewed today.
      await initPki(c.dir, { nodes: ['node-1'], now: () => new Date(now.getTime() - 3649 * DAY) });
      await renewCertificates(c.dir, ['all'], { now });
      const tl = timeline(await inspect(c.dir, now));
      const etcd = tl.flows.find((f) => f.client === 'kube-apiserver' && f.server === 'etcd')!;
      expect(etcd.day).to.equal(0);
      expect(['ca', 'etcd-ca', 'front-proxy-ca']).to.include(etcd.because);
      expect(etcd.why).to.match(/^(etcd-ca|ca|front-proxy-ca) \(pki\/.*ca\.crt\) expires/);
      expect(etcd.refusal).to.match(/^(etcd refuses the handshake \(alert bad certificate\)|kube-apiserver refuses the handshake: tls: failed to verify certificate): x509: certificate has expired/);
      expect(tl.first?.day).to.equal(0);
    } finally { c.remove(); }
  });

  it('npm run pki -- timeline DIR --format json: dates as RFC 3339; a bad format is one error', async () => {
    const lines: string[] = [];
    expect(await main(['timeline', t.dir, '--format', 'json'], (s) => lines.push(s))).to.equal(0);
    const j = JSON.parse(lines.join('\n')) as { first: { client: string; failsAt: string }; flows: unknown[]; certificates: { name: string }[] };
    expect(j.first.client).to.match(/^kubelet \(node-[12]\)$/);
    expect(j.first.failsAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(j.certificates.map((c) => c.name)).to.include.members(['nodes/node-1/kubelet.conf', 'nodes/node-1/kubelet', 'apiserver', 'etcd-server']);
    expect(JSON.stringify(j)).not.to.match(/PRIVATE KEY/);
    const err = await main(['timeline', t.dir, '--format', 'yaml'], () => undefined).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(PkiError);
    expect((err as PkiError).message).to.equal('--format "yaml": must be text or json');
  });
});
