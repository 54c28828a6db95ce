/**
 * An independent reading of what a real kube-apiserver (v1.32, as kubeadm configures it:
 * --client-ca-file, --anonymous-auth, --authorization-mode=Node,RBAC) answers to a resource
 * request, used by the security battery as its oracle. Written fresh from the Go sources, without
 * importing the simulation's auth code:
 *
 *   authentication  k8s.io/apiserver/pkg/authentication/request/x509 (verify against the client CA
 *                   with ExtKeyUsageClientAuth; user = CN, groups = O) and anonymous
 *   RequestInfo     k8s.io/apiserver/pkg/endpoints/request/requestinfo.go
 *   selectors       k8s.io/apimachinery/pkg/fields/selector.go (ParseSelector, RequiresExactMatch)
 *   authorization   the privileged group (system:masters), then the Node authorizer
 *                   (plugin/pkg/auth/authorizer/node/node_authorizer.go, AuthorizeNodeWithSelectors on,
 *                   beta and default in 1.32), then RBAC (plugin/pkg/auth/authorizer/rbac/rbac.go and
 *                   k8s.io/component-helpers/auth/rbac/validation's rule matching)
 *   routing         go-restful's CurlyRouter over the routes the apiserver's installer registers for each
 *                   resource (pkg/endpoints/installer.go): no route for the path → 404, a route for the
 *                   path but not the method → 405. Authorization runs before routing, so a request that
 *                   names no route is 403 for whoever may not make it, and 404 for whoever may.
 *
 * The route model reads the simulation's resource table (components/kube-apiserver/registry.ts) for
 * which resources, subresources and verbs exist; everything else here is its own.
 */
import { X509Certificate } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { findResource, type ResourceDef } from '../../components/api/resources.js';

// ---------------------------------------------------------------- policy

export interface Rule {
  readonly verbs: readonly string[];
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}

export interface Subject {
  readonly kind: 'User' | 'Group' | 'ServiceAccount';
  readonly name: string;
  readonly namespace?: string;
}

export interface Binding {
  readonly name: string;
  /** Absent for a ClusterRoleBinding. */
  readonly namespace?: string;
  readonly roleRef: { readonly kind: 'ClusterRole' | 'Role'; readonly name: string };
  readonly subjects: readonly Subject[];
}

export interface Policy {
  readonly clusterRoles: ReadonlyMap<string, readonly Rule[]>;
  /** Keyed `<namespace>/<name>`. */
  readonly roles: ReadonlyMap<string, readonly Rule[]>;
  readonly clusterRoleBindings: readonly Binding[];
  readonly roleBindings: readonly Binding[];
}

function parseSubject(s: string): Subject {
  const [kind, ...rest] = s.split(':');
  if (kind === 'ServiceAccount') return { kind, namespace: rest[0]!, name: rest.slice(1).join(':') };
  if (kind === 'User' || kind === 'Group') return { kind, name: rest.join(':') };
  throw new Error(`fixture: bad subject ${s}`);
}

function parseRoleRef(s: string): Binding['roleRef'] {
  const i = s.indexOf(':');
  const kind = s.slice(0, i);
  if (kind !== 'ClusterRole' && kind !== 'Role') throw new Error(`fixture: bad roleRef ${s}`);
  return { kind, name: s.slice(i + 1) };
}

interface RawBinding { roleRef: string; subjects: string[] }
interface RawPolicy {
  clusterRoles?: Record<string, Rule[]>;
  clusterRoleBindings?: Record<string, RawBinding>;
  namespaces?: Record<string, { roles?: Record<string, Rule[]>; roleBindings?: Record<string, RawBinding> }>;
}

/** Reads the fixture's format (see fixtures/kubernetes-1.32-rbac.yaml). */
export function parsePolicy(text: string): Policy {
  const raw = parseYaml(text) as RawPolicy;
  const clusterRoles = new Map(Object.entries(raw.clusterRoles ?? {}));
  const clusterRoleBindings = Object.entries(raw.clusterRoleBindings ?? {}).map(([name, b]): Binding =>
    ({ name, roleRef: parseRoleRef(b.roleRef), subjects: b.subjects.map(parseSubject) }));
  const roles = new Map<string, readonly Rule[]>();
  const roleBindings: Binding[] = [];
  for (const [ns, content] of Object.entries(raw.namespaces ?? {})) {
    for (const [name, rules] of Object.entries(content.roles ?? {})) roles.set(`${ns}/${name}`, rules);
    for (const [name, b] of Object.entries(content.roleBindings ?? {})) {
      roleBindings.push({ name, namespace: ns, roleRef: parseRoleRef(b.roleRef), subjects: b.subjects.map(parseSubject) });
    }
  }
  return { clusterRoles, roles, clusterRoleBindings, roleBindings };
}

