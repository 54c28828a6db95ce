/**
 * Bootstrap tokens (k8s.io/cluster-bootstrap): the token format, the Secret that holds one
 * (`kube-system/bootstrap-token-<id>`, type `bootstrap.kubernetes.io/token`), and the detached JWS
 * the bootstrap signer puts into `kube-public/cluster-info`. Shared by the apiserver's token
 * authenticator, the controller-manager's bootstrap signer and kubeadm's join discovery.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { KubeObject } from './types.js';

export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = 'bootstrap-token-';
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';
export const BOOTSTRAP_DEFAULT_GROUP = 'system:bootstrappers';
export const KUBEADM_DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';
export const CLUSTER_INFO = 'cluster-info';
export const JWS_SIGNATURE_PREFIX = 'jws-kubeconfig-';
/** bootstrapapi.BootstrapTokenPattern. */
export const BOOTSTRAP_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

export interface BootstrapToken {
  readonly id: string;
  readonly secret: string;
}

/** bootstraputil.ParseToken: undefined for anything that is not `[a-z0-9]{6}.[a-z0-9]{16}`. */
export function parseBootstrapToken(token: string): BootstrapToken | undefined {
  const m = BOOTSTRAP_TOKEN_PATTERN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

const TOKEN_CHARS = '0123456789abcdefghijklmnopqrstuvwxyz';

/** bootstraputil.GenerateBootstrapToken. */
export function generateBootstrapToken(): string {
  const pick = (n: number): string => Array.from({ length: n }, () => TOKEN_CHARS[randomInt(TOKEN_CHARS.length)]).join('');
  return `${pick(6)}.${pick(16)}`;
}

export interface BootstrapTokenSecret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

/** A value of the Secret's data, decoded (bootstrapsecretutil.GetData). */
export const secretData = (s: BootstrapTokenSecret, key: string): string =>
  s.data?.[key] === undefined ? '' : Buffer.from(s.data[key], 'base64').toString();

/** bootstrapsecretutil.HasExpired: an `expiration` in the past (an unparsable one counts as expired). */
export function expiredAt(s: BootstrapTokenSecret, now: Date): string | undefined {
  const exp = secretData(s, 'expiration');
  if (!exp) return undefined;
  const t = Date.parse(exp);
  if (Number.isNaN(t)) return `Unparseable expiration time (${exp}) in ${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''} Secret`;
  return now.getTime() > t ? `Expired bootstrap token in ${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''} Secret: ${exp}` : undefined;
}

/**
 * bootstrapsecretutil.GetExpiration: no `expiration` → not expired and no time left (0); an unparsable
 * one → expired; else the time left, expired once it is zero or less.
 */
export function tokenExpiration(s: BootstrapTokenSecret, now: Date): { remainingMs: number; expired: boolean } {
  const exp = secretData(s, 'expiration');
  if (!exp) return { remainingMs: 0, expired: false };
  const t = Date.parse(exp);
  if (Number.isNaN(t)) return { remainingMs: 0, expired: true };
  const remainingMs = t - now.getTime();
  return remainingMs <= 0 ? { remainingMs: 0, expired: true } : { remainingMs, expired: false };
}

/** bootstrapsecretutil.GetGroups: system:bootstrappers plus auth-extra-groups, each under system:bootstrappers:. */
export function bootstrapGroups(s: BootstrapTokenSecret): { groups: string[] } | { error: string } {
  const groups = new Set([BOOTSTRAP_DEFAULT_GROUP]);
  const extra = secretData(s, 'auth-extra-groups');
  for (const g of extra ? extra.split(',') : []) {
    if (!g.startsWith('system:bootstrappers:')) return { error: `group "${g}" is invalid: must start with "system:bootstrappers:"` };
    groups.add(g);
  }
  return { groups: [...groups].sort() };
}

/**
 * The bootstrap signer's check of a token Secret (validateSecretForSigning) and the authenticator's:
 * right type and name, token-id matching, a secret, not expired, and the usage flag set.
 */
export function validTokenSecret(s: BootstrapTokenSecret, usage: 'signing' | 'authentication', now: Date): { token: BootstrapToken } | { reason: string } {
  const where = `${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`;
  if (s.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || !s.data) return { reason: `Bootstrap secret ${where} has invalid type, expected ${BOOTSTRAP_TOKEN_SECRET_TYPE}.` };
  const id = secretData(s, 'token-id');
  if (`${BOOTSTRAP_TOKEN_SECRET_PREFIX}${id}` !== s.metadata.name) return { reason: `Bootstrap secret ${where} has invalid value for key token-id.` };
  const secret = secretData(s, 'token-secret');
  if (!/^[a-z0-9]{16}$/.test(secret)) return { reason: `Bootstrap secret ${where} has invalid value for key token-secret.` };
  const expired = expiredAt(s, now);
  if (expired) return { reason: expired };
  if (secretData(s, `usage-bootstrap-${usage}`) !== 'true') return { reason: `Bootstrap secret ${where} not marked usage-bootstrap-${usage}=true.` };
  return { token: { id, secret } };
}

/** The apiserver's bootstrap-token authenticator (plugin/pkg/auth/authenticator/token/bootstrap). */
export function authenticateBootstrapToken(token: string, getSecret: (name: string) => BootstrapTokenSecret | undefined, now: Date):
  { user: { name: string; groups: string[] } } | { noOpinion: string } {
  const parsed = parseBootstrapToken(token);
  if (!parsed) return { noOpinion: 'not a bootstrap token' };
  const name = `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${parsed.id}`;
  const s = getSecret(name);
  if (!s) return { noOpinion: `No secret of name ${name} to match bootstrap bearer token` };
  if (s.metadata.deletionTimestamp) return { noOpinion: `Bootstrap secret kube-system/${name} matching bearer token is deleted and awaiting removal` };
  if (s.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || !s.data) return { noOpinion: `Bootstrap secret kube-system/${name} matching bearer token has invalid type, expected ${BOOTSTRAP_TOKEN_SECRET_TYPE}.` };
  const a = Buffer.from(secretData(s, 'token-secret'));
  const b = Buffer.from(parsed.secret);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { noOpinion: `Bootstrap secret kube-system/${name} matching bearer token has invalid value for key token-secret.` };
  if (secretData(s, 'token-id') !== parsed.id) return { noOpinion: `Bootstrap secret kube-system/${name} matching bearer token has invalid value for key token-id.` };
  const expired = expiredAt(s, now);
  if (expired) return { noOpinion: expired };
  if (secretData(s, 'usage-bootstrap-authentication') !== 'true') return { noOpinion: `Bootstrap secret kube-system/${name} matching bearer token not marked usage-bootstrap-authentication=true.` };
  const g = bootstrapGroups(s);
  if ('error' in g) return { noOpinion: `Bootstrap secret kube-system/${name} matching bearer token has invalid value for key auth-extra-groups: ${g.error}.` };
  return { user: { name: `${BOOTSTRAP_USER_PREFIX}${parsed.id}`, groups: g.groups } };
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/**
 * jws.ComputeDetachedSignature: a compact JWS (HS256, protected header {"alg":"HS256","kid":<id>},
 * key = the token's secret) over `content`, with the payload cut out: `header..signature`.
 */
export function computeDetachedSignature(content: string, tokenId: string, tokenSecret: string): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', kid: tokenId }));
  const signingInput = `${header}.${b64url(content)}`;
  const sig = createHmac('sha256', tokenSecret).update(signingInput).digest();
  return `${header}..${b64url(sig)}`;
}

/** jws.DetachedTokenIsValid. */
export function detachedTokenIsValid(detached: string, content: string, tokenId: string, tokenSecret: string): boolean {
  const expected = computeDetachedSignature(content, tokenId, tokenSecret);
  const a = Buffer.from(detached);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface CreateTokenOptions {
  /** `<id>.<secret>`; default: a fresh random one. */
  readonly token?: string;
  /** Default 24 h (kubeadm's --ttl). */
  readonly ttlMs?: number;
  readonly now: Date;
  readonly description?: string;
  /** Default both; empty: none (the token that owns kubeadm-certs has none). */
  readonly usages?: readonly ('signing' | 'authentication')[];
  /** auth-extra-groups; default kubeadm's default-node-token group; empty: the key is left out. */
  readonly groups?: readonly string[];
}

/** The Secret `kubeadm token create` writes (bootstraptokenv1.BootstrapTokenToSecret). */
export function bootstrapTokenSecret(options: CreateTokenOptions): { token: string; secret: BootstrapTokenSecret } {
  const token = options.token ?? generateBootstrapToken();
  const parsed = parseBootstrapToken(token);
  if (!parsed) throw new Error(`the bootstrap token "${token}" was not of the form "[a-z0-9]{6}.[a-z0-9]{16}"`);
  const enc = (v: string): string => Buffer.from(v).toString('base64');
  const data: Record<string, string> = { 'token-id': enc(parsed.id), 'token-secret': enc(parsed.secret) };
  if (options.description) data.description = enc(options.description);
  const expiration = new Date(options.now.getTime() + (options.ttlMs ?? 24 * 3600_000));
  data.expiration = enc(expiration.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  for (const u of options.usages ?? ['signing', 'authentication']) data[`usage-bootstrap-${u}`] = enc('true');
  const groups = options.groups ?? [KUBEADM_DEFAULT_NODE_TOKEN_GROUP];
  if (groups.length > 0) data['auth-extra-groups'] = enc(groups.join(','));
  return {
    token,
    secret: { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${parsed.id}`, namespace: 'kube-system' }, type: BOOTSTRAP_TOKEN_SECRET_TYPE, data },
  };
}
