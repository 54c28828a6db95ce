import { expect } from 'chai';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { authenticate, authenticateByCertificate, authenticationInputFrom, type AuthenticationOptions, type AuthenticationResult } from '../../components/kube-apiserver/auth/authenticate.js';
import { keyIdFor, signServiceAccountToken, verifyServiceAccountToken } from '../../components/kube-apiserver/auth/serviceaccount-token.js';
import { closeServer, createTlsAgent, createTlsServer, listen, type Identity } from '../../components/client/tls.js';
import { caPem, credential, issuePki, type LeafName, type Pki } from '../../pki/store.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const identity = (pki: Pki, name: LeafName): Identity => {
  const c = credential(pki, name);
  return { cert: c.certPem, key: c.keyPem };
};
const decode = (part: string): unknown => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

describe('service-account tokens', () => {
  // A 2048-bit pair of our own: the token code is independent of the cluster PKI.
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const request = { namespace: 'kube-system', name: 'replicaset-controller', uid: 'sa-uid-1', now: NOW, jti: 'jti-1' };

  it('signs an RS256 JWS with the apiserver\'s kid and claims, keys sorted as go-jose emits them', () => {
    const token = signServiceAccountToken(request, sa.privateKey);
    const [h, p] = token.split('.') as [string, string, string];
    expect(decode(h)).to.deep.equal({ alg: 'RS256', kid: keyIdFor(sa.publicKey) });
    expect(Buffer.from(p, 'base64url').toString()).to.equal(
      '{"aud":["https://kubernetes.default.svc.cluster.local"],"exp":1748782800,"iat":1748779200,"iss":"https://kubernetes.default.svc.cluster.local","jti":"jti-1",' +
      '"kubernetes.io":{"namespace":"kube-system","serviceaccount":{"name":"replicaset-controller","uid":"sa-uid-1"}},"nbf":1748779200,"sub":"system:serviceaccount:kube-system:replicaset-controller"}',
    );
  });

  it('verifies into the service account user with its groups and credential id', () => {
    const result = verifyServiceAccountToken(signServiceAccountToken(request, sa.privateKey), sa.publicKey, NOW);
    expect(result.ok && result.user).to.deep.equal({
      name: 'system:serviceaccount:kube-system:replicaset-controller', uid: 'sa-uid-1',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system'],
      extra: { 'authentication.kubernetes.io/credential-id': ['JTI=jti-1'] },
    });
  });

  it('rejects an expired token (past the one-minute leeway) and one not yet valid', () => {
    const token = signServiceAccountToken({ ...request, expirationSeconds: 600 }, sa.privateKey);
    expect(verifyServiceAccountToken(token, sa.publicKey, new Date(NOW.getTime() + 660_000)).ok).to.equal(true);
    expect(verifyServiceAccountToken(token, sa.publicKey, new Date(NOW.getTime() + 661_000))).to.deep.equal({ ok: false, ours: true, reason: 'service account token has expired' });
    expect(verifyServiceAccountToken(token, sa.publicKey, new Date(NOW.getTime() - 61_000))).to.deep.equal({ ok: false, ours: true, reason: 'service account token is not valid yet' });
  });

  it('rejects a tampered payload and a token signed with another key', () => {
    const [h, , s] = signServiceAccountToken(request, sa.privateKey).split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...(decode(signServiceAccountToken(request, sa.privateKey).split('.')[1]!) as object), sub: 'system:serviceaccount:kube-system:generic-garbage-collector' })).toString('base64url');
    const crypto = { ok: false, ours: true, reason: 'go-jose/go-jose: error in cryptographic primitive' };
    expect(verifyServiceAccountToken(`${h}.${forged}.${s}`, sa.publicKey, NOW)).to.deep.equal(crypto);
    expect(verifyServiceAccountToken(signServiceAccountToken(request, other.privateKey), sa.publicKey, NOW)).to.deep.equal(crypto);
    // Several --service-account-key-file keys: any one may verify.
    expect(verifyServiceAccountToken(signServiceAccountToken(request, other.privateKey), [sa.publicKey, other.publicKey], NOW).ok).to.equal(true);
  });

  it('does not claim tokens of another issuer, and checks audiences and the ServiceAccount UID', () => {
    expect(verifyServiceAccountToken(signServiceAccountToken({ ...request, issuer: 'https://elsewhere' }, sa.privateKey), sa.publicKey, NOW)).to.include({ ok: false, ours: false });
    expect(verifyServiceAccountToken('not-a-jwt', sa.publicKey, NOW)).to.include({ ok: false, ours: false });
    expect(verifyServiceAccountToken(signServiceAccountToken({ ...request, audiences: ['vault'] }, sa.privateKey), sa.publicKey, NOW)).to.deep.equal({
      ok: false, ours: true, reason: 'token audiences ["vault"] is invalid for the target audiences ["https://kubernetes.default.svc.cluster.local"]',
    });
    const token = signServiceAccountToken(request, sa.privateKey);
    expect(verifyServiceAccountToken(token, sa.publicKey, NOW, { serviceAccountUid: () => 'sa-uid-2' })).to.deep.equal({ ok: false, ours: true, reason: 'service account UID (sa-uid-2) does not match claim (sa-uid-1)' });
    expect(verifyServiceAccountToken(token, sa.publicKey, NOW, { serviceAccountUid: () => undefined })).to.deep.equal({ ok: false, ours: true, reason: 'serviceaccount "replicaset-controller" not found' });
  });

  it('authenticates a Bearer header, adding system:authenticated; a bad token is a 401 even with anonymous on', () => {
    const options: AuthenticationOptions = { serviceAccountPublicKeyPem: sa.publicKey, now: NOW };
    const none = { authorized: false, authorizationError: null, peerCert: null };
    const ok = authenticate({ ...none, authorizationHeader: `Bearer ${signServiceAccountToken(request, sa.privateKey)}` }, options);
    expect(ok.authenticated && ok.user.groups).to.deep.equal(['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated']);
    expect(ok.authenticated && ok.method).to.equal('serviceaccount');
    const expired = authenticate({ ...none, authorizationHeader: `bearer ${signServiceAccountToken({ ...request, now: new Date(NOW.getTime() - 7200_000) }, sa.privateKey)}` }, options);
    expect(expired).to.deep.equal({
      authenticated: false, reason: 'service account token has expired',
      status: { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 },
    });
    expect(authenticate({ ...none, authorizationHeader: 'Bearer abc.def' }, options)).to.include({ authenticated: false, reason: 'invalid bearer token' });
    // Not a bearer scheme: no token at all, so anonymous.
    expect(authenticate({ ...none, authorizationHeader: 'Basic Zm9vOmJhcg==' }, options)).to.deep.include({ authenticated: true, method: 'anonymous' });
  });
});

