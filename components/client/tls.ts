/**
 * Shared TLS plumbing for every component: an HTTPS server that records each handshake (with the
 * server-side reason when it refuses one), and an HTTPS agent for clients that records what the client
 * saw. Verification is always done by TLS itself (OpenSSL through node:tls); this module only watches
 * and explains.
 */
import https from 'node:https';
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import { constants as cryptoConstants, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { CertSummary, TlsCause, Trace } from './trace.js';
import { lendAddresses, recordAccepted } from './wire.js';

/**
 * What every TLS server and client here negotiates: Go's crypto/tls defaults, which kube-apiserver,
 * etcd, the kubelet, kubectl and client-go use when no --tls-cipher-suites / --tls-min-version is set.
 *
 * - TLS 1.2 and 1.3 only (Go's default minimum for servers since 1.22, for clients since 1.18).
 * - TLS 1.3: Go's three suites (Go does not let them be configured).
 * - TLS 1.2: the ECDHE AEAD suites of Go's list (crypto/tls defaults.go, cipher_suites.go). Go 1.22
 *   dropped the RSA key-exchange suites (tlsrsakex) and Go 1.23 3DES; **one deliberate difference:** Go's
 *   default list still ends with the four ECDHE CBC-SHA1 suites (ECDHE-{ECDSA,RSA}-AES{128,256}-SHA),
 *   which are left out here so that no CBC suite is ever negotiated (issue 11 asks for AEAD only; every
 *   real client of this project, kubectl, curl, etcdctl, client-node, openssl, prefers AEAD anyway). A
 *   client offering only those four is refused here where a Go server would accept it.
 * - Key exchange groups: Go's X25519, P-256, P-384, P-521 (Go 1.24's X25519MLKEM768 is not in OpenSSL 3.0).
 * - No renegotiation: a Go server answers a ClientHello after the handshake with a no_renegotiation alert,
 *   and a Go client refuses a server's HelloRequest (Renegotiation: RenegotiateNever). Node servers
 *   otherwise accept three client-initiated renegotiations per 10 minutes (tls.CLIENT_RENEG_LIMIT).
 */
export const GO_TLS = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  ecdhCurve: 'X25519:P-256:P-384:P-521',
  secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
} as const satisfies tls.SecureContextOptions;

/** GO_TLS with the run's version cap (`--tls-max 1.2`, a sim knob carried by the Trace's wire). */
const goTls = (trace: Trace | undefined): tls.SecureContextOptions => ({ ...GO_TLS, maxVersion: trace?.wire?.tlsMax ?? 'TLSv1.3' });

/**
 * The same TLS 1.2 suites in Go's names, for the real Go programs this project spawns (etcd
 * --cipher-suites). The CHACHA20 names are Go's legacy ones, which every etcd release accepts.
 */
export const GO_TLS12_SUITE_NAMES = [
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
] as const;

export interface Identity {
  /** Certificate PEM (leaf first). */
  readonly cert: string;
  readonly key: string;
}

export interface ServerTlsOptions {
  /** Component name, for the trace (`etcd`, `kube-apiserver`, `kubelet (node-1)`). */
  readonly name: string;
  /**
   * The serving certificate. Absent: the server has none yet (a kubelet with serverTLSBootstrap whose
   * kubelet-serving CSR is not signed): every handshake fails until `reloadTls` installs one.
   */
  readonly identity?: Identity;
  /** PEM bundle of the CA(s) trusted for client certificates. */
  readonly clientCa: string;
  /**
   * `require`: the handshake itself fails without a client certificate that verifies (etcd with
   * --client-cert-auth). `request`: a certificate is asked for but any handshake completes, and the
   * component's authenticators decide from `socket.authorized` (kube-apiserver, kubelet).
   */
  readonly mode: 'require' | 'request';
}

export interface ClientTlsOptions {
  /** The client component's name and the server it dials, for the trace. */
  readonly name: string;
  readonly target: string;
  /** Absent: the client presents no certificate. */
  readonly identity?: Identity;
  /** PEM bundle trusted for the server's certificate. */
  readonly serverCa: string;
  /**
   * Whether to verify the server's certificate. Only kubeadm's default apiserver→kubelet link
   * (no --kubelet-certificate-authority) turns this off; every other client verifies.
   */
  readonly verifyServer?: boolean;
  readonly servername?: string;
}

