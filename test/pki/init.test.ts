import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PkiError, type PkiErrorCode } from '../../pki/errors.js';
import { initPki, loadPki } from '../../pki/store.js';
import { certSpecs, clusterPlan, validateSpecs, type SpecTable } from '../../pki/spec.js';
import { sharedPkiCopy, sharedPkiDir, tempDir } from './helpers.js';

async function rejects(p: Promise<unknown>, code: PkiErrorCode, message: RegExp): Promise<PkiError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(PkiError);
    expect((err as PkiError).code).to.equal(code);
    expect((err as PkiError).message).to.match(message);
    expect((err as PkiError).message).to.not.include('\n');
    return err as PkiError;
  }
  throw new Error(`expected a PkiError ${code}`);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

describe('the spec table', function () {
  it("uses kubeadm's names", function () {
    const names = certSpecs(clusterPlan({ nodes: ['node-1'] })).certs.map((c) => c.name);
    expect(names).to.include.members(['ca', 'apiserver', 'apiserver-kubelet-client', 'apiserver-etcd-client', 'front-proxy-ca',
      'front-proxy-client', 'etcd/ca', 'etcd/server', 'etcd/peer', 'etcd/healthcheck-client', 'admin.conf', 'super-admin.conf',
      'controller-manager.conf', 'scheduler.conf', 'kube-proxy.conf', 'nodes/node-1/kubelet.conf', 'nodes/node-1/kubelet']);
  });

  it('returns a fresh copy each call', function () {
    const plan = clusterPlan();
    expect(certSpecs(plan)).to.not.equal(certSpecs(plan));
    expect(certSpecs(plan)).to.deep.equal(certSpecs(plan));
  });

  const broken = (edit: (t: { certs: unknown[]; keyPairs: unknown[] }) => void): SpecTable => {
    const t = structuredClone(certSpecs(clusterPlan())) as unknown as { certs: unknown[]; keyPairs: unknown[] };
    edit(t);
    return t as unknown as SpecTable;
  };
  const leaf = (t: { certs: unknown[] }, name: string): Record<string, unknown> => t.certs.find((c) => (c as { name: string }).name === name) as Record<string, unknown>;

  it('rejects an unknown CA before anything is issued', function () {
    expect(() => validateSpecs(broken((t) => { leaf(t, 'apiserver').ca = 'no-such-ca'; }))).to.throw(PkiError, /"apiserver" names CA "no-such-ca", which is not in the table/);
  });
  it('rejects a duplicate name', function () {
    expect(() => validateSpecs(broken((t) => { t.certs.push(structuredClone(leaf(t, 'apiserver'))); }))).to.throw(PkiError, /duplicate name "apiserver"/);
  });
  it('rejects a leaf without usage', function () {
    expect(() => validateSpecs(broken((t) => { leaf(t, 'scheduler.conf').usages = []; }))).to.throw(PkiError, /leaf "scheduler.conf" has no extended key usage/);
  });
  it('rejects a server certificate without SANs', function () {
    expect(() => validateSpecs(broken((t) => { leaf(t, 'apiserver').sans = { dns: [], ip: [] }; }))).to.throw(PkiError, /server certificate "apiserver" has no subject alternative names/);
  });
  it('plans one shared 127.0.0.1 where loopback aliases do not exist (macOS), and names it in the SANs', function () {
    const plan = clusterPlan({ nodes: ['node-1', 'node-2'], loopback: 'single' });
    expect(plan.advertiseAddress).to.equal('127.0.0.1');
    expect(plan.nodes.map((n) => n.ip)).to.deep.equal(['127.0.0.1', '127.0.0.1']);
    const apiserver = certSpecs(plan).certs.find((c) => c.name === 'apiserver')!;
    expect(apiserver.kind === 'leaf' && apiserver.sans.ip).to.include('127.0.0.1');
    expect(clusterPlan().nodes.map((n) => n.ip)).to.deep.equal(['127.0.2.1', '127.0.2.2']);
  });
  it('plans thousands of nodes, each with its own loopback address and pod /24', function () {
    const names = Array.from({ length: 3000 }, (_, i) => `node-${i + 1}`);
    const plan = clusterPlan({ nodes: names });
    const ips = plan.nodes.map((n) => n.ip);
    expect(new Set(ips).size).to.equal(3000);
    expect(new Set(plan.nodes.map((n) => n.podCIDR)).size).to.equal(3000);
    expect(ips.slice(252, 256)).to.deep.equal(['127.0.2.253', '127.0.2.254', '127.0.3.1', '127.0.3.2']);
    expect(ips.every((ip) => !/\.(0|255)$/.test(ip) && !ip.startsWith('127.0.1.'))).to.equal(true);
    expect(plan.podSubnet).to.equal('10.64.0.0/10');
    expect(plan.nodes[0]!.podCIDR).to.equal('10.64.1.0/24');
    expect(plan.nodes[2999]!.podCIDR).to.equal('10.75.184.0/24');
    // kubeadm's usual /16 up to 255 nodes, where node-k keeps 10.244.k.0/24
    const small = clusterPlan({ nodes: names.slice(0, 255) });
    expect(small.podSubnet).to.equal('10.244.0.0/16');
    expect(small.nodes[254]!.podCIDR).to.equal('10.244.255.0/24');
    expect(() => clusterPlan({ nodes: Array.from({ length: 10_001 }, (_, i) => `n-${i}`) })).to.throw(PkiError, /at most 10000 nodes/);
  });
  it('rejects a bad node name', function () {
    expect(() => clusterPlan({ nodes: ['Node_1'] })).to.throw(PkiError, /node name "Node_1" is not a valid DNS label/);
    expect(() => clusterPlan({ nodes: ['a', 'a'] })).to.throw(PkiError, /node "a" is named twice/);
  });
});

