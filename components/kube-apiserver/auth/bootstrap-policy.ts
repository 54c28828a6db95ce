/**
 * The bootstrap RBAC policy the apiserver reconciles into etcd at start-up (its rbac/bootstrap-roles
 * post-start hook), copied from plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go and
 * controller_policy.go as their serialized form in bootstrappolicy/testdata/{cluster-roles,
 * cluster-role-bindings,controller-roles,controller-role-bindings}.yaml shows them (verbs and
 * resources sorted, since the Go rule builder uses sets). Only the roles of the identities this
 * simulation runs are included, plus the ones kubeadm binds for node join.
 *
 * Every object carries the label `kubernetes.io/bootstrapping: rbac-defaults` and the annotation
 * `rbac.authorization.kubernetes.io/autoupdate: "true"` (addDefaultMetadata). kubeadm's own
 * bindings (kubeadm:cluster-admins and the node-join ones) are created by `kubeadm init` through the
 * API and carry neither.
 *
 * admin/edit/view are aggregated ClusterRoles (rules: null in the policy); `aggregateClusterRoles`
 * fills them as kube-controller-manager's clusterrole-aggregation controller would.
 *
 * Every function returns fresh objects: callers may store and mutate them.
 */
import type { ClusterRole, ClusterRoleBinding, LabelSelector, PolicyRule, RbacSubject, Role, RoleBinding } from '../../api/types.js';
import { AllAuthenticated, AllServiceAccountsGroup, AllUnauthenticated, KubeControllerManager, KubeProxy, KubeScheduler, SystemPrivilegedGroup } from './attributes.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
export const RBAC_API_VERSION = 'rbac.authorization.k8s.io/v1';
export const BOOTSTRAP_LABEL = { 'kubernetes.io/bootstrapping': 'rbac-defaults' } as const;
export const AUTOUPDATE_ANNOTATION = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } as const;
/** kubeadm's constants.ClusterAdminsGroupAndClusterRoleBinding (admin.conf's O, since v1.29). */
export const KUBEADM_CLUSTER_ADMINS = 'kubeadm:cluster-admins';
/** kubeadm's default bootstrap-token group. */
export const KUBEADM_NODE_BOOTSTRAP_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';
export const NODES_GROUP = 'system:nodes';
export const MONITORING_GROUP = 'system:monitoring';

const Read = ['get', 'list', 'watch'];

function rule(verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule {
  const r: PolicyRule = { apiGroups, resources, verbs };
  if (resourceNames) r.resourceNames = resourceNames;
  return r;
}

const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ nonResourceURLs, verbs });
/** eventsRule(): create/patch/update events in the core and events.k8s.io groups. */
const eventsRule = (): PolicyRule => rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']);

function clusterRole(name: string, rules: PolicyRule[] | null, extra: { labels?: Record<string, string>; aggregateFrom?: string } = {}): ClusterRole {
  const role: ClusterRole = {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRole',
    metadata: { name, labels: { ...BOOTSTRAP_LABEL, ...extra.labels }, annotations: { ...AUTOUPDATE_ANNOTATION } },
    rules,
  };
  if (extra.aggregateFrom) role.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [extra.aggregateFrom]: 'true' } }] };
  return role;
}

export const userSubject = (name: string): RbacSubject => ({ apiGroup: RBAC_GROUP, kind: 'User', name });
export const groupSubject = (name: string): RbacSubject => ({ apiGroup: RBAC_GROUP, kind: 'Group', name });
export const serviceAccountSubject = (namespace: string, name: string): RbacSubject => ({ kind: 'ServiceAccount', name, namespace });

function clusterRoleBinding(name: string, roleName: string, subjects: RbacSubject[] | undefined, bootstrap = true): ClusterRoleBinding {
  const binding: ClusterRoleBinding = {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRoleBinding',
    metadata: bootstrap ? { name, labels: { ...BOOTSTRAP_LABEL }, annotations: { ...AUTOUPDATE_ANNOTATION } } : { name },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: roleName },
  };
  if (subjects) binding.subjects = subjects;
  return binding;
}