/** The CN of the first certificate of a PEM bundle, for naming what a side trusts. */
export function caName(pem: string): string {
  const all = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!all) return '?';
  // A bundle (CA rotation: old + new) names every CA in it.
  return all.map((b) => { const subject = new X509Certificate(b).subject; return /CN=([^\n]*)/.exec(subject)?.[1] ?? subject; }).join(' + ');
}

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const EKU_NAMES: Readonly<Record<string, string>> = { '1.3.6.1.5.5.7.3.1': 'serverAuth', '1.3.6.1.5.5.7.3.2': 'clientAuth' };
const ekuNames = (oids: readonly string[] | undefined): string[] => (oids ?? []).map((o) => EKU_NAMES[o] ?? o);
const iso = (d: string | undefined): string | undefined => {
  const t = d === undefined ? NaN : Date.parse(d);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
};
const sanList = (s: string | undefined): string[] => (s ? s.split(', ').map((x) => x.trim()).filter(Boolean) : []);

/** What a report's trust tree shows beyond the names: validity, SANs, EKUs, key. */
function details(f: { notBefore: string | undefined; notAfter: string | undefined; sans: string | undefined; eku: readonly string[] | undefined; key: string | undefined }): Partial<CertSummary> {
  const nb = iso(f.notBefore);
  const na = iso(f.notAfter);
  return { ...(nb ? { notBefore: nb } : {}), ...(na ? { notAfter: na } : {}), sans: sanList(f.sans), eku: ekuNames(f.eku), ...(f.key ? { key: f.key } : {}) };
}

const CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

function peerKey(c: PeerCertificate): string | undefined {
  const ec = c as PeerCertificate & { asn1Curve?: string; nistCurve?: string };
  if (ec.nistCurve || ec.asn1Curve) return `ECDSA ${ec.nistCurve ?? CURVES[ec.asn1Curve!] ?? ec.asn1Curve}`;
  if (c.modulus && c.bits) return `RSA ${c.bits}`;
  try { return c.pubkey ? keyName(createPublicKey({ key: c.pubkey, format: 'der', type: 'spki' })) : undefined; } catch { return undefined; }
}

function keyName(k: KeyObject): string {
  const d = k.asymmetricKeyDetails ?? {};
  switch (k.asymmetricKeyType) {
    case 'rsa': return `RSA ${d.modulusLength ?? '?'}`;
    case 'ec': return `ECDSA ${CURVES[d.namedCurve ?? ''] ?? d.namedCurve ?? '?'}`;
    case 'ed25519': return 'Ed25519';
    default: return k.asymmetricKeyType ?? '?';
  }
}

export function summarizePeer(c: PeerCertificate | undefined | null): CertSummary | null {
  if (!c || Object.keys(c).length === 0 || !c.subject) return null;
  return {
    cn: asList(c.subject.CN)[0] ?? '', o: asList(c.subject.O), issuer: asList(c.issuer?.CN)[0] ?? '', ...(c.serialNumber ? { serial: c.serialNumber.toUpperCase() } : {}),
    ...details({ notBefore: c.valid_from, notAfter: c.valid_to, sans: c.subjectaltname, eku: c.ext_key_usage, key: peerKey(c) }),
  };
}

export function summarizePem(pem: string): CertSummary {
  const x = new X509Certificate(pem);
  const field = (s: string, k: string): string[] => s.split('\n').filter((l) => l.startsWith(`${k}=`)).map((l) => l.slice(k.length + 1));
  return {
    cn: field(x.subject, 'CN')[0] ?? '', o: field(x.subject, 'O'), issuer: field(x.issuer, 'CN')[0] ?? '', serial: x.serialNumber.toUpperCase(),
    ...details({ notBefore: x.validFrom, notAfter: x.validTo, sans: x.subjectAltName, eku: x.keyUsage, key: keyName(x.publicKey) }),
  };
}

interface TlsFault {
  readonly cause: TlsCause;
  /** Go's words; absent: the error's own message (or code) is the best there is. */
  readonly reason?: string;
}

const UNKNOWN_AUTHORITY: TlsFault = { cause: 'unknown-authority', reason: 'x509: certificate signed by unknown authority' };
const EXPIRED_OR_NOT_YET = 'x509: certificate has expired or is not yet valid';

/**
 * OpenSSL's verify codes and Node's TLS errors: each one's closed-set cause (trace.ts TlsCause) and the
 * words Go's crypto/x509 and crypto/tls print for it, which is what users meet in kubectl, kubelet and
 * etcd logs. One table, so that the cause and the words can never disagree.
 */
