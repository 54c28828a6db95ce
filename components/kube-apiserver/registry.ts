/**
 * The resource table: one row per served resource. Routing, storage keys, discovery documents and
 * selector validation all read this table; nothing else in the apiserver lists resources by name.
 *
 * Storage prefixes are the real apiserver's (k8s.io/kubernetes pkg/registry/... NewREST calls and
 * DefaultStorageFactory's overrides): nodes live under `minions`, services under `services/specs`,
 * endpoints under `services/endpoints`, endpointslices under `endpointslices`.
 */

import { failure, pathNotFound } from './errors.js';

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export interface SubresourceDef {
  readonly name: 'status' | 'binding' | 'log' | 'scale' | 'token' | 'approval' | 'proxy';
  readonly kind: string;
  readonly verbs: readonly Verb[];
  /** Group and version of the subresource's kind when it differs (Scale is autoscaling/v1). */
  readonly group?: string;
  readonly version?: string;
}

export interface ResourceDef {
  /** '' for the core ("legacy") group served under /api. */
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly Verb[];
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  /** Key prefix under /registry/; absent for virtual resources (reviews, bindings) that are never stored. */
  readonly storage?: string;
  readonly subresources: readonly SubresourceDef[];
  /** metadata.generation counts changes to .spec (Deployments, ReplicaSets). */
  readonly generation?: boolean;
  /** Field selectors this resource accepts besides metadata.name and metadata.namespace. */
  readonly fieldLabels?: readonly string[];
}

