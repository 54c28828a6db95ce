/**
 * RBAC's privilege-escalation prevention, as the rbac.authorization.k8s.io registry wraps its storage
 * (pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased/storage.go,
 * pkg/registry/rbac/escalation_check.go, pkg/registry/rbac/validation/rule.go ConfirmNoEscalation,
 * policy_compact.go, and component-helpers/auth/rbac/validation/policy_comparator.go Covers):
 *
 * - system:masters may write anything (EscalationAllowed);
 * - a Role or ClusterRole may be created or updated by a user who holds every permission it grants
 *   (in the request's namespace; cluster-wide rules only for a ClusterRole), or who is authorized for
 *   the `escalate` verb on the role resource (RoleEscalationAuthorized); setting or removing an
 *   aggregationRule on a ClusterRole needs `*` on `*.*` and on non-resource `*`;
 * - a RoleBinding or ClusterRoleBinding may be created or updated by a user authorized for `bind` on
 *   the referenced role (BindingAuthorized: in the binding's namespace, resourceNames honoured), or
 *   who holds every permission of the role it references (which must exist: else its NotFound);
 * - an update that changes nothing but ownerReferences and finalizers is never an escalation
 *   (IsOnlyMutatingGCFields).
 *
 * The refusal is the registry's `apierrors.NewForbidden(<group resource>, <name>, err)` with
 * ConfirmNoEscalation's message: `user "u" (groups=["a" "b"]) is attempting to grant RBAC permissions
 * not currently held:` and one CompactString per missing rule, compacted and sorted.
 */
import type { KubeObject, PolicyRule, RoleRef } from '../../api/types.js';
import { failure, forbidden, type ApiStatusError } from '../../api/errors.js';
import { resourceAttributes, SystemPrivilegedGroup, type Attributes, type UserInfo } from './attributes.js';
import { rulesFor, VerbAll, APIGroupAll, ResourceAll, type RbacPolicyProvider } from './rbac.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
const ROLE_RESOURCES = new Set(['roles', 'clusterroles']);
const BINDING_RESOURCES = new Set(['rolebindings', 'clusterrolebindings']);

/** Whether a write to `resource` in `apiGroup` goes through the escalation check. */
export const isPolicyResource = (apiGroup: string, resource: string): boolean =>
  apiGroup === RBAC_GROUP && (ROLE_RESOURCES.has(resource) || BINDING_RESOURCES.has(resource));

/** Go's strconv.Quote (what %q prints for a string). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c <= 0x9f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go's %q of a []string: `["a" "b"]`. */
export const goQuoteList = (xs: readonly string[]): string => `[${xs.map(goQuote).join(' ')}]`;