/** NodeRules(): the system:node ClusterRole's rules, which the Node authorizer uses as its static rules. */
export function nodeRules(): PolicyRule[] {
  return [
    rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews']),
    rule(Read, [''], ['services']),
    rule(['create', 'get', 'list', 'watch'], [''], ['nodes']),
    rule(['patch', 'update'], [''], ['nodes/status']),
    rule(['patch', 'update'], [''], ['nodes']),
    rule(['create', 'patch', 'update'], [''], ['events']),
    rule(Read, [''], ['pods']),
    rule(['create', 'delete'], [''], ['pods']),
    rule(['patch', 'update'], [''], ['pods/status']),
    rule(['create'], [''], ['pods/eviction']),
    rule(Read, [''], ['configmaps', 'secrets']),
    rule(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
    rule(['get'], [''], ['endpoints']),
    rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
    rule(['create', 'delete', 'get', 'patch', 'update'], ['coordination.k8s.io'], ['leases']),
    rule(['get'], ['storage.k8s.io'], ['volumeattachments']),
    rule(['create'], [''], ['serviceaccounts/token']),
    rule(['get', 'patch', 'update'], [''], ['persistentvolumeclaims/status']),
    rule(Read, ['storage.k8s.io'], ['csidrivers']),
    rule(['create', 'delete', 'get', 'patch', 'update'], ['storage.k8s.io'], ['csinodes']),
    rule(Read, ['node.k8s.io'], ['runtimeclasses']),
  ];
}

/** The bootstrap ClusterRoles (policy.go clusterRoles()), for the identities used here. */
export function bootstrapClusterRoles(): ClusterRole[] {
  return [
    clusterRole('admin', null, { aggregateFrom: 'rbac.authorization.k8s.io/aggregate-to-admin' }),
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('edit', null, { labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' }, aggregateFrom: 'rbac.authorization.k8s.io/aggregate-to-edit' }),
    clusterRole('system:aggregate-to-admin', [
      rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
      rule(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], ['rbac.authorization.k8s.io'], ['rolebindings', 'roles']),
    ], { labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }),
    clusterRole('system:aggregate-to-edit', [
      rule(Read, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
      rule(['impersonate'], [''], ['serviceaccounts']),
      rule(['create', 'delete', 'deletecollection', 'patch', 'update'], [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
      rule(['create'], [''], ['pods/eviction']),
      rule(['create', 'delete', 'deletecollection', 'patch', 'update'], [''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
      rule(['create'], [''], ['serviceaccounts/token']),
      rule(['create', 'delete', 'deletecollection', 'patch', 'update'], ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
      rule(['create', 'delete', 'deletecollection', 'patch', 'update'], ['autoscaling'], ['horizontalpodautoscalers']),
      rule(['create', 'delete', 'deletecollection', 'patch', 'update'], ['batch'], ['cronjobs', 'jobs']),
      rule(['create', 'delete', 'deletecollection', 'patch', 'update'], ['extensions'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale']),
      rule(['create', 'delete', 'deletecollection', 'patch', 'update'], ['policy'], ['poddisruptionbudgets']),
      rule(['create', 'delete', 'deletecollection', 'patch', 'update'], ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
      rule(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], ['coordination.k8s.io'], ['leases']),
    ], { labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } }),
    clusterRole('system:aggregate-to-view', [
      rule(Read, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
      rule(Read, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
      rule(Read, [''], ['namespaces']),
      rule(Read, ['discovery.k8s.io'], ['endpointslices']),
      rule(Read, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
      rule(Read, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
      rule(Read, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
      rule(Read, ['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale']),
      rule(Read, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      rule(Read, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
    ], { labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }),
    clusterRole('system:auth-delegator', [
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ]),
    clusterRole('system:basic-user', [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [
      rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/nodeclient']),
    ]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [
      rule(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient']),
    ]),
    clusterRole('system:discovery', [
      urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/']),
    ]),
    clusterRole('system:kube-controller-manager', [
      eventsRule(),
      rule(['create'], ['coordination.k8s.io'], ['leases']),
      rule(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-controller-manager']),
      rule(['create'], [''], ['secrets', 'serviceaccounts']),
      rule(['delete'], [''], ['secrets']),
      rule(['get'], [''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts']),
      rule(['update'], [''], ['secrets', 'serviceaccounts']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['create'], [''], ['serviceaccounts/token']),
    ]),
    clusterRole('system:kube-scheduler', [
      eventsRule(),
      rule(['create'], ['coordination.k8s.io'], ['leases']),
      // v1.31 (coordinated leader election) added list/watch on its lease and the leasecandidates rule.
      rule(['get', 'list', 'update', 'watch'], ['coordination.k8s.io'], ['leases'], ['kube-scheduler']),
      rule(['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], ['coordination.k8s.io'], ['leasecandidates']),
      rule(Read, [''], ['nodes']),
      rule(['delete', 'get', 'list', 'watch'], [''], ['pods']),
      rule(['create'], [''], ['bindings', 'pods/binding']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(Read, [''], ['replicationcontrollers', 'services']),
      rule(Read, ['apps', 'extensions'], ['replicasets']),
      rule(Read, ['apps'], ['statefulsets']),
      rule(Read, ['policy'], ['poddisruptionbudgets']),
      rule(Read, [''], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      rule(Read, ['storage.k8s.io'], ['csinodes']),
      rule(Read, [''], ['namespaces']),
      rule(Read, ['storage.k8s.io'], ['csidrivers']),
      rule(Read, ['storage.k8s.io'], ['csistoragecapacities']),
    ]),
    clusterRole('system:kubelet-api-admin', [
      rule(Read, [''], ['nodes']),
      rule(['proxy'], [''], ['nodes']),
      rule(['*'], [''], ['nodes/log', 'nodes/metrics', 'nodes/proxy', 'nodes/stats']),
    ]),
    clusterRole('system:monitoring', [
      urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*']),
    ]),
    clusterRole('system:node', nodeRules()),
    clusterRole('system:node-bootstrapper', [
      rule(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
    ]),
    clusterRole('system:node-proxier', [
      rule(['list', 'watch'], [''], ['endpoints', 'services']),
      rule(Read, [''], ['nodes']),
      eventsRule(),
      rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    ]),
    clusterRole('system:public-info-viewer', [
      urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/']),
    ]),
    clusterRole('system:service-account-issuer-discovery', [
      urls(['get'], ['/.well-known/openid-configuration', '/openid/v1/jwks']),
    ]),
    clusterRole('system:volume-scheduler', [
      rule(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumes']),
      rule(Read, ['storage.k8s.io'], ['storageclasses']),
      rule(['get', 'list', 'patch', 'update', 'watch'], [''], ['persistentvolumeclaims']),
    ]),
    clusterRole('view', null, { labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' }, aggregateFrom: 'rbac.authorization.k8s.io/aggregate-to-view' }),
  ];
}

/** The bootstrap ClusterRoleBindings (policy.go clusterRoleBindings()). */
export function bootstrapClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    clusterRoleBinding('cluster-admin', 'cluster-admin', [groupSubject(SystemPrivilegedGroup)]),
    clusterRoleBinding('system:monitoring', 'system:monitoring', [groupSubject(MONITORING_GROUP)]),
    clusterRoleBinding('system:discovery', 'system:discovery', [groupSubject(AllAuthenticated)]),
    clusterRoleBinding('system:basic-user', 'system:basic-user', [groupSubject(AllAuthenticated)]),
    clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [groupSubject(AllAuthenticated), groupSubject(AllUnauthenticated)]),
    clusterRoleBinding('system:node-proxier', 'system:node-proxier', [userSubject(KubeProxy)]),
    clusterRoleBinding('system:kube-controller-manager', 'system:kube-controller-manager', [userSubject(KubeControllerManager)]),
    clusterRoleBinding('system:kube-scheduler', 'system:kube-scheduler', [userSubject(KubeScheduler)]),
    clusterRoleBinding('system:volume-scheduler', 'system:volume-scheduler', [userSubject(KubeScheduler)]),
    clusterRoleBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [groupSubject(AllServiceAccountsGroup)]),
    // Deprecated since the Node authorizer (1.7): kept, with no subjects.
    clusterRoleBinding('system:node', 'system:node', undefined),
  ];
}

/** The controller ClusterRoles (controller_policy.go) for the controllers run here. */
export function controllerClusterRoles(): ClusterRole[] {
  const c = (name: string, rules: PolicyRule[]): ClusterRole => clusterRole(`system:controller:${name}`, rules);
  return [
    c('certificate-controller', [
      rule(['delete', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
      rule(['update'], ['certificates.k8s.io'], ['certificatesigningrequests/approval', 'certificatesigningrequests/status']),
      rule(['approve'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet']),
      rule(['sign'], ['certificates.k8s.io'], ['signers'], ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/legacy-unknown']),
      rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      eventsRule(),
    ]),
    c('deployment-controller', [
      rule(['get', 'list', 'update', 'watch'], ['apps', 'extensions'], ['deployments']),
      rule(['update'], ['apps', 'extensions'], ['deployments/status']),
      rule(['update'], ['apps', 'extensions'], ['deployments/finalizers']),
      rule(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['apps', 'extensions'], ['replicasets']),
      rule(['get', 'list', 'update', 'watch'], [''], ['pods']),
      eventsRule(),
    ]),
    c('endpoint-controller', [
      rule(Read, [''], ['pods', 'services']),
      rule(['create', 'delete', 'get', 'list', 'update', 'watch'], [''], ['endpoints']),
      rule(['create'], [''], ['endpoints/restricted']),
      eventsRule(),
    ]),
    c('endpointslice-controller', [
      rule(Read, [''], ['nodes', 'pods', 'services']),
      rule(['update'], [''], ['services/finalizers']),
      rule(['create', 'delete', 'get', 'list', 'update', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
      eventsRule(),
    ]),
    c('generic-garbage-collector', [
      rule(['delete', 'get', 'list', 'patch', 'update', 'watch'], ['*'], ['*']),
      eventsRule(),
    ]),
    c('node-controller', [
      rule(['delete', 'get', 'list', 'patch', 'update', 'watch'], [''], ['nodes']),
      rule(['patch', 'update'], [''], ['nodes/status']),
      rule(['patch', 'update'], [''], ['pods/status']),
      rule(['delete', 'get', 'list', 'watch'], [''], ['pods']),
      eventsRule(),
    ]),
    c('pod-garbage-collector', [
      rule(['delete', 'list', 'watch'], [''], ['pods']),
      rule(Read, [''], ['nodes']),
      rule(['patch'], [''], ['pods/status']),
    ]),
    c('replicaset-controller', [
      rule(['get', 'list', 'update', 'watch'], ['apps', 'extensions'], ['replicasets']),
      rule(['update'], ['apps', 'extensions'], ['replicasets/status']),
      rule(['update'], ['apps', 'extensions'], ['replicasets/finalizers']),
      rule(['create', 'delete', 'list', 'patch', 'watch'], [''], ['pods']),
      eventsRule(),
    ]),
    c('root-ca-cert-publisher', [
      rule(['create', 'update'], [''], ['configmaps']),
      eventsRule(),
    ]),
    c('service-account-controller', [
      rule(['create'], [''], ['serviceaccounts']),
      eventsRule(),
    ]),
  ];
}

/** The controller ClusterRoleBindings: system:controller:<name> → ServiceAccount kube-system/<name>. */
export function controllerClusterRoleBindings(): ClusterRoleBinding[] {
  return controllerClusterRoles().map((role) => {
    const name = role.metadata.name!;
    return clusterRoleBinding(name, name, [serviceAccountSubject('kube-system', name.slice('system:controller:'.length))]);
  });
}

/**
 * The ClusterRoleBindings `kubeadm init` creates: kubeadm:cluster-admins (admin.conf's group →
 * cluster-admin, since v1.29) and the node-join bindings for bootstrap tokens and CSR
 * auto-approval. Created through the API, without the bootstrap label and annotation.
 */
export function kubeadmClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    clusterRoleBinding(KUBEADM_CLUSTER_ADMINS, 'cluster-admin', [groupSubject(KUBEADM_CLUSTER_ADMINS)], false),
    clusterRoleBinding('kubeadm:get-nodes', 'kubeadm:get-nodes', [groupSubject(KUBEADM_NODE_BOOTSTRAP_TOKEN_GROUP)], false),
    clusterRoleBinding('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', [groupSubject(KUBEADM_NODE_BOOTSTRAP_TOKEN_GROUP)], false),
    clusterRoleBinding('kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', [groupSubject(KUBEADM_NODE_BOOTSTRAP_TOKEN_GROUP)], false),
    clusterRoleBinding('kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [groupSubject(NODES_GROUP)], false),
    clusterRoleBinding('kubeadm:node-proxier', 'system:node-proxier', [serviceAccountSubject('kube-system', 'kube-proxy')], false),
  ];
}

/** kubeadm's kubeadm:get-nodes ClusterRole (nodes get, for `kubeadm join` preflight). */
export function kubeadmClusterRoles(): ClusterRole[] {
  return [{ apiVersion: RBAC_API_VERSION, kind: 'ClusterRole', metadata: { name: 'kubeadm:get-nodes' }, rules: [rule(['get'], [''], ['nodes'])] }];
}

function matchesSelector(labels: Record<string, string> | undefined, selector: LabelSelector): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const value = l[e.key];
    switch (e.operator) {
      case 'In': if (!has || !(e.values ?? []).includes(value!)) return false; break;
      case 'NotIn': if (has && (e.values ?? []).includes(value!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
    }
  }
  return true;
}

/** Two rules are the same rule when their JSON is (the aggregation controller's equality.Semantic.DeepEqual, for these plain values). */
const ruleKey = (r: PolicyRule): string => JSON.stringify(r);

/**
 * Fills aggregated ClusterRoles (aggregationRule set) with the rules of the ClusterRoles their
 * selectors match, in name order, without duplicates — what the clusterrole-aggregation
 * controller converges to. Returns new objects; the input is not changed.
 */
export function aggregateClusterRoles(roles: readonly ClusterRole[]): ClusterRole[] {
  const out = roles.map((r) => structuredClone(r));
  for (let pass = 0; pass < out.length; pass++) {
    let changed = false;
    for (const role of out) {
      const selectors = role.aggregationRule?.clusterRoleSelectors;
      if (!selectors) continue;
      const rules: PolicyRule[] = [];
      const seen = new Set<string>(); // ruleKey of each rule taken: one JSON.stringify a rule, not one per pair
      for (const selector of selectors) {
        const sources = out
          .filter((r) => r !== role && matchesSelector(r.metadata.labels, selector))
          .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
        for (const source of sources) {
          for (const r of source.rules ?? []) {
            const key = ruleKey(r);
            if (!seen.has(key)) { seen.add(key); rules.push(structuredClone(r)); }
          }
        }
      }
      if (JSON.stringify(rules) !== JSON.stringify(role.rules ?? [])) {
        role.rules = rules;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return out;
}

function namespacedRole(namespace: string, name: string, rules: PolicyRule[]): Role {
  return { apiVersion: RBAC_API_VERSION, kind: 'Role', metadata: { name, namespace, labels: { ...BOOTSTRAP_LABEL }, annotations: { ...AUTOUPDATE_ANNOTATION } }, rules };
}

function namespacedRoleBinding(namespace: string, name: string, roleName: string, subjects: RbacSubject[]): RoleBinding {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'RoleBinding',
    metadata: { name, namespace, labels: { ...BOOTSTRAP_LABEL }, annotations: { ...AUTOUPDATE_ANNOTATION } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: roleName },
    subjects,
  };
}

/** The kube-system Roles of namespace_policy.go used by the scheduler and controller-manager. */
export function bootstrapNamespaceRoles(): Role[] {
  return [
    namespacedRole('kube-system', 'extension-apiserver-authentication-reader', [
      rule(Read, [''], ['configmaps'], ['extension-apiserver-authentication']),
    ]),
    namespacedRole('kube-system', 'system::leader-locking-kube-controller-manager', [
      rule(['watch'], [''], ['configmaps']),
      rule(['get', 'update'], [''], ['configmaps'], ['kube-controller-manager']),
    ]),
    namespacedRole('kube-system', 'system::leader-locking-kube-scheduler', [
      rule(['watch'], [''], ['configmaps']),
      rule(['get', 'update'], [''], ['configmaps'], ['kube-scheduler']),
    ]),
    // The bootstrap signer reads token Secrets in kube-system and signs kube-public/cluster-info.
    namespacedRole('kube-system', 'system:controller:bootstrap-signer', [rule(['get', 'list', 'watch'], [''], ['secrets'])]),
    // The token cleaner deletes expired token Secrets, in kube-system only.
    namespacedRole('kube-system', 'system:controller:token-cleaner', [rule(['delete', 'get', 'list', 'watch'], [''], ['secrets']), eventsRule()]),
    namespacedRole('kube-public', 'system:controller:bootstrap-signer', [
      rule(['get', 'list', 'watch'], [''], ['configmaps']),
      rule(['update'], [''], ['configmaps'], ['cluster-info']),
      eventsRule(),
    ]),
  ];
}

/** Their RoleBindings (note the binding name differs from the role name for the first one). */
export function bootstrapNamespaceRoleBindings(): RoleBinding[] {
  return [
    namespacedRoleBinding('kube-system', 'system::extension-apiserver-authentication-reader', 'extension-apiserver-authentication-reader', [userSubject(KubeControllerManager), userSubject(KubeScheduler)]),
    namespacedRoleBinding('kube-system', 'system::leader-locking-kube-controller-manager', 'system::leader-locking-kube-controller-manager', [userSubject(KubeControllerManager), serviceAccountSubject('kube-system', 'kube-controller-manager')]),
    namespacedRoleBinding('kube-system', 'system::leader-locking-kube-scheduler', 'system::leader-locking-kube-scheduler', [userSubject(KubeScheduler), serviceAccountSubject('kube-system', 'kube-scheduler')]),
    namespacedRoleBinding('kube-system', 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', [serviceAccountSubject('kube-system', 'bootstrap-signer')]),
    namespacedRoleBinding('kube-system', 'system:controller:token-cleaner', 'system:controller:token-cleaner', [serviceAccountSubject('kube-system', 'token-cleaner')]),
    namespacedRoleBinding('kube-public', 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', [serviceAccountSubject('kube-system', 'bootstrap-signer')]),
  ];
}

export interface BootstrapPolicy {
  clusterRoles: ClusterRole[];
  clusterRoleBindings: ClusterRoleBinding[];
  roles: Role[];
  roleBindings: RoleBinding[];
}

/**
 * Everything a freshly `kubeadm init`-ed cluster holds for the identities used here: bootstrap and
 * controller roles and bindings, kubeadm's bindings, aggregated roles filled.
 */
export function bootstrapPolicy(): BootstrapPolicy {
  return {
    clusterRoles: aggregateClusterRoles([...bootstrapClusterRoles(), ...controllerClusterRoles(), ...kubeadmClusterRoles()]),
    clusterRoleBindings: [...bootstrapClusterRoleBindings(), ...controllerClusterRoleBindings(), ...kubeadmClusterRoleBindings()],
    roles: bootstrapNamespaceRoles(),
    roleBindings: bootstrapNamespaceRoleBindings(),
  };
}