const CRUD: readonly Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS: SubresourceDef = { name: 'status', kind: '', verbs: ['get', 'patch', 'update'] };
const status = (kind: string): SubresourceDef => ({ ...STATUS, kind });
const scale: SubresourceDef = { name: 'scale', kind: 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' };

export const RESOURCES: readonly ResourceDef[] = [
  // core/v1
  { group: '', version: 'v1', resource: 'bindings', singular: 'binding', kind: 'Binding', namespaced: true, verbs: ['create'], subresources: [] },
  { group: '', version: 'v1', resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, verbs: CRUD, shortNames: ['cm'], storage: 'configmaps', subresources: [] },
  { group: '', version: 'v1', resource: 'endpoints', singular: 'endpoints', kind: 'Endpoints', namespaced: true, verbs: CRUD, shortNames: ['ep'], storage: 'services/endpoints', subresources: [] },
  {
    group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', namespaced: true, verbs: CRUD, shortNames: ['ev'], storage: 'events', subresources: [],
    fieldLabels: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  },
  {
    group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['ns'], storage: 'namespaces', subresources: [status('Namespace')], fieldLabels: ['status.phase'],
  },
  {
    group: '', version: 'v1', resource: 'nodes', singular: 'node', kind: 'Node', namespaced: false, verbs: CRUD, shortNames: ['no'], storage: 'minions',
    subresources: [{ name: 'proxy', kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }, status('Node')], fieldLabels: ['spec.unschedulable'],
  },
  {
    group: '', version: 'v1', resource: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, verbs: CRUD, shortNames: ['po'], categories: ['all'], storage: 'pods',
    subresources: [
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      status('Pod'),
    ],
    fieldLabels: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  },
  { group: '', version: 'v1', resource: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true, verbs: CRUD, storage: 'secrets', subresources: [], fieldLabels: ['type'] },
  {
    group: '', version: 'v1', resource: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', namespaced: true, verbs: CRUD, shortNames: ['sa'],
    storage: 'serviceaccounts', subresources: [{ name: 'token', kind: 'TokenRequest', verbs: ['create'], group: 'authentication.k8s.io', version: 'v1' }],
  },
  {
    group: '', version: 'v1', resource: 'services', singular: 'service', kind: 'Service', namespaced: true, verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['svc'], categories: ['all'], storage: 'services/specs', subresources: [status('Service')],
  },
  // apps/v1
  {
    group: 'apps', version: 'v1', resource: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, verbs: CRUD, shortNames: ['deploy'], categories: ['all'],
    storage: 'deployments', subresources: [scale, status('Deployment')], generation: true,
  },
  {
    group: 'apps', version: 'v1', resource: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', namespaced: true, verbs: CRUD, shortNames: ['rs'], categories: ['all'],
    storage: 'replicasets', subresources: [scale, status('ReplicaSet')], generation: true, fieldLabels: ['status.replicas'],
  },
  // authentication.k8s.io/v1
  { group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews', singular: 'selfsubjectreview', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'], subresources: [] },
  // authorization.k8s.io/v1
  { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'], subresources: [] },
  { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview', kind: 'SelfSubjectRulesReview', namespaced: false, verbs: ['create'], subresources: [] },
  { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews', singular: 'subjectaccessreview', kind: 'SubjectAccessReview', namespaced: false, verbs: ['create'], subresources: [] },
  // certificates.k8s.io/v1
  {
    group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', singular: 'certificatesigningrequest', kind: 'CertificateSigningRequest',
    namespaced: false, verbs: CRUD, shortNames: ['csr'], storage: 'certificatesigningrequests',
    subresources: [{ name: 'approval', kind: 'CertificateSigningRequest', verbs: ['get', 'patch', 'update'] }, status('CertificateSigningRequest')],
  },
  // coordination.k8s.io/v1
  { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', singular: 'lease', kind: 'Lease', namespaced: true, verbs: CRUD, storage: 'leases', subresources: [] },
  // discovery.k8s.io/v1 (no spec: endpoints, ports and addressType sit at the top level; generation counts their changes)
  { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', singular: 'endpointslice', kind: 'EndpointSlice', namespaced: true, verbs: CRUD, storage: 'endpointslices', subresources: [] },
  // rbac.authorization.k8s.io/v1
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', singular: 'clusterrolebinding', kind: 'ClusterRoleBinding', namespaced: false, verbs: CRUD, storage: 'clusterrolebindings', subresources: [] },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', singular: 'clusterrole', kind: 'ClusterRole', namespaced: false, verbs: CRUD, storage: 'clusterroles', subresources: [] },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', singular: 'rolebinding', kind: 'RoleBinding', namespaced: true, verbs: CRUD, storage: 'rolebindings', subresources: [] },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', singular: 'role', kind: 'Role', namespaced: true, verbs: CRUD, storage: 'roles', subresources: [] },
];

/** `v1`, `apps/v1`. */
export const apiVersionOf = (d: { group: string; version: string }): string => (d.group ? `${d.group}/${d.version}` : d.version);

/** The group versions served, in discovery order (core first, then /apis groups as listed). */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(apiVersionOf(r), { group: r.group, version: r.version });
  return [...seen.values()];
}

/** Looks a resource up by group, version and plural name. */
export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

/** Looks a stored resource up by its plural name only (the cache and bootstrap use this). */
export function resourceByName(resource: string, group = ''): ResourceDef {
  const r = RESOURCES.find((d) => d.resource === resource && d.group === group);
  if (!r) throw new Error(`no resource ${resource} in group "${group}"`);
  return r;
}

/** The etcd key of one object, or the prefix of a collection (namespace and/or name absent). */
export function storageKey(def: ResourceDef, namespace: string | undefined, name?: string): string {
  if (!def.storage) throw new Error(`${def.resource} is not stored`);
  const base = `/registry/${def.storage}/`;
  if (!def.namespaced) return name === undefined ? base : `${base}${name}`;
  if (namespace === undefined) return base;
  return name === undefined ? `${base}${namespace}/` : `${base}${namespace}/${name}`;
}

export const groupResource = (def: ResourceDef, subresource?: string): { group: string; resource: string } =>
  ({ group: def.group, resource: subresource ? `${def.resource}/${subresource}` : def.resource });

/** A resource request the table serves: the resource, and the subresource when the path names one. */
export interface Route {
  readonly def: ResourceDef;
  readonly sub?: SubresourceDef;
}

/** What routing reads of a RequestInfo (auth/request-info.ts). */
export interface RoutedRequest {
  readonly verb: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly resource: string;
  /** Path parts from {resource} on. */
  readonly parts: readonly string[];
  /** The resource came after /namespaces/{namespace}/. */
  readonly namespacedPath?: boolean;
}

const METHODS: Record<Verb, string> = {
  create: 'POST', get: 'GET', list: 'GET', watch: 'GET', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETE',
};
/** A connect subresource (nodes/proxy) answers every method the real ProxyREST lists. */
const CONNECT_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/**
 * The routes the table gives, as endpoints/installer.go installs them, and the route of a request.
 * A namespaced resource is served at `/namespaces/{ns}/{resource}` (GET list/watch, POST create,
 * DELETE deletecollection), at `/namespaces/{ns}/{resource}/{name}` (GET, PUT, PATCH, DELETE), at
 * `/namespaces/{ns}/{resource}/{name}/{subresource}`, and across namespaces at `/{resource}` (GET
 * list/watch only); a cluster-scoped one at `/{resource}`, `/{resource}/{name}` and
 * `/{resource}/{name}/{subresource}` and never under `/namespaces/{ns}/`. The deprecated
 * `/watch/...` forms are GET only; `/proxy/...` is not served (removed in 1.10). There is no POST on a
 * named object: only the collection creates, and a subresource that creates (pods/binding,
 * serviceaccounts/token) has its own route. No route for the path: 404 NotFound; a route without
 * the method: 405 MethodNotAllowed (go-restful's answers, as the apiserver's serviceErrorHandler
 * words them).
 */
export function resolveRoute(method: string, r: RoutedRequest): Route {
  const def = findResource(r.apiGroup, r.apiVersion, r.resource);
  if (!def || r.verb === 'proxy') throw pathNotFound();
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const parts = r.parts;
  // Scope first: a cluster-scoped resource has no route under /namespaces/{ns}/, a namespaced one
  // has only its all-namespaces list/watch route outside it.
  if (!def.namespaced && r.namespacedPath) throw pathNotFound();
  if (def.namespaced && !r.namespacedPath && parts.length > 1) throw pathNotFound();
  const prefixWatch = r.verb === 'watch' && m !== 'GET';
  let sub: SubresourceDef | undefined;
  let methods: string[];
  if (parts.length === 1) {
    const verbs = def.namespaced && !r.namespacedPath ? def.verbs.filter((v) => v === 'list' || v === 'watch') : def.verbs.filter((v) => v !== 'get' && v !== 'update' && v !== 'patch' && v !== 'delete');
    methods = verbs.map((v) => METHODS[v]);
  } else if (parts.length === 2) {
    methods = def.verbs.filter((v) => v === 'get' || v === 'update' || v === 'patch' || v === 'delete' || v === 'watch').map((v) => METHODS[v]);
  } else {
    sub = def.subresources.find((s) => s.name === parts[2]);
    if (!sub || r.verb === 'watch') throw pathNotFound();
    if (parts.length > 3 && sub.name !== 'proxy') throw pathNotFound();
    methods = sub.name === 'proxy' ? CONNECT_METHODS : sub.verbs.map((v) => METHODS[v]);
  }
  if (methods.length === 0) throw pathNotFound();
  if (prefixWatch || !methods.includes(m)) throw failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
  return sub ? { def, sub } : { def };
}
