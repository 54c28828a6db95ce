/**
 * The NodeRestriction admission plugin (plugin/pkg/admission/noderestriction/admission.go): after
 * authorization, it narrows what a kubelet (system:node:<name> in system:nodes) may write.
 *
 * - pods: create only mirror pods bound to itself (annotation kubernetes.io/config.mirror, a single
 *   controller owner reference to its own Node, no service account, secrets, configmaps,
 *   cluster trust bundles or PVCs); delete only pods bound to itself; no other write;
 * - pods/status: update only pods bound to itself, without changing labels; pods/eviction: only
 *   pods bound to itself;
 * - nodes: only its own Node (create without configSource or forbidden labels; update without
 *   touching taints or forbidden labels), including nodes/status;
 * - persistentvolumeclaims: status only; serviceaccounts/token: only bound to a pod on itself;
 * - leases: only in kube-node-lease, named after itself; csinodes: named after itself.
 *
 * Denials are admission 403s: `<resource> "<name>" is forbidden: <reason>` (the name from the
 * request, else the object's name or generateName, else "Unknown"). Lookups of a missing pod or
 * node answer the lister's 404 (`pod "x" not found`, singular, as client-go listers word it).
 */
import type { Node, Pod, Status } from '../../api/types.js';
import type { UserInfo } from './attributes.js';
import { MirrorPodAnnotationKey, NamespaceNodeLease, nodeIdentity, podConfigMapNames, podSecretNames } from './node-authorizer.js';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  user: UserInfo;
  /** PATCH is an UPDATE for admission. */
  operation: AdmissionOperation;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  /** The object's name: from the URL, or on create from the object (as the create handler sets it); '' is tolerated. */
  name: string;
  /** The new object (create and update), after the patch is applied. */
  object?: unknown;
  /** The stored object (update). */
  oldObject?: unknown;
}

/** The plugin's informer-backed getters. */
export interface NodeRestrictionSource {
  getPod(namespace: string, name: string): Pod | undefined;
  getNode(name: string): Node | undefined;
}

export type AdmissionResult = { allowed: true } | { allowed: false; status: Status };

