/**
 * Delegated authentication and authorization (k8s.io/apiserver DelegatingAuthenticationOptions /
 * DelegatingAuthorizationOptions), as an extension apiserver (metrics-server) and the secure ports of
 * kube-scheduler and kube-controller-manager (secure-serving.ts) run them.
 *
 * Authentication, from kube-system/extension-apiserver-authentication, in the union's order:
 *   1. request header: a client certificate that chains to requestheader-client-ca-file AND whose CN is
 *      in requestheader-allowed-names: the user is X-Remote-User, the groups X-Remote-Group, the extra
 *      X-Remote-Extra-<key>. A certificate from any other CA is "x509: certificate signed by unknown
 *      authority" here, and a name not in the list "x509: subject with cn=<cn> is not in the allowed list";
 *      either way the headers are ignored.
 *   2. x509: a client certificate that chains to client-ca-file: CN and O.
 *   3. a bearer token: a TokenReview to the apiserver.
 *   4. anonymous, only when none of the above had an error (a fail-on-error union).
 * The TLS handshake asks for a certificate and trusts both bundles, so OpenSSL verifies the chain
 * (validity, clientAuth usage, signature); which of the two bundles it chains to is then read from the
 * certificate's issuer, checked by signature.
 *
 * Authorization: system:masters always; /healthz, /livez and /readyz for anyone; otherwise a
 * SubjectAccessReview to the apiserver, with metrics-server's service-account token.
 */
import { certificateSubject, type NameIdentity } from '../../pki/subject.js';
import { PkiError } from '../../pki/errors.js';
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RequestHeaderOptions } from '../api/requestheader.js';
import type { KubeClient } from './kube-client.js';

/** What the delegated authenticator and authorizer call on the apiserver (TokenReview, SubjectAccessReview). */
export type ReviewClient = Pick<KubeClient, 'create'>;
import { goReason } from './tls.js';

export interface DelegatedUser {
  readonly name: string;
  readonly groups: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
  /** Which authenticator said so. */
  readonly via: 'requestheader' | 'x509' | 'token' | 'anonymous';
}

export type DelegatedAuthn = { ok: true; user: DelegatedUser } | { ok: false; reason: string };

const certsOf = (pem: string): X509Certificate[] =>
  (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));

const issuedByOneOf = (leaf: X509Certificate, cas: readonly X509Certificate[]): boolean =>
  cas.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));

const headerList = (req: IncomingMessage, names: readonly string[]): string[] => {
  const out: string[] = [];
  for (const n of names) {
    // headersDistinct: Node joins repeated unknown headers with ", " in req.headers; Go keeps each value.
    for (const x of req.headersDistinct[n.toLowerCase()] ?? []) out.push(x);
  }
  return out;
};

export interface DelegatedAuthConfig {
  readonly clientCa: string | undefined;
  readonly requestHeader: RequestHeaderOptions | undefined;
}

export class DelegatedAuthenticator {
  private readonly clientCas: X509Certificate[];
  private readonly rhCas: X509Certificate[];
  private readonly rh: RequestHeaderOptions | undefined;
  private readonly api: ReviewClient;

  constructor(config: DelegatedAuthConfig, api: ReviewClient) {
    this.clientCas = config.clientCa ? certsOf(config.clientCa) : [];
    this.rhCas = config.requestHeader ? certsOf(config.requestHeader.clientCa) : [];
    this.rh = config.requestHeader;
    this.api = api;
  }

  /** Every CA a client certificate may chain to (the TLS server's bundle). */
  get trustedBundle(): string {
    return [...this.clientCas, ...this.rhCas].map((c) => c.toString()).join('');
  }

