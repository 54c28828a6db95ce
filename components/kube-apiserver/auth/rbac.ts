/**
 * The RBAC authorizer (plugin/pkg/auth/authorizer/rbac/rbac.go) over rbac.authorization.k8s.io/v1
 * objects, with the rule resolver of pkg/registry/rbac/validation/rule.go and the matchers of
 * pkg/apis/rbac/v1/evaluation_helpers.go:
 *
 * - every ClusterRoleBinding, then (for a namespaced request) every RoleBinding in the request's
 *   namespace, whose subjects include the user (User by name, Group by membership, ServiceAccount
 *   by system:serviceaccount:<ns>:<name>, the namespace defaulting to the binding's);
 * - the bound role's rules are visited in order; the first that allows ends the walk with
 *   `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"`;
 * - RBAC never denies: no match is NoOpinion, with reason "" or, when some binding referenced a
 *   missing role, `RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`.
 *
 * The objects come from a provider (the apiserver keeps them in etcd and a watch-fed cache).
 */
import type { ClusterRole, ClusterRoleBinding, PolicyRule, RbacSubject, Role, RoleBinding } from '../../api/types.js';
import { serviceAccountUsername, type Attributes, type UserInfo } from './attributes.js';

export interface RbacPolicyProvider {
  getClusterRole(name: string): ClusterRole | undefined;
  listClusterRoleBindings(): readonly ClusterRoleBinding[];
  getRole(namespace: string, name: string): Role | undefined;
  listRoleBindings(namespace: string): readonly RoleBinding[];
}

export interface RbacObjects {
  clusterRoles?: readonly ClusterRole[];
  clusterRoleBindings?: readonly ClusterRoleBinding[];
  roles?: readonly Role[];
  roleBindings?: readonly RoleBinding[];
}

/** A provider over fixed lists (tests, and a snapshot of the apiserver's cache). */
export function staticRbacPolicy(objects: RbacObjects): RbacPolicyProvider {
  const clusterRoles = new Map((objects.clusterRoles ?? []).map((r) => [r.metadata.name ?? '', r]));
  const roles = new Map((objects.roles ?? []).map((r) => [`${r.metadata.namespace ?? ''}/${r.metadata.name ?? ''}`, r]));
  const clusterRoleBindings = [...(objects.clusterRoleBindings ?? [])];
  const roleBindings = [...(objects.roleBindings ?? [])];
  return {
    getClusterRole: (name) => clusterRoles.get(name),
    listClusterRoleBindings: () => clusterRoleBindings,
    getRole: (namespace, name) => roles.get(`${namespace}/${name}`),
    listRoleBindings: (namespace) => roleBindings.filter((b) => b.metadata.namespace === namespace),
  };
}

export type RbacDecision = { decision: 'allow' | 'noOpinion'; reason: string };

export const VerbAll = '*';
export const APIGroupAll = '*';
export const ResourceAll = '*';
export const NonResourceAll = '*';

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === VerbAll || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === APIGroupAll || g === group);
}

/** Exact "resource" or "resource/subresource", "*", or "*\/subresource". */
export function resourceMatches(rule: PolicyRule, combinedResource: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === ResourceAll || r === combinedResource) return true;
    if (subresource === '') continue;
    if (r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** "*", exact, or a trailing "*" as a prefix match ("/api/*" matches "/api/v1"; "/healthz" does not match "/healthz/etcd"). */
export function nonResourceURLMatches(rule: PolicyRule, url: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === NonResourceAll || u === url) return true;
    if (u.endsWith('*') && url.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

/** rbac.RuleAllows. */
export function ruleAllows(attrs: Attributes, rule: PolicyRule): boolean {
  if (attrs.isResourceRequest) {
    const combined = attrs.subresource !== '' ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    return verbMatches(rule, attrs.verb) && apiGroupMatches(rule, attrs.apiGroup) && resourceMatches(rule, combined, attrs.subresource) && resourceNameMatches(rule, attrs.name);
  }
  return verbMatches(rule, attrs.verb) && nonResourceURLMatches(rule, attrs.path);
}

/** rbac.RulesAllow. */
export function rulesAllow(attrs: Attributes, rules: readonly PolicyRule[]): boolean {
  return rules.some((rule) => ruleAllows(attrs, rule));
}

function appliesToUser(user: UserInfo, subject: RbacSubject, namespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const saNamespace = subject.namespace ? subject.namespace : namespace;
      if (saNamespace === '') return false;
      return user.name === serviceAccountUsername(saNamespace, subject.name);
    }
    default:
      return false;
  }
}

