/**
 * The apiserver's authorizer chain for `--authorization-mode=Node,RBAC`
 * (pkg/kubeapiserver/authorizer/config.go): first the privileged-group authorizer that always
 * allows system:masters, then Node, then RBAC, combined by the union authorizer
 * (k8s.io/apiserver/pkg/authorization/union): the first Allow (or Deny) wins; when every
 * authorizer has no opinion the request is forbidden, with their non-empty reasons joined by "\n".
 *
 * The 403 body is built as the WithAuthorization filter builds it (responsewriters.Forbidden):
 * `<resource>[.<group>] ["<name>"] is forbidden: User "<u>" cannot <verb> resource "<res>[/<sub>]"
 * in API group "<g>" (in the namespace "<ns>" | at the cluster scope)[: <reason>]`, and for
 * non-resource paths `forbidden: User "<u>" cannot <verb> path "<path>"`.
 */
import type { Status } from '../../api/types.js';
import { SystemPrivilegedGroup, type Attributes } from './attributes.js';
import { nodeAuthorize, type NodeAuthorizerOptions, type NodeGraphSource } from './node-authorizer.js';
import { rbacAuthorize, type RbacPolicyProvider } from './rbac.js';

export type AuthorizationMode = 'Node' | 'RBAC';
/** Which authorizer decided: the always-on system:masters authorizer, Node or RBAC. */
export type AuthorizerName = 'SystemMasters' | AuthorizationMode;

export interface AuthorizerDeps {
  rbac: RbacPolicyProvider;
  nodeGraph: NodeGraphSource;
  node?: NodeAuthorizerOptions;
  /** --authorization-mode, default ['Node', 'RBAC']. */
  modes?: readonly AuthorizationMode[];
}

export interface AuthorizationDecision {
  decision: 'allow' | 'deny';
  /** The allowing authorizer's reason, or the joined reasons of a denial (may be ''). */
  reason: string;
  /** The authorizer that allowed; null when nobody did. */
  by: AuthorizerName | null;
}

/** Authorizes one request through the chain. */
export function authorize(attrs: Attributes, deps: AuthorizerDeps): AuthorizationDecision {
  // authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)
  if (attrs.user.groups.includes(SystemPrivilegedGroup)) return { decision: 'allow', reason: '', by: 'SystemMasters' };
  const reasons: string[] = [];
  for (const mode of deps.modes ?? ['Node', 'RBAC']) {
    const result = mode === 'Node' ? nodeAuthorize(attrs, deps.nodeGraph, deps.node ?? {}) : rbacAuthorize(attrs, deps.rbac);
    if (result.decision === 'allow') return { decision: 'allow', reason: result.reason, by: mode };
    if (result.reason !== '') reasons.push(result.reason);
  }
  return { decision: 'deny', reason: reasons.join('\n'), by: null };
}

/** Avoid emitting errors that look like valid HTML (responsewriters' sanitizer). */
const sanitize = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const q = (s: string): string => JSON.stringify(s);

/** responsewriters.forbiddenMessage. */
export function forbiddenMessage(attrs: Attributes): string {
  const username = attrs.user.name;
  if (!attrs.isResourceRequest) return `User ${q(username)} cannot ${attrs.verb} path ${q(attrs.path)}`;
  const resource = attrs.subresource !== '' ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  if (attrs.namespace !== '') {
    return `User ${q(username)} cannot ${attrs.verb} resource ${q(resource)} in API group ${q(attrs.apiGroup)} in the namespace ${q(attrs.namespace)}`;
  }
  return `User ${q(username)} cannot ${attrs.verb} resource ${q(resource)} in API group ${q(attrs.apiGroup)} at the cluster scope`;
}

/** The full 403 message: apierrors.NewForbidden(GroupResource, name, "<forbiddenMessage>[: <reason>]"). */
export function forbiddenStatusMessage(attrs: Attributes, reason = ''): string {
  const msg = sanitize(forbiddenMessage(attrs));
  const err = reason === '' ? msg : `${msg}: ${reason}`;
  const qualified = attrs.resource === '' && attrs.apiGroup === '' ? '' : attrs.apiGroup === '' ? attrs.resource : `${attrs.resource}.${attrs.apiGroup}`;
  if (qualified === '') return `forbidden: ${err}`;
  if (attrs.name === '') return `${qualified} is forbidden: ${err}`;
  return `${qualified} ${q(attrs.name)} is forbidden: ${err}`;
}

/** The 403 Status body for a denied request. */
export function forbiddenStatus(attrs: Attributes, reason = ''): Status {
  const details: NonNullable<Status['details']> = {};
  if (attrs.name !== '') details.name = attrs.name;
  if (attrs.apiGroup !== '') details.group = attrs.apiGroup;
  if (attrs.resource !== '') details.kind = attrs.resource;
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message: forbiddenStatusMessage(attrs, reason), reason: 'Forbidden', details, code: 403 };
}
