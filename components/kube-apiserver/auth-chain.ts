/**
 * The apiserver's request gate built from the auth/ modules: authentication (x509 client
 * certificates, service-account bearer tokens, anonymous), authorization (privileged group,
 * Node, RBAC, as kubeadm's `--authorization-mode=Node,RBAC`), admission (NodeRestriction) and the
 * TokenRequest signer. The RBAC objects, pods and service accounts the decisions read come from
 * watch-fed caches of etcd, as the real apiserver's informers feed its authorizers.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { ClusterRole, ClusterRoleBinding, KubeObject, Node, Pod, PolicyRule, Role, RoleBinding } from '../types.js';
import { ApiStatusError } from './errors.js';
import { attributesFor } from './auth/attributes.js';
import { authenticate, authenticationInputFrom } from './auth/authenticate.js';
import { authorize, forbiddenStatusMessage } from './auth/authorizer.js';
import { nodeRestrictionAdmit, type AdmissionOperation } from './auth/node-restriction.js';
import { rulesFor, staticRbacPolicy, type RbacPolicyProvider } from './auth/rbac.js';
import { nodeIdentity } from './auth/node-authorizer.js';
import type { RequestInfo } from './auth/request-info.js';
import { DEFAULT_SERVICE_ACCOUNT_ISSUER, signServiceAccountToken, type BoundObjectState } from './auth/serviceaccount-token.js';
import { ObjectCache } from './cache.js';
import type { AdmissionRequest, AuthnResult, Decision, Gate, TokenRequestInput, UserInfo } from './gate.js';
import { resourceByName } from './registry.js';
import { Store, type KvBackend } from './storage.js';
import { authenticateBootstrapToken, BOOTSTRAP_TOKEN_PATTERN, BOOTSTRAP_TOKEN_SECRET_PREFIX, type BootstrapTokenSecret } from '../bootstrap-token.js';

export interface AuthChainOptions {
  readonly anonymousAuth: boolean;
  readonly serviceAccount: { readonly privateKeyPem: string; readonly publicKeyPem: string };
  readonly issuer?: string;
  readonly now: () => Date;
}

interface TokenNames {
  namespace: string;
  name: string;
  pod?: string;
  secret?: string;
  node?: string;
}

/**
 * The ServiceAccount and bound objects a service-account token names (unverified: only to warm the
 * lookups of objects the caches have not seen yet).
 */
function tokenNames(header: string | undefined): TokenNames | undefined {
  const m = /^bearer\s+([^.\s]+)\.([^.\s]+)\.[^.\s]+$/i.exec(header?.trim() ?? '');
  if (!m) return undefined;
  try {
    type Ref = { name?: unknown } | undefined;
    const claims = JSON.parse(Buffer.from(m[2]!, 'base64url').toString()) as { 'kubernetes.io'?: { namespace?: unknown; serviceaccount?: Ref; pod?: Ref; secret?: Ref; node?: Ref } };
    const k = claims['kubernetes.io'];
    if (typeof k?.namespace !== 'string' || typeof k.serviceaccount?.name !== 'string' || !k.namespace || !k.serviceaccount.name) return undefined;
    const name = (r: Ref): string | undefined => (typeof r?.name === 'string' && r.name !== '' ? r.name : undefined);
    const pod = name(k.pod);
    const secret = name(k.secret);
    const node = name(k.node);
    return { namespace: k.namespace, name: k.serviceaccount.name, ...(pod ? { pod } : {}), ...(secret ? { secret } : {}), ...(node ? { node } : {}) };
  } catch {
    return undefined;
  }
}

/** What the service-account authenticator reads of a bound object. */
const boundState = (o: KubeObject | undefined): BoundObjectState | undefined =>
  o ? { uid: o.metadata.uid ?? '', ...(o.metadata.deletionTimestamp ? { deletionTimestamp: o.metadata.deletionTimestamp } : {}) } : undefined;

export class AuthChain implements Gate {
  private readonly options: AuthChainOptions;
  readonly clusterRoles: ObjectCache<ClusterRole>;
  readonly clusterRoleBindings: ObjectCache<ClusterRoleBinding>;
  readonly roles: ObjectCache<Role>;
  readonly roleBindings: ObjectCache<RoleBinding>;
  readonly serviceAccounts: ObjectCache;
  readonly pods: ObjectCache<Pod>;
  readonly nodes: ObjectCache<Node>;
  /** Secrets, for the bootstrap-token authenticator (it reads kube-system/bootstrap-token-<id>). */
  readonly secrets: ObjectCache<BootstrapTokenSecret>;
  private readonly logger: Logger;
  private readonly rbac: RbacPolicyProvider;
  private readonly store: Store;

