import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../cli/pki.js';
import { inspect } from '../../pki/inspect.js';
import { issueLeaf, privateKeyPem } from '../../pki/issue.js';
import { renderKubeconfig } from '../../pki/kubeconfig.js';
import { loadPki } from '../../pki/store.js';
import type { LeafSpec } from '../../pki/spec.js';
import { sharedPkiCopy, sharedPkiDir, tempDir } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs the CLI as a user would: a child process, stdout, stderr and the exit status. */
function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'cli/pki.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function run(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await main(args, (s) => lines.push(s));
  return { code, out: lines.join('\n') };
}

describe('pki check', function () {
  let shared: string;
  before(async function () { shared = (await sharedPkiDir()).dir; });


  it('passes a fresh set and prints the expiry tables as kubeadm does', async function () {
    const { code, out } = await run('check', shared);
    expect(code).to.equal(0);
    expect(out).to.match(/^CERTIFICATE\s+EXPIRES\s+RESIDUAL TIME\s+CERTIFICATE AUTHORITY\s+EXTERNALLY MANAGED$/m);
    expect(out).to.match(/^apiserver\s+\w{3} \d\d, \d{4} \d\d:\d\d UTC\s+364d\s+ca\s+no$/m);
    expect(out).to.match(/^etcd-server\s+.*\s+etcd-ca\s+no$/m);
    expect(out).to.match(/^front-proxy-client\s+.*\s+front-proxy-ca\s+no$/m);
    expect(out).to.match(/^ca\s+.*UTC\s+9y\s+no$/m);
    expect(out).to.match(/wiring: ok/);
  });

  it('passes a kubeadm-layout directory made with the openssl CLI', async function () {
    const t = tempDir();
    try {
      const r = spawnSync('bash', [path.resolve(ROOT, 'test/fixtures/openssl-pki.sh'), t.dir]);
      expect(r.status, r.stderr.toString()).to.equal(0);
      const { code, out } = await run('check', t.dir);
      expect(out).to.match(/wiring: ok — 14 certificates/);
      expect(code).to.equal(0);
      expect(out).to.match(/^admin.crt \(admin.conf\)\s+/m);
    } finally { t.remove(); }
  });

  it('reports a swapped CA, naming the file and both CAs', async function () {
    const t = await sharedPkiCopy();
    try {
      // The etcd server pair where the apiserver's should be: signed by the etcd CA, without the apiserver's SANs.
      cpSync(path.join(t.dir, 'pki/etcd/server.crt'), path.join(t.dir, 'pki/apiserver.crt'));
      cpSync(path.join(t.dir, 'pki/etcd/server.key'), path.join(t.dir, 'pki/apiserver.key'));
      const { code, out } = await run('check', t.dir);
      expect(code).to.equal(1);
      expect(out).to.include('FAULT pki/apiserver.crt: not signed by pki/ca.crt (signed by pki/etcd/ca.crt): x509: certificate signed by unknown authority');
      expect(out).to.include('FAULT pki/apiserver.crt: SANs lack DNS:kubernetes.default.svc');
      expect(out).to.include('FAULT pki/apiserver.crt: SANs lack IP:10.96.0.1');
    } finally { t.remove(); }
  });

  it('reports a client certificate without clientAuth and a kubeconfig whose server is not in the SANs', async function () {
    const t = await sharedPkiCopy();
    try {
      const pki = await loadPki(t.dir);
      const spec = pki.table.certs.find((c) => c.name === 'scheduler.conf') as LeafSpec;
      const wrong: LeafSpec = { ...spec, usages: ['serverAuth'], sans: { dns: ['x'], ip: [] } };
      const issued = await issueLeaf(wrong, pki.signers.get('ca')!, 'rsa-2048', new Date());
      writeFileSync(path.join(t.dir, 'scheduler.conf'), renderKubeconfig({
        server: 'https://127.0.0.1:6443', clusterName: 'kubernetes', user: 'system:kube-scheduler',
        caPem: pki.signers.get('ca')!.cert.toString(), certPem: issued.certPem, keyPem: privateKeyPem(issued.key.privateKey),
      }), { mode: 0o600 });
      const { code, out } = await run('check', t.dir);
      expect(code).to.equal(1);
      expect(out).to.include('FAULT scheduler.conf (client-certificate-data): extended key usage lacks clientAuth, which its role (scheduler.conf) needs: x509: certificate specifies an incompatible key usage');
      expect(out).to.match(/FAULT scheduler.conf: server https:\/\/127.0.0.1:6443 is not in pki\/apiserver.crt's SANs: x509: certificate is valid for cp-1, kubernetes, .*10.96.0.1, 127.0.1.1, not 127.0.0.1/);
    } finally { t.remove(); }
  });

  it('reports a key readable by others, a key not matching, and an expired leaf', async function () {
    const t = await sharedPkiCopy();
    try {
      chmodSync(path.join(t.dir, 'pki/front-proxy-client.key'), 0o644);
      cpSync(path.join(t.dir, 'pki/apiserver-kubelet-client.key'), path.join(t.dir, 'pki/apiserver-etcd-client.key'));
      const inspection = await inspect(t.dir, new Date(Date.now() + 400 * 24 * 3600 * 1000));
      const faults = inspection.faults.map((f) => `${f.file}: ${f.fault}`);
      expect(faults).to.include('pki/front-proxy-client.key: private key is mode 0644; it must be 0600');
      expect(faults).to.include('pki/apiserver-etcd-client.crt: does not match its key pki/apiserver-etcd-client.key');
      expect(faults.some((f) => /^pki\/apiserver.crt: certificate expired on .*: x509: certificate has expired or is not yet valid$/.test(f))).to.equal(true);
      expect(faults.filter((f) => f.startsWith('pki/ca.crt'))).to.deep.equal([]); // CAs last ten years
    } finally { t.remove(); }
  });

  it('reports a not-yet-valid certificate', async function () {
    const inspection = await inspect(shared, new Date(Date.now() - 3600 * 1000));
    expect(inspection.faults.some((f) => f.file === 'pki/apiserver.crt' && /is not yet valid/.test(f.fault))).to.equal(true);
  });

  it('reports a truncated file as a fault and goes on', async function () {
    const t = await sharedPkiCopy();
    try {
      const f = path.join(t.dir, 'pki/front-proxy-client.crt');
      writeFileSync(f, readFileSync(f, 'utf8').slice(0, 300));
      const { code, out } = await run('check', t.dir);
      expect(code).to.equal(1);
      expect(out).to.include('FAULT pki/front-proxy-client.crt: truncated PEM (CERTIFICATE block has no END line)');
      expect(out).to.match(/^apiserver\s/m);
    } finally { t.remove(); }
  });
});

describe('pki show', function () {
  it('prints each CA with what it signed, and who uses each certificate for what', async function () {
    const { code, out } = await run('show', (await sharedPkiDir()).dir);
    expect(code).to.equal(0);
    expect(out).to.match(/^etcd-ca {2}\(pki\/etcd\/ca.crt, CN=etcd-ca, CA, expires/m);
    expect(out).to.match(/├── pki\/apiserver-etcd-client.crt {2}CN=kube-apiserver-etcd-client\n│ {7}EKU clientAuth; expires .*\n│ {7}used by kube-apiserver as client towards etcd \(port 2379\)/);
    expect(out).to.match(/nodes\/node-1\/pki\/kubelet.crt {2}CN=system:node:node-1, O=system:nodes\n.*EKU serverAuth; SANs DNS:node-1, IP:127.0.2.1/);
  });
});

describe('pki CLI: bad input is one line and a non-zero exit', function () {
  it('a missing directory', function () {
    const r = cli('check', '/nonexistent/dir');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.equal('pki: /nonexistent/dir: no such directory\n');
  });
  it('a directory that is not a PKI', function () {
    const r = cli('show', ROOT + '/pki');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/^pki: .*\/pki: no Kubernetes CA found \(expected .*\/pki\/pki\/ca.crt or .*\/pki\/ca.crt\)\n$/);
  });
  it('an unknown --nodes value', function () {
    const t = tempDir();
    try {
      const r = cli('init', t.dir, '--nodes', 'node-1,Bad_Node');
      expect(r.status).to.equal(2);
      expect(r.stderr).to.equal('pki: node name "Bad_Node" is not a valid DNS label (lower-case letters, digits and \'-\')\n');
    } finally { t.remove(); }
  });
  it('an unknown command and an unknown option', function () {
    expect(cli('frobnicate', '/tmp').stderr).to.match(/^pki: unknown command "frobnicate"\n/);
    const r = cli('init', '/tmp/x', '--bogus');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/^pki: Unknown option '--bogus'/);
  });
});