function appliesTo(user: UserInfo, subjects: readonly RbacSubject[] | undefined, namespace: string): RbacSubject | undefined {
  return (subjects ?? []).find((s) => appliesToUser(user, s, namespace));
}

function describeSubject(s: RbacSubject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace ? s.namespace : bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

/**
 * Whose NotFound wording a missing role gets: the authorizer's listers say `role.rbac...` (singular),
 * the registry's rule resolver (the escalation check reads storage) says `roles.rbac...`.
 */
export type RoleLookupWording = 'lister' | 'registry';

/** GetRoleReferenceRules, with the listers' (or the registry's) NotFound wording. */
function roleReferenceRules(provider: RbacPolicyProvider, roleRef: { kind: string; name: string }, bindingNamespace: string, wording: RoleLookupWording = 'lister'): { rules: readonly PolicyRule[] } | { error: string } {
  const s = wording === 'registry' ? 's' : '';
  switch (roleRef.kind) {
    case 'Role': {
      const role = provider.getRole(bindingNamespace, roleRef.name);
      return role ? { rules: role.rules ?? [] } : { error: `role${s}.rbac.authorization.k8s.io ${JSON.stringify(roleRef.name)} not found` };
    }
    case 'ClusterRole': {
      const role = provider.getClusterRole(roleRef.name);
      return role ? { rules: role.rules ?? [] } : { error: `clusterrole${s}.rbac.authorization.k8s.io ${JSON.stringify(roleRef.name)} not found` };
    }
    default:
      return { error: `unsupported role reference kind: ${JSON.stringify(roleRef.kind)}` };
  }
}

/**
 * Visits every rule that applies to the user in the namespace (VisitRulesFor); the visitor
 * returns false to stop. Errors are reported with a null rule.
 */
export function visitRulesFor(
  provider: RbacPolicyProvider,
  user: UserInfo,
  namespace: string,
  visitor: (source: string, rule: PolicyRule | null, error: string | null) => boolean,
  wording: RoleLookupWording = 'lister',
): void {
  for (const binding of provider.listClusterRoleBindings()) {
    const subject = appliesTo(user, binding.subjects, '');
    if (!subject) continue;
    const resolved = roleReferenceRules(provider, binding.roleRef, '', wording);
    if ('error' in resolved) {
      if (!visitor('', null, resolved.error)) return;
      continue;
    }
    const source = `ClusterRoleBinding ${JSON.stringify(binding.metadata.name ?? '')} of ${binding.roleRef.kind} ${JSON.stringify(binding.roleRef.name)} to ${describeSubject(subject, '')}`;
    for (const rule of resolved.rules) if (!visitor(source, rule, null)) return;
  }
  if (namespace === '') return;
  for (const binding of provider.listRoleBindings(namespace)) {
    const subject = appliesTo(user, binding.subjects, namespace);
    if (!subject) continue;
    const resolved = roleReferenceRules(provider, binding.roleRef, namespace, wording);
    if ('error' in resolved) {
      if (!visitor('', null, resolved.error)) return;
      continue;
    }
    const source = `RoleBinding ${JSON.stringify(`${binding.metadata.name ?? ''}/${binding.metadata.namespace ?? namespace}`)} of ${binding.roleRef.kind} ${JSON.stringify(binding.roleRef.name)} to ${describeSubject(subject, namespace)}`;
    for (const rule of resolved.rules) if (!visitor(source, rule, null)) return;
  }
}

/** Every rule that applies to the user in the namespace (RulesFor), e.g. for SelfSubjectRulesReview. */
export function rulesFor(provider: RbacPolicyProvider, user: UserInfo, namespace: string, wording: RoleLookupWording = 'lister'): { rules: PolicyRule[]; errors: string[] } {
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  visitRulesFor(provider, user, namespace, (_source, rule, error) => {
    if (rule) rules.push(rule);
    if (error) errors.push(error);
    return true;
  }, wording);
  return { rules, errors };
}

/** RBACAuthorizer.Authorize. */
export function rbacAuthorize(attrs: Attributes, provider: RbacPolicyProvider): RbacDecision {
  let allowedBy: string | undefined;
  const errors: string[] = [];
  visitRulesFor(provider, attrs.user, attrs.namespace, (source, rule, error) => {
    if (rule && ruleAllows(attrs, rule)) {
      allowedBy = source;
      return false;
    }
    if (error) errors.push(error);
    return true;
  });
  if (allowedBy !== undefined) return { decision: 'allow', reason: `RBAC: allowed by ${allowedBy}` };
  if (errors.length === 0) return { decision: 'noOpinion', reason: '' };
  const unique = [...new Set(errors)];
  return { decision: 'noOpinion', reason: `RBAC: ${unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`}` };
}
