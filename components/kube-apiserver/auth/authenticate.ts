/**
 * Request authentication as kube-apiserver wires it (pkg/kubeapiserver/authenticator/config.go):
 *
 *   union( x509 client certificate, bearer token (service-account JWT, then any extra token
 *          authenticator such as bootstrap tokens) )
 *   → add group system:authenticated
 *   → if anonymous auth is on: union-fail-on-error with the anonymous authenticator
 *
 * Consequences, all as in the real server:
 * - a verified client certificate wins over a bearer token (x509 is asked first);
 * - a certificate that failed verification is an error, but a valid bearer token on the same
 *   request still authenticates it (the union only fails when nothing succeeds);
 * - any error (bad certificate, bad or expired token) is a 401 even with anonymous auth on: a bad
 *   credential never falls back to system:anonymous;
 * - a verified certificate with an empty CN is "no opinion", not an error: with anonymous auth on
 *   the request proceeds as system:anonymous, with it off it is a 401.
 * The 401 body always says just "Unauthorized"; the reason goes to the log (and the trace).
 */
import type { TLSSocket } from 'node:tls';
import { goReason } from '../../client/tls.js';
import { PkiError } from '../../../pki/errors.js';
import { certificateSubject, type NameIdentity } from '../../../pki/subject.js';
import type { Status } from '../../api/types.js';
import { AllAuthenticated, AllUnauthenticated, Anonymous, CREDENTIAL_ID_KEY, type UserInfo } from './attributes.js';
import { verifyServiceAccountToken, type VerifyOptions } from './serviceaccount-token.js';

/** What TLS told us about the client certificate (the certificate OpenSSL verified, read by pki/subject.ts). */
export interface PeerCert {
  /** Subject CN ('' when absent): the last CN, as Go's pkix.Name takes it. */
  cn: string;
  /** Subject O values, in order (multi-valued RDNs included). */
  o: string[];
  /** Hex serial as Node reports it (e.g. '1A2B...'); used in the failure message like Go's SN=<decimal>. */
  serialNumber?: string;
  /** Colon-separated upper-case hex, as Go prints them. */
  subjectKeyId?: string;
  authorityKeyId?: string;
  /** SHA-256 of the certificate's DER, lower-case hex: the x509 authenticator's credential ID. */
  sha256?: string;
  /** Why Go's crypto/x509 would not parse the certificate's subject (its TLS server refuses such a handshake). */
  invalid?: string;
}

export interface AuthenticationInput {
  /** `socket.authorized`: the chain reached the client CA and the EKU allows clientAuth. */
  authorized: boolean;
  /** `socket.authorizationError` (an OpenSSL code such as UNABLE_TO_VERIFY_LEAF_SIGNATURE), or null. */
  authorizationError: string | null;
  /** null when the client presented no certificate. */
  peerCert: PeerCert | null;
  /** The Authorization header, if any. */
  authorizationHeader?: string | undefined;
}

/** Outcome of an extra token authenticator: a user, an error, or no opinion (undefined). */
export type TokenAuthOutcome = { user: UserInfo } | { error: string } | undefined;

export interface AuthenticationOptions {
  /** --anonymous-auth (default true, as in the real apiserver). */
  anonymous?: boolean;
  /** --service-account-key-file (sa.pub); without it bearer tokens are never service-account tokens. */
  serviceAccountPublicKeyPem?: string | readonly string[];
  /** Issuers, audiences and the ServiceAccount UID lookup for service-account tokens. */
  serviceAccount?: VerifyOptions;
  /** Further token authenticators after the service-account one (e.g. bootstrap tokens). */
  tokenAuthenticators?: readonly ((token: string) => TokenAuthOutcome)[];
  /** The time tokens are checked against. */
  now?: Date;
}

export type AuthenticationMethod = 'x509' | 'serviceaccount' | 'token' | 'anonymous';

export type AuthenticationResult =
  | { authenticated: true; user: UserInfo; method: AuthenticationMethod }
  /** 401: `reason` is what the apiserver logs ("Unable to authenticate the request"), `status` the body. */
  | { authenticated: false; reason: string; status: Status };

/** The 401 body: apierrors.NewUnauthorized("Unauthorized"). */
export function unauthorizedStatus(): Status {
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
}

