/**
 * What the REST handlers need from authentication, authorization and admission, as one narrow
 * interface. `auth-chain.ts` implements it with the auth/ modules (x509 + service-account tokens +
 * anonymous; Node,RBAC; NodeRestriction); tests may give a simpler one.
 */
import type { IncomingMessage } from 'node:http';
import type { KubeObject, PolicyRule } from '../api/types.js';
import type { RequestInfo } from './auth/request-info.js';

export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
  readonly uid?: string;
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export type AuthnResult =
  | { readonly ok: true; readonly user: UserInfo }
  /** 401: why, for the trace (`x509: certificate signed by unknown authority`, `invalid bearer token`). */
  | { readonly ok: false; readonly reason: string };

export interface Decision {
  readonly allowed: boolean;
  /** The authorizer's reason (RBAC's `allowed by ClusterRoleBinding ...`, Node's), possibly ''. */
  readonly reason: string;
  /** The 403 message when denied: `nodes "x" is forbidden: User "u" cannot delete resource ...`. */
  readonly message: string;
}

export interface AdmissionRequest {
  readonly user: UserInfo;
  readonly info: RequestInfo;
  /** The object as it will be stored (create, update, patch), absent for delete/connect. */
  readonly object?: KubeObject;
  /** The stored object (update, patch, delete). */
  readonly oldObject?: KubeObject;
}

export interface TokenRequestInput {
  readonly serviceAccount: KubeObject;
  readonly audiences: readonly string[];
  readonly expirationSeconds: number;
  /** The objects spec.boundObjectRef resolved to (TokenREST.Create looks them up): a pod (and its node), a secret or a node. */
  readonly bound?: {
    readonly pod?: { name: string; uid: string };
    readonly podNode?: { name: string; uid: string };
    readonly secret?: { name: string; uid: string };
    readonly node?: { name: string; uid: string };
  };
  readonly now: Date;
}

export interface Gate {
  authenticate(req: IncomingMessage): Promise<AuthnResult>;
  /** A bearer token alone through the token authenticators (TokenReview). */
  authenticateToken(token: string): Promise<AuthnResult>;
  authorize(user: UserInfo, info: RequestInfo): Decision | Promise<Decision>;
  /** Throws an ApiStatusError (403 Forbidden) to refuse. */
  admit(request: AdmissionRequest): void | Promise<void>;
  /** The rules a user has in a namespace (SelfSubjectRulesReview); `incomplete` when some authorizer cannot list them. */
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; incomplete: boolean; evaluationError?: string };
  /** Signs a service-account token (TokenRequest). */
  issueToken(input: TokenRequestInput): string | Promise<string>;
}