export function mergePolicies(...policies: readonly Policy[]): Policy {
  return {
    clusterRoles: new Map(policies.flatMap((p) => [...p.clusterRoles])),
    roles: new Map(policies.flatMap((p) => [...p.roles])),
    clusterRoleBindings: policies.flatMap((p) => p.clusterRoleBindings),
    roleBindings: policies.flatMap((p) => p.roleBindings),
  };
}

// ---------------------------------------------------------------- authentication

export interface User {
  readonly name: string;
  readonly groups: readonly string[];
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';

/** The subject's attribute values for a short name (`CN`, `O`), in order. */
function subjectValues(cert: X509Certificate, attr: string): string[] {
  return cert.subject.split('\n').filter((l) => l.startsWith(`${attr}=`)).map((l) => l.slice(attr.length + 1));
}

/**
 * What the x509 authenticator and then the anonymous one decide for a client certificate (or none):
 * a user, or undefined for 401. A certificate is accepted when the client CA issued and signed it,
 * it is within its validity, and its extended key usage allows client authentication (no EKU
 * extension at all means any usage, as in Go).
 */
export function authenticate(certPem: string | undefined, clientCaPem: string, now = new Date()): User | undefined {
  if (certPem === undefined) return { name: 'system:anonymous', groups: ['system:unauthenticated'] };
  const cert = new X509Certificate(certPem);
  const ca = new X509Certificate(clientCaPem);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return undefined;
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) return undefined;
  const eku = cert.keyUsage;
  if (eku !== undefined && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EKU)) return undefined;
  const [cn] = subjectValues(cert, 'CN');
  if (!cn) return undefined;
  return { name: cn, groups: [...subjectValues(cert, 'O'), 'system:authenticated'] };
}

// ---------------------------------------------------------------- request attributes

export interface FieldRequirement {
  readonly field: string;
  readonly operator: '=' | '!=';
  readonly value: string;
}

/** fields.ParseSelector; a string for a selector that does not parse. */
export function parseFieldSelector(selector: string): FieldRequirement[] | string {
  // splitTerms: commas not escaped by a backslash; no trimming.
  const parts: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') { parts.push(selector.slice(start, i)); start = i + 1; }
  }
  parts.push(selector.slice(start));
  parts.sort();
  const out: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    // splitTerm: the first position where one of !=, ==, = begins (in that order of preference).
    let split: [string, string, string] | undefined;
    for (let i = 0; i < part.length && !split; i++) {
      for (const op of ['!=', '==', '=']) {
        if (part.startsWith(op, i)) { split = [part.slice(0, i), op, part.slice(i + op.length)]; break; }
      }
    }
    if (!split) return `invalid selector: '${selector}'; can't understand '${part}'`;
    const [lhs, op, rhs] = split;
    // UnescapeValue: \\, \, and \= are escapes; any other escape, or a bare , or =, is an error.
    let value = '';
    let slash = false;
    for (const c of rhs) {
      if (slash) {
        if (c !== '\\' && c !== ',' && c !== '=') return `invalid field selector: invalid escape sequence: \\${c}`;
        value += c;
        slash = false;
      } else if (c === '\\') slash = true;
      else if (c === ',' || c === '=') return `invalid field selector: unescaped ${c}`;
      else value += c;
    }
    if (slash) return 'invalid field selector: trailing backslash';
    out.push({ field: lhs, operator: op === '!=' ? '!=' : '=', value });
  }
  return out;
}