  async authenticate(req: IncomingMessage): Promise<DelegatedAuthn> {
    const socket = req.socket as TLSSocket;
    // The certificate OpenSSL verified (or refused), read once: its subject and chain checks below.
    const leaf = socket.getPeerX509Certificate();
    const errors: string[] = [];
    // The subject as Go's crypto/x509 reads it (the last CN, every O, multi-valued RDNs included); a name
    // Go cannot parse fails Go's handshake ("tls: failed to parse client certificate").
    let subject: NameIdentity | undefined;
    if (leaf) {
      try {
        subject = certificateSubject(leaf.raw);
      } catch (err) {
        if (!(err instanceof PkiError)) throw err;
        errors.push(`tls: failed to parse client certificate: ${err.message}`);
      }
    }
    if (leaf && subject) {
      const cn = subject.cn;
      const code = String(socket.authorizationError ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      const issuerCn = /(?:^|\n)CN=([^\n]*)/.exec(leaf.issuer)?.[1] ?? '';
      // A trusted CA of the same name with another key (a regenerated front-proxy-ca): Go's pool offers it as a
      // candidate by name and names it when the signature does not check out.
      const candidate = [...this.clientCas, ...this.rhCas].find((ca) => ca.subject === leaf.issuer);
      const unverified = socket.authorized ? undefined : candidate && /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|CERT_SIGNATURE_FAILURE/.test(code)
        ? `x509: certificate signed by unknown authority (possibly because of "${candidate.publicKey.asymmetricKeyType === 'ec' ? 'x509: ECDSA verification failure' : 'crypto/rsa: verification error'}" while trying to verify candidate authority certificate "${issuerCn}")`
        : goReason(code);
      // 1. request header
      if (this.rh) {
        if (unverified) errors.push(unverified);
        else if (!issuedByOneOf(leaf, this.rhCas)) errors.push('x509: certificate signed by unknown authority');
        else if (this.rh.allowedNames.length > 0 && !this.rh.allowedNames.includes(cn)) errors.push(`x509: subject with cn=${cn} is not in the allowed list`);
        else {
          const name = headerList(req, this.rh.usernameHeaders)[0] ?? '';
          if (name !== '') {
            const extra: Record<string, string[]> = {};
            for (const [h, v] of Object.entries(req.headersDistinct)) {
              const prefix: string | undefined = this.rh.extraHeadersPrefix.find((p) => h.startsWith(p.toLowerCase()));
              if (!prefix || v === undefined) continue;
              const key = decodeURIComponent(h.slice(prefix.length)).toLowerCase();
              extra[key] = [...(extra[key] ?? []), ...v];
            }
            return { ok: true, user: { name, groups: headerList(req, this.rh.groupHeaders), ...(Object.keys(extra).length ? { extra } : {}), via: 'requestheader' } };
          }
        }
      }
      // 2. x509 against client-ca-file
      if (unverified) errors.push(unverified);
      else if (!issuedByOneOf(leaf, this.clientCas)) errors.push('x509: certificate signed by unknown authority');
      else if (cn !== '') return { ok: true, user: { name: cn, groups: [...subject.o, 'system:authenticated'], via: 'x509' } };
    }
    // 3. bearer token: TokenReview
    const token = /^bearer\s+(\S+)$/i.exec(req.headers.authorization?.trim() ?? '')?.[1];
    if (token) {
      const review = await this.api.create<{ metadata: Record<string, never>; status?: { authenticated?: boolean; user?: { username?: string; groups?: string[] }; error?: string } }>(
        '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token } } as never);
      if (review.status?.authenticated === true && review.status.user?.username) {
        return { ok: true, user: { name: review.status.user.username, groups: review.status.user.groups ?? [], via: 'token' } };
      }
      errors.push(review.status?.error ?? 'token not authenticated');
    }
    if (errors.length) return { ok: false, reason: errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]` };
    return { ok: true, user: { name: 'system:anonymous', groups: ['system:unauthenticated'], via: 'anonymous' } };
  }
}

/** The attributes a request is authorized on (k8s.io/apiserver RequestInfo, for the paths served here). */
export interface DelegatedAttributes {
  readonly verb: string;
  readonly resource?: { group: string; version: string; resource: string; namespace: string; name: string };
  readonly path: string;
}

export const ALWAYS_ALLOW_PATHS = ['/healthz', '/livez', '/readyz'];

export function attributesOf(method: string, path: string, watch: boolean): DelegatedAttributes {
  const m = /^\/apis\/([^/]+)\/([^/]+)\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?\/?$/.exec(path);
  const verbOf = (named: boolean): string => {
    switch (method) {
      case 'GET': case 'HEAD': return named ? 'get' : watch ? 'watch' : 'list';
      case 'POST': return 'create';
      case 'PUT': return 'update';
      case 'PATCH': return 'patch';
      case 'DELETE': return named ? 'delete' : 'deletecollection';
      default: return '';
    }
  };
  if (m && m[4] !== 'namespaces') {
    return { verb: verbOf(m[5] !== undefined), path, resource: { group: m[1]!, version: m[2]!, resource: m[4]!, namespace: m[3] ?? '', name: m[5] ?? '' } };
  }
  return { verb: method === 'GET' || method === 'HEAD' ? 'get' : method.toLowerCase(), path };
}

/** The Forbidden message the generic apiserver writes (responsewriters.forbiddenMessage). */
export function forbiddenMessage(user: string, a: DelegatedAttributes): string {
  if (!a.resource) return `forbidden: User "${user}" cannot ${a.verb} path "${a.path}"`;
  const r = a.resource;
  const what = `${r.group ? `${r.resource}.${r.group}` : r.resource}${r.name ? ` "${r.name}"` : ''}`;
  const scope = r.namespace ? `in the namespace "${r.namespace}"` : 'at the cluster scope';
  return `${what} is forbidden: User "${user}" cannot ${a.verb} resource "${r.resource}" in API group "${r.group}" ${scope}`;
}

export class DelegatedAuthorizer {
  private readonly api: ReviewClient;
  constructor(api: ReviewClient) {
    this.api = api;
  }

  async authorize(user: DelegatedUser, a: DelegatedAttributes): Promise<{ allowed: boolean; reason: string }> {
    if (user.groups.includes('system:masters')) return { allowed: true, reason: 'system:masters' };
    if (!a.resource && ALWAYS_ALLOW_PATHS.some((p) => a.path === p || a.path.startsWith(`${p}/`))) return { allowed: true, reason: 'always allowed path' };
    const spec = {
      user: user.name, groups: [...user.groups], ...(user.extra ? { extra: user.extra } : {}),
      ...(a.resource ? { resourceAttributes: { ...a.resource, verb: a.verb } } : { nonResourceAttributes: { path: a.path, verb: a.verb } }),
    };
    const review = await this.api.create<{ metadata: Record<string, never>; status?: { allowed?: boolean; reason?: string } }>(
      '/apis/authorization.k8s.io/v1/subjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {}, spec } as never);
    return { allowed: review.status?.allowed === true, reason: review.status?.reason ?? '' };
  }
}

/** A request's verdict as a secure port traces it (the request event's fields its gate decides). */
export interface GateVerdict {
  readonly user: string;
  readonly groups: string[];
  readonly decision: 'unauthenticated' | 'deny';
  readonly layer: 'authentication' | 'authorization';
  readonly status: 401 | 403;
  readonly reason: string;
}

/**
 * The filters in front of a delegating server's handler, in the apiserver library's order: authentication
 * (401 `Unauthorized`), then authorization (403 with the authorizer's message). A refusal is logged,
 * traced through `emit` and answered through `refuse`; when both allow, the user and the authorizer's
 * reason come back and the caller serves.
 */
export async function delegatedGate(
  authn: DelegatedAuthenticator, authz: DelegatedAuthorizer, req: IncomingMessage, attrs: DelegatedAttributes,
  out: { log: (err: string) => void; emit: (v: GateVerdict) => void; refuse: (code: number, reason: string, message: string) => void },
): Promise<{ user: DelegatedUser; reason: string } | undefined> {
  const authenticated = await authn.authenticate(req);
  if (!authenticated.ok) {
    out.log(authenticated.reason);
    out.emit({ user: '', groups: [], decision: 'unauthenticated', layer: 'authentication', status: 401, reason: authenticated.reason });
    out.refuse(401, 'Unauthorized', 'Unauthorized');
    return undefined;
  }
  const user = authenticated.user;
  const d = await authz.authorize(user, attrs);
  if (!d.allowed) {
    const msg = forbiddenMessage(user.name, attrs);
    out.emit({ user: user.name, groups: [...user.groups], decision: 'deny', layer: 'authorization', status: 403, reason: `${msg} (authenticated by ${user.via})` });
    out.refuse(403, 'Forbidden', msg);
    return undefined;
  }
  return { user, reason: d.reason };
}