describe('authenticate over real TLS (apiserver-style `request` mode)', function () {
  let pki: Pki;
  let server: https.Server;
  let address: AddressInfo;
  let options: AuthenticationOptions = {};

  before(async function () {
    this.timeout(60_000);
    pki = await issuePki();
    server = createTlsServer({ name: 'kube-apiserver', identity: identity(pki, 'apiserver'), clientCa: caPem(pki, 'ca'), mode: 'request' }, (req, res) => {
      const result = authenticate(authenticationInputFrom(req.socket as TLSSocket, req.headers.authorization), options);
      res.writeHead(result.authenticated ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    }, undefined);
    address = await listen(server, pki.plan.advertiseAddress, 0, 'kube-apiserver');
  });
  after(async () => { if (server) await closeServer(server); });

  async function call(clientIdentity: Identity | undefined, authorization?: string): Promise<{ code: number; body: AuthenticationResult }> {
    const agent = createTlsAgent({ name: 'test', target: 'kube-apiserver', ...(clientIdentity ? { identity: clientIdentity } : {}), serverCa: caPem(pki, 'ca') }, undefined);
    try {
      return await new Promise((resolve, reject) => {
        const req = https.request({ host: address.address, port: address.port, path: '/api', agent, headers: authorization ? { authorization } : {} }, (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => { data += c; });
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body: JSON.parse(data) as AuthenticationResult }));
        });
        req.on('error', reject);
        req.end();
      });
    } finally {
      agent.destroy();
    }
  }

  beforeEach(() => { options = { serviceAccountPublicKeyPem: pki.serviceAccount.publicKeyPem, now: NOW }; });
  /** user.CredentialIDKey as CommonNameUserConversion sets it, computed here by node:crypto on its own. */
  const credentialId = (name: LeafName): Record<string, string[]> =>
    ({ 'authentication.kubernetes.io/credential-id': [`X509SHA256=${new X509Certificate(credential(pki, name).certPem).fingerprint256.replace(/:/g, '').toLowerCase()}`] });

  it('a verified client certificate: user = CN, groups = O values + system:authenticated, credential ID = the certificate\'s SHA-256', async () => {
    const { code, body } = await call(identity(pki, 'admin.conf'));
    expect(code).to.equal(200);
    expect(body).to.deep.equal({
      authenticated: true, method: 'x509',
      user: { name: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'], extra: credentialId('admin.conf') },
    });
    const node = await call(identity(pki, 'nodes/node-1/kubelet.conf'));
    expect(node.body).to.deep.include({ user: { name: 'system:node:node-1', groups: ['system:nodes', 'system:authenticated'], extra: credentialId('nodes/node-1/kubelet.conf') } });
  });

  it('a certificate from another CA: 401 with Go\'s reason, the handshake itself completes', async () => {
    const { code, body } = await call(identity(pki, 'apiserver-etcd-client'));
    expect(code).to.equal(401);
    expect(body.authenticated).to.equal(false);
    if (body.authenticated) return;
    expect(body.reason).to.match(/^verifying certificate SN=\d+, SKID=, AKID=[0-9A-F]{2}(:[0-9A-F]{2})+ failed: x509: certificate signed by unknown authority$/);
    expect(body.status).to.include({ code: 401, reason: 'Unauthorized', message: 'Unauthorized' });
  });

  it('a server-only certificate used as a client: 401 incompatible key usage', async () => {
    const { code, body } = await call(identity(pki, 'apiserver'));
    expect(code).to.equal(401);
    expect(!body.authenticated && body.reason).to.match(/failed: x509: certificate specifies an incompatible key usage$/);
  });

  it('no certificate: system:anonymous in system:unauthenticated, or 401 with anonymous auth off', async () => {
    expect((await call(undefined)).body).to.deep.equal({ authenticated: true, method: 'anonymous', user: { name: 'system:anonymous', groups: ['system:unauthenticated'] } });
    options = { ...options, anonymous: false };
    const off = await call(undefined);
    expect(off.code).to.equal(401);
  });

  it('a failed certificate plus a valid service-account token authenticates by the token; a good certificate wins over a token', async () => {
    const token = signServiceAccountToken({ namespace: 'kube-system', name: 'endpoint-controller', uid: 'u1', now: NOW }, pki.serviceAccount.privateKeyPem);
    const viaToken = await call(identity(pki, 'apiserver-etcd-client'), `Bearer ${token}`);
    expect(viaToken.body).to.deep.include({ authenticated: true, method: 'serviceaccount' });
    const viaCert = await call(identity(pki, 'scheduler.conf'), `Bearer ${token}`);
    expect(viaCert.body).to.deep.equal({ authenticated: true, method: 'x509', user: { name: 'system:kube-scheduler', groups: ['system:authenticated'], extra: credentialId('scheduler.conf') } });
  });
});