interface Meta {
  name?: string;
  generateName?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  resourceVersion?: string;
  managedFields?: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const metaOf = (obj: unknown): Meta | undefined => (isRecord(obj) && isRecord(obj.metadata) ? (obj.metadata as Meta) : undefined);
const q = (s: string): string => JSON.stringify(s);

/** apierrors.NewForbidden(resource, name, err) with admission's extractResourceName. */
function forbidden(a: AdmissionAttributes, reason: string): AdmissionResult {
  let name = a.name;
  if (name === '') {
    const meta = metaOf(a.object);
    if (a.object !== undefined && meta === undefined) name = '';
    else name = meta?.name || meta?.generateName || 'Unknown';
  }
  const qualified = a.apiGroup === '' ? a.resource : `${a.resource}.${a.apiGroup}`;
  const message = qualified === '' ? `forbidden: ${reason}` : name === '' ? `${qualified} is forbidden: ${reason}` : `${qualified} ${q(name)} is forbidden: ${reason}`;
  const details: NonNullable<Status['details']> = {};
  if (name !== '') details.name = name;
  if (a.apiGroup !== '') details.group = a.apiGroup;
  if (a.resource !== '') details.kind = a.resource;
  return { allowed: false, status: { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message, reason: 'Forbidden', details, code: 403 } };
}

/** The lister's NotFound: apierrors.NewNotFound(v1.Resource("pod"|"node"), name). */
function notFound(kind: 'pod' | 'node', name: string): AdmissionResult {
  return {
    allowed: false,
    status: { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message: `${kind} ${q(name)} not found`, reason: 'NotFound', details: { name, kind }, code: 404 },
  };
}

const ok = (): AdmissionResult => ({ allowed: true });

/** The NodeRestriction decision for one write. Non-node users are always admitted. */
export function nodeRestrictionAdmit(a: AdmissionAttributes, source: NodeRestrictionSource): AdmissionResult {
  if (a.operation === 'CONNECT') return ok();
  const identity = nodeIdentity(a.user);
  if (!identity) return ok();
  const { nodeName } = identity;
  if (nodeName === '') return forbidden(a, `could not determine node from user ${q(a.user.name)}`);

  const group = a.apiGroup;
  if (group === '' && a.resource === 'pods') {
    switch (a.subresource) {
      case '': return admitPod(nodeName, a, source);
      case 'status': return admitPodStatus(nodeName, a);
      case 'eviction': return admitPodEviction(nodeName, a, source);
      default: return forbidden(a, `unexpected pod subresource ${q(a.subresource)}, only 'status' and 'eviction' are allowed`);
    }
  }
  if (group === '' && a.resource === 'nodes') return admitNode(nodeName, a);
  if (group === '' && a.resource === 'persistentvolumeclaims') {
    if (a.subresource !== 'status') return forbidden(a, 'may only update PVC status');
    return admitPvcStatus(nodeName, a);
  }
  if (group === '' && a.resource === 'serviceaccounts') return admitServiceAccount(nodeName, a, source);
  if (group === 'coordination.k8s.io' && a.resource === 'leases') return admitLease(nodeName, a);
  if (group === 'storage.k8s.io' && a.resource === 'csinodes') {
    const name = a.operation === 'CREATE' ? metaOf(a.object)?.name : a.name;
    if (a.operation === 'CREATE' && metaOf(a.object) === undefined) return forbidden(a, 'unable to access the object name');
    return name === nodeName ? ok() : forbidden(a, 'can only access CSINode with the same name as the requesting node');
  }
  return ok();
}

function admitPod(nodeName: string, a: AdmissionAttributes, source: NodeRestrictionSource): AdmissionResult {
  switch (a.operation) {
    case 'CREATE':
      return admitPodCreate(nodeName, a, source);
    case 'DELETE': {
      const existing = source.getPod(a.namespace, a.name);
      if (!existing) return notFound('pod', a.name);
      if (existing.spec.nodeName !== nodeName) return forbidden(a, `node ${q(nodeName)} can only delete pods with spec.nodeName set to itself`);
      return ok();
    }
    default:
      return forbidden(a, `unexpected operation ${q(a.operation)}, node ${q(nodeName)} can only create and delete mirror pods`);
  }
}

function admitPodCreate(nodeName: string, a: AdmissionAttributes, source: NodeRestrictionSource): AdmissionResult {
  const pod = a.object as Pod | undefined;
  const meta = metaOf(pod);
  if (!pod || !meta || !isRecord(pod.spec)) return forbidden(a, `unexpected type ${typeof a.object}`);
  if (!Object.hasOwn(meta.annotations ?? {}, MirrorPodAnnotationKey)) {
    return forbidden(a, `pod does not have ${q(MirrorPodAnnotationKey)} annotation, node ${q(nodeName)} can only create mirror pods`);
  }
  if (pod.spec.nodeName !== nodeName) return forbidden(a, `node ${q(nodeName)} can only create pods with spec.nodeName set to itself`);
  const owners = meta.ownerReferences ?? [];
  if (owners.length > 1) return forbidden(a, `node ${q(nodeName)} can only create pods with a single owner reference set to itself`);
  if (owners.length === 0) return forbidden(a, `node ${q(nodeName)} can only create pods with an owner reference set to itself`);
  const owner = owners[0]!;
  if (owner.apiVersion !== 'v1' || owner.kind !== 'Node' || owner.name !== nodeName) {
    return forbidden(a, `node ${q(nodeName)} can only create pods with an owner reference set to itself`);
  }
  if (owner.controller !== true) return forbidden(a, `node ${q(nodeName)} can only create pods with a controller owner reference set to itself`);
  if (owner.blockOwnerDeletion === true) return forbidden(a, `node ${q(nodeName)} must not set blockOwnerDeletion on an owner reference`);
  const node = source.getNode(nodeName);
  if (!node) return notFound('node', nodeName);
  if (owner.uid !== (node.metadata.uid ?? '')) return forbidden(a, `node ${nodeName} UID mismatch: expected ${owner.uid} got ${node.metadata.uid ?? ''}`);

  if ((pod.spec.serviceAccountName ?? '') !== '') return forbidden(a, `node ${q(nodeName)} can not create pods that reference a service account`);
  if (podSecretNames(pod).size > 0) return forbidden(a, `node ${q(nodeName)} can not create pods that reference secrets`);
  if (podConfigMapNames(pod).size > 0) return forbidden(a, `node ${q(nodeName)} can not create pods that reference configmaps`);
  for (const v of pod.spec.volumes ?? []) {
    for (const src of v.projected?.sources ?? []) if (src.clusterTrustBundle) return forbidden(a, `node ${q(nodeName)} can not create pods that reference clustertrustbundles`);
  }
  if ((pod.spec.volumes ?? []).some((v) => v.persistentVolumeClaim)) return forbidden(a, `node ${q(nodeName)} can not create pods that reference persistentvolumeclaims`);
  return ok();
}

function sameLabels(x: Record<string, string> | undefined, y: Record<string, string> | undefined): boolean {
  const a = x ?? {};
  const b = y ?? {};
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}

function admitPodStatus(nodeName: string, a: AdmissionAttributes): AdmissionResult {
  if (a.operation !== 'UPDATE') return forbidden(a, `unexpected operation ${q(a.operation)}`);
  const oldPod = a.oldObject as Pod | undefined;
  if (!oldPod || !metaOf(oldPod)) return forbidden(a, `unexpected type ${typeof a.oldObject}`);
  if (oldPod.spec?.nodeName !== nodeName) return forbidden(a, `node ${q(nodeName)} can only update pod status for pods with spec.nodeName set to itself`);
  const newPod = a.object as Pod | undefined;
  if (!newPod || !metaOf(newPod)) return forbidden(a, `unexpected type ${typeof a.object}`);
  if (!sameLabels(oldPod.metadata.labels, newPod.metadata.labels)) return forbidden(a, `node ${q(nodeName)} cannot update labels through pod status`);
  return ok();
}

function admitPodEviction(nodeName: string, a: AdmissionAttributes, source: NodeRestrictionSource): AdmissionResult {
  if (a.operation !== 'CREATE') return forbidden(a, `unexpected operation ${a.operation}`);
  const meta = metaOf(a.object);
  if (!meta) return forbidden(a, `unexpected type ${typeof a.object}`);
  let podName = a.name;
  if (podName === '') {
    if (!meta.name) return forbidden(a, 'could not determine pod from request data');
    podName = meta.name;
  }
  const existing = source.getPod(a.namespace, podName);
  if (!existing) return notFound('pod', podName);
  if (existing.spec.nodeName !== nodeName) return forbidden(a, `node ${nodeName} can only evict pods with spec.nodeName set to itself`);
  return ok();
}

const stableJson = (v: unknown): string => JSON.stringify(v, (_k, value: unknown) => (isRecord(value) ? Object.fromEntries(Object.entries(value).sort(([x], [y]) => (x < y ? -1 : 1))) : value));

function admitPvcStatus(nodeName: string, a: AdmissionAttributes): AdmissionResult {
  if (a.operation !== 'UPDATE') return forbidden(a, `unexpected operation ${q(a.operation)}`);
  if (!metaOf(a.oldObject)) return forbidden(a, `unexpected type ${typeof a.oldObject}`);
  if (!metaOf(a.object)) return forbidden(a, `unexpected type ${typeof a.object}`);
  const strip = (obj: unknown): unknown => {
    const copy = structuredClone(obj) as { metadata: Meta; status?: Record<string, unknown> };
    delete copy.metadata.resourceVersion;
    delete copy.metadata.managedFields;
    if (copy.status) {
      delete copy.status.capacity;
      delete copy.status.conditions;
    }
    return copy;
  };
  const before = stableJson(strip(a.oldObject));
  const after = stableJson(strip(a.object));
  if (before !== after) {
    return forbidden(a, `node ${q(nodeName)} is not allowed to update fields other than status.capacity and status.conditions: -${before} +${after}`);
  }
  return ok();
}

/** kubeletapis.IsKubeletLabel. */
function isKubeletLabel(key: string): boolean {
  const kubeletLabels = new Set([
    'kubernetes.io/hostname',
    'topology.kubernetes.io/zone',
    'topology.kubernetes.io/region',
    'failure-domain.beta.kubernetes.io/zone',
    'failure-domain.beta.kubernetes.io/region',
    'beta.kubernetes.io/instance-type',
    'node.kubernetes.io/instance-type',
    'kubernetes.io/os',
    'kubernetes.io/arch',
    'beta.kubernetes.io/os',
    'beta.kubernetes.io/arch',
  ]);
  if (kubeletLabels.has(key)) return true;
  const ns = labelNamespace(key);
  return ['kubelet.kubernetes.io', 'node.kubernetes.io'].some((allowed) => ns === allowed || ns.endsWith(`.${allowed}`));
}

function labelNamespace(key: string): string {
  const slash = key.indexOf('/');
  return slash >= 0 ? key.slice(0, slash) : '';
}

function isKubernetesLabel(key: string): boolean {
  const ns = labelNamespace(key);
  return ns === 'kubernetes.io' || ns.endsWith('.kubernetes.io') || ns === 'k8s.io' || ns.endsWith('.k8s.io');
}

function modifiedLabels(x: Record<string, string> | undefined, y: Record<string, string> | undefined): Set<string> {
  const a = x ?? {};
  const b = y ?? {};
  const out = new Set<string>();
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) if (a[k] !== b[k] || Object.hasOwn(a, k) !== Object.hasOwn(b, k)) out.add(k);
  return out;
}

