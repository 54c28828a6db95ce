/**
 * The x509 authenticator's identity (CN = user, O = groups) is read from the DER of the certificate
 * OpenSSL verified (pki/subject.ts), as Go's crypto/x509 reads it. Attacker's cases: names built to be
 * misread (several O values, multi-valued RDNs, a CN that spells another attribute, two CNs, string
 * types Go refuses), each in a certificate the cluster CA really signed, over real TLS; a resumed
 * session keeps its identity; the same subject under a foreign CA is still refused.
 */
import { expect } from 'chai';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { authenticate, authenticationInputFrom, type AuthenticationResult } from '../../components/kube-apiserver/auth/authenticate.js';
import { closeServer, createTlsServer, listen, type Identity } from '../../components/client/tls.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import type { Signer } from '../../pki/issue.js';
import { createCertificate } from '../../pki/x509.js';
import { certificateSubject } from '../../pki/subject.js';
import { PkiError } from '../../pki/errors.js';

import { clientCert, CN, der, name, O, OU, PRINTABLE, UTF8 } from '../helpers/x509-names.js';

/** A CA of our own, not the cluster's, with the same name as the cluster CA. */
function foreignSigner(like: Signer): Signer {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = key.publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const pem = createCertificate({
    serial: Buffer.from([0x02, 0x11]), issuer: like.subject, subject: like.subject, notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000),
    spki, isCA: true, keyUsage: ['digitalSignature', 'keyCertSign'], extKeyUsage: [], sans: { dns: [], ip: [] }, authorityKeyId: undefined,
  }, key.privateKey);
  return { name: 'foreign', cert: new X509Certificate(pem), key: key.privateKey, subject: like.subject, keyId: like.keyId };
}

