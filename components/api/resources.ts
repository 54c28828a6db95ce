/**
 * The resource table: one row per served resource, where a REST resource is registered (its
 * per-resource rules are its entry in kube-apiserver/strategies.ts, its columns in columns.ts).
 * The apiserver's routing, storage keys, discovery documents and selector validation read it, and
 * kubectl resolves what the user types (`po`, `deploy.apps`) against it, as real kubectl does against
 * discovery; nothing else lists resources by name.
 *
 * Storage prefixes are the real apiserver's (k8s.io/kubernetes pkg/registry/... NewREST calls and
 * DefaultStorageFactory's overrides): nodes live under `minions`, services under `services/specs`,
 * endpoints under `services/endpoints`, endpointslices under `endpointslices`.
 */

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export interface SubresourceDef {
  readonly name: 'status' | 'binding' | 'eviction' | 'log' | 'scale' | 'token' | 'approval' | 'proxy' | 'attach' | 'exec' | 'portforward';
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
  // Deprecated in 1.19 and still served: probed on each read, never stored (kube-apiserver/componentstatus.ts).
  { group: '', version: 'v1', resource: 'componentstatuses', singular: 'componentstatus', kind: 'ComponentStatus', namespaced: false, verbs: ['get', 'list'], shortNames: ['cs'], subresources: [] },
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
      // Connect subresources: GET (a WebSocket upgrade) or POST (a SPDY upgrade), as discovery lists them.
      { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'eviction', kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' },
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
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
  // apiregistration.k8s.io/v1 (kube-aggregator's: where each group/version is served, and whether it is Available)
  {
    group: 'apiregistration.k8s.io', version: 'v1', resource: 'apiservices', singular: 'apiservice', kind: 'APIService', namespaced: false, verbs: CRUD,
    categories: ['api-extensions'], storage: 'apiregistration.k8s.io/apiservices', subresources: [status('APIService')],
  },
  // apps/v1
  {
    group: 'apps', version: 'v1', resource: 'deployments', singular: 'deployment', kind: 'Deployment', namespaced: true, verbs: CRUD, shortNames: ['deploy'], categories: ['all'],
    storage: 'deployments', subresources: [scale, status('Deployment')],
  },
  {
    group: 'apps', version: 'v1', resource: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', namespaced: true, verbs: CRUD, shortNames: ['rs'], categories: ['all'],
    storage: 'replicasets', subresources: [scale, status('ReplicaSet')], fieldLabels: ['status.replicas'],
  },
  // authentication.k8s.io/v1
  { group: 'authentication.k8s.io', version: 'v1', resource: 'tokenreviews', singular: 'tokenreview', kind: 'TokenReview', namespaced: false, verbs: ['create'], subresources: [] },
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
  // discovery.k8s.io/v1 (no spec: endpoints, ports and addressType sit at the top level)
  { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', singular: 'endpointslice', kind: 'EndpointSlice', namespaced: true, verbs: CRUD, storage: 'endpointslices', subresources: [] },
  // policy/v1
  {
    group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', singular: 'poddisruptionbudget', kind: 'PodDisruptionBudget', namespaced: true, verbs: CRUD,
    shortNames: ['pdb'], storage: 'poddisruptionbudgets', subresources: [status('PodDisruptionBudget')],
  },
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

/** RESOURCES by group, version and plural name (the first of each, as a scan would find). */
const BY_GVR = new Map<string, ResourceDef>();
for (const r of RESOURCES) { const k = `${r.group}/${r.version}/${r.resource}`; if (!BY_GVR.has(k)) BY_GVR.set(k, r); }

/** Looks a resource up by group, version and plural name (every resource request does). */
export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return BY_GVR.get(`${group}/${version}/${resource}`);
}

/** Looks a stored resource up by its plural name only (the cache and bootstrap use this). */
export function resourceByName(resource: string, group = ''): ResourceDef {
  const r = RESOURCES.find((d) => d.resource === resource && d.group === group);
  if (!r) throw new Error(`no resource ${resource} in group "${group}"`);
  return r;
}

export const groupResource = (def: ResourceDef, subresource?: string): { group: string; resource: string } =>
  ({ group: def.group, resource: subresource ? `${def.resource}/${subresource}` : def.resource });

/** What kubectl can name on its command line: every listable resource (discovery's, for `kubectl get`). */
export const KUBECTL_TYPES: readonly ResourceDef[] = RESOURCES.filter((r) => r.verbs.includes('list'));

/**
 * Resolves what the user typed (`po`, `pods`, `Pod`, `deployments.apps`, `deploy.apps`) to a type.
 * Undefined when unknown (kubectl: `error: the server doesn't have a resource type "x"`).
 */
export function resolveType(arg: string): ResourceDef | undefined {
  const lower = arg.toLowerCase();
  const dot = lower.indexOf('.');
  const name = dot < 0 ? lower : lower.slice(0, dot);
  const group = dot < 0 ? undefined : lower.slice(dot + 1);
  return KUBECTL_TYPES.find((r) => (group === undefined || r.group === group || r.group.startsWith(`${group}.`))
    && (r.resource === name || r.singular === name || (r.shortNames ?? []).includes(name) || r.kind.toLowerCase() === name));
}

/** By apiVersion and kind, for manifests. */
export function typeForKind(apiVersion: string, kind: string): ResourceDef | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  return KUBECTL_TYPES.find((r) => r.kind === kind && r.group === group);
}

/** `pod`, `deployment.apps`: how kubectl names a type in `deployment.apps/web created`. */
export const qualifiedSingular = (r: ResourceDef): string => (r.group ? `${r.singular}.${r.group}` : r.singular);

/** `pods`, `deployments.apps`: how the apiserver names a type in errors. */
export const qualifiedPlural = (r: ResourceDef): string => (r.group ? `${r.resource}.${r.group}` : r.resource);