const TLS_FAULTS: ReadonlyMap<string, TlsFault> = new Map<string, TlsFault>([
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', UNKNOWN_AUTHORITY],
  ['UNABLE_TO_GET_ISSUER_CERT', UNKNOWN_AUTHORITY],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', UNKNOWN_AUTHORITY],
  ['SELF_SIGNED_CERT_IN_CHAIN', UNKNOWN_AUTHORITY],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', UNKNOWN_AUTHORITY],
  ['CERT_SIGNATURE_FAILURE', UNKNOWN_AUTHORITY],
  ['CERT_HAS_EXPIRED', { cause: 'expired', reason: EXPIRED_OR_NOT_YET }],
  ['CERT_NOT_YET_VALID', { cause: 'not-yet-valid', reason: EXPIRED_OR_NOT_YET }],
  ['INVALID_PURPOSE', { cause: 'wrong-usage', reason: 'x509: certificate specifies an incompatible key usage' }],
  ['NO_CLIENT_CERT', { cause: 'no-certificate', reason: "tls: client didn't provide a certificate" }],
  ['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', { cause: 'no-certificate', reason: "tls: client didn't provide a certificate" }],
  ['ECONNRESET', { cause: 'reset', reason: 'connection reset by peer: the server refused the handshake' }],
  ['EPIPE', { cause: 'reset' }],
  ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', { cause: 'peer-required-certificate', reason: 'remote error: tls: certificate required' }],
  ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', { cause: 'peer-refused-certificate', reason: 'remote error: tls: unknown certificate authority' }],
  ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', { cause: 'peer-refused-certificate', reason: 'remote error: tls: bad certificate' }],
  ['ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR', { cause: 'peer-refused-certificate', reason: 'remote error: tls: error decrypting message' }],
  ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', { cause: 'handshake-failure', reason: 'remote error: tls: handshake failure' }],
  ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', { cause: 'protocol-version', reason: 'remote error: tls: protocol version not supported' }],
  // A client's view: the server chose a version below TLS 1.2.
  ['ERR_SSL_UNSUPPORTED_PROTOCOL', { cause: 'protocol-version', reason: 'tls: server selected unsupported protocol version' }],
  ['ERR_SSL_NO_RENEGOTIATION', { cause: 'renegotiation', reason: 'remote error: tls: no renegotiation' }],
  ['ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM', { cause: 'no-server-certificate', reason: 'tls: no certificates configured' }],
  ['ERR_SSL_NO_SHARED_CIPHER', { cause: 'no-shared-cipher', reason: 'tls: no cipher suite supported by both client and server' }],
  ['ERR_TLS_HANDSHAKE_TIMEOUT', { cause: 'handshake-timeout' }],
  ['ECONNREFUSED', { cause: 'connection-refused' }],
]);

/** A failure's cause and Go's words for it; `message` is read only where one code stands for several faults. */
function tlsFault(code: string | undefined, message: string): { cause: TlsCause; reason: string } {
  if (code === undefined) return { cause: 'none', reason: message || 'unknown TLS error' };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    // Node: "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: 10.96.0.1, 127.0.1.1"
    const ip = /IP: (\S+) is not in the cert's list: (.*)$/.exec(message);
    // Go's VerifyHostname: a certificate with no IP SANs at all is worded apart.
    if (ip && ip[2]!.trim() === '') return { cause: 'name-mismatch', reason: `x509: cannot validate certificate for ${ip[1]} because it doesn't contain any IP SANs` };
    if (ip) return { cause: 'name-mismatch', reason: `x509: certificate is valid for ${ip[2]}, not ${ip[1]}` };
    const host = /Host: (\S+)\. is not in the cert's altnames: (.*)$/.exec(message);
    if (host) return { cause: 'name-mismatch', reason: `x509: certificate is valid for ${host[2]!.replace(/DNS:/g, '')}, not ${host[1]}` };
    return { cause: 'name-mismatch', reason: `x509: ${message}` };
  }
  if (code === 'EPROTO') {
    // A write during the handshake met the peer's alert: OpenSSL's text names it.
    if (/alert handshake failure/.test(message)) return { cause: 'handshake-failure', reason: 'remote error: tls: handshake failure' };
    // The server answered a renegotiation with the no_renegotiation alert, as a Go server does.
    if (/no renegotiation/.test(message)) return { cause: 'renegotiation', reason: 'remote error: tls: no renegotiation' };
    return { cause: 'other', reason: message || code };
  }
  const fault = TLS_FAULTS.get(code);
  return { cause: fault?.cause ?? 'other', reason: fault?.reason ?? (message || code) };
}

