/**
 * The Node authorizer (plugin/pkg/auth/authorizer/node/node_authorizer.go) for kubelets, i.e. users
 * named system:node:<name> in group system:nodes:
 *
 * - secrets, configmaps: get/list/watch of a single named object, only when a pod bound to the node
 *   references it; PVCs, PVs, volumeattachments: get only, same rule (PV via a referenced PVC);
 *   serviceaccounts/token: create, only for a service account a pod on the node runs as;
 * - leases: get/create/update/patch/delete in kube-node-lease, named after the node;
 * - csinodes: named after the node;
 * - nodes and pods, with AuthorizeNodeWithSelectors (beta, on by default since 1.32): own Node
 *   only for reads (a list/watch must name it through fieldSelector metadata.name), create/update/
 *   patch and status update/patch (NodeRestriction narrows those); pods get when bound to the node,
 *   list/watch with fieldSelector spec.nodeName=<node>, create/delete (mirror pods), status and
 *   eviction;
 * - everything else against the static node rules (the system:node ClusterRole's rules).
 *
 * The Node authorizer never denies: what it does not allow is NoOpinion, with the same reason
 * strings as the real one, and the request falls through to RBAC. The relationship graph is
 * computed from a pod source on each question instead of being kept incrementally.
 */
import type { PersistentVolumeClaim, Pod, PolicyRule } from '../../api/types.js';
import { NodesGroup, type Attributes, type UserInfo } from './attributes.js';
import { nodeRules } from './bootstrap-policy.js';
import { rulesAllow } from './rbac.js';

export const NodeUserNamePrefix = 'system:node:';
export const NamespaceNodeLease = 'kube-node-lease';
export const MirrorPodAnnotationKey = 'kubernetes.io/config.mirror';

/** What the authorizer's graph is built from (the apiserver's informers). */
export interface NodeGraphSource {
  /** All pods; only those with spec.nodeName set take part. */
  pods(): Iterable<Pod>;
  /** PVCs, to relate a PersistentVolume (spec.volumeName) to the pods using the claim. */
  persistentVolumeClaims?(): Iterable<PersistentVolumeClaim>;
}

export interface NodeAuthorizerOptions {
  /** AuthorizeNodeWithSelectors feature gate (default true, as since 1.32). */
  authorizeNodeWithSelectors?: boolean;
  /** The static rules; default nodeRules() (the system:node ClusterRole). */
  rules?: readonly PolicyRule[];
}

export type NodeDecision = { decision: 'allow' | 'noOpinion'; reason: string };

/** nodeidentifier.NodeIdentity: the node name, or undefined for a user who is not a node. */
export function nodeIdentity(user: UserInfo): { nodeName: string } | undefined {
  if (!user.name.startsWith(NodeUserNamePrefix)) return undefined;
  if (!user.groups.includes(NodesGroup)) return undefined;
  return { nodeName: user.name.slice(NodeUserNamePrefix.length) };
}

type VertexType = 'pod' | 'secret' | 'configmap' | 'pvc' | 'pv' | 'serviceAccount' | 'volumeattachment';

const allow = (): NodeDecision => ({ decision: 'allow', reason: '' });
const noOpinion = (reason = ''): NodeDecision => ({ decision: 'noOpinion', reason });
const noRelationship = (nodeName: string): NodeDecision => noOpinion(`no relationship found between node '${nodeName}' and this object`);

/** podutil.VisitPodSecretNames (the volume plugins used here). */
export function podSecretNames(pod: Pod): Set<string> {
  const names = new Set<string>();
  for (const s of pod.spec.imagePullSecrets ?? []) names.add(s.name);
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const e of c.envFrom ?? []) if (e.secretRef) names.add(e.secretRef.name);
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) names.add(e.valueFrom.secretKeyRef.name);
  }
  for (const v of pod.spec.volumes ?? []) {
    if (v.secret) names.add(v.secret.secretName);
    for (const src of v.projected?.sources ?? []) if (src.secret) names.add(src.secret.name);
  }
  return names;
}

