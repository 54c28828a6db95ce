/**
 * The kubelet API's authorization attributes (pkg/kubelet/server/auth.go,
 * `nodeAuthorizerAttributesGetter.GetRequestAttributes`, without the 1.32 KubeletFineGrainedAuthz
 * gate): resource `nodes`, name = this node, verb from the HTTP method, subresource `stats`,
 * `metrics`, `log` (for /logs/, the node's own log files) or `checkpoint` by path, `proxy` for
 * everything else — /containerLogs, /pods, /spec and /healthz included.
 */

export interface KubeletAttributes {
  readonly verb: string;
  readonly resource: 'nodes';
  readonly subresource: 'stats' | 'metrics' | 'log' | 'checkpoint' | 'proxy';
  readonly name: string;
}

export function httpVerb(method: string): string {
  switch (method) {
    case 'POST': return 'create';
    case 'GET': return 'get';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return 'delete';
    default: return '';
  }
}

/** auth.go `isSubpath`. */
export function isSubpath(subpath: string, path: string): boolean {
  const p = path.endsWith('/') ? path.slice(0, -1) : path;
  return subpath === p || (subpath.startsWith(p) && subpath[p.length] === '/');
}

export function requestAttributes(method: string, path: string, nodeName: string): KubeletAttributes {
  const subresource = isSubpath(path, '/stats') ? 'stats'
    : isSubpath(path, '/metrics') ? 'metrics'
    : isSubpath(path, '/logs') ? 'log'
    : isSubpath(path, '/checkpoint') ? 'checkpoint'
    : 'proxy';
  return { verb: httpVerb(method), resource: 'nodes', subresource, name: nodeName };
}

/** server.go InstallAuthFilter's 403 body. */
export const forbiddenMessage = (user: string, a: KubeletAttributes): string =>
  `Forbidden (user=${user}, verb=${a.verb}, resource=${a.resource}, subresource=${a.subresource})`;

/** server.go InstallAuthFilter's 500 body when the SubjectAccessReview itself failed. */
export const authorizationErrorMessage = (user: string, a: KubeletAttributes): string =>
  `Authorization error (user=${user}, verb=${a.verb}, resource=${a.resource}, subresource=${a.subresource})`;

/** The SubjectAccessReview the kubelet's webhook authorizer posts. */
export function subjectAccessReview(user: string, groups: readonly string[], a: KubeletAttributes): {
  apiVersion: 'authorization.k8s.io/v1'; kind: 'SubjectAccessReview'; metadata: Record<string, never>;
  spec: { user: string; groups: string[]; resourceAttributes: { verb: string; group: string; version: string; resource: string; subresource: string; name: string } };
} {
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    metadata: {},
    spec: { user, groups: [...groups], resourceAttributes: { verb: a.verb, group: '', version: 'v1', resource: a.resource, subresource: a.subresource, name: a.name } },
  };
}