  constructor(kv: KvBackend, options: AuthChainOptions, logger: Logger) {
    this.options = options;
    this.store = new Store(kv);
    const rbacGroup = 'rbac.authorization.k8s.io';
    this.clusterRoles = new ObjectCache<ClusterRole>(resourceByName('clusterroles', rbacGroup), kv, logger);
    this.clusterRoleBindings = new ObjectCache<ClusterRoleBinding>(resourceByName('clusterrolebindings', rbacGroup), kv, logger);
    this.roles = new ObjectCache<Role>(resourceByName('roles', rbacGroup), kv, logger);
    this.roleBindings = new ObjectCache<RoleBinding>(resourceByName('rolebindings', rbacGroup), kv, logger);
    this.serviceAccounts = new ObjectCache(resourceByName('serviceaccounts'), kv, logger);
    this.pods = new ObjectCache<Pod>(resourceByName('pods'), kv, logger);
    this.nodes = new ObjectCache<Node>(resourceByName('nodes'), kv, logger);
    this.secrets = new ObjectCache<BootstrapTokenSecret>(resourceByName('secrets'), kv, logger);
    this.logger = logger;
    this.rbac = {
      getClusterRole: (name) => this.clusterRoles.get(undefined, name),
      listClusterRoleBindings: () => this.clusterRoleBindings.list(),
      getRole: (namespace, name) => this.roles.get(namespace, name),
      listRoleBindings: (namespace) => this.roleBindings.list(namespace),
    };
  }

  private caches(): ObjectCache<KubeObject>[] {
    return [this.clusterRoles, this.clusterRoleBindings, this.roles, this.roleBindings, this.serviceAccounts, this.pods, this.nodes, this.secrets] as ObjectCache<KubeObject>[];
  }

  async start(): Promise<void> {
    await Promise.all(this.caches().map((c) => c.start()));
  }

  stop(): void {
    for (const c of this.caches()) c.stop();
  }

  async authenticate(req: IncomingMessage): Promise<AuthnResult> {
    const socket = req.socket as TLSSocket;
    // The ServiceAccount and bound Pod, Secret or Node a bearer token names, read from etcd when the
    // cache has not seen them (yet): a client that has just created them and asked for a token must
    // not get a spurious 401, and one whose object is gone gets its 401 without waiting for the cache.
    const fresh = new Map<string, string | undefined>();
    const freshBound = new Map<string, KubeObject | undefined>();
    const named = tokenNames(req.headers.authorization);
    if (named && !this.serviceAccounts.get(named.namespace, named.name)) {
      const sa = await this.store.tryGet(resourceByName('serviceaccounts'), named.namespace, named.name);
      fresh.set(`${named.namespace}/${named.name}`, sa?.metadata.uid);
    }
    const warm = async <T extends KubeObject>(cache: ObjectCache<T>, namespace: string | undefined, name: string | undefined): Promise<void> => {
      if (name === undefined || cache.get(namespace, name)) return;
      freshBound.set(`${cache.def.resource}/${namespace ?? ''}/${name}`, await this.store.tryGet(cache.def, namespace, name));
    };
    if (named) {
      await Promise.all([
        warm(this.pods, named.namespace, named.pod),
        warm(this.secrets, named.namespace, named.secret),
        warm(this.nodes, undefined, named.node),
      ]);
    }
    const lookup = <T extends KubeObject>(cache: ObjectCache<T>, namespace: string | undefined, name: string): BoundObjectState | undefined =>
      boundState(cache.get(namespace, name) ?? freshBound.get(`${cache.def.resource}/${namespace ?? ''}/${name}`));
    // --enable-bootstrap-token-auth (kubeadm sets it): a bearer token of the bootstrap form is looked up
    // as kube-system/bootstrap-token-<id>; read from etcd when the cache has not seen it yet.
    const bearer = /^bearer\s+(\S+)$/i.exec(req.headers.authorization?.trim() ?? '')?.[1];
    const bootstrapId = bearer ? BOOTSTRAP_TOKEN_PATTERN.exec(bearer)?.[1] : undefined;
    let bootstrapSecret: BootstrapTokenSecret | undefined;
    if (bootstrapId) {
      const name = `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${bootstrapId}`;
      bootstrapSecret = this.secrets.get('kube-system', name) ?? await this.store.tryGet<BootstrapTokenSecret>(resourceByName('secrets'), 'kube-system', name);
    }
    const now = this.options.now();
    const result = authenticate(authenticationInputFrom(socket, req.headers.authorization), {
      anonymous: this.options.anonymousAuth,
      serviceAccountPublicKeyPem: this.options.serviceAccount.publicKeyPem,
      serviceAccount: {
        issuers: [this.options.issuer ?? DEFAULT_SERVICE_ACCOUNT_ISSUER],
        serviceAccountUid: (ns, name) => this.serviceAccounts.get(ns, name)?.metadata.uid ?? fresh.get(`${ns}/${name}`),
        boundObjects: {
          pod: (ns, name) => lookup(this.pods, ns, name),
          secret: (ns, name) => lookup(this.secrets, ns, name),
          node: (name) => lookup(this.nodes, undefined, name),
        },
      },
      tokenAuthenticators: [(token) => {
        const r = authenticateBootstrapToken(token, (name) => (bootstrapSecret?.metadata.name === name ? bootstrapSecret : undefined), now);
        if ('user' in r) return { user: r.user };
        if (bootstrapId) this.logger.info({ reason: r.noOpinion }, 'bootstrap token not accepted');
        return undefined;
      }],
      now,
    });
    return result.authenticated ? { ok: true, user: result.user } : { ok: false, reason: result.reason };
  }