/** podutil.VisitPodConfigmapNames. */
export function podConfigMapNames(pod: Pod): Set<string> {
  const names = new Set<string>();
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const e of c.envFrom ?? []) if (e.configMapRef) names.add(e.configMapRef.name);
    for (const e of c.env ?? []) if (e.valueFrom?.configMapKeyRef) names.add(e.valueFrom.configMapKeyRef.name);
  }
  for (const v of pod.spec.volumes ?? []) {
    if (v.configMap) names.add(v.configMap.name);
    for (const src of v.projected?.sources ?? []) if (src.configMap) names.add(src.configMap.name);
  }
  return names;
}

/** The PVCs a pod uses: claimName, and <pod>-<volume> for generic ephemeral volumes. */
export function podClaimNames(pod: Pod): Set<string> {
  const names = new Set<string>();
  for (const v of pod.spec.volumes ?? []) {
    if (v.persistentVolumeClaim) names.add(v.persistentVolumeClaim.claimName);
    if (v.ephemeral) names.add(`${pod.metadata.name ?? ''}-${v.name}`);
  }
  return names;
}

const isMirrorPod = (pod: Pod): boolean => Object.hasOwn(pod.metadata.annotations ?? {}, MirrorPodAnnotationKey);

/** Is there a path from the object to the node in the graph (pod → node; secret/configmap/pvc/sa → pod; pv → pvc)? */
function hasPathFrom(source: NodeGraphSource, nodeName: string, type: VertexType, namespace: string, name: string): boolean {
  const bound: Pod[] = [];
  for (const pod of source.pods()) if (pod.spec.nodeName === nodeName) bound.push(pod);
  // The node vertex exists only once something (a pod) points at it.
  if (bound.length === 0) return false;
  // A mirror pod is linked to its node but to nothing else (defence in depth against a kubelet
  // creating a pod that would grant it access to other objects).
  const inNamespace = bound.filter((p) => (p.metadata.namespace ?? 'default') === namespace);
  const referencing = inNamespace.filter((p) => !isMirrorPod(p));
  switch (type) {
    case 'pod':
      return inNamespace.some((p) => p.metadata.name === name);
    case 'secret':
      return referencing.some((p) => podSecretNames(p).has(name));
    case 'configmap':
      return referencing.some((p) => podConfigMapNames(p).has(name));
    case 'pvc':
      return referencing.some((p) => podClaimNames(p).has(name));
    case 'serviceAccount':
      return referencing.some((p) => (p.spec.serviceAccountName ?? p.spec.serviceAccount) === name);
    case 'pv': {
      for (const pvc of source.persistentVolumeClaims?.() ?? []) {
        if (pvc.spec.volumeName !== name) continue;
        const ns = pvc.metadata.namespace ?? 'default';
        const claim = pvc.metadata.name ?? '';
        if (bound.some((p) => !isMirrorPod(p) && (p.metadata.namespace ?? 'default') === ns && podClaimNames(p).has(claim))) return true;
      }
      return false;
    }
    case 'volumeattachment':
      return false;
  }
}