/** getForbiddenLabels, sorted as sets.String.List() is. */
function forbiddenLabels(modified: Set<string>): string[] {
  const out = new Set<string>();
  for (const label of modified) {
    const ns = labelNamespace(label);
    if (ns === 'node-restriction.kubernetes.io' || ns.endsWith('.node-restriction.kubernetes.io')) out.add(label);
    if (isKubernetesLabel(label) && !isKubeletLabel(label)) out.add(label);
  }
  return [...out].sort();
}

function admitNode(nodeName: string, a: AdmissionAttributes): AdmissionResult {
  // The create handler fills the admission name from the object; accept either form here.
  const requested = a.name !== '' ? a.name : metaOf(a.object)?.name ?? '';
  if (requested !== nodeName) return forbidden(a, `node ${q(nodeName)} is not allowed to modify node ${q(requested)}`);
  if (a.operation === 'CREATE') {
    const node = a.object as Node | undefined;
    if (!node || !metaOf(node)) return forbidden(a, `unexpected type ${typeof a.object}`);
    if ((node.spec as { configSource?: unknown } | undefined)?.configSource != null) {
      return forbidden(a, `node ${q(nodeName)} is not allowed to create pods with a non-nil configSource`);
    }
    const bad = forbiddenLabels(modifiedLabels(node.metadata.labels, undefined));
    if (bad.length > 0) return forbidden(a, `node ${q(nodeName)} is not allowed to set the following labels: ${bad.join(', ')}`);
  }
  if (a.operation === 'UPDATE') {
    const node = a.object as Node | undefined;
    const oldNode = a.oldObject as Node | undefined;
    if (!node || !metaOf(node) || !oldNode || !metaOf(oldNode)) return forbidden(a, `unexpected type ${typeof a.object}`);
    const newSource = (node.spec as { configSource?: unknown } | undefined)?.configSource;
    const oldSource = (oldNode.spec as { configSource?: unknown } | undefined)?.configSource;
    if (newSource != null && stableJson(newSource) !== stableJson(oldSource)) {
      return forbidden(a, `node ${q(nodeName)} is not allowed to update configSource to a new non-nil configSource`);
    }
    const taints = (n: Node): string => stableJson(n.spec?.taints?.length ? n.spec.taints : null);
    if (taints(node) !== taints(oldNode)) return forbidden(a, `node ${q(nodeName)} is not allowed to modify taints`);
    const bad = forbiddenLabels(modifiedLabels(node.metadata.labels, oldNode.metadata.labels));
    if (bad.length > 0) return forbidden(a, `is not allowed to modify labels: ${bad.join(', ')}`);
  }
  return ok();
}

