/** The kube-apiserver's decision modules: request info, authentication, authorization, admission. */
export * from './attributes.js';
export * from './request-info.js';
export * from './serviceaccount-token.js';
export * from './authenticate.js';
export * from './rbac.js';
export * from './bootstrap-policy.js';
export * from './node-authorizer.js';
export * from './node-restriction.js';
export * from './authorizer.js';
