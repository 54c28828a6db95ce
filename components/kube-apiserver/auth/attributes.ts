/**
 * The user an authenticator produces (k8s.io/apiserver/pkg/authentication/user.Info) and the
 * attributes an authorizer decides on (k8s.io/apiserver/pkg/authorization/authorizer.Attributes),
 * built from the RequestInfo as the apiserver's WithAuthorization filter does.
 */
import type { FieldSelectorRequirement, RequestInfo } from './request-info.js';

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** Well-known user and group names (k8s.io/apiserver/pkg/authentication/user). */
export const SystemPrivilegedGroup = 'system:masters';
export const NodesGroup = 'system:nodes';
export const AllAuthenticated = 'system:authenticated';
export const AllUnauthenticated = 'system:unauthenticated';
export const Anonymous = 'system:anonymous';
/** user.CredentialIDKey: the extra key naming the credential a request came with (X509SHA256=..., JTI=...). */
export const CREDENTIAL_ID_KEY = 'authentication.kubernetes.io/credential-id';
export const KubeProxy = 'system:kube-proxy';
export const KubeControllerManager = 'system:kube-controller-manager';
export const KubeScheduler = 'system:kube-scheduler';
export const ServiceAccountUsernamePrefix = 'system:serviceaccount:';
export const AllServiceAccountsGroup = 'system:serviceaccounts';
export const ServiceAccountGroupPrefix = 'system:serviceaccounts:';

export interface Attributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  /** Non-resource requests: the URL path. */
  path: string;
  namespace: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
  fieldSelector?: FieldSelectorRequirement[];
  labelSelector?: string;
}

/** The authorizer attributes for a request (GetAuthorizerAttributes). */
export function attributesFor(user: UserInfo, info: RequestInfo): Attributes {
  const attrs: Attributes = {
    user,
    verb: info.verb,
    isResourceRequest: info.isResourceRequest,
    path: info.path,
    namespace: info.namespace,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    name: info.name,
  };
  if (info.fieldSelector !== undefined) attrs.fieldSelector = info.fieldSelector;
  if (info.labelSelector !== undefined) attrs.labelSelector = info.labelSelector;
  return attrs;
}

/** Attributes for a resource request written out by hand (SubjectAccessReview, tests). */
export function resourceAttributes(
  user: UserInfo,
  a: { verb: string; resource: string; apiGroup?: string; apiVersion?: string; namespace?: string; subresource?: string; name?: string; fieldSelector?: FieldSelectorRequirement[] },
): Attributes {
  const attrs: Attributes = {
    user,
    verb: a.verb,
    isResourceRequest: true,
    path: '',
    namespace: a.namespace ?? '',
    apiGroup: a.apiGroup ?? '',
    apiVersion: a.apiVersion ?? (a.apiGroup ? '' : 'v1'),
    resource: a.resource,
    subresource: a.subresource ?? '',
    name: a.name ?? '',
  };
  if (a.fieldSelector !== undefined) attrs.fieldSelector = a.fieldSelector;
  return attrs;
}

/** Attributes for a non-resource request (a path such as /healthz). */
export function nonResourceAttributes(user: UserInfo, verb: string, path: string): Attributes {
  return { user, verb, isResourceRequest: false, path, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '' };
}

/** serviceaccount.MakeUsername. */
export const serviceAccountUsername = (namespace: string, name: string): string => `${ServiceAccountUsernamePrefix}${namespace}:${name}`;

/** serviceaccount.SplitUsername: the namespace and name of a service-account user, if it is one. */
export function splitServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(ServiceAccountUsernamePrefix)) return undefined;
  const rest = username.slice(ServiceAccountUsernamePrefix.length);
  const parts = rest.split(':');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') return undefined;
  return { namespace: parts[0]!, name: parts[1]! };
}