  /**
   * --authorization-mode=Node,RBAC (system:masters first), over the watch-fed caches. A denial is
   * checked once more against a fresh read of etcd, so that a client's own just-made RoleBinding or
   * pod binding is honoured (the real caches lag by milliseconds too, and clients retry; tests do not).
   */
  async authorize(user: UserInfo, info: RequestInfo): Promise<Decision> {
    const attrs = attributesFor({ name: user.name, groups: [...user.groups], ...(user.uid ? { uid: user.uid } : {}) }, info);
    let d = authorize(attrs, { rbac: this.rbac, nodeGraph: { pods: () => this.pods.list() } });
    if (d.decision !== 'allow') {
      const rbacGroup = 'rbac.authorization.k8s.io';
      const [clusterRoles, clusterRoleBindings, roles, roleBindings, pods] = await Promise.all([
        this.store.list<ClusterRole>(resourceByName('clusterroles', rbacGroup), undefined),
        this.store.list<ClusterRoleBinding>(resourceByName('clusterrolebindings', rbacGroup), undefined),
        this.store.list<Role>(resourceByName('roles', rbacGroup), undefined),
        this.store.list<RoleBinding>(resourceByName('rolebindings', rbacGroup), undefined),
        this.store.list<Pod>(resourceByName('pods'), undefined),
      ]);
      const rbac = staticRbacPolicy({ clusterRoles: clusterRoles.items, clusterRoleBindings: clusterRoleBindings.items, roles: roles.items, roleBindings: roleBindings.items });
      d = authorize(attrs, { rbac, nodeGraph: { pods: () => pods.items } });
    }
    if (d.decision === 'allow') return { allowed: true, reason: d.reason, message: '' };
    return { allowed: false, reason: d.reason, message: forbiddenStatusMessage(attrs, d.reason) };
  }

  /** The union's RulesFor: everything for system:masters; the Node authorizer cannot enumerate; RBAC's rules. */
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; incomplete: boolean; evaluationError?: string } {
    const u = { name: user.name, groups: [...user.groups] };
    if (u.groups.includes('system:masters')) {
      return { rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false };
    }
    const errors: string[] = [];
    let incomplete = false;
    if (nodeIdentity(u)) {
      incomplete = true;
      errors.push('node authorizer does not support user rule resolution');
    }
    const rbac = rulesFor(this.rbac, u, namespace);
    if (rbac.errors.length) { incomplete = true; errors.push(...rbac.errors); }
    return { rules: rbac.rules, incomplete, ...(errors.length ? { evaluationError: errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]` } : {}) };
  }

  /** Admission: NodeRestriction (the other default plugins' effects live in the REST strategies). */
  admit(request: AdmissionRequest): void {
    const { info } = request;
    const operation: AdmissionOperation | undefined = info.verb === 'create' ? 'CREATE'
      : info.verb === 'update' || info.verb === 'patch' ? 'UPDATE'
        : info.verb === 'delete' || info.verb === 'deletecollection' ? 'DELETE' : undefined;
    if (!operation) return;
    const name = info.name || (request.object ?? request.oldObject)?.metadata.name || '';
    const result = nodeRestrictionAdmit({
      user: { name: request.user.name, groups: [...request.user.groups] }, operation,
      apiGroup: info.apiGroup, resource: info.resource, subresource: info.subresource,
      namespace: info.namespace || ((request.object ?? request.oldObject)?.metadata.namespace ?? ''), name,
      ...(request.object ? { object: request.object } : {}), ...(request.oldObject ? { oldObject: request.oldObject } : {}),
    }, {
      getPod: (ns, n) => this.pods.get(ns, n),
      getNode: (n) => this.nodes.get(undefined, n),
    });
    if (!result.allowed) throw new ApiStatusError(result.status);
  }

  issueToken(input: TokenRequestInput): string {
    const sa = input.serviceAccount.metadata;
    const { pod, podNode, secret, node } = input.bound ?? {};
    return signServiceAccountToken({
      namespace: sa.namespace ?? '', name: sa.name ?? '', uid: sa.uid ?? '', audiences: input.audiences,
      expirationSeconds: input.expirationSeconds, now: input.now, ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
      ...(pod ? { boundPod: pod } : {}), ...(podNode ? { podNode } : {}), ...(secret ? { boundSecret: secret } : {}), ...(node ? { boundNode: node } : {}),
    }, this.options.serviceAccount.privateKeyPem);
  }
}