describe('pki init on an existing directory', function () {
  let shared: string;
  before(async function () { shared = (await sharedPkiDir()).dir; });


  it('keeps every valid file and rewrites none (warm run)', async function () {
    const t = await sharedPkiCopy();
    try {
      const before = readFileSync(path.join(t.dir, 'pki/apiserver.crt'), 'utf8');
      const r = await initPki(t.dir);
      expect(r.created).to.deep.equal(['plan.json']);
      expect(r.kept).to.have.length(33);
      expect(readFileSync(path.join(t.dir, 'pki/apiserver.crt'), 'utf8')).to.equal(before);
    } finally { t.remove(); }
  });

  it('makes only what is missing, signed by the CA already there', async function () {
    const t = await sharedPkiCopy();
    try {
      const { rmSync } = await import('node:fs');
      rmSync(path.join(t.dir, 'pki/apiserver.crt'));
      rmSync(path.join(t.dir, 'pki/apiserver.key'));
      rmSync(path.join(t.dir, 'scheduler.conf'));
      const r = await initPki(t.dir);
      expect(r.created.filter((f) => f !== 'plan.json').sort()).to.deep.equal(['pki/apiserver.crt', 'pki/apiserver.key', 'scheduler.conf']);
      const pki = await loadPki(t.dir);
      expect(pki.leaves.get('apiserver')!.cert.verify(pki.signers.get('ca')!.cert.publicKey)).to.equal(true);
    } finally { t.remove(); }
  });

  it('adds the files of a new node with --nodes', async function () {
    const t = await sharedPkiCopy();
    try {
      const r = await initPki(t.dir, { nodes: ['node-1', 'node-2', 'node-3'] });
      expect(r.created.filter((f) => f.startsWith('nodes/')).sort()).to.deep.equal(['nodes/node-3/kubelet.conf', 'nodes/node-3/pki/kubelet.crt', 'nodes/node-3/pki/kubelet.key']);
    } finally { t.remove(); }
  });

  it('refuses a certificate that does not match its key, naming both files', async function () {
    const t = await sharedPkiCopy();
    try {
      cpSync(path.join(t.dir, 'pki/apiserver-kubelet-client.key'), path.join(t.dir, 'pki/apiserver.key'));
      await rejects(initPki(t.dir), 'KEY_MISMATCH', /^pki\/apiserver.crt does not match its key pki\/apiserver.key/);
    } finally { t.remove(); }
  });

  it('refuses a certificate signed by another CA, naming both files', async function () {
    const t = await sharedPkiCopy();
    try {
      cpSync(path.join(t.dir, 'pki/etcd/healthcheck-client.crt'), path.join(t.dir, 'pki/apiserver-kubelet-client.crt'));
      cpSync(path.join(t.dir, 'pki/etcd/healthcheck-client.key'), path.join(t.dir, 'pki/apiserver-kubelet-client.key'));
      await rejects(initPki(t.dir), 'CA_MISMATCH', /^pki\/apiserver-kubelet-client.crt is not signed by pki\/ca.crt$/);
    } finally { t.remove(); }
  });

  it('refuses a kubeconfig from another cluster', async function () {
    const other = tempDir();
    const t = await sharedPkiCopy();
    try {
      await initPki(other.dir, { nodes: [] });
      cpSync(path.join(other.dir, 'admin.conf'), path.join(t.dir, 'admin.conf'));
      await rejects(initPki(t.dir), 'CA_MISMATCH', /^admin.conf: certificate-authority-data is not pki\/ca.crt/);
    } finally { t.remove(); other.remove(); }
  });

  for (const [what, content, code, message] of [
    ['a truncated PEM', (s: string) => s.slice(0, s.length / 2), 'PEM_INVALID', /^pki\/front-proxy-client.crt: truncated PEM \(CERTIFICATE block has no END line\)$/],
    ['a non-PEM file', () => 'hello\n', 'PEM_INVALID', /^pki\/front-proxy-client.crt: not PEM \(no -----BEGIN block\)$/],
    ['an empty file', () => '', 'PEM_INVALID', /^pki\/front-proxy-client.crt: empty file$/],
    ['corrupt base64 inside the block', (s: string) => s.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!!!!!!!!!!!!!!!!!'), 'PEM_INVALID', /^pki\/front-proxy-client.crt: CERTIFICATE block is not valid base64$/],
  ] as const) {
    it(`refuses ${what} with one line naming the file`, async function () {
      const t = await sharedPkiCopy();
      try {
        const f = path.join(t.dir, 'pki/front-proxy-client.crt');
        writeFileSync(f, content(readFileSync(f, 'utf8')));
        await rejects(initPki(t.dir), code, message);
      } finally { t.remove(); }
    });
  }

  it('refuses a key of the wrong type', async function () {
    const t = await sharedPkiCopy();
    try {
      const { privateKey } = generateKeyPairSync('ed25519');
      writeFileSync(path.join(t.dir, 'pki/front-proxy-client.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
      await rejects(initPki(t.dir), 'KEY_TYPE', /^pki\/front-proxy-client.key: ed25519 key; Kubernetes certificates use RSA or ECDSA keys$/);
      const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      writeFileSync(path.join(t.dir, 'pki/front-proxy-client.key'), ec.export({ type: 'sec1', format: 'pem' }));
      await rejects(initPki(t.dir), 'KEY_TYPE', /^pki\/front-proxy-client.key is an EC key but pki\/front-proxy-client.crt certifies an RSA key$/);
    } finally { t.remove(); }
  });

  it('refuses a certificate whose key is elsewhere', async function () {
    const t = await sharedPkiCopy();
    try {
      const { rmSync } = await import('node:fs');
      rmSync(path.join(t.dir, 'pki/front-proxy-client.key'));
      await rejects(initPki(t.dir), 'FILE_MISSING', /^pki\/front-proxy-client.key: missing while pki\/front-proxy-client.crt is present/);
    } finally { t.remove(); }
  });

  it('refuses an expired CA, and writes nothing', async function () {
    const t = tempDir();
    try {
      const elevenYearsAgo = new Date(Date.now() - 11 * 365 * 24 * 3600 * 1000);
      await initPki(t.dir, { nodes: [], now: () => elevenYearsAgo });
      const { rmSync } = await import('node:fs');
      rmSync(path.join(t.dir, 'admin.conf'));
      await rejects(initPki(t.dir), 'CA_EXPIRED', /^pki\/ca.crt: CA "kubernetes" is expired or not yet valid/);
      expect(existsSync(path.join(t.dir, 'admin.conf'))).to.equal(false);
    } finally { t.remove(); }
  });

  it('refuses an unknown --nodes value before writing anything', async function () {
    const t = tempDir();
    try {
      await rejects(initPki(t.dir, { nodes: ['node_1'] }), 'BAD_ARGUMENT', /node name "node_1" is not a valid DNS label/);
      expect(listFiles(t.dir)).to.deep.equal([]);
    } finally { t.remove(); }
  });

  it('refuses an unwritable directory', async function () {
    const t = tempDir();
    try {
      writeFileSync(path.join(t.dir, 'file'), 'x');
      await rejects(initPki(path.join(t.dir, 'file', 'sub')), 'DIR_UNWRITABLE', /file\/sub: cannot create or write the directory \(ENOTDIR\)/);
    } finally { t.remove(); }
  });

  it('leaves no half-written file when a write fails midway', async function () {
    const t = tempDir();
    try {
      writeFileSync(path.join(t.dir, 'nodes'), 'in the way'); // nodes/<n>/ cannot be created
      await rejects(initPki(t.dir, { nodes: ['node-1'] }), 'DIR_UNWRITABLE', /cannot write nodes\/node-1\/.* \(E(NOTDIR|EXIST)\); nothing was changed$/);
      expect(listFiles(t.dir).filter((f) => f !== 'nodes')).to.deep.equal([]);
    } finally { t.remove(); }
  });

  it('loadPki reads a directory without making anything, and names a missing file', async function () {
    const t = await sharedPkiCopy();
    try {
      const pki = await loadPki(t.dir);
      expect(pki.leaves.get('nodes/node-2/kubelet')!.cert.checkIP('127.0.2.2')).to.equal('127.0.2.2');
      const { rmSync } = await import('node:fs');
      rmSync(path.join(t.dir, 'kube-proxy.conf'));
      await rejects(loadPki(t.dir), 'FILE_MISSING', /^kube-proxy.conf: missing \(run "npm run pki -- init" to make it\)$/);
      await rejects(loadPki(path.join(t.dir, 'nope')), 'DIR_MISSING', /nope: no such directory$/);
    } finally { t.remove(); }
  });

  it('self-signed kubelet serving mode writes the kubelet pair as kubeadm does', async function () {
    const t = tempDir();
    try {
      await initPki(t.dir, { nodes: ['node-1'], kubeletServing: 'self-signed', keyAlgorithm: 'ecdsa-p256' });
      const pem = readFileSync(path.join(t.dir, 'nodes/node-1/pki/kubelet.crt'), 'utf8');
      const { X509Certificate } = await import('node:crypto');
      const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
      expect(blocks).to.have.length(2);
      const [leaf, ca] = blocks.map((b) => new X509Certificate(b));
      expect(leaf!.subject).to.match(/^CN=node-1@\d+$/);
      expect(ca!.subject).to.match(/^CN=node-1-ca@\d+$/);
      expect(leaf!.verify(ca!.publicKey)).to.equal(true);
      expect(leaf!.publicKey.asymmetricKeyType).to.equal('ec');
      expect(statSync(path.join(t.dir, 'nodes/node-1/pki/kubelet.key')).mode & 0o777).to.equal(0o600);
      // A second run keeps it.
      expect((await initPki(t.dir)).created).to.deep.equal(['plan.json']);
    } finally { t.remove(); }
  });

  it('honours the umask neither way: keys 0600, certificates 0644', async function () {
    const t = tempDir();
    const old = process.umask(0o077);
    try {
      mkdirSync(path.join(t.dir, 'c'));
      await initPki(path.join(t.dir, 'c'), { nodes: [] });
      expect(statSync(path.join(t.dir, 'c/pki/ca.crt')).mode & 0o777).to.equal(0o644);
      expect(statSync(path.join(t.dir, 'c/pki/ca.key')).mode & 0o777).to.equal(0o600);
    } finally { process.umask(old); t.remove(); }
  });
});