/** Go's url.ParseQuery (pairs split on `&` only; a pair with a bad escape is dropped). */
export function parseQuery(raw: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const pair of raw.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const [k, v] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    try {
      const key = decodeURIComponent(k.replace(/\+/g, ' '));
      const value = decodeURIComponent(v.replace(/\+/g, ' '));
      m.set(key, [...(m.get(key) ?? []), value]);
    } catch {
      // Go's QueryUnescape error: the pair is skipped.
    }
  }
  return m;
}

export interface Attributes {
  readonly isResourceRequest: boolean;
  readonly path: string;
  readonly verb: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly resource: string;
  readonly subresource: string;
  readonly name: string;
  /** The path parts from the resource on (after /namespaces/{ns}/ when that names the scope). */
  readonly parts: readonly string[];
  /** The path named a scope: /namespaces/{ns}/{resource}... (not /namespaces/{name}[/status|/finalize]). */
  readonly namespacedPath: boolean;
  /** /watch/ (deprecated special verb) prefix. */
  readonly watchPrefix: boolean;
  /** The field selector's requirements for list/watch/deletecollection, as authorizers get them. */
  readonly fieldRequirements?: readonly FieldRequirement[];
  readonly method: string;
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** RequestInfoFactory.NewRequestInfo plus the field-selector attributes (AuthorizeWithSelectors). */
export function requestAttributes(method: string, rawUrl: string): Attributes {
  // Go's server parses the request line with url.ParseRequestURI: no fragment is split off, so a
  // raw '#' stays in the query.
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = parseQuery(q < 0 ? '' : rawUrl.slice(q + 1));
  let path: string;
  try { path = decodeURIComponent(rawPath); } catch { path = rawPath; }
  const base = {
    isResourceRequest: false, path, verb: method.toLowerCase(), apiGroup: '', apiVersion: '', namespace: '', resource: '',
    subresource: '', name: '', parts: [] as string[], namespacedPath: false, watchPrefix: false, method,
  };
  let parts = path.replace(/^\/+|\/+$/g, '').split('/').filter((_, i, a) => !(a.length === 1 && a[0] === ''));
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return base;
  const prefix = parts[0]!;
  parts = parts.slice(1);
  let apiGroup = '';
  if (prefix === 'apis') {
    if (parts.length < 3) return base;
    apiGroup = parts[0]!;
    parts = parts.slice(1);
  }
  const apiVersion = parts[0]!;
  parts = parts.slice(1);
  let verb: string;
  let watchPrefix = false;
  if (parts[0] === 'watch' || parts[0] === 'proxy') {
    if (parts.length < 2) return { ...base, isResourceRequest: true, apiGroup, apiVersion };
    verb = parts[0];
    watchPrefix = parts[0] === 'watch';
    parts = parts.slice(1);
  } else {
    verb = ({ POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[method] ?? '';
  }
  let namespace = '';
  let namespacedPath = false;
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1]!;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) {
      parts = parts.slice(2);
      namespacedPath = true;
    }
  }
  const resource = parts[0] ?? '';
  let name = parts[1] ?? '';
  const subresource = parts.length >= 3 && verb !== 'proxy' ? parts[2]! : '';

  const rawSelector = query.get('fieldSelector')?.[0];
  const parsedSelector = rawSelector === undefined || rawSelector === '' ? [] : parseFieldSelector(rawSelector);
  if (name === '' && verb === 'get') {
    const watch = query.get('watch')?.[0];
    verb = watch !== undefined && !['false', '0'].includes(watch.toLowerCase()) ? 'watch' : 'list';
    if (typeof parsedSelector !== 'string') {
      // andTerm.RequiresExactMatch: the first (sorted) `metadata.name=` term.
      const exact = parsedSelector.find((r) => r.field === 'metadata.name' && r.operator === '=');
      if (exact && exact.value !== '.' && exact.value !== '..' && !/[/%]/.test(exact.value)) name = exact.value;
    }
  }
  if (name === '' && verb === 'delete') verb = 'deletecollection';
  const selectorVerbs = verb === 'list' || verb === 'watch' || verb === 'deletecollection';
  return {
    ...base, isResourceRequest: true, verb, apiGroup, apiVersion, namespace, resource, subresource, name, parts, namespacedPath, watchPrefix,
    ...(selectorVerbs && typeof parsedSelector !== 'string' && parsedSelector.length > 0 ? { fieldRequirements: parsedSelector } : {}),
  };
}

