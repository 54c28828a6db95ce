/**
 * Bound service-account tokens, as the apiserver's TokenRequest API issues them
 * (pkg/serviceaccount/jwt.go, claims.go) and its service-account authenticator verifies them.
 *
 * A token is a compact JWS, RS256, signed with sa.key: header `{"alg":"RS256","kid":<kid>}` where
 * kid = base64url(SHA-256(DER SubjectPublicKeyInfo)), payload with the registered claims
 * iss/sub/aud/exp/nbf/iat/jti and the private `kubernetes.io` claim (namespace, serviceaccount
 * {name, uid}, and when bound: pod {name, uid} with the pod's node {name, uid}, or secret, or node).
 * go-jose merges the claims through a map, so keys come out sorted at every level; so do they here.
 *
 * A bound token lives only as long as its object (pkg/serviceaccount/claims.go, validator.Validate):
 * the authenticator looks the ServiceAccount and the bound Pod, Secret or Node up (the apiserver
 * from its watch-fed caches) and refuses the token when one is gone, has another UID (deleted and
 * made again under the same name), or has been deleting for longer than the leeway.
 *
 * Written with node:crypto only: a JWT library is not needed for one algorithm and one token shape.
 */
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { AllServiceAccountsGroup, CREDENTIAL_ID_KEY, ServiceAccountGroupPrefix, serviceAccountUsername, splitServiceAccountUsername, type UserInfo } from './attributes.js';

/** kubeadm's --service-account-issuer (and, by default, --api-audiences). */
export const DEFAULT_SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** TokenRequestSpec.expirationSeconds default. */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;
/** TokenRequest validation: "may not specify a duration less than 10 minutes". */
export const MIN_TOKEN_EXPIRATION_SECONDS = 600;
/** go-jose's jwt.DefaultLeeway, applied to exp, nbf and iat. */
export const JWT_LEEWAY_SECONDS = 60;

export interface ServiceAccountTokenRequest {
  namespace: string;
  name: string;
  /** The ServiceAccount object's metadata.uid. */
  uid: string;
  /** Defaults to [issuer] (the apiserver's --api-audiences). */
  audiences?: readonly string[];
  /** Defaults to 3600. */
  expirationSeconds?: number;
  now: Date;
  /** Defaults to https://kubernetes.default.svc.cluster.local. */
  issuer?: string;
  /** TokenRequest.spec.boundObjectRef of kind Pod. */
  boundPod?: { name: string; uid: string };
  /** The bound pod's node (ServiceAccountTokenPodNodeInfo, on since v1.30): its uid is '' when the Node is not found. */
  podNode?: { name: string; uid: string };
  /** TokenRequest.spec.boundObjectRef of kind Secret. */
  boundSecret?: { name: string; uid: string };
  /** TokenRequest.spec.boundObjectRef of kind Node (ServiceAccountTokenNodeBinding, on since v1.31). */
  boundNode?: { name: string; uid: string };
  /** The token's credential id; a random UUID by default. */
  jti?: string;
}

export interface ServiceAccountClaims {
  aud: string[];
  exp: number;
  iat: number;
  iss: string;
  jti?: string;
  'kubernetes.io'?: {
    namespace?: string;
    serviceaccount?: { name?: string; uid?: string };
    pod?: { name?: string; uid?: string };
    secret?: { name?: string; uid?: string };
    node?: { name?: string; uid?: string };
    warnafter?: number;
  };
  nbf?: number;
  sub: string;
}

export type VerifyResult =
  | { ok: true; claims: ServiceAccountClaims; user: UserInfo }
  /**
   * `ours` is false when the token is not a service-account token of this issuer (wrong issuer,
   * not a JWS, other algorithm): the authenticator then has no opinion and the bearer-token
   * authenticator answers "invalid bearer token".
   */
  | { ok: false; ours: boolean; reason: string };

/** What the authenticator needs of a bound object: its UID and, while it is being deleted, when that began. */
export interface BoundObjectState {
  readonly uid: string;
  readonly deletionTimestamp?: string;
}

/** The lookups of the objects a token may be bound to (undefined: not found). */
export interface BoundObjectGetter {
  pod(namespace: string, name: string): BoundObjectState | undefined;
  secret(namespace: string, name: string): BoundObjectState | undefined;
  node(name: string): BoundObjectState | undefined;
}

