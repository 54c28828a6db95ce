import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseKubeconfig } from '../../pki/kubeconfig.js';
import { certSpecs, clusterPlan } from '../../pki/spec.js';
import { sharedPkiDir } from './helpers.js';

const OID_SERVER = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT = '1.3.6.1.5.5.7.3.2';
const DAY = 24 * 3600 * 1000;

/** Reads a certificate with node:crypto only (independent of node-forge, which made it). */
function loadCert(dir: string, rel: string): { cert: X509Certificate; keyPem: string; file: string } {
  if (rel.endsWith('.conf')) {
    const kc = parseKubeconfig(readFileSync(path.join(dir, rel), 'utf8'), rel);
    return { cert: new X509Certificate(kc.certPem), keyPem: kc.keyPem, file: rel };
  }
  return { cert: new X509Certificate(readFileSync(path.join(dir, rel))), keyPem: readFileSync(path.join(dir, rel.replace(/\.crt$/, '.key')), 'utf8'), file: rel };
}

const subjectField = (x: X509Certificate, k: string): string[] =>
  x.subject.split('\n').filter((l) => l.startsWith(`${k}=`)).map((l) => l.slice(k.length + 1));

describe('pki init: the generated certificate set', function () {
  let dir: string;
  let started: number;
  before(async function () {
    started = Date.now();
    dir = (await sharedPkiDir()).dir;
  });

  const plan = clusterPlan({ nodes: ['node-1', 'node-2'] });
  const table = certSpecs(plan);
  const caFile: Record<string, string> = { ca: 'pki/ca.crt', 'etcd/ca': 'pki/etcd/ca.crt', 'front-proxy-ca': 'pki/front-proxy-ca.crt' };

  it('has the three CAs: CA:TRUE, keyCertSign, self-signed, 10 years, backdated 5 minutes', function () {
    for (const [name, cn] of [['ca', 'kubernetes'], ['etcd/ca', 'etcd-ca'], ['front-proxy-ca', 'front-proxy-ca']] as const) {
      const { cert } = loadCert(dir, caFile[name]!);
      expect(cert.ca, name).to.equal(true);
      expect(subjectField(cert, 'CN')).to.deep.equal([cn]);
      expect(cert.verify(cert.publicKey)).to.equal(true);
      const from = new Date(cert.validFrom).getTime();
      const to = new Date(cert.validTo).getTime();
      expect(Math.round((to - from) / DAY)).to.be.within(3650, 3651);
      expect(from).to.be.below(started - 4 * 60 * 1000);
      const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'keyUsage,basicConstraints'], { input: cert.toString() }).toString();
      expect(text).to.match(/critical\s+Digital Signature, Key Encipherment, Certificate Sign/);
      expect(text).to.match(/CA:TRUE/);
    }
  });

  for (const spec of table.certs) {
    if (spec.kind !== 'leaf') continue;
    const rel = spec.output.kind === 'files' ? spec.output.cert : spec.output.file;
    it(`${rel}: CN=${spec.cn}${spec.o.length ? ` O=${spec.o.join(',')}` : ''}, ${spec.usages.join('+')}, signed by ${spec.ca}`, function () {
      const { cert, keyPem, file } = loadCert(dir, rel);
      const ca = loadCert(dir, caFile[spec.ca]!).cert;
      expect(subjectField(cert, 'CN')).to.deep.equal([spec.cn]);
      expect(subjectField(cert, 'O')).to.deep.equal([...spec.o]);
      expect(cert.issuer).to.equal(ca.subject);
      expect(cert.verify(ca.publicKey), 'signature verifies with the CA key').to.equal(true);
      expect(cert.ca).to.equal(false);
      expect(cert.checkPrivateKey(createPrivateKey(keyPem))).to.equal(true);
      const eku = cert.keyUsage ?? [];
      expect(eku.includes(OID_SERVER)).to.equal(spec.usages.includes('serverAuth'));
      expect(eku.includes(OID_CLIENT)).to.equal(spec.usages.includes('clientAuth'));
      for (const dns of spec.sans.dns) expect(cert.checkHost(dns), `DNS SAN ${dns}`).to.equal(dns);
      for (const ip of spec.sans.ip) expect(cert.checkIP(ip), `IP SAN ${ip}`).to.equal(ip);
      if (spec.sans.ip.length === 0 && spec.sans.dns.length === 0) expect(cert.subjectAltName).to.equal(undefined);
      const from = new Date(cert.validFrom).getTime();
      const to = new Date(cert.validTo).getTime();
      expect(Math.round((to - from) / DAY)).to.equal(365);
      expect(from).to.be.below(started - 4 * 60 * 1000);
      expect(BigInt(`0x${cert.serialNumber}`) > 0n).to.equal(true);
      const mode = statSync(path.join(dir, spec.output.kind === 'files' ? spec.output.key : file)).mode & 0o777;
      expect(mode, 'private key file mode').to.equal(0o600);
      const usage = execFileSync('openssl', ['x509', '-noout', '-ext', 'keyUsage'], { input: cert.toString() }).toString();
      expect(usage).to.match(/critical\s+Digital Signature, Key Encipherment\s*$/);
    });
  }

  it('the apiserver certificate does not cover 127.0.0.1 (as kubeadm: only the advertise address and service IP)', function () {
    expect(loadCert(dir, 'pki/apiserver.crt').cert.checkIP('127.0.0.1')).to.equal(undefined);
  });

  it('serials are distinct', function () {
    const serials = table.certs.filter((s) => s.kind === 'leaf').map((s) => loadCert(dir, s.output.kind === 'files' ? s.output.cert : s.output.file).cert.serialNumber);
    expect(new Set(serials).size).to.equal(serials.length);
  });

  it('every chain passes `openssl verify` with the purpose its role needs', function () {
    for (const spec of table.certs) {
      if (spec.kind !== 'leaf') continue;
      const { cert } = loadCert(dir, spec.output.kind === 'files' ? spec.output.cert : spec.output.file);
      const purpose = spec.usages.includes('serverAuth') ? 'sslserver' : 'sslclient';
      const r = spawnSync('openssl', ['verify', '-purpose', purpose, '-CAfile', path.join(dir, caFile[spec.ca]!)], { input: cert.toString() });
      expect(r.stdout.toString().trim(), spec.name).to.equal('stdin: OK');
    }
  });

  it('a server-only certificate fails `openssl verify -purpose sslclient` (the check TLS makes)', function () {
    const r = spawnSync('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', path.join(dir, 'pki/ca.crt')], { input: loadCert(dir, 'pki/apiserver.crt').cert.toString() });
    expect(r.status).to.not.equal(0);
    expect(r.stdout.toString() + r.stderr.toString()).to.match(/error 26 at 0 depth lookup: (unsupported|unsuitable) certificate purpose/);
  });

  it('writes kubeconfigs in kubeadm format: one cluster, <user>@<cluster> context, embedded data', function () {
    const text = readFileSync(path.join(dir, 'admin.conf'), 'utf8');
    const kc = parseKubeconfig(text, 'admin.conf');
    expect(kc.server).to.equal('https://127.0.1.1:6443');
    expect(kc.user).to.equal('kubernetes-admin');
    expect(text).to.match(/current-context: kubernetes-admin@kubernetes/);
    expect(new X509Certificate(kc.caPem).fingerprint256).to.equal(loadCert(dir, 'pki/ca.crt').cert.fingerprint256);
    expect(parseKubeconfig(readFileSync(path.join(dir, 'nodes/node-2/kubelet.conf'), 'utf8'), 'k').user).to.equal('system:node:node-2');
  });

  it('real kubectl reads admin.conf', function () {
    const which = spawnSync('sh', ['-c', 'command -v kubectl']);
    if (which.status !== 0) {
      // CI installs kubectl (the image's dispatcher): missing there is a failure, not a skip.
      if (process.env.CI === 'true') throw new Error('kubectl is missing: CI must have it');
      process.stderr.write('      skipped: kubectl is not installed\n');
      this.skip();
    }
    const out = execFileSync('kubectl', ['config', 'view', '--kubeconfig', path.join(dir, 'admin.conf'), '-o', 'jsonpath={.users[0].name} {.clusters[0].cluster.server}']).toString();
    expect(out).to.equal('kubernetes-admin https://127.0.1.1:6443');
  });

  it('sa.key and sa.pub are a matching RSA pair, the key 0600', function () {
    const priv = createPrivateKey(readFileSync(path.join(dir, 'pki/sa.key')));
    expect(priv.asymmetricKeyType).to.equal('rsa');
    expect(statSync(path.join(dir, 'pki/sa.key')).mode & 0o777).to.equal(0o600);
    expect(readFileSync(path.join(dir, 'pki/sa.pub'), 'utf8')).to.match(/^-----BEGIN PUBLIC KEY-----/);
  });
});
