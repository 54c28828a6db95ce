import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  CERTS_TO_TRANSFER, createCertificateKey, decodeHexKey, decryptBytes, downloadCerts, encryptBytes, kubeadmCertsSecret, secretDataKey,
} from '../../pki/copycerts.js';
import { PkiError } from '../../pki/errors.js';
import { joinControlPlanePki } from '../../pki/join.js';
import { caPem, issuePki, type Pki } from '../../pki/store.js';
import { tempDir } from '../pki/helpers.js';

const thrown = (f: () => unknown): PkiError => {
  try { f(); } catch (e) { expect(e).to.be.instanceOf(PkiError); return e as PkiError; }
  throw new Error('expected a PkiError');
};

describe('copycerts (kubeadm-certs)', function () {
  this.timeout(30_000);
  let pki: Pki;
  before(async () => { pki = await issuePki({ nodes: ['node-1'] }); });

  it('makes a 32-byte certificate key as 64 lower-case hex characters, different each time', () => {
    const a = createCertificateKey();
    expect(a).to.match(/^[0-9a-f]{64}$/);
    expect(createCertificateKey()).to.not.equal(a);
  });

  it('seals as nonce(12) || ciphertext || tag(16) with AES-256-GCM and opens only with the same key', () => {
    const key = decodeHexKey(createCertificateKey());
    const data = Buffer.from('-----BEGIN CERTIFICATE-----\nabc\n');
    const sealed = encryptBytes(data, key);
    expect(sealed.length).to.equal(12 + data.length + 16);
    expect(sealed.includes(data)).to.equal(false);
    expect(decryptBytes(sealed, key).equals(data)).to.equal(true);
    expect(encryptBytes(data, key).subarray(0, 12).equals(sealed.subarray(0, 12)), 'a fresh nonce each time').to.equal(false);
    expect(thrown(() => decryptBytes(sealed, decodeHexKey(createCertificateKey()))).message).to.equal('cipher: message authentication failed');
    const tampered = Buffer.from(sealed);
    tampered[20] = tampered[20]! ^ 1;
    expect(thrown(() => decryptBytes(tampered, key)).message).to.equal('cipher: message authentication failed');
    expect(thrown(() => decryptBytes(Buffer.alloc(5), key)).message).to.equal('size of data is less than the nonce size');
  });

  it('builds the Secret with kubeadm\'s data keys, every value encrypted, owned by the token', () => {
    const key = createCertificateKey();
    const s = kubeadmCertsSecret(pki, key, { name: 'bootstrap-token-abcdef', uid: 'u-1' });
    expect(s.metadata).to.deep.include({ name: 'kubeadm-certs', namespace: 'kube-system' });
    expect(s.metadata.ownerReferences?.[0]).to.deep.include({ kind: 'Secret', name: 'bootstrap-token-abcdef', uid: 'u-1', controller: true });
    expect(Object.keys(s.data).sort()).to.deep.equal(['ca.crt', 'ca.key', 'etcd-ca.crt', 'etcd-ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub']);
    for (const v of Object.values(s.data)) expect(Buffer.from(v, 'base64').toString('latin1')).to.not.include('-----BEGIN');
    const files = downloadCerts(s, key);
    expect(files['ca.crt']).to.equal(caPem(pki, 'ca'));
    expect(files['etcd/ca.crt']).to.equal(caPem(pki, 'etcd/ca'));
    expect(files['sa.key']).to.equal(pki.serviceAccount.privateKeyPem);
    expect(CERTS_TO_TRANSFER.map(secretDataKey)).to.include('etcd-ca.key');
  });

  it('fails a wrong, non-hex, odd-length or short key with kubeadm\'s words', () => {
    const s = kubeadmCertsSecret(pki, createCertificateKey());
    const phase = 'error execution phase control-plane-prepare/download-certs: error downloading certs: ';
    expect(thrown(() => downloadCerts(s, createCertificateKey())).message).to.equal(`${phase}error decoding secret data with provided key: cipher: message authentication failed`);
    expect(thrown(() => downloadCerts(s, 'zz'.repeat(32))).message).to.equal(`${phase}error decoding certificate key: encoding/hex: invalid byte: U+007A 'z'`);
    expect(thrown(() => downloadCerts(s, 'abc')).message).to.equal(`${phase}error decoding certificate key: encoding/hex: odd length hex string`);
    expect(thrown(() => downloadCerts(s, 'ab'.repeat(10))).message).to.equal(`${phase}error decoding secret data with provided key: crypto/aes: invalid key size 10`);
  });

  it('names a file the Secret lacks', () => {
    const key = createCertificateKey();
    const s = kubeadmCertsSecret(pki, key);
    const { ['etcd-ca.key']: _drop, ...rest } = s.data;
    const err = thrown(() => downloadCerts({ data: rest }, key));
    expect(err.code).to.equal('FILE_MISSING');
    expect(err.message).to.include('the Secret does not include the required certificate or key - name: etcd/ca.key');
  });

  it('the joining node keeps the CAs and issues its own leaves for its name and address, written 0600', async () => {
    const key = createCertificateKey();
    const files = downloadCerts(kubeadmCertsSecret(pki, key), key);
    const t = tempDir('join-cp-');
    try {
      const joined = await joinControlPlanePki(files, { plan: pki.plan, nodeName: 'cp-2', advertiseAddress: '127.0.1.2' }, t.dir);
      expect(caPem(joined, 'ca')).to.equal(caPem(pki, 'ca'));
      const api = joined.leaves.get('apiserver')!.cert;
      expect(api.checkIP('127.0.1.2')).to.equal('127.0.1.2');
      expect(api.checkIP('127.0.1.1')).to.equal(undefined);
      expect(api.checkHost('cp-2')).to.equal('cp-2');
      expect(api.verify(pki.signers.get('ca')!.cert.publicKey)).to.equal(true);
      expect(joined.leaves.get('etcd/server')!.cert.verify(pki.signers.get('etcd/ca')!.cert.publicKey)).to.equal(true);
      expect(joined.leaves.get('etcd/peer')!.cert.subject).to.equal('CN=cp-2');
      for (const f of ['pki/ca.key', 'pki/etcd/ca.key', 'pki/front-proxy-ca.key', 'pki/sa.key', 'pki/apiserver.key', 'pki/etcd/peer.key', 'admin.conf', 'scheduler.conf']) {
        expect((await fs.stat(path.join(t.dir, f))).mode & 0o777, f).to.equal(0o600);
      }
      expect(await fs.readFile(path.join(t.dir, 'admin.conf'), 'utf8')).to.include('server: https://127.0.1.2:6443');
      const err = await joinControlPlanePki(files, { plan: pki.plan, nodeName: 'cp-3', advertiseAddress: 'not-an-ip' }).then(() => undefined, (e: unknown) => e);
      expect((err as PkiError).code).to.equal('BAD_ARGUMENT');
    } finally { t.remove(); }
  });
});