/** x509.certificateIdentifier: "SN=<decimal>, SKID=<hex:..>, AKID=<hex:..>". */
function certificateIdentifier(cert: PeerCert): string {
  let serial = '';
  if (cert.serialNumber) {
    try {
      serial = BigInt(`0x${cert.serialNumber.replace(/:/g, '')}`).toString(10);
    } catch {
      serial = cert.serialNumber;
    }
  }
  return `SN=${serial}, SKID=${cert.subjectKeyId ?? ''}, AKID=${cert.authorityKeyId ?? ''}`;
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several de-duplicated in brackets. */
function aggregate(messages: readonly string[]): string {
  const unique = [...new Set(messages)];
  if (unique.length === 1) return unique[0]!;
  return `[${unique.join(', ')}]`;
}

type Step = { user: UserInfo; method: AuthenticationMethod } | { error: string } | undefined;

function authenticateX509(input: AuthenticationInput): Step {
  const cert = input.peerCert;
  if (cert === null) return undefined;
  if (!input.authorized) {
    const code = input.authorizationError ?? undefined;
    return { error: `verifying certificate ${certificateIdentifier(cert)} failed: ${goReason(code)}` };
  }
  // A name Go cannot parse: Go's TLS server fails the handshake ("tls: failed to parse client certificate").
  if (cert.invalid !== undefined) return { error: `tls: failed to parse client certificate: ${cert.invalid}` };
  // CommonNameUserConversion: no CN, no user (and no error); the certificate's SHA-256 becomes the
  // credential ID that audit logs, CSRs (spec.extra) and `kubectl auth whoami` show.
  if (cert.cn === '') return undefined;
  const extra = cert.sha256 ? { extra: { [CREDENTIAL_ID_KEY]: [`X509SHA256=${cert.sha256}`] } } : {};
  return { user: { name: cert.cn, groups: [...cert.o], ...extra }, method: 'x509' };
}

/** bearertoken.AuthenticateRequest: "Bearer <token>" (scheme case-insensitive). */
function bearerToken(header: string | undefined): string | undefined {
  const auth = header?.trim() ?? '';
  if (auth === '') return undefined;
  const parts = auth.split(' ');
  if (parts.length < 2 || parts[0]!.toLowerCase() !== 'bearer') return undefined;
  const token = parts[1]!;
  return token === '' ? undefined : token;
}

function authenticateBearer(input: AuthenticationInput, options: AuthenticationOptions): Step {
  const token = bearerToken(input.authorizationHeader);
  if (token === undefined) return undefined;
  const errors: string[] = [];
  if (options.serviceAccountPublicKeyPem !== undefined) {
    const result = verifyServiceAccountToken(token, options.serviceAccountPublicKeyPem, options.now ?? new Date(), options.serviceAccount ?? {});
    if (result.ok) return { user: result.user, method: 'serviceaccount' };
    if (result.ours) errors.push(result.reason);
  }
  for (const extra of options.tokenAuthenticators ?? []) {
    const outcome = extra(token);
    if (outcome === undefined) continue;
    if ('user' in outcome) return { user: outcome.user, method: 'token' };
    errors.push(outcome.error);
  }
  if (errors.length > 0) return { error: aggregate(errors) };
  return { error: 'invalid bearer token' };
}

/** group.AuthenticatedGroupAdder. */
function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes(AllAuthenticated) || user.groups.includes(AllUnauthenticated)) return user;
  return { ...user, groups: [...user.groups, AllAuthenticated] };
}

/**
 * The union's answer when its first member, the x509 authenticator, finds a user: a verified client
 * certificate with a CN decides the request whatever else it carries, so the token authenticators
 * (and what they would look up) need not be set up. undefined: the union must be asked.
 */
export function authenticateByCertificate(input: AuthenticationInput): AuthenticationResult | undefined {
  if (!input.authorized || input.peerCert === null) return undefined;
  const outcome = authenticateX509(input);
  return outcome && 'user' in outcome ? { authenticated: true, user: withAuthenticatedGroup(outcome.user), method: outcome.method } : undefined;
}

/** Authenticates one request. Pure and synchronous. */
export function authenticate(input: AuthenticationInput, options: AuthenticationOptions = {}): AuthenticationResult {
  const errors: string[] = [];
  // The union in order: x509, then bearer tokens (no closures per request: tsx wraps each one made).
  for (let step = 0; step < 2; step++) {
    const outcome = step === 0 ? authenticateX509(input) : authenticateBearer(input, options);
    if (outcome === undefined) continue;
    if ('error' in outcome) {
      errors.push(outcome.error);
      continue;
    }
    return { authenticated: true, user: withAuthenticatedGroup(outcome.user), method: outcome.method };
  }
  if (errors.length > 0) return { authenticated: false, reason: aggregate(errors), status: unauthorizedStatus() };
  if (options.anonymous ?? true) return { authenticated: true, user: { name: Anonymous, groups: [AllUnauthenticated] }, method: 'anonymous' };
  return { authenticated: false, reason: 'no credentials presented and anonymous authentication is disabled', status: unauthorizedStatus() };
}