export interface VerifyOptions {
  /** Accepted issuers (--service-account-issuer); default [DEFAULT_SERVICE_ACCOUNT_ISSUER]. */
  issuers?: readonly string[];
  /** --api-audiences; default the first issuer. */
  apiAudiences?: readonly string[];
  /**
   * The current UID of a ServiceAccount, or undefined when it does not exist. When given, the
   * token is checked against it as the apiserver's validator does against its informer cache.
   */
  serviceAccountUid?: (namespace: string, name: string) => string | undefined;
  /**
   * The bound Pod, Secret and Node. When given (the apiserver always gives it), a token bound to an
   * object that is gone, has another UID or is deleting is refused, as claims.go's validator does.
   */
  boundObjects?: BoundObjectGetter;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** JSON with object keys sorted at every level (what go-jose's map round trip produces). */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The key id the apiserver puts in the JWS header: base64url(SHA-256(DER SPKI)) of the public key. */
export function keyIdFor(key: KeyObject | string): string {
  const keyObject = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
  const der = keyObject.export({ type: 'spki', format: 'der' });
  return b64url(createHash('sha256').update(der).digest());
}

/** A `ref` claim: name and uid, each omitted when empty (`json:",omitempty"`). */
const refClaim = (r: { name: string; uid: string }): { name?: string; uid?: string } => ({ ...(r.name ? { name: r.name } : {}), ...(r.uid ? { uid: r.uid } : {}) });

/** Signs a bound service-account token (the TokenRequest API's answer, status.token). */
export function signServiceAccountToken(req: ServiceAccountTokenRequest, saPrivateKeyPem: string): string {
  const privateKey = createPrivateKey(saPrivateKeyPem);
  const issuer = req.issuer ?? DEFAULT_SERVICE_ACCOUNT_ISSUER;
  const nowSeconds = Math.floor(req.now.getTime() / 1000);
  const claims: ServiceAccountClaims = {
    aud: [...(req.audiences ?? [issuer])],
    exp: nowSeconds + (req.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS),
    iat: nowSeconds,
    iss: issuer,
    jti: req.jti ?? randomUUID(),
    'kubernetes.io': {
      namespace: req.namespace,
      serviceaccount: { name: req.name, uid: req.uid },
      // token.Claims: a pod (with its node), else a secret, else a node.
      ...(req.boundPod
        ? { pod: refClaim(req.boundPod), ...(req.podNode ? { node: refClaim(req.podNode) } : {}) }
        : req.boundSecret ? { secret: refClaim(req.boundSecret) }
          : req.boundNode ? { node: refClaim(req.boundNode) } : {}),
    },
    nbf: nowSeconds,
    sub: serviceAccountUsername(req.namespace, req.name),
  };
  const header = { alg: 'RS256', kid: keyIdFor(privateKey) };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(sortedJson(claims))}`;
  const signature = sign('sha256', Buffer.from(signingInput), privateKey);
  return `${signingInput}.${b64url(signature)}`;
}

function parseJsonSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const quoteList = (list: readonly string[]): string => `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;

/**
 * Verifies a service-account token as the apiserver's JWT authenticator does, in its order:
 * issuer (unverified peek) → JWS parse → signature → audiences → nbf/exp/iat (1 min leeway) →
 * required claims → (optionally) the ServiceAccount's UID.
 */
/**
 * Parsed service-account public keys by PEM: --service-account-key-file is read once, as the apiserver
 * does, instead of every bearer token parsing it again (about 4% of a token request's CPU). Bounded:
 * the keys are the few files the apiserver was started with.
 */
const PARSED_KEYS = new Map<string, KeyObject>();
function publicKeyOf(pem: string): KeyObject {
  let key = PARSED_KEYS.get(pem);
  if (!key) {
    key = createPublicKey(pem);
    if (PARSED_KEYS.size >= 16) PARSED_KEYS.clear();
    PARSED_KEYS.set(pem, key);
  }
  return key;
}

export function verifyServiceAccountToken(token: string, saPublicKeyPem: string | readonly string[], now: Date, options: VerifyOptions = {}): VerifyResult {
  const issuers = options.issuers ?? [DEFAULT_SERVICE_ACCOUNT_ISSUER];
  const apiAudiences = options.apiAudiences ?? [issuers[0] ?? DEFAULT_SERVICE_ACCOUNT_ISSUER];
  const notOurs = (reason: string): VerifyResult => ({ ok: false, ours: false, reason });

  const parts = token.split('.');
  if (parts.length !== 3) return notOurs('token is not a compact JWS');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const payload = parseJsonSegment(payloadPart);
  if (!isRecord(payload) || typeof payload.iss !== 'string' || !issuers.includes(payload.iss)) return notOurs('token issuer is not a service-account issuer');
  const header = parseJsonSegment(headerPart);
  if (!isRecord(header) || header.alg !== 'RS256') return notOurs('token is not signed with an accepted algorithm');

  const keys = typeof saPublicKeyPem === 'string' ? [saPublicKeyPem] : saPublicKeyPem;
  const signature = Buffer.from(signaturePart, 'base64url');
  const signed = Buffer.from(`${headerPart}.${payloadPart}`);
  const verified = keys.some((pem) => {
    try {
      return verify('sha256', signed, publicKeyOf(pem), signature);
    } catch {
      return false;
    }
  });
  if (!verified) return { ok: false, ours: true, reason: 'go-jose/go-jose: error in cryptographic primitive' };

  const claims = payload as unknown as ServiceAccountClaims;
  const rawAud = (payload as { aud?: unknown }).aud;
  const tokenAudiences = typeof rawAud === 'string' ? [rawAud] : Array.isArray(rawAud) ? rawAud.filter((a): a is string => typeof a === 'string') : [];
  const effectiveAudiences = tokenAudiences.length === 0 ? apiAudiences : tokenAudiences;
  if (!effectiveAudiences.some((a) => apiAudiences.includes(a))) {
    return { ok: false, ours: true, reason: `token audiences ${quoteList(effectiveAudiences)} is invalid for the target audiences ${quoteList(apiAudiences)}` };
  }

  const nowSeconds = now.getTime() / 1000;
  if (typeof claims.nbf === 'number' && nowSeconds + JWT_LEEWAY_SECONDS < claims.nbf) return { ok: false, ours: true, reason: 'service account token is not valid yet' };
  if (typeof claims.exp === 'number' && nowSeconds - JWT_LEEWAY_SECONDS > claims.exp) return { ok: false, ours: true, reason: 'service account token has expired' };
  if (typeof claims.iat === 'number' && nowSeconds + JWT_LEEWAY_SECONDS < claims.iat) return { ok: false, ours: true, reason: 'service account token is issued in the future' };

  if (typeof claims.sub !== 'string' || claims.sub === '') return { ok: false, ours: true, reason: 'sub claim is missing' };
  const k8s = isRecord(claims['kubernetes.io']) ? claims['kubernetes.io'] : undefined;
  const namespace = k8s?.namespace;
  if (!namespace) return { ok: false, ours: true, reason: 'namespace claim is missing' };
  const saName = k8s?.serviceaccount?.name;
  if (!saName) return { ok: false, ours: true, reason: 'serviceaccount claim is missing' };
  const saUid = k8s?.serviceaccount?.uid ?? '';
  const subject = splitServiceAccountUsername(claims.sub);
  if (!subject || subject.namespace !== namespace || subject.name !== saName) {
    return { ok: false, ours: true, reason: 'service account token claims could not be validated due to unexpected validation error' };
  }
  if (options.serviceAccountUid) {
    const currentUid = options.serviceAccountUid(namespace, saName);
    if (currentUid === undefined) return { ok: false, ours: true, reason: `serviceaccount "${saName}" not found` };
    if (currentUid !== saUid) return { ok: false, ours: true, reason: `service account UID (${currentUid}) does not match claim (${saUid})` };
  }
  const bound = options.boundObjects ? checkBoundObjects(k8s ?? {}, namespace, options.boundObjects, now) : undefined;
  if (bound) return { ok: false, ours: true, reason: bound };

  const extra: Record<string, string[]> = {};
  // ServiceAccountInfo.UserInfo: pod name and uid together, the node's name (and uid when known).
  if (k8s?.pod?.name && k8s.pod.uid) {
    extra['authentication.kubernetes.io/pod-name'] = [k8s.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k8s.pod.uid];
  }
  if (k8s?.node?.name) {
    extra['authentication.kubernetes.io/node-name'] = [k8s.node.name];
    if (k8s.node.uid) extra['authentication.kubernetes.io/node-uid'] = [k8s.node.uid];
  }
  if (typeof claims.jti === 'string' && claims.jti !== '') extra[CREDENTIAL_ID_KEY] = [`JTI=${claims.jti}`];
  const user: UserInfo = {
    name: serviceAccountUsername(namespace, saName),
    uid: saUid,
    groups: [AllServiceAccountsGroup, `${ServiceAccountGroupPrefix}${namespace}`],
  };
  if (Object.keys(extra).length > 0) user.extra = extra;
  return { ok: true, claims, user };
}

/** The service account token an object's deletion or replacement invalidated (claims.go's errors). */
const INVALIDATED = 'service account token has been invalidated';

/**
 * claims.go's checks of the bound objects, in its order: the secret, the pod, then (for a token bound
 * to a node only; a pod-bound token's node claim is information) the node. Each must exist, have the
 * claimed UID, and not have been deleting for longer than the leeway. Returns the error, if any.
 */
function checkBoundObjects(k8s: NonNullable<ServiceAccountClaims['kubernetes.io']>, namespace: string, get: BoundObjectGetter, now: Date): string | undefined {
  const invalidIfDeletedBefore = now.getTime() - JWT_LEEWAY_SECONDS * 1000;
  const deleting = (o: BoundObjectState): boolean => o.deletionTimestamp !== undefined && Date.parse(o.deletionTimestamp) < invalidIfDeletedBefore;
  const check = (what: 'secret' | 'pod' | 'node', ref: { name?: string; uid?: string }, found: BoundObjectState | undefined): string | undefined => {
    if (!found) return INVALIDATED;
    if (found.uid !== (ref.uid ?? '')) return `${what} UID (${found.uid}) does not match service account ${what} ref claim (${ref.uid ?? ''})`;
    if (deleting(found)) return INVALIDATED;
    return undefined;
  };
  const { secret, pod, node } = k8s;
  if (secret) {
    const err = check('secret', secret, get.secret(namespace, secret.name ?? ''));
    if (err) return err;
  }
  if (pod) {
    const err = check('pod', pod, get.pod(namespace, pod.name ?? ''));
    if (err) return err;
  } else if (node) {
    const err = check('node', node, get.node(node.name ?? ''));
    if (err) return err;
  }
  return undefined;
}
