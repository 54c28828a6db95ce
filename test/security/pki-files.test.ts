/**
 * Issue 11, item 11 (PKI part): `pki check` verifies a bundled chain as Go's crypto/x509 does (a leaf
 * under an intermediate under a `pathlen:0` CA is invalid), and the PKI writes its files through
 * exclusively created temporaries that a planted symlink cannot redirect.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from '../../pki/inspect.js';
import { initPki, writeAtomically, writeNewFile } from '../../pki/store.js';
import { tempDir } from '../pki/helpers.js';

const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;

/** Runs openssl in `dir`; throws with its stderr when it fails. */
function openssl(dir: string, ...args: string[]): string {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

/**
 * A kubeadm-layout pki directory made with the openssl CLI: ca.crt (with `rootPathLen`), an intermediate
 * CA signed by `intermediateSigner` ('ca' or 'foreign'), and apiserver.crt = leaf + intermediate.
 */
function chainDir(dir: string, rootPathLen: number | undefined, intermediateSigner: 'ca' | 'foreign' = 'ca'): void {
  const bc = `basicConstraints=critical,CA:TRUE${rootPathLen === undefined ? '' : `,pathlen:${rootPathLen}`}`;
  const caExt = ['-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign'];
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=kubernetes', '-days', '3650', '-addext', bc, ...caExt);
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'foreign.key', '-out', 'foreign.pem', '-subj', '/CN=foreign', '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', ...caExt);
  writeFileSync(path.join(dir, 'inter.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature,keyCertSign\n');
  openssl(dir, 'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'inter.key', '-out', 'inter.csr', '-subj', '/CN=kubernetes-intermediate');
  const [signerCert, signerKey] = intermediateSigner === 'ca' ? ['ca.crt', 'ca.key'] : ['foreign.pem', 'foreign.key'];
  openssl(dir, 'x509', '-req', '-in', 'inter.csr', '-CA', signerCert, '-CAkey', signerKey, '-CAcreateserial', '-out', 'inter.pem', '-days', '3650', '-extfile', 'inter.ext');
  writeFileSync(path.join(dir, 'leaf.ext'), [
    'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth',
    'subjectAltName=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1,IP:127.0.1.1', '',
  ].join('\n'));
  openssl(dir, 'req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'apiserver.key', '-out', 'leaf.csr', '-subj', '/CN=kube-apiserver');
  openssl(dir, 'x509', '-req', '-in', 'leaf.csr', '-CA', 'inter.pem', '-CAkey', 'inter.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '365', '-extfile', 'leaf.ext');
  writeFileSync(path.join(dir, 'apiserver.crt'), readFileSync(path.join(dir, 'leaf.pem'), 'utf8') + readFileSync(path.join(dir, 'inter.pem'), 'utf8'));
  for (const f of ['ca.key', 'apiserver.key', 'inter.key', 'foreign.key']) spawnSync('chmod', ['600', path.join(dir, f)]);
  // Only ca.crt/ca.key and apiserver.crt/.key stay: the rest was scaffolding.
  for (const f of ['inter.csr', 'leaf.csr', 'inter.ext', 'leaf.ext', 'inter.key', 'foreign.key', 'foreign.pem', 'leaf.pem', 'inter.pem', 'ca.srl', 'inter.srl']) {
    spawnSync('rm', ['-f', path.join(dir, f)]);
  }
}

describe('pki check verifies a bundled chain as Go does', function () {
  this.timeout(60_000);

  it('a leaf under an intermediate under a pathlen:0 CA: OpenSSL refuses it, and so does check, in Go\'s words', async function () {
    if (!HAS_OPENSSL) this.skip();
    const t = tempDir();
    try {
      chainDir(t.dir, 0);
      // The fixture is what it claims: OpenSSL's own verdict.
      const v = spawnSync('openssl', ['verify', '-CAfile', 'ca.crt', '-untrusted', 'apiserver.crt', 'apiserver.crt'], { cwd: t.dir, encoding: 'utf8' });
      expect(`${v.stdout}${v.stderr}`).to.match(/path length constraint exceeded/);
      const i = await inspect(t.dir);
      const faults = i.faults.filter((f) => f.file === 'apiserver.crt').map((f) => f.fault);
      expect(faults).to.include('its chain apiserver.crt → CN=kubernetes-intermediate → ca.crt exceeds the path length ca.crt allows (pathlen:0): x509: too many intermediates for path length constraint');
    } finally { t.remove(); }
  });

  it('the same chain under a CA without pathlen is accepted (the leaf chains to ca.crt through its bundled intermediate)', async function () {
    if (!HAS_OPENSSL) this.skip();
    const t = tempDir();
    try {
      chainDir(t.dir, undefined);
      const i = await inspect(t.dir);
      expect(i.faults).to.deep.equal([]);
      expect(i.leaves.find((l) => l.file === 'apiserver.crt')?.ca?.file).to.equal('ca.crt');
    } finally { t.remove(); }
  });

  it('a leaf bundled with an intermediate from a foreign CA does not chain to ca.crt', async function () {
    if (!HAS_OPENSSL) this.skip();
    const t = tempDir();
    try {
      chainDir(t.dir, undefined, 'foreign');
      const i = await inspect(t.dir);
      const faults = i.faults.filter((f) => f.file === 'apiserver.crt').map((f) => f.fault);
      expect(faults.some((f) => /x509: certificate signed by unknown authority$/.test(f)), faults.join('\n')).to.equal(true);
    } finally { t.remove(); }
  });
});

describe('PKI files are written through exclusive temporaries', function () {
  this.timeout(60_000);

  it('a symlink planted at the old predictable temp name (<file>.tmp-<pid>) is not followed: its target is untouched', async function () {
    const t = tempDir();
    try {
      const victim = path.join(t.dir, 'victim');
      writeFileSync(victim, 'precious\n', { mode: 0o644 });
      mkdirSync(path.join(t.dir, 'c/pki'), { recursive: true });
      for (const f of ['ca.key', 'ca.crt', 'sa.key', 'apiserver.key']) symlinkSync(victim, path.join(t.dir, 'c/pki', `${f}.tmp-${process.pid}`));
      await initPki(path.join(t.dir, 'c'), { nodes: ['node-1'], keyAlgorithm: 'ecdsa-p256' });
      expect(readFileSync(victim, 'utf8')).to.equal('precious\n');
      expect(statSync(path.join(t.dir, 'c/pki/ca.key')).mode & 0o777).to.equal(0o600);
      expect(lstatSync(path.join(t.dir, 'c/pki/ca.key')).isSymbolicLink()).to.equal(false);
      expect(readFileSync(path.join(t.dir, 'c/pki/ca.key'), 'utf8')).to.match(/^-----BEGIN/);
      // Nothing of ours is left behind: only the planted links remain beside the real files.
      expect(readdirSync(path.join(t.dir, 'c/pki')).filter((f) => /\.tmp-/.test(f)).sort()).to.deep.equal(['apiserver.key', 'ca.crt', 'ca.key', 'sa.key'].map((f) => `${f}.tmp-${process.pid}`));
    } finally { t.remove(); }
  });

  it('the exclusive create refuses any existing name, a symlink or a file, so a temp name cannot be planted', async function () {
    const t = tempDir();
    try {
      const victim = path.join(t.dir, 'victim');
      writeFileSync(victim, 'precious\n');
      symlinkSync(victim, path.join(t.dir, 'link'));
      symlinkSync(path.join(t.dir, 'nowhere'), path.join(t.dir, 'dangling'));
      for (const name of ['link', 'dangling', 'victim']) {
        const err = await writeNewFile(path.join(t.dir, name), 'new key', 0o600).then(() => undefined, (e: NodeJS.ErrnoException) => e);
        expect(err?.code, name).to.be.oneOf(['EEXIST', 'ELOOP']);
      }
      expect(readFileSync(victim, 'utf8')).to.equal('precious\n');
      expect(() => statSync(path.join(t.dir, 'nowhere'))).to.throw();
    } finally { t.remove(); }
  });

  it('keys are 0600 and public files 0644, whatever the umask; temporaries get random names', async function () {
    const t = tempDir();
    const old = process.umask(0o077);
    try {
      await writeAtomically(t.dir, [{ rel: 'a/k.key', data: 'k', mode: 0o600 }, { rel: 'a/c.crt', data: 'c', mode: 0o644 }]);
      expect(statSync(path.join(t.dir, 'a/k.key')).mode & 0o777).to.equal(0o600);
      expect(statSync(path.join(t.dir, 'a/c.crt')).mode & 0o777).to.equal(0o644);
      expect(readdirSync(path.join(t.dir, 'a')).sort()).to.deep.equal(['c.crt', 'k.key']);
    } finally {
      process.umask(old);
      t.remove();
    }
  });

  it('a run that fails while writing removes its temporaries and changes nothing', async function () {
    const t = tempDir();
    try {
      writeFileSync(path.join(t.dir, 'a.key'), 'old');
      writeFileSync(path.join(t.dir, 'x'), 'a file where a directory is needed');
      const err = await writeAtomically(t.dir, [{ rel: 'a.key', data: 'new', mode: 0o600 }, { rel: 'x/b.crt', data: 'b', mode: 0o644 }]).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(/cannot write x\/b\.crt \((ENOTDIR|EEXIST)\); nothing was changed$/);
      expect(readdirSync(t.dir).sort()).to.deep.equal(['a.key', 'x']);
      expect(readFileSync(path.join(t.dir, 'a.key'), 'utf8')).to.equal('old');
    } finally { t.remove(); }
  });

  it('a run that fails while renaming removes the temporaries not yet renamed', async function () {
    const t = tempDir();
    try {
      mkdirSync(path.join(t.dir, 'b.crt')); // a directory where a file goes: its rename fails
      const err = await writeAtomically(t.dir, [{ rel: 'a.key', data: 'new', mode: 0o600 }, { rel: 'b.crt', data: 'b', mode: 0o644 }]).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(/cannot rename b\.crt into place \((EISDIR|ENOTEMPTY|EEXIST)\)/);
      expect(readdirSync(t.dir).sort()).to.deep.equal(['a.key', 'b.crt']);
    } finally { t.remove(); }
  });
});