// ---------------------------------------------------------------- authorization

/** What the Node authorizer's graph knows: pods bound to nodes and what they reference. */
export interface GraphPod {
  readonly namespace: string;
  readonly name: string;
  readonly nodeName: string;
  readonly configMaps: readonly string[];
  readonly secrets: readonly string[];
  readonly serviceAccount?: string;
}

const NODE_PREFIX = 'system:node:';

function nodeName(user: User): string | undefined {
  if (!user.name.startsWith(NODE_PREFIX) || !user.groups.includes('system:nodes')) return undefined;
  return user.name.slice(NODE_PREFIX.length);
}

function hasPathFrom(graph: readonly GraphPod[], node: string, type: 'pod' | 'configmap' | 'secret' | 'serviceaccount', ns: string, name: string): boolean {
  const pods = graph.filter((p) => p.nodeName === node && p.namespace === ns);
  switch (type) {
    case 'pod': return pods.some((p) => p.name === name);
    case 'configmap': return pods.some((p) => p.configMaps.includes(name));
    case 'secret': return pods.some((p) => p.secrets.includes(name));
    case 'serviceaccount': return pods.some((p) => p.serviceAccount === name);
  }
}

function ruleAllows(a: Attributes, r: Rule): boolean {
  if (!r.verbs.includes('*') && !r.verbs.includes(a.verb)) return false;
  if (!a.isResourceRequest) return false;
  if (!r.apiGroups || !(r.apiGroups.includes('*') || r.apiGroups.includes(a.apiGroup))) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk = (r.resources ?? []).some((res) => res === '*' || res === combined
    || (a.subresource !== '' && res === `*/${a.subresource}`));
  if (!resourceOk) return false;
  return !r.resourceNames?.length || r.resourceNames.includes(a.name);
}

/** The Node authorizer: true for allow, false for no opinion (it never denies). */
export function nodeAuthorizerAllows(user: User, a: Attributes, graph: readonly GraphPod[], nodeRules: readonly Rule[]): boolean {
  const node = nodeName(user);
  if (node === undefined || node === '') return false;
  if (a.isResourceRequest) {
    const gr = `${a.apiGroup}/${a.resource}`;
    const authorize = (type: 'pod' | 'configmap' | 'secret' | 'serviceaccount'): boolean => a.name !== '' && hasPathFrom(graph, node, type, a.namespace, a.name);
    switch (gr) {
      case '/secrets':
      case '/configmaps':
        if (!['get', 'list', 'watch'].includes(a.verb) || a.subresource !== '' || a.namespace === '') return false;
        return authorize(a.resource === 'secrets' ? 'secret' : 'configmap');
      case '/serviceaccounts':
        if (a.verb !== 'create' || a.name === '' || a.subresource !== 'token') return false;
        return hasPathFrom(graph, node, 'serviceaccount', a.namespace, a.name);
      case 'coordination.k8s.io/leases':
        if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) return false;
        if (a.namespace !== 'kube-node-lease') return false;
        return a.verb === 'create' || a.name === node;
      case '/nodes':
        if (a.subresource === '') {
          if (['create', 'update', 'patch'].includes(a.verb)) return true;
          if (['get', 'list', 'watch'].includes(a.verb)) return a.name === node;
          return false;
        }
        return a.subresource === 'status' && ['update', 'patch'].includes(a.verb);
      case '/pods':
        if (a.subresource === '') {
          if (a.verb === 'get') return authorize('pod');
          if (a.verb === 'list' || a.verb === 'watch') {
            if (a.fieldRequirements?.some((r) => r.field === 'spec.nodeName' && r.operator === '=' && r.value === node)) return true;
            return a.name !== '' && authorize('pod');
          }
          return a.verb === 'create' || a.verb === 'delete';
        }
        if (a.subresource === 'status') return ['update', 'patch'].includes(a.verb);
        if (a.subresource === 'eviction') return a.verb === 'create';
        return false;
      default:
        break;
    }
  }
  return nodeRules.some((r) => ruleAllows(a, r));
}

function subjectMatches(s: Subject, user: User, namespace: string): boolean {
  switch (s.kind) {
    case 'User': return s.name === user.name;
    case 'Group': return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || namespace;
      return ns !== '' && user.name === `system:serviceaccount:${ns}:${s.name}`;
    }
  }
}