/** The Node authorizer's decision for one request. */
export function nodeAuthorize(attrs: Attributes, source: NodeGraphSource, options: NodeAuthorizerOptions = {}): NodeDecision {
  const identity = nodeIdentity(attrs.user);
  if (!identity) return noOpinion();
  const { nodeName } = identity;
  if (nodeName === '') return noOpinion(`unknown node for user ${JSON.stringify(attrs.user.name)}`);
  const withSelectors = options.authorizeNodeWithSelectors ?? true;

  const authorizeRelated = (type: VertexType): NodeDecision => {
    if (attrs.name === '') return noOpinion('No Object name found');
    return hasPathFrom(source, nodeName, type, attrs.namespace, attrs.name) ? allow() : noRelationship(nodeName);
  };
  const authorizeGet = (type: VertexType): NodeDecision => {
    if (attrs.verb !== 'get') return noOpinion('can only get individual resources of this type');
    if (attrs.subresource !== '') return noOpinion('cannot get subresource');
    return authorizeRelated(type);
  };
  const authorizeReadNamespacedObject = (type: VertexType): NodeDecision => {
    if (!['get', 'list', 'watch'].includes(attrs.verb)) return noOpinion('can only read resources of this type');
    if (attrs.subresource !== '') return noOpinion('cannot read subresource');
    if (attrs.namespace === '') return noOpinion('can only read namespaced object of this type');
    return authorizeRelated(type);
  };

  if (attrs.isResourceRequest) {
    const group = attrs.apiGroup;
    const resource = attrs.resource;
    if (group === '' && resource === 'secrets') return authorizeReadNamespacedObject('secret');
    if (group === '' && resource === 'configmaps') return authorizeReadNamespacedObject('configmap');
    if (group === '' && resource === 'persistentvolumeclaims') {
      if (attrs.subresource === 'status') {
        if (attrs.verb !== 'update' && attrs.verb !== 'patch') return noOpinion('can only get/update/patch this type');
        return authorizeRelated('pvc');
      }
      return authorizeGet('pvc');
    }
    if (group === '' && resource === 'persistentvolumes') return authorizeGet('pv');
    if (group === 'storage.k8s.io' && resource === 'volumeattachments') return authorizeGet('volumeattachment');
    if (group === '' && resource === 'serviceaccounts') {
      if (attrs.verb !== 'create' || attrs.name === '') return noOpinion('can only create tokens for individual service accounts');
      if (attrs.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
      return hasPathFrom(source, nodeName, 'serviceAccount', attrs.namespace, attrs.name) ? allow() : noRelationship(nodeName);
    }
    if (group === 'coordination.k8s.io' && resource === 'leases') {
      if (!['get', 'create', 'update', 'patch', 'delete'].includes(attrs.verb)) return noOpinion('can only get, create, update, patch, or delete a node lease');
      if (attrs.namespace !== NamespaceNodeLease) return noOpinion(`can only access leases in the ${JSON.stringify(NamespaceNodeLease)} system namespace`);
      // On create the name is not known here; NodeRestriction checks it in the object.
      if (attrs.verb !== 'create' && attrs.name !== nodeName) return noOpinion('can only access node lease with the same name as the requesting node');
      return allow();
    }
    if (group === 'storage.k8s.io' && resource === 'csinodes') {
      if (!['get', 'create', 'update', 'patch', 'delete'].includes(attrs.verb)) return noOpinion('can only get, create, update, patch, or delete a CSINode');
      if (attrs.subresource !== '') return noOpinion('cannot authorize CSINode subresources');
      if (attrs.verb !== 'create' && attrs.name !== nodeName) return noOpinion('can only access CSINode with the same name as the requesting node');
      return allow();
    }
    if (group === '' && resource === 'nodes' && withSelectors) return authorizeNode(nodeName, attrs);
    if (group === '' && resource === 'pods' && withSelectors) {
      switch (attrs.subresource) {
        case '':
          switch (attrs.verb) {
            case 'get':
              return authorizeGet('pod');
            case 'list':
            case 'watch':
              if (attrs.fieldSelector?.some((r) => r.field === 'spec.nodeName' && r.operator === '=' && r.value === nodeName)) return allow();
              if (attrs.name !== '') return authorizeRelated('pod');
              return noOpinion('can only list/watch pods with spec.nodeName field selector');
            case 'create':
            case 'delete':
              return allow();
          }
          break;
        case 'status':
          if (attrs.verb === 'update' || attrs.verb === 'patch') return allow();
          break;
        case 'eviction':
          if (attrs.verb === 'create') return allow();
          break;
      }
      return noOpinion();
    }
  }

  return rulesAllow(attrs, options.rules ?? nodeRules()) ? allow() : noOpinion();
}

function authorizeNode(nodeName: string, attrs: Attributes): NodeDecision {
  switch (attrs.subresource) {
    case '':
      switch (attrs.verb) {
        case 'create':
        case 'update':
        case 'patch':
          return allow();
        case 'get':
        case 'list':
        case 'watch':
          if (attrs.name === nodeName) return allow();
          if (attrs.name === '') return noOpinion(`node '${nodeName}' cannot read all nodes, only its own Node object`);
          return noOpinion(`node '${nodeName}' cannot read '${attrs.name}', only its own Node object`);
      }
      break;
    case 'status':
      if (attrs.verb === 'update' || attrs.verb === 'patch') return allow();
      break;
  }
  return noOpinion();
}