/** Go's words for a TLS failure (OpenSSL's verify code or Node's error code, and its message). */
export const goReason = (code: string | undefined, message = ''): string => tlsFault(code, message).reason;

/** The same failure as a closed set (trace.ts TlsCause), so that nobody downstream classifies it by its words. */
export const tlsCause = (code: string | undefined, message = ''): TlsCause => tlsFault(code, message).cause;

const addr = (ip: string | undefined, port: number | undefined): string => `${ip ?? '?'}:${port ?? '?'}`;

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * An HTTPS server whose every handshake is traced. In `request` mode the handler reads the client's
 * verdict from `(req.socket as TLSSocket).authorized` / `.authorizationError`.
 */
/**
 * New TLS material for a running server or client: what the real components get from their dynamic
 * certificate content (the apiserver's and kubelet's file watchers, client-go's rotating client
 * certificate). Fields left out keep their current value.
 */
export interface TlsReload {
  readonly identity?: Identity;
  /** The CA bundle: trusted for client certificates (server) or for the server's certificate (client). */
  readonly ca?: string;
}

/** An HTTPS server whose certificate and client-CA bundle can be swapped while it runs. */
export interface TlsServer extends https.Server {
  /**
   * Installs new material with `setSecureContext`: handshakes from now on use it; established
   * connections keep theirs, as with the apiserver's DynamicServingCertificateController.
   */
  reloadTls(material: TlsReload): void;
}

/** An HTTPS agent whose client certificate and trusted bundle can be swapped while it runs. */
export interface TlsAgent extends https.Agent {
  /**
   * New connections present the new certificate and verify against the new bundle; idle keep-alive
   * connections are closed and TLS sessions are not resumed (client-go closes its connections when
   * its certificate rotates). A request in flight (a watch) keeps its connection until it ends.
   */
  reloadTls(material: TlsReload): void;
}

/** Go's IdleTimeout on the servers (and http.DefaultTransport's IdleConnTimeout on the clients): 90 s. */
export const IDLE_TIMEOUT_MS = 90_000;