function admitServiceAccount(nodeName: string, a: AdmissionAttributes, source: NodeRestrictionSource): AdmissionResult {
  if (a.operation !== 'CREATE' || a.subresource !== 'token') return ok();
  if (!isRecord(a.object)) return forbidden(a, `unexpected type ${typeof a.object}`);
  const spec = isRecord(a.object.spec) ? a.object.spec : {};
  const ref = isRecord(spec.boundObjectRef) ? (spec.boundObjectRef as { apiVersion?: string; kind?: string; name?: string; uid?: string }) : undefined;
  if (!ref || ref.apiVersion !== 'v1' || ref.kind !== 'Pod' || !ref.name) return forbidden(a, 'node requested token not bound to a pod');
  if (!ref.uid) return forbidden(a, 'node requested token with a pod binding without a uid');
  const pod = source.getPod(a.namespace, ref.name);
  if (!pod) return notFound('pod', ref.name);
  if (ref.uid !== pod.metadata.uid) {
    return forbidden(a, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  if (pod.spec.nodeName !== nodeName) return forbidden(a, 'node requested token bound to a pod scheduled on a different node');
  return ok();
}

function admitLease(nodeName: string, a: AdmissionAttributes): AdmissionResult {
  if (a.namespace !== NamespaceNodeLease) return forbidden(a, `can only access leases in the ${q(NamespaceNodeLease)} system namespace`);
  if (a.operation === 'CREATE') {
    const meta = metaOf(a.object);
    if (!meta) return forbidden(a, `unexpected type ${typeof a.object}`);
    if (meta.name !== nodeName) return forbidden(a, 'can only access node lease with the same name as the requesting node');
  } else if (a.name !== nodeName) {
    return forbidden(a, 'can only access node lease with the same name as the requesting node');
  }
  return ok();
}