/** RBAC over the policy: ClusterRoleBindings anywhere, RoleBindings of the request's namespace. */
export function rbacAllows(policy: Policy, user: User, a: Attributes): boolean {
  const rulesOf = (b: Binding): readonly Rule[] =>
    (b.roleRef.kind === 'ClusterRole' ? policy.clusterRoles.get(b.roleRef.name) : policy.roles.get(`${b.namespace}/${b.roleRef.name}`)) ?? [];
  for (const b of policy.clusterRoleBindings) {
    if (b.subjects.some((s) => subjectMatches(s, user, '')) && rulesOf(b).some((r) => ruleAllows(a, r))) return true;
  }
  if (a.namespace === '') return false;
  for (const b of policy.roleBindings) {
    if (b.namespace !== a.namespace) continue;
    if (b.subjects.some((s) => subjectMatches(s, user, a.namespace)) && rulesOf(b).some((r) => ruleAllows(a, r))) return true;
  }
  return false;
}

/** --authorization-mode=Node,RBAC behind the system:masters short-cut. */
export function authorized(policy: Policy, graph: readonly GraphPod[], user: User, a: Attributes): boolean {
  if (user.groups.includes('system:masters')) return true;
  if (nodeAuthorizerAllows(user, a, graph, policy.clusterRoles.get('system:node') ?? [])) return true;
  return rbacAllows(policy, user, a);
}

// ---------------------------------------------------------------- routing

export type Layer = 'unauthenticated' | 'forbidden' | 'route-404' | 'route-405' | 'handler';

const METHOD_OF_VERB: Readonly<Record<string, string>> = { get: 'GET', list: 'GET', watch: 'GET', create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETE' };

/** The methods go-restful has a route for at this path, or undefined when no route has the path. */
function routeMethods(def: ResourceDef, a: Attributes): Set<string> | undefined {
  const methods = (verbs: readonly string[]): Set<string> => new Set(verbs.map((v) => METHOD_OF_VERB[v]!));
  const [, name, sub, ...rest] = a.parts;
  const has = (v: string): boolean => def.verbs.includes(v as never);
  let m: Set<string>;
  if (a.watchPrefix) {
    // GET /watch/[namespaces/{ns}/]R[/{name}]: registered for watchers.
    if (sub !== undefined || !has('watch')) return undefined;
    if (def.namespaced && !a.namespacedPath && name !== undefined) return undefined;
    return new Set(['GET']);
  }
  if (name === undefined) {
    if (def.namespaced && !a.namespacedPath) {
      // Only the all-namespaces list/watch route.
      m = has('list') || has('watch') ? new Set(['GET']) : new Set();
    } else {
      m = methods(def.verbs.filter((v) => ['list', 'watch', 'create', 'deletecollection'].includes(v)));
    }
  } else if (def.namespaced && !a.namespacedPath) {
    return undefined;
  } else if (sub === undefined) {
    m = methods(def.verbs.filter((v) => ['get', 'update', 'patch', 'delete'].includes(v)));
  } else {
    const sd = def.subresources.find((s) => s.name === sub);
    if (!sd) return undefined;
    if (rest.length > 0 && sd.name !== 'proxy') return undefined;
    m = methods(sd.verbs);
  }
  return m.size === 0 ? undefined : m;
}

/** After authorization: which layer answers a resource request. */
export function route(a: Attributes): Layer {
  const def = findResource(a.apiGroup, a.apiVersion, a.resource);
  if (!def) return 'route-404';
  if (a.namespacedPath && !def.namespaced) return 'route-404';
  const methods = routeMethods(def, a);
  if (!methods) return 'route-404';
  return methods.has(a.method) ? 'handler' : 'route-405';
}

/** The whole expectation for one request. */
export function expectedLayer(policy: Policy, graph: readonly GraphPod[], user: User | undefined, method: string, rawUrl: string): { layer: Layer; attributes: Attributes } {
  const attributes = requestAttributes(method, rawUrl);
  if (!user) return { layer: 'unauthenticated', attributes };
  if (!authorized(policy, graph, user, attributes)) return { layer: 'forbidden', attributes };
  return { layer: route(attributes), attributes };
}