export function createTlsServer(options: ServerTlsOptions, handler: Handler, trace: Trace | undefined): TlsServer {
  let trusts = caName(options.clientCa);
  let serverCert = options.identity ? summarizePem(options.identity.cert) : null;
  const server = https.createServer({
    ...(options.identity ? { cert: options.identity.cert, key: options.identity.key } : {}),
    ca: options.clientCa,
    requestCert: true,
    rejectUnauthorized: options.mode === 'require',
    ...goTls(trace),
  }, handler);
  // An idle keep-alive connection stays 90 s, as Go's servers here keep it (the apiserver's and the
  // kubelet's http.Server IdleTimeout, "matches http.DefaultTransport keep-alive timeout"); node's
  // default of 5 s made clients dial again, with a full handshake, after every pause.
  server.keepAliveTimeout = IDLE_TIMEOUT_MS;
  recordAccepted(server, trace?.wire);
  let material = { identity: options.identity, ca: options.clientCa };
  let base = { type: 'tls-server' as const, server: options.name, serverCert, trusts, mode: options.mode };
  const reloadTls = (m: TlsReload): void => {
    material = { identity: m.identity ?? material.identity, ca: m.ca ?? material.ca };
    server.setSecureContext({ ...(material.identity ? { cert: material.identity.cert, key: material.identity.key } : {}), ca: material.ca, ...goTls(trace) });
    trusts = caName(material.ca);
    serverCert = material.identity ? summarizePem(material.identity.cert) : null;
    base = { ...base, serverCert, trusts };
  };
  server.on('secureConnection', (socket: TLSSocket) => {
    if (!trace?.active) return;
    const code = socket.authorizationError === null ? undefined : String(socket.authorizationError);
    const clientCert = summarizePeer(socket.getPeerCertificate());
    trace?.emit({
      ...base, local: addr(socket.localAddress, socket.localPort), peer: addr(socket.remoteAddress, socket.remotePort),
      clientCert, handshake: 'ok', verified: socket.authorized,
      ...(socket.authorized ? { cause: 'none' as const } : clientCert === null
        ? { code: 'NO_CLIENT_CERT', reason: 'no client certificate presented', cause: 'no-certificate' as const }
        : { code: code ?? 'UNKNOWN', reason: goReason(code), cause: code === undefined ? 'other' as const : tlsCause(code) }),
    });
  });
  // With rejectUnauthorized, Node ends a handshake whose client certificate fails verification by
  // destroying the socket: neither 'secureConnection' nor 'tlsClientError' fires. The 'keylog' event
  // hands us the socket during the handshake, so the refusal and OpenSSL's reason can be recorded.
  if (options.mode === 'require' && trace) {
    const seen = new WeakSet<TLSSocket>();
    server.on('keylog', (_line: Buffer, socket: TLSSocket) => {
      if (seen.has(socket)) return;
      seen.add(socket);
      const local = addr(socket.localAddress, socket.localPort);
      const peer = addr(socket.remoteAddress, socket.remotePort);
      let clientCert: CertSummary | null = null;
      // Runs before Node's own 'secure' listener, which destroys the socket.
      socket.prependOnceListener('secure', () => { clientCert = summarizePeer(socket.getPeerCertificate()); });
      socket.once('close', () => {
        if (socket.authorized || !socket.authorizationError) return;
        const code = String(socket.authorizationError);
        trace.emit({ ...base, local, peer, clientCert, handshake: 'refused', verified: false, code, reason: goReason(code), cause: tlsCause(code) });
      });
    });
  }
  // What a Go server says when the handshake fails on its side, as kube-apiserver logs it
  // ("http: TLS handshake error from 127.0.0.1:40122: <reason>").
  const serverReason = (code: string, message: string): string => {
    // OpenSSL finds no shared cipher when the server has no certificate at all (a kubelet waiting for its serving certificate).
    if (!material.identity && /NO_SHARED_CIPHER|NO_SUITABLE_SIGNATURE_ALGORITHM/.test(code)) return 'tls: no certificates configured';
    // Go also prints the versions the client offered ("[302 301]"); Node does not expose the ClientHello.
    if (code === 'ERR_SSL_UNSUPPORTED_PROTOCOL') return 'tls: client offered only unsupported versions';
    return goReason(code, message);
  };
  // The same fault as data; a server with no certificate finds no cipher it could use.
  const serverCause = (code: string, message: string): TlsCause =>
    !material.identity && /NO_SHARED_CIPHER|NO_SUITABLE_SIGNATURE_ALGORITHM/.test(code) ? 'no-server-certificate' : tlsCause(code, message);
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const code = err.code ?? err.message;
    // A socket refused above also errors with ECONNRESET after it is destroyed; it is already recorded.
    if (socket.authorizationError || socket.remoteAddress === undefined) return;
    let clientCert: CertSummary | null = null;
    try { clientCert = summarizePeer(socket.getPeerCertificate()); } catch { /* socket already gone */ }
    const noCertificate = clientCert === null && /CERTIFICATE|PEER_DID_NOT_RETURN/i.test(code);
    trace?.emit({
      ...base, local: addr(socket.localAddress, socket.localPort), peer: addr(socket.remoteAddress, socket.remotePort),
      clientCert, handshake: 'refused', verified: false, code,
      reason: noCertificate ? "tls: client didn't provide a certificate" : serverReason(code, err.message),
      cause: noCertificate ? 'no-certificate' : serverCause(code, err.message),
    });
  });
  return Object.assign(server, { reloadTls });
}