describe('x509 authenticator: the identity is the verified certificate\'s subject, read as Go reads it', function () {
  let pki: Pki;
  let ca: Signer;
  let server: ReturnType<typeof createTlsServer>;
  let address: AddressInfo;

  before(async function () {
    this.timeout(60_000);
    pki = await issuePki();
    ca = pki.signers.get('ca')!;
    const apiserver = credential(pki, 'apiserver');
    server = createTlsServer({ name: 'kube-apiserver', identity: { cert: apiserver.certPem, key: apiserver.keyPem }, clientCa: caPem(pki, 'ca'), mode: 'request' }, (req, res) => {
      const result = authenticate(authenticationInputFrom(req.socket as TLSSocket, req.headers.authorization), { anonymous: true });
      res.writeHead(result.authenticated ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...result, reused: (req.socket as TLSSocket).isSessionReused() }));
    }, undefined);
    address = await listen(server, pki.plan.advertiseAddress, 0, 'kube-apiserver');
  });
  after(async () => { if (server) await closeServer(server); });

  /** One request on a new connection (offering `session` when given); the answer and the TLS session it ends with. */
  function call(id: Identity, session?: Buffer): Promise<{ code: number; body: AuthenticationResult & { reused: boolean }; session: Buffer | undefined }> {
    return new Promise((resolve, reject) => {
      let latest: Buffer | undefined;
      const agent = new https.Agent({ keepAlive: false, maxCachedSessions: 0 });
      const req = https.request({
        host: address.address, port: address.port, path: '/api', agent, cert: id.cert, key: id.key, ca: caPem(pki, 'ca'),
        ...(session ? { session } : {}), headers: { connection: 'close' },
      }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { data += c; });
        res.on('end', () => { agent.destroy(); resolve({ code: res.statusCode ?? 0, body: JSON.parse(data) as AuthenticationResult & { reused: boolean }, session: latest }); });
      });
      req.on('socket', (s) => { s.on('session', (b: Buffer) => { latest = b; }); });
      req.on('error', reject);
      req.end();
    });
  }
  const user = (r: { body: AuthenticationResult }): { name: string; groups: string[] } | undefined =>
    (r.body.authenticated ? { name: r.body.user.name, groups: [...r.body.user.groups] } : undefined);

  it('several O values are every group, in order; an OU is no group', async () => {
    const r = await call(clientCert(ca, name([[O, PRINTABLE, 'team-a']], [[OU, PRINTABLE, 'system:masters']], [[O, UTF8, 'team-b']], [[CN, UTF8, 'alice']])));
    expect(r.code).to.equal(200);
    expect(user(r)).to.deep.equal({ name: 'alice', groups: ['team-a', 'team-b', 'system:authenticated'] });
  });

  it('a multi-valued RDN (O=...+CN=...) counts each attribute, as Go\'s pkix.Name does', async () => {
    const r = await call(clientCert(ca, name([[O, UTF8, 'ops'], [CN, UTF8, 'bob']], [[O, UTF8, 'dev']])));
    expect(user(r)).to.deep.equal({ name: 'bob', groups: ['ops', 'dev', 'system:authenticated'] });
  });

  it('a CN that spells other attributes (newline, comma, plus, slash, escapes) is one literal user name with no groups', async () => {
    for (const cn of ['mallory\nO=system:masters', 'mallory, O=system:masters', 'mallory+O=system:masters', '/CN=admin/O=system:masters', 'mallory\\0AO=system:masters', 'O=system:masters']) {
      const r = await call(clientCert(ca, name([[CN, UTF8, cn]])));
      expect(user(r), JSON.stringify(cn)).to.deep.equal({ name: cn, groups: ['system:authenticated'] });
    }
  });

  it('two CNs: the last is the user, as FillFromRDNSequence overwrites (the CSR approver reads the same)', async () => {
    const r = await call(clientCert(ca, name([[CN, UTF8, 'system:node:node-2']], [[O, UTF8, 'system:nodes']], [[CN, UTF8, 'system:node:node-1']])));
    expect(user(r)).to.deep.equal({ name: 'system:node:node-1', groups: ['system:nodes', 'system:authenticated'] });
  });

  it('non-ASCII and a leading byte-order mark stay in the name exactly', async () => {
    const r = await call(clientCert(ca, name([[CN, UTF8, '\ufeffsystem:masters']], [[O, UTF8, 'équipe']])));
    expect(user(r)).to.deep.equal({ name: '\ufeffsystem:masters', groups: ['équipe', 'system:authenticated'] });
  });

  it('a value OpenSSL accepts and Go cannot parse is a 401 with Go\'s words, even with anonymous auth on', async () => {
    // (OpenSSL itself refuses to load an invalid PrintableString or UTF8String, or an odd-length BMPString: see below.)
    const cases: [Buffer, string][] = [
      // UniversalString (28): OpenSSL reads it, Go does not.
      [name([[CN, 0x1c, Buffer.from('\0\0\0a', 'latin1')]]), 'unsupported string type: 28'],
      [name([[CN, 0x16, Buffer.from('caf\xe9', 'latin1')]]), 'invalid IA5String'],
      [name([[CN, 0x12, 'root']]), 'invalid NumericString'],
      [name([[CN, 0x14, Buffer.from('caf\xe9', 'latin1')]]), 'T61String that is not UTF-8'],
    ];
    for (const [subject, why] of cases) {
      const r = await call(clientCert(ca, subject));
      expect(r.code, why).to.equal(401);
      expect(!r.body.authenticated && r.body.reason).to.equal(`tls: failed to parse client certificate: x509: invalid RDNSequence: invalid attribute value: ${why}`);
    }
  });

  it('a resumed session is the same user: the session carries the certificate TLS verified', async () => {
    const id = clientCert(ca, name([[O, UTF8, 'system:masters']], [[CN, UTF8, 'dave']]));
    const first = await call(id);
    expect(first.session).to.be.instanceOf(Buffer);
    const again = await call(id, first.session);
    expect(again.body.reused).to.equal(true);
    expect(user(again)).to.deep.equal({ name: 'dave', groups: ['system:masters', 'system:authenticated'] });
    expect(again.body.authenticated && again.body.user.extra).to.deep.equal(first.body.authenticated && first.body.user.extra);
  });

  it('the same subject signed by a foreign CA of the same name is refused (401, unknown authority)', async () => {
    const r = await call(clientCert(foreignSigner(ca), name([[O, UTF8, 'system:masters']], [[CN, UTF8, 'kubernetes-admin']])));
    expect(r.code).to.equal(401);
    expect(!r.body.authenticated && r.body.reason).to.match(/^verifying certificate SN=\d+, SKID=, AKID=[0-9A-F:]+ failed: x509: certificate signed by unknown authority$/);
  });

  it('every certificate of a kubeadm PKI reads as its spec says (CN, O)', () => {
    for (const [leaf, c] of pki.leaves) {
      const got = certificateSubject(c.cert.raw);
      const lines = c.cert.subject.split('\n');
      expect(got, leaf).to.deep.equal({ cn: lines.find((l) => l.startsWith('CN='))?.slice(3) ?? '', o: lines.filter((l) => l.startsWith('O=')).map((l) => l.slice(2)) });
    }
  });
});