describe('authenticate (x509 outcomes from TLS verdicts)', () => {
  const cert = { cn: 'system:kube-scheduler', o: [], serialNumber: '0100', subjectKeyId: '', authorityKeyId: 'AB:CD' };

  it('formats the failure like x509.certificateIdentifier, with the decimal serial', () => {
    const r = authenticate({ authorized: false, authorizationError: 'CERT_HAS_EXPIRED', peerCert: cert });
    expect(r).to.include({ authenticated: false, reason: 'verifying certificate SN=256, SKID=, AKID=AB:CD failed: x509: certificate has expired or is not yet valid' });
  });

  it('an empty CN is no opinion, not an error: anonymous when allowed, 401 otherwise', () => {
    const input = { authorized: true, authorizationError: null, peerCert: { ...cert, cn: '' } };
    expect(authenticate(input)).to.deep.include({ authenticated: true, method: 'anonymous' });
    expect(authenticate(input, { anonymous: false })).to.include({ authenticated: false });
  });

  it('authenticateByCertificate answers only where the x509 authenticator decides the union, and then as authenticate does', () => {
    const token = 'Bearer not-a-token';
    const verified = { authorized: true, authorizationError: null, peerCert: { ...cert, o: ['system:masters'] }, authorizationHeader: token };
    expect(authenticateByCertificate(verified)).to.deep.equal(authenticate(verified, { anonymous: false }));
    expect(authenticateByCertificate(verified)).to.deep.include({ authenticated: true, method: 'x509' });
    for (const input of [
      { ...verified, authorized: false, authorizationError: 'CERT_HAS_EXPIRED' },
      { ...verified, peerCert: { ...cert, cn: '' } },
      { ...verified, peerCert: { ...cert, invalid: 'x509: invalid RDNSequence' } },
      { ...verified, peerCert: null },
    ]) expect(authenticateByCertificate(input)).to.equal(undefined);
  });

  it('a bad certificate is a 401 even with anonymous auth on', () => {
    expect(authenticate({ authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', peerCert: cert }, { anonymous: true }).authenticated).to.equal(false);
  });
});
