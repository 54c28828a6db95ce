/**
 * The resource types kubectl knows by name, plural, singular, short name and kind — what real kubectl
 * learns from discovery (`/api/v1`, `/apis/apps/v1`, ...), fixed here for the types the simulation serves.
 */

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  /** Plural, as in the URL. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
}

const t = (group: string, resource: string, singular: string, kind: string, namespaced: boolean, shortNames: string[] = []): ResourceType =>
  ({ group, version: 'v1', resource, singular, kind, namespaced, shortNames });

export const RESOURCE_TYPES: readonly ResourceType[] = [
  t('', 'pods', 'pod', 'Pod', true, ['po']),
  t('', 'services', 'service', 'Service', true, ['svc']),
  t('', 'endpoints', 'endpoints', 'Endpoints', true, ['ep']),
  t('', 'nodes', 'node', 'Node', false, ['no']),
  t('', 'namespaces', 'namespace', 'Namespace', false, ['ns']),
  t('', 'events', 'event', 'Event', true, ['ev']),
  t('', 'configmaps', 'configmap', 'ConfigMap', true, ['cm']),
  t('', 'secrets', 'secret', 'Secret', true),
  t('', 'serviceaccounts', 'serviceaccount', 'ServiceAccount', true, ['sa']),
  t('apps', 'deployments', 'deployment', 'Deployment', true, ['deploy']),
  t('apps', 'replicasets', 'replicaset', 'ReplicaSet', true, ['rs']),
  t('coordination.k8s.io', 'leases', 'lease', 'Lease', true),
  t('discovery.k8s.io', 'endpointslices', 'endpointslice', 'EndpointSlice', true),
  t('rbac.authorization.k8s.io', 'clusterroles', 'clusterrole', 'ClusterRole', false),
  t('rbac.authorization.k8s.io', 'clusterrolebindings', 'clusterrolebinding', 'ClusterRoleBinding', false),
  t('rbac.authorization.k8s.io', 'roles', 'role', 'Role', true),
  t('rbac.authorization.k8s.io', 'rolebindings', 'rolebinding', 'RoleBinding', true),
  t('certificates.k8s.io', 'certificatesigningrequests', 'certificatesigningrequest', 'CertificateSigningRequest', false, ['csr']),
];

/**
 * Resolves what the user typed (`po`, `pods`, `Pod`, `deployments.apps`, `deploy.apps`) to a type.
 * Undefined when unknown (kubectl: `error: the server doesn't have a resource type "x"`).
 */
export function resolveType(arg: string): ResourceType | undefined {
  const lower = arg.toLowerCase();
  const dot = lower.indexOf('.');
  const name = dot < 0 ? lower : lower.slice(0, dot);
  const group = dot < 0 ? undefined : lower.slice(dot + 1);
  return RESOURCE_TYPES.find((r) => (group === undefined || r.group === group || r.group.startsWith(`${group}.`))
    && (r.resource === name || r.singular === name || r.shortNames.includes(name) || r.kind.toLowerCase() === name));
}

/** By apiVersion and kind, for manifests. */
export function typeForKind(apiVersion: string, kind: string): ResourceType | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  return RESOURCE_TYPES.find((r) => r.kind === kind && r.group === group);
}

export const apiVersionOf = (r: ResourceType): string => (r.group ? `${r.group}/${r.version}` : r.version);

/** `pod`, `deployment.apps`: how kubectl names a type in `deployment.apps/web created`. */
export const qualifiedSingular = (r: ResourceType): string => (r.group ? `${r.singular}.${r.group}` : r.singular);

/** `pods`, `deployments.apps`: how the apiserver names a type in errors. */
export const qualifiedPlural = (r: ResourceType): string => (r.group ? `${r.resource}.${r.group}` : r.resource);