/** Listens and resolves with the real address; a busy port is a one-line error naming it. */
export function listen(server: https.Server, host: string, port: number, name: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EADDRNOTAVAIL' ? 'address not available on this machine' : err.message;
      reject(Object.assign(new Error(`${name}: cannot listen on ${host}:${port}: ${why}`), { code: err.code }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Closes a server and every connection it holds (keep-alive and watches included). */
export function closeServer(server: https.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) { resolve(); return; }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * An HTTPS agent for a client component: it presents `identity`, verifies the server against
 * `serverCa` (hostname and IP SANs included), and traces each handshake from the client's side.
 */
export function createTlsAgent(options: ClientTlsOptions, trace: Trace | undefined): TlsAgent {
  let trusts = options.verifyServer === false ? 'none' : caName(options.serverCa);
  let clientCert = options.identity ? summarizePem(options.identity.cert) : null;
  let material: { identity: Identity | undefined; ca: string } = { identity: options.identity, ca: options.serverCa };
  let reloaded = false;
  // Which material each socket was made with: a socket busy when the material changes must not go back
  // to the pool when its request ends (it still presents the old certificate).
  let generation = 0;
  const madeWith = new WeakMap<Socket, number>();
  // One secure context per material, made once: without it every new connection parses the key, the
  // certificate and the CA bundle again (tls.connect's createSecureContext per call).
  const contextOf = (m: typeof material): tls.SecureContext => tls.createSecureContext({
    ...goTls(trace), ca: m.ca, ...(m.identity ? { cert: m.identity.cert, key: m.identity.key } : {}),
  });
  let context = contextOf(material);
  const agent = new https.Agent({
    keepAlive: true,
    ca: options.serverCa,
    ...(options.identity ? { cert: options.identity.cert, key: options.identity.key } : {}),
    rejectUnauthorized: options.verifyServer !== false,
    ...goTls(trace),
    ...(options.servername ? { servername: options.servername } : {}),
  });
  const create = agent.createConnection.bind(agent) as unknown as (o: tls.ConnectionOptions, cb?: () => void) => Socket;
  (agent as unknown as { createConnection: typeof create }).createConnection = (o, cb) => {
    // The pool key still names the first material; what is presented and trusted is the current one.
    // After a reload `session: undefined` overrides the cached session, so nothing is resumed from before it.
    o = reloaded ? { ...o, secureContext: context, session: undefined } : { ...o, secureContext: context };
    // While the run records, a client whose server does not record lays TLS over a tap of its TCP socket.
    const wire = trace?.wire;
    const host = o.host ?? 'localhost';
    const raw = wire?.clientRecords(host, Number(o.port)) ? net.connect({ host, port: Number(o.port) }) : undefined;
    const socket = (raw ? create({ ...o, socket: wire!.tapDialled(raw) }, cb) : create(o, cb)) as TLSSocket;
    if (raw) lendAddresses(socket, raw);
    if (wire) socket.on('keylog', (line: Buffer) => { wire.addKeylog(line); });
    madeWith.set(socket, generation);
    let reported = false;
    // The local address, kept from the TCP connect: a socket that fails its handshake may have lost it by then.
    let localAddr = '';
    (raw ?? socket).once('connect', () => { localAddr = addr(socket.localAddress, socket.localPort); });
    const base = { type: 'tls-client' as const, client: options.name, server: options.target, clientCert, trusts };
    socket.once('secureConnect', () => {
      reported = true;
      if (!trace?.active) return;
      trace.emit({
        ...base, local: addr(socket.localAddress, socket.localPort), peer: addr(socket.remoteAddress, socket.remotePort),
        serverCert: summarizePeer(socket.getPeerCertificate()), handshake: 'ok', cause: 'none',
      });
    });
    // When the client refuses the server's certificate, Node destroys the socket (and its handle, with
    // the peer certificate) before 'error' fires: read the certificate on the way into destroy.
    let refusedPeer: CertSummary | null = null;
    const destroy = socket.destroy.bind(socket);
    socket.destroy = (error?: Error): TLSSocket => {
      if (error && !reported && refusedPeer === null) {
        try { refusedPeer = summarizePeer(socket.getPeerCertificate()); } catch { /* no handle left */ }
      }
      return destroy(error);
    };
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (reported) return;
      reported = true;
      let serverCert: CertSummary | null = refusedPeer;
      if (serverCert === null) try { serverCert = summarizePeer(socket.getPeerCertificate()); } catch { /* no certificate seen */ }
      trace?.emit({
        ...base, local: localAddr || addr(socket.localAddress, socket.localPort), peer: addr(socket.remoteAddress ?? o.host ?? undefined, socket.remotePort ?? Number(o.port)),
        serverCert, handshake: 'refused', code: err.code ?? 'ERROR', reason: goReason(err.code, err.message),
        cause: err.code === undefined ? 'other' : tlsCause(err.code, err.message),
      });
    });
    return socket;
  };
  const reloadTls = (m: TlsReload): void => {
    material = { identity: m.identity ?? material.identity, ca: m.ca ?? material.ca };
    context = contextOf(material);
    reloaded = true;
    generation++;
    trusts = options.verifyServer === false ? 'none' : caName(material.ca);
    clientCert = material.identity ? summarizePem(material.identity.cert) : null;
    for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
  };
  // A socket from before the last reload is closed when its request ends instead of kept alive.
  // (Node's Agent destroys the socket when keepSocketAlive returns false; @types/node says void.)
  const keepSocketAlive = agent.keepSocketAlive.bind(agent) as unknown as (socket: Socket) => boolean;
  (agent as unknown as { keepSocketAlive: (socket: Socket) => boolean }).keepSocketAlive = (socket) => madeWith.get(socket) === generation && keepSocketAlive(socket);
  return Object.assign(agent, { reloadTls });
}
