/**
 * What the apiserver writes at start, as its post-start hooks do: the system namespaces
 * (default, kube-system, kube-public, kube-node-lease), the `kubernetes` Service with its ClusterIP
 * 10.96.0.1 and the Endpoints and EndpointSlice naming this apiserver, and the bootstrap RBAC policy
 * (rbac/bootstrap-roles: created when absent). Each write is a create that tolerates AlreadyExists,
 * so a restart over the same etcd changes nothing.
 */
import type { Clock } from '../client/common.js';
import type { KubeObject } from '../api/types.js';
import {
  aggregateClusterRoles, bootstrapClusterRoleBindings, bootstrapClusterRoles, bootstrapNamespaceRoleBindings, bootstrapNamespaceRoles,
  controllerClusterRoleBindings, controllerClusterRoles, kubeadmClusterRoleBindings, kubeadmClusterRoles,
} from './auth/bootstrap-policy.js';
import { ApiStatusError } from '../api/errors.js';
import { resourceByName, type ResourceDef } from '../api/resources.js';
import type { Store } from './storage.js';
import { prepareForCreate, type StrategyContext } from './strategy.js';

/**
 * What the apiserver's rbac/bootstrap-roles hook writes: the bootstrap and controller ClusterRoles
 * and ClusterRoleBindings and the kube-system Roles and RoleBindings. Aggregated roles (admin, edit,
 * view) are written already filled, as the clusterrole-aggregation controller would leave them.
 */
export function apiserverBootstrapPolicy(): KubeObject[] {
  return [
    ...aggregateClusterRoles([...bootstrapClusterRoles(), ...controllerClusterRoles()]),
    ...bootstrapClusterRoleBindings(), ...controllerClusterRoleBindings(),
    ...bootstrapNamespaceRoles(), ...bootstrapNamespaceRoleBindings(),
  ];
}

/**
 * What `kubeadm init` creates through the API once the apiserver is up (with super-admin.conf):
 * kubeadm:cluster-admins (admin.conf's group → cluster-admin) and the node-join roles and bindings.
 */
export function kubeadmInitObjects(): KubeObject[] {
  return [...kubeadmClusterRoles(), ...kubeadmClusterRoleBindings()];
}

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

export interface BootstrapOptions {
  readonly advertiseAddress: string;
  readonly securePort: number;
  readonly serviceIP: string;
  /** The bootstrap RBAC objects (ClusterRoles, ClusterRoleBindings, Roles, RoleBindings). */
  readonly policy: readonly KubeObject[];
}

async function ensure(store: Store, def: ResourceDef, obj: KubeObject & Record<string, unknown>, ctx: StrategyContext): Promise<boolean> {
  const existing = await store.tryGet(def, obj.metadata.namespace, obj.metadata.name ?? '');
  if (existing) return false;
  await prepareForCreate(def, obj, ctx);
  try {
    await store.create(def, obj);
    return true;
  } catch (err) {
    if (err instanceof ApiStatusError && err.status.reason === 'AlreadyExists') return false;
    throw err;
  }
}

const RBAC_KINDS: Readonly<Record<string, string>> = {
  ClusterRole: 'clusterroles', ClusterRoleBinding: 'clusterrolebindings', Role: 'roles', RoleBinding: 'rolebindings',
};

/** Writes the start-up objects; returns how many were created. */
export async function bootstrap(store: Store, options: BootstrapOptions, ctx: StrategyContext & { clock: Clock }): Promise<number> {
  let created = 0;
  const namespaces = resourceByName('namespaces');
  for (const name of SYSTEM_NAMESPACES) {
    if (await ensure(store, namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, ctx)) created++;
  }
  const fixedIP: StrategyContext = { ...ctx, allocateClusterIP: () => Promise.resolve(options.serviceIP) };
  if (await ensure(store, resourceByName('services'), {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: options.serviceIP, ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: options.securePort }], sessionAffinity: 'None' },
  }, fixedIP)) created++;
  // The endpoint reconciler keeps this in step with the apiservers that are up.
  const endpoints = resourceByName('endpoints');
  const subsets = [{ addresses: [{ ip: options.advertiseAddress }], ports: [{ name: 'https', port: options.securePort, protocol: 'TCP' }] }];
  const current = await store.tryGet<KubeObject & { subsets?: unknown }>(endpoints, 'default', 'kubernetes');
  if (!current) {
    if (await ensure(store, endpoints, {
      apiVersion: 'v1', kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets,
    }, ctx)) created++;
  } else if (JSON.stringify(current.subsets) !== JSON.stringify(subsets)) {
    await store.update(endpoints, 'default', 'kubernetes', (o) => ({ ...o, subsets }));
  }
  // The reconciler's EndpointsAdapter writes the same addresses as an EndpointSlice named `kubernetes`
  // (labelled with the service name, not managed by the endpointslice controller): what kube-proxy reads.
  const slices = resourceByName('endpointslices', 'discovery.k8s.io');
  const slice = {
    addressType: 'IPv4',
    endpoints: [{ addresses: [options.advertiseAddress], conditions: { ready: true } }],
    ports: [{ name: 'https', port: options.securePort, protocol: 'TCP' }],
  };
  const sliceLabels = { 'kubernetes.io/service-name': 'kubernetes' };
  const currentSlice = await store.tryGet<KubeObject & Record<string, unknown>>(slices, 'default', 'kubernetes');
  if (!currentSlice) {
    if (await ensure(store, slices, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'kubernetes', namespace: 'default', labels: sliceLabels }, ...slice,
    }, ctx)) created++;
  } else if (JSON.stringify([currentSlice.endpoints, currentSlice.ports]) !== JSON.stringify([slice.endpoints, slice.ports])) {
    await store.update(slices, 'default', 'kubernetes', (o) => ({
      ...o, ...slice, metadata: { ...o.metadata, generation: (o.metadata.generation ?? 1) + 1 },
    }));
  }
  for (const obj of options.policy) {
    const resource = RBAC_KINDS[obj.kind ?? ''];
    if (!resource) continue;
    if (await ensure(store, resourceByName(resource, 'rbac.authorization.k8s.io'), structuredClone(obj) as KubeObject & Record<string, unknown>, ctx)) created++;
  }
  return created;
}