/** rbacv1helpers.CompactString: `{APIGroups:["*"], Resources:["*"], Verbs:["*"]}`. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${goQuoteList(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${goQuoteList(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goQuoteList(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${goQuoteList(r.resourceNames)}`);
  if (r.verbs.length) parts.push(`Verbs:${goQuoteList(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** BreakdownRule: one rule per group x resource x verb (x resourceName), and per non-resource URL x verb. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        if (rule.resourceNames?.length) {
          for (const name of rule.resourceNames) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        } else {
          out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        }
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

const hasAll = (set: readonly string[], contains: readonly string[]): boolean => contains.every((x) => set.includes(x));

function resourceCoversAll(setResources: readonly string[], coversResources: readonly string[]): boolean {
  if (setResources.includes(ResourceAll) || hasAll(setResources, coversResources)) return true;
  for (const path of coversResources) {
    if (setResources.includes(path)) continue;
    const slash = path.indexOf('/');
    if (slash < 0) return false;
    if (!setResources.includes(`*/${path.slice(slash + 1)}`)) return false;
  }
  return true;
}

const nonResourceURLCovers = (owner: string, sub: string): boolean => owner === sub || (owner.endsWith('*') && sub.startsWith(owner.replace(/\*+$/, '')));

const nonResourceURLsCoversAll = (set: readonly string[], covers: readonly string[]): boolean =>
  covers.every((path) => set.some((owner) => nonResourceURLCovers(owner, path)));

/** ruleCovers: whether ownerRule covers a broken-down subrule. */
function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = owner.verbs.includes(VerbAll) || hasAll(owner.verbs, sub.verbs);
  const groups = (owner.apiGroups ?? []).includes(APIGroupAll) || hasAll(owner.apiGroups ?? [], sub.apiGroups ?? []);
  const resources = resourceCoversAll(owner.resources ?? [], sub.resources ?? []);
  const urls = nonResourceURLsCoversAll(owner.nonResourceURLs ?? [], sub.nonResourceURLs ?? []);
  const ownerNames = owner.resourceNames ?? [];
  const subNames = sub.resourceNames ?? [];
  const names = subNames.length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, subNames);
  return verbs && groups && resources && names && urls;
}

/** validation.Covers: whether ownerRules cover servantRules, and the broken-down rules they do not. */
export function covers(ownerRules: readonly PolicyRule[], servantRules: readonly PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const servant of servantRules) {
    for (const sub of breakdownRule(servant)) if (!ownerRules.some((o) => ruleCovers(o, sub))) missing.push(sub);
  }
  return { covered: missing.length === 0, missing };
}

/** CompactRules: simple rules (one group, one resource, verbs only) of the same group/resource merge their verbs. */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const compacted: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const isSimple = !rule.resourceNames?.length && !rule.nonResourceURLs?.length && rule.apiGroups?.length === 1 && rule.resources?.length === 1;
    if (!isSimple) { compacted.push(rule); continue; }
    const key = JSON.stringify([rule.apiGroups![0], rule.resources![0]]);
    const existing = simple.get(key);
    if (existing) existing.verbs = [...existing.verbs, ...rule.verbs];
    else simple.set(key, { apiGroups: [...rule.apiGroups!], resources: [...rule.resources!], verbs: [...rule.verbs] });
  }
  return [...compacted, ...simple.values()];
}

/** Go's sort.Strings order (bytewise on UTF-8), for sets.String.List(). */
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * ConfirmNoEscalation: undefined when the user's rules in `namespace` ('' = cluster-wide only) cover
 * `rules`, else the error text.
 */
export function confirmNoEscalation(provider: RbacPolicyProvider, user: UserInfo, namespace: string, rules: readonly PolicyRule[]): string | undefined {
  const owner = rulesFor(provider, user, namespace, 'registry');
  const { covered, missing } = covers(owner.rules, rules);
  if (covered) return undefined;
  const descriptions = [...new Set(compactRules(missing).map(compactString))].sort(byteOrder);
  let msg = `user ${goQuote(user.name)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
  // utilerrors.NewAggregate(errs).Error() (duplicates once) inside a one-element []error printed with %v.
  const errors = [...new Set(owner.errors)];
  if (errors.length) msg += `; resolution errors: [${errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]`}]`;
  return msg;
}

/** The rules `*` on `*.*` and on non-resource `*` (the registry's fullAuthority). */
const FULL_AUTHORITY: readonly PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

export interface EscalationRequest {
  readonly user: { readonly name: string; readonly groups: readonly string[]; readonly uid?: string };
  readonly operation: 'CREATE' | 'UPDATE';
  /** The request's group, resource, namespace and name (RequestInfo). */
  readonly apiGroup: string;
  readonly resource: string;
  readonly namespace: string;
  readonly name: string;
  readonly object: KubeObject;
  readonly oldObject?: KubeObject;
}

export interface EscalationDeps {
  /** The RBAC objects, as current as this apiserver's last write (the registry reads its own storage). */
  readonly rbac: RbacPolicyProvider;
  /** The apiserver's whole authorizer chain (system:masters, Node, RBAC): allowed or not. */
  authorize(attrs: Attributes): boolean;
}

/** Objects equal as Semantic.DeepEqual has them: key order ignored, absent = empty list or map. */
function semanticEqual(a: unknown, b: unknown): boolean {
  const empty = (v: unknown): boolean => v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
  if (empty(a) && empty(b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => semanticEqual(x, b[i]));
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
    for (const k of keys) if (!semanticEqual(ra[k], rb[k])) return false;
    return true;
  }
  return a === b;
}

/**
 * rbacregistry.IsOnlyMutatingGCFields: the new object with the old one's ownerReferences, finalizers,
 * selfLink and managedFields equals the old one. The resourceVersion is left out too: here the update
 * path stamps it, where Kubernetes compares the object as decoded (carrying the same precondition).
 */
export function isOnlyMutatingGCFields(obj: KubeObject, old: KubeObject | undefined): boolean {
  if (!old) return false;
  const strip = (o: KubeObject, from: KubeObject): KubeObject => {
    const md = { ...o.metadata } as Record<string, unknown>;
    const fromMd = from.metadata as Record<string, unknown>;
    for (const k of ['ownerReferences', 'finalizers', 'selfLink', 'managedFields', 'resourceVersion']) {
      if (fromMd[k] === undefined) delete md[k]; else md[k] = fromMd[k];
    }
    return { ...o, metadata: md } as KubeObject;
  };
  return semanticEqual(strip(obj, old), strip(old, old));
}

type Rbac = KubeObject & { rules?: PolicyRule[]; aggregationRule?: { clusterRoleSelectors?: unknown[] }; roleRef?: RoleRef };

const hasAggregationRule = (o: Rbac | undefined): boolean => (o?.aggregationRule?.clusterRoleSelectors?.length ?? 0) > 0;

/** The registry's NotFound for a role a binding references (its storage's wording, plural resource). */
const roleNotFound = (resource: 'roles' | 'clusterroles', name: string): ApiStatusError =>
  failure(404, 'NotFound', `${resource}.${RBAC_GROUP} ${goQuote(name)} not found`, { name, group: RBAC_GROUP, kind: resource });

/**
 * The policybased storages' check for one create or update of a Role, ClusterRole, RoleBinding or
 * ClusterRoleBinding: undefined to let it through, else the error to answer with.
 */
export function checkEscalation(req: EscalationRequest, deps: EscalationDeps): ApiStatusError | undefined {
  if (!isPolicyResource(req.apiGroup, req.resource)) return undefined;
  // EscalationAllowed.
  if (req.user.groups.includes(SystemPrivilegedGroup)) return undefined;
  const obj = req.object as Rbac;
  const old = req.oldObject as Rbac | undefined;
  const name = obj.metadata.name ?? '';
  const gr = { group: RBAC_GROUP, resource: req.resource };
  const user: UserInfo = { name: req.user.name, groups: [...req.user.groups], ...(req.user.uid ? { uid: req.user.uid } : {}) };
  if (req.operation === 'UPDATE' && isOnlyMutatingGCFields(obj, old)) return undefined;

  if (ROLE_RESOURCES.has(req.resource)) {
    // RoleEscalationAuthorized: `escalate` on the request's resource, namespace and name.
    if (deps.authorize(resourceAttributes(user, { verb: 'escalate', apiGroup: req.apiGroup, apiVersion: '*', resource: req.resource, namespace: req.namespace, name: req.name }))) return undefined;
    const namespace = req.resource === 'roles' ? req.namespace : '';
    const err = confirmNoEscalation(deps.rbac, user, namespace, obj.rules ?? []);
    if (err !== undefined) return forbidden(`${req.resource}.${RBAC_GROUP} ${goQuote(name)} is forbidden: ${err}`, gr, name, 'admission');
    // To set (or drop) an aggregationRule, which can gather anything, needs * on *.*.
    if (req.resource === 'clusterroles' && (hasAggregationRule(obj) || hasAggregationRule(old))) {
      if (confirmNoEscalation(deps.rbac, user, '', FULL_AUTHORITY) !== undefined) {
        return forbidden(`${req.resource}.${RBAC_GROUP} ${goQuote(name)} is forbidden: must have cluster-admin privileges to use the aggregationRule`, gr, name, 'admission');
      }
    }
    return undefined;
  }

  // Bindings: the binding's namespace ('' for a ClusterRoleBinding).
  const namespace = req.resource === 'rolebindings' ? req.namespace : '';
  const ref = obj.roleRef;
  if (!ref) return undefined; // validation refuses a binding without roleRef
  // BindingAuthorized: `bind` on the referenced role, in the binding's namespace.
  const refResource = ref.kind === 'ClusterRole' ? 'clusterroles' : ref.kind === 'Role' ? 'roles' : undefined;
  if (refResource && deps.authorize(resourceAttributes(user, { verb: 'bind', apiGroup: ref.apiGroup, apiVersion: '', resource: refResource, namespace, name: ref.name }))) return undefined;
  // GetRoleReferenceRules.
  let rules: readonly PolicyRule[];
  if (ref.kind === 'ClusterRole') {
    const role = deps.rbac.getClusterRole(ref.name);
    if (!role) return roleNotFound('clusterroles', ref.name);
    rules = role.rules ?? [];
  } else if (ref.kind === 'Role') {
    const role = deps.rbac.getRole(namespace, ref.name);
    if (!role) return roleNotFound('roles', ref.name);
    rules = role.rules ?? [];
  } else {
    return failure(500, 'InternalError', `Internal error occurred: unsupported role reference kind: ${goQuote(ref.kind)}`);
  }
  const err = confirmNoEscalation(deps.rbac, user, namespace, rules);
  if (err !== undefined) return forbidden(`${req.resource}.${RBAC_GROUP} ${goQuote(name)} is forbidden: ${err}`, gr, name, 'admission');
  return undefined;
}