/** Reads a DER length at `at`; returns [length, offset of the contents]. */
function derLength(der: Buffer, at: number): [number, number] | undefined {
  const first = der[at];
  if (first === undefined) return undefined;
  if (first < 0x80) return [first, at + 1];
  const n = first & 0x7f;
  if (n === 0 || n > 4) return undefined;
  let len = 0;
  for (let i = 1; i <= n; i++) len = len * 256 + (der[at + i] ?? 0);
  return [len, at + 1 + n];
}

/** The extnValue contents of an extension, found by its OID (2.5.29.x). */
function extensionValue(der: Buffer, oidLastByte: number): Buffer | undefined {
  const oid = Buffer.from([0x06, 0x03, 0x55, 0x1d, oidLastByte]);
  let at = der.indexOf(oid);
  if (at < 0) return undefined;
  at += oid.length;
  if (der[at] === 0x01) at += 3; // critical BOOLEAN
  if (der[at] !== 0x04) return undefined;
  const len = derLength(der, at + 1);
  if (!len) return undefined;
  return der.subarray(len[1], len[1] + len[0]);
}

const colonHex = (b: Buffer): string => (b.toString('hex').toUpperCase().match(/../g) ?? []).join(':');

/** SubjectKeyId and AuthorityKeyId of a DER certificate, as Go's columnSeparatedHex prints them. */
export function keyIdentifiers(der: Buffer): { subjectKeyId: string; authorityKeyId: string } {
  let subjectKeyId = '';
  const skid = extensionValue(der, 0x0e);
  if (skid && skid[0] === 0x04) {
    const len = derLength(skid, 1);
    if (len) subjectKeyId = colonHex(skid.subarray(len[1], len[1] + len[0]));
  }
  let authorityKeyId = '';
  const akid = extensionValue(der, 0x23);
  if (akid && akid[0] === 0x30) {
    const seq = derLength(akid, 1);
    if (seq && akid[seq[1]] === 0x80) {
      const len = derLength(akid, seq[1] + 1);
      if (len) authorityKeyId = colonHex(akid.subarray(len[1], len[1] + len[0]));
    }
  }
  return { subjectKeyId, authorityKeyId };
}

/**
 * The authentication input from a TLS socket of a server in `request` mode, as the apiserver's
 * handler sees it: the verdict, OpenSSL's reason, and the client certificate's subject.
 */
export function authenticationInputFrom(socket: TLSSocket, authorizationHeader?: string): AuthenticationInput {
  // A connection's client certificate cannot change (renegotiation is off): read it once per connection.
  let tlsPart = fromSocket.get(socket);
  if (!tlsPart) { tlsPart = tlsInputOf(socket); fromSocket.set(socket, tlsPart); }
  return { ...tlsPart, authorizationHeader };
}

const fromSocket = new WeakMap<TLSSocket, Omit<AuthenticationInput, 'authorizationHeader'>>();

/**
 * The socket's verdict and client certificate. The certificate is the X509 object OpenSSL verified
 * (`getPeerX509Certificate`; a resumed session carries it), its subject read from its DER as Go reads
 * it. Node's `getPeerCertificate()` built every field and three digests of it for each connection; here
 * the credential ID's SHA-256 is the one digest, and the serial and key identifiers, which only a
 * refusal's message names, are read only for a certificate that failed verification.
 */
function tlsInputOf(socket: TLSSocket): Omit<AuthenticationInput, 'authorizationHeader'> {
  const x509 = socket.getPeerX509Certificate();
  const authorized = socket.authorized;
  let peerCert: PeerCert | null = null;
  if (x509) {
    const der = x509.raw;
    let subject: NameIdentity = { cn: '', o: [] };
    let invalid: string | undefined;
    try {
      subject = certificateSubject(der);
    } catch (err) {
      if (!(err instanceof PkiError)) throw err;
      invalid = err.message;
    }
    peerCert = {
      cn: subject.cn, o: [...subject.o], sha256: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
      ...(invalid === undefined ? {} : { invalid }),
      ...(authorized ? {} : { serialNumber: x509.serialNumber, ...keyIdentifiers(der) }),
    };
  }
  const error = socket.authorizationError;
  return {
    authorized,
    authorizationError: error === null || error === undefined ? null : String(error),
    peerCert,
  };
}
