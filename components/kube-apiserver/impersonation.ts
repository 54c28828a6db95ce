/**
 * User impersonation (`kubectl --as`, `--as-group`), as k8s.io/apiserver's WithImpersonation filter
 * does it: every Impersonate-* header is itself authorized as the verb `impersonate` on users, groups,
 * serviceaccounts, uids or userextras, and the request then runs as the impersonated user, with
 * system:authenticated added (system:serviceaccounts groups for a service account).
 */
import type { IncomingMessage } from 'node:http';
import { splitServiceAccountUsername } from './auth/attributes.js';
import { BadRequestTargetError, goUnescape, type RequestInfo } from './auth/request-info.js';
import { badRequest, forbidden } from '../api/errors.js';
import type { Gate, UserInfo } from './gate.js';

/** Every line of a header, one value each (Go's `req.Header[name]`: a comma inside a line is part of its value). */
const header = (req: IncomingMessage, name: string): string[] => req.headersDistinct[name.toLowerCase()] ?? [];

const check = (verbOn: { resource: string; group?: string; namespace?: string; name: string }): RequestInfo => ({
  isResourceRequest: true, path: '', verb: 'impersonate', apiPrefix: verbOn.group ? 'apis' : 'api', apiGroup: verbOn.group ?? '', apiVersion: '',
  namespace: verbOn.namespace ?? '', resource: verbOn.resource, subresource: '', name: verbOn.name, parts: [],
});

/**
 * unescapeExtraKey: url.PathUnescape of the (lower-cased) header suffix; a malformed escape
 * (`Impersonate-Extra-%ZZ`) keeps the key as it came ("always record extra strings, even if
 * malformed/unencoded").
 */
function unescapeExtraKey(encoded: string): string {
  try {
    return goUnescape(encoded, 'path');
  } catch (err) {
    if (err instanceof BadRequestTargetError) return encoded;
    throw err;
  }
}

/** Returns the user the request acts as: `user` itself, or the one it impersonates when allowed. */
export async function impersonate(req: IncomingMessage, user: UserInfo, gate: Gate): Promise<UserInfo> {
  const [name] = header(req, 'Impersonate-User');
  const groups = header(req, 'Impersonate-Group');
  const [uid] = header(req, 'Impersonate-Uid');
  const extraKeys = Object.keys(req.headers).filter((k) => k.startsWith('impersonate-extra-'));
  if (name === undefined) {
    if (groups.length || uid !== undefined || extraKeys.length) throw badRequest('requested impersonation of groups, uid or extra without impersonating a user');
    return user;
  }
  const checks: RequestInfo[] = [];
  const sa = splitServiceAccountUsername(name);
  checks.push(sa ? check({ resource: 'serviceaccounts', namespace: sa.namespace, name: sa.name }) : check({ resource: 'users', name }));
  for (const g of groups) checks.push(check({ resource: 'groups', name: g }));
  if (uid !== undefined) checks.push(check({ resource: 'uids', group: 'authentication.k8s.io', name: uid }));
  // Keyed by header names the client chose: no prototype for `Impersonate-Extra-__proto__` to reach.
  const extra = Object.create(null) as Record<string, string[]>;
  for (const k of extraKeys) {
    const key = unescapeExtraKey(k.slice('impersonate-extra-'.length));
    extra[key] = header(req, k);
    for (const v of extra[key]!) checks.push({ ...check({ resource: 'userextras', group: 'authentication.k8s.io', name: v }), subresource: key });
  }
  for (const info of checks) {
    const d = await gate.authorize(user, info);
    if (!d.allowed) throw forbidden(d.message, { group: info.apiGroup, resource: info.resource }, info.name, 'authorization');
  }
  const all = [...groups];
  if (sa && groups.length === 0) all.push('system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`);
  if (name === 'system:anonymous') { if (!all.includes('system:unauthenticated')) all.push('system:unauthenticated'); }
  else if (!all.includes('system:authenticated')) all.push('system:authenticated');
  return { name, groups: all, ...(uid !== undefined ? { uid } : {}), ...(extraKeys.length ? { extra } : {}) };
}