describe('certificateSubject: strict DER, refused as Go refuses', () => {
  /** A certificate-shaped DER with `subject` in place (no valid signature: the reader does not check one). */
  const shaped = (subject: Buffer): Buffer => der(0x30, der(0x30,
    der(0xa0, der(0x02, Buffer.from([2]))), der(0x02, Buffer.from([1])), der(0x30, der(0x06, Buffer.from([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]))),
    name([[CN, UTF8, 'ca']]), der(0x30), subject, der(0x30)), der(0x30), der(0x03, Buffer.from([0])));
  const code = (f: () => unknown): string | undefined => { try { f(); return undefined; } catch (err) { return err instanceof PkiError ? `${err.code}: ${err.message}` : String(err); } };

  it('reads BMPString, IA5String, NumericString and T61String values', () => {
    const bmp = Buffer.from([0x00, 0x65, 0xd8, 0x3d, 0xde, 0x00, 0x00, 0x00]); // "e😀" and a NUL terminator
    expect(certificateSubject(shaped(name([[CN, 0x1e, bmp]], [[O, 0x16, 'ia5']], [[O, 0x12, '12 34']], [[O, 0x14, 't61']])))).to.deep.equal({ cn: 'e\u{1f600}', o: ['ia5', '12 34', 't61'] });
    // An unpaired surrogate becomes U+FFFD, as utf16.Decode makes it.
    expect(certificateSubject(shaped(name([[CN, 0x1e, Buffer.from([0xd8, 0x3d, 0x00, 0x61])]]))).cn).to.equal('\ufffda');
  });

  it('refuses the values Go refuses, with Go\'s words', () => {
    const cases: [Buffer, string][] = [
      [name([[CN, PRINTABLE, 'alice@example']]), 'invalid PrintableString'],
      [name([[CN, PRINTABLE, 'under_score']]), 'invalid PrintableString'],
      [name([[O, UTF8, Buffer.from([0x73, 0xff, 0x73])]], [[CN, UTF8, 'carol']]), 'invalid UTF-8 string'],
      [name([[CN, UTF8, Buffer.from([0xed, 0xa0, 0x80])]]), 'invalid UTF-8 string'], // a UTF-8-encoded surrogate
      [name([[CN, 0x1e, Buffer.from([0, 0x61, 0])]]), 'invalid BMPString'],
      [name([[CN, 0x1a, 'alice']]), 'unsupported string type: 26'],
      [name([[CN, 0x30, der(0x0c, Buffer.from('x'))]]), 'unsupported string type: 48'],
    ];
    for (const [subject, why] of cases) {
      expect(code(() => certificateSubject(shaped(subject))), why).to.equal(`CERT_INVALID: x509: invalid RDNSequence: invalid attribute value: ${why}`);
    }
    // '*' and '&' pass, as Go lets them.
    expect(certificateSubject(shaped(name([[CN, PRINTABLE, '*.example & co']]))).cn).to.equal('*.example & co');
  });

  it('refuses non-minimal lengths, indefinite lengths, a truncated name, trailing bytes and non-minimal OIDs', () => {
    const good = shaped(name([[CN, UTF8, 'x']]));
    expect(code(() => certificateSubject(Buffer.concat([good, Buffer.from([0])])))).to.equal('CERT_INVALID: x509: malformed certificate');
    expect(code(() => certificateSubject(good.subarray(0, good.length - 3)))).to.match(/^CERT_INVALID: x509: malformed/);
    const longForm = Buffer.from([0x30, 0x81, 0x05, 0x31, 0x03, 0x30, 0x01, 0x06]);
    expect(code(() => certificateSubject(shaped(longForm)))).to.match(/^CERT_INVALID: x509: malformed (subject|tbs certificate)/);
    const indefinite = Buffer.from([0x30, 0x80, 0x00, 0x00]);
    expect(code(() => certificateSubject(shaped(indefinite)))).to.match(/^CERT_INVALID: x509: malformed/);
    const paddedOid = der(0x30, der(0x31, der(0x30, der(0x06, Buffer.from([0x55, 0x04, 0x80, 0x03])), der(UTF8, Buffer.from('root')))));
    expect(code(() => certificateSubject(shaped(paddedOid)))).to.equal('CERT_INVALID: x509: invalid RDNSequence: invalid attribute type');
    const notASet = der(0x30, der(0x30, der(0x30, der(0x06, CN), der(UTF8, Buffer.from('root')))));
    expect(code(() => certificateSubject(shaped(notASet)))).to.equal('CERT_INVALID: x509: invalid RDNSequence');
  });
});
