/**
 * The apiserver's request gate built from the auth/ modules: authentication (x509 client
 * certificates, service-account bearer tokens, anonymous), authorization (privileged group,
 * Node, RBAC, as kubeadm's `--authorization-mode=Node,RBAC`), admission (NodeRestriction) and the
 * TokenRequest signer. The RBAC objects, pods and service accounts the decisions read come from
 * the apiserver's watch caches (cacher.ts; one decoded copy of each object, shared with the watches it
 * serves), as the real apiserver's informers feed its authorizers; no authorization decision reads
 * etcd. The storage writes through revisionTrackingBackend (cache.ts: each acknowledged write's revision
 * is noted on the caches it concerns), so a refusal that may stem from a cache not yet holding
 * this apiserver's latest write is decided again once the cache has caught up (bounded wait, no etcd
 * read): a client's own just-made RoleBinding or pod binding is honoured. Kubernetes' caches lag too
 * and its clients retry; tests and scripts here do not.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { ClusterRole, ClusterRoleBinding, KubeObject, Node, Pod, PolicyRule, Role, RoleBinding } from '../api/types.js';
import { ApiStatusError, decidedBy } from '../api/errors.js';
import { attributesFor, type Attributes } from './auth/attributes.js';
import { authenticate, authenticateByCertificate, authenticationInputFrom, type AuthenticationInput } from './auth/authenticate.js';
import { authorize, forbiddenStatusMessage, type AuthorizationDecision } from './auth/authorizer.js';
import { nodeRestrictionAdmit, type AdmissionOperation } from './auth/node-restriction.js';
import { checkEscalation, isPolicyResource } from './auth/escalation.js';
import { rulesFor, type RbacPolicyProvider } from './auth/rbac.js';
import { nodeIdentity } from './auth/node-authorizer.js';
import type { RequestInfo } from './auth/request-info.js';
import { DEFAULT_SERVICE_ACCOUNT_ISSUER, signServiceAccountToken, type BoundObjectState } from './auth/serviceaccount-token.js';
import type { CachedResource, CacheFreshness, CacheSource } from './cache.js';
import type { AdmissionRequest, AuthnResult, Decision, Gate, TokenRequestInput, UserInfo } from './gate.js';
import { resourceByName, type ResourceDef } from '../api/resources.js';
import { Store, type KvBackend } from './storage.js';
import { authenticateBootstrapToken, BOOTSTRAP_TOKEN_PATTERN, BOOTSTRAP_TOKEN_SECRET_PREFIX, type BootstrapTokenSecret } from '../api/bootstrap-token.js';

export interface AuthChainOptions {
  readonly anonymousAuth: boolean;
  readonly serviceAccount: { readonly privateKeyPem: string; readonly publicKeyPem: string };
  readonly issuer?: string;
  readonly now: () => Date;
  /** How long a refusal waits at most for the caches to reflect this apiserver's latest writes; default 2000 ms. */
  readonly catchUpMs?: number;
}

/** What the service-account authenticator reads of a bound object. */
const boundState = (o: KubeObject | undefined): BoundObjectState | undefined =>
  o ? { uid: o.metadata.uid ?? '', ...(o.metadata.deletionTimestamp ? { deletionTimestamp: o.metadata.deletionTimestamp } : {}) } : undefined;

export class AuthChain implements Gate {
  private readonly options: AuthChainOptions;
  readonly clusterRoles: CachedResource<ClusterRole>;
  readonly clusterRoleBindings: CachedResource<ClusterRoleBinding>;
  readonly roles: CachedResource<Role>;
  readonly roleBindings: CachedResource<RoleBinding>;
  readonly serviceAccounts: CachedResource;
  readonly pods: CachedResource<Pod>;
  readonly nodes: CachedResource<Node>;
  /** Secrets, for the bootstrap-token authenticator (it reads kube-system/bootstrap-token-<id>). */
  readonly secrets: CachedResource<BootstrapTokenSecret>;
  private readonly logger: Logger;
  private readonly rbac: RbacPolicyProvider;
  /** Reads only: a verified token's objects that its caches miss (as client-go's clientGetter falls back to a live GET). */
  private readonly store: Store;

  /**
   * `kv` is read only for a token's objects its caches miss; `caches` gives each resource's watch cache
   * (the one this apiserver serves watches from), which the storage's writes must note (revisionTrackingBackend).
   */
  constructor(kv: KvBackend, caches: CacheSource, options: AuthChainOptions, logger: Logger) {
    this.options = options;
    this.store = new Store(kv);
    const rbacGroup = 'rbac.authorization.k8s.io';
    // The readers' types over the one cache per resource (objects as etcd holds them, typed by their resource).
    const typed = <T extends KubeObject>(def: ResourceDef): CachedResource<T> => caches(def) as unknown as CachedResource<T>;
    this.clusterRoles = typed<ClusterRole>(resourceByName('clusterroles', rbacGroup));
    this.clusterRoleBindings = typed<ClusterRoleBinding>(resourceByName('clusterrolebindings', rbacGroup));
    this.roles = typed<Role>(resourceByName('roles', rbacGroup));
    this.roleBindings = typed<RoleBinding>(resourceByName('rolebindings', rbacGroup));
    this.serviceAccounts = caches(resourceByName('serviceaccounts'));
    this.pods = typed<Pod>(resourceByName('pods'));
    this.nodes = typed<Node>(resourceByName('nodes'));
    this.secrets = typed<BootstrapTokenSecret>(resourceByName('secrets'));
    this.logger = logger;
    this.rbac = {
      getClusterRole: (name) => this.clusterRoles.get(undefined, name),
      listClusterRoleBindings: () => this.clusterRoleBindings.list(),
      getRole: (namespace, name) => this.roles.get(namespace, name),
      listRoleBindings: (namespace) => this.roleBindings.list(namespace),
    };
  }

  private get rbacCaches(): CacheFreshness[] {
    return [this.clusterRoles, this.clusterRoleBindings, this.roles, this.roleBindings];
  }

  /**
   * Waits (bounded by catchUpMs) until each of `caches` has applied this apiserver's writes noted so
   * far; false when none was behind (nothing to decide again).
   */
  private async catchUp(caches: readonly CacheFreshness[]): Promise<boolean> {
    const behind = caches.filter((c) => c.behind);
    if (behind.length === 0) return false;
    const ms = this.options.catchUpMs ?? 2000;
    await Promise.all(behind.map((c) => c.caughtUp(ms)));
    return true;
  }

  private caches(): CachedResource<KubeObject>[] {
    return [this.clusterRoles, this.clusterRoleBindings, this.roles, this.roleBindings, this.serviceAccounts, this.pods, this.nodes, this.secrets] as unknown as CachedResource<KubeObject>[];
  }

  async start(): Promise<void> {
    await Promise.all(this.caches().map((c) => c.start()));
  }

  /** Nothing of its own to stop: its caches are the apiserver's watch caches, which the apiserver stops. */
  stop(): void {
    // The caches outlive the gate only until the apiserver's release stops them.
  }

  async authenticate(req: IncomingMessage): Promise<AuthnResult> {
    return this.authenticateInput(authenticationInputFrom(req.socket as TLSSocket, req.headers.authorization));
  }

  /** TokenReview: the token as if it came in an Authorization header on a connection without a client certificate. */
  authenticateToken(token: string): Promise<AuthnResult> {
    return this.authenticateInput({ authorized: false, authorizationError: null, peerCert: null, authorizationHeader: `Bearer ${token}` });
  }

  private async authenticateInput(input: AuthenticationInput): Promise<AuthnResult> {
    // A verified client certificate with a CN decides the union first: nothing below would be asked.
    const byCertificate = authenticateByCertificate(input);
    if (byCertificate?.authenticated) return { ok: true, user: byCertificate.user };
    // The ServiceAccount and the bound Pod, Secret or Node of a service-account token come from the
    // watch-fed caches. When a lookup of a token that verified misses its cache, those objects are
    // read once from etcd and the token checked again: a client that has just made them and asked for
    // a token must not get a spurious 401 (the caches lag by milliseconds), one whose object is gone
    // gets its 401 without waiting for the cache, and a token whose signature fails costs no read.
    const fromEtcd = new Map<string, KubeObject | undefined>();
    const missed = new Map<string, () => Promise<KubeObject | undefined>>();
    const lookup = <T extends KubeObject>(cache: CachedResource<T>, namespace: string | undefined, name: string): KubeObject | undefined => {
      const cached = cache.get(namespace, name);
      if (cached) return cached;
      const key = `${cache.def.resource}/${namespace ?? ''}/${name}`;
      if (fromEtcd.has(key)) return fromEtcd.get(key);
      missed.set(key, () => this.store.tryGet(cache.def, namespace, name));
      return undefined;
    };
    // --enable-bootstrap-token-auth (kubeadm sets it): a bearer token of the bootstrap form is looked up
    // as kube-system/bootstrap-token-<id>, likewise from the cache.
    const bearer = /^bearer\s+(\S+)$/i.exec(input.authorizationHeader?.trim() ?? '')?.[1];
    const bootstrapId = bearer ? BOOTSTRAP_TOKEN_PATTERN.exec(bearer)?.[1] : undefined;
    let bootstrapSecret: BootstrapTokenSecret | undefined;
    if (bootstrapId) {
      const name = `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${bootstrapId}`;
      if (!this.secrets.get('kube-system', name)) await this.catchUp([this.secrets]);
      bootstrapSecret = this.secrets.get('kube-system', name);
    }
    const now = this.options.now();
    const attempt = (): ReturnType<typeof authenticate> => authenticate(input, {
      anonymous: this.options.anonymousAuth,
      serviceAccountPublicKeyPem: this.options.serviceAccount.publicKeyPem,
      serviceAccount: {
        issuers: [this.options.issuer ?? DEFAULT_SERVICE_ACCOUNT_ISSUER],
        serviceAccountUid: (ns, name) => lookup(this.serviceAccounts, ns, name)?.metadata.uid,
        boundObjects: {
          pod: (ns, name) => boundState(lookup(this.pods, ns, name)),
          secret: (ns, name) => boundState(lookup(this.secrets, ns, name)),
          node: (name) => boundState(lookup(this.nodes, undefined, name)),
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
    let result = attempt();
    if (!result.authenticated && missed.size > 0) {
      await Promise.all([...missed].map(async ([key, read]) => { fromEtcd.set(key, await read()); }));
      missed.clear();
      result = attempt();
    }
    return result.authenticated ? { ok: true, user: result.user } : { ok: false, reason: result.reason };
  }

  /** The chain over the caches, synchronously. */
  private decide(attrs: Attributes): AuthorizationDecision {
    return authorize(attrs, { rbac: this.rbac, nodeGraph: { pods: () => this.pods.list() } });
  }

  /** The caches a decision for `user` reads: RBAC's, and the pods for a node (the Node authorizer's graph). */
  private decisionCaches(user: UserInfo): CacheFreshness[] {
    return nodeIdentity({ name: user.name, groups: [...user.groups] }) ? [...this.rbacCaches, this.pods] : this.rbacCaches;
  }

  /**
   * --authorization-mode=Node,RBAC (system:masters first), over the watch-fed caches. A denial while
   * a cache it reads lags behind this apiserver's own acknowledged writes is decided again once the
   * cache has caught up (bounded), so a client's own just-made RoleBinding or pod binding is honoured;
   * with the caches current a denial costs what an allowed request costs (no etcd read).
   */
  async authorize(user: UserInfo, info: RequestInfo): Promise<Decision> {
    const attrs = attributesFor({ name: user.name, groups: [...user.groups], ...(user.uid ? { uid: user.uid } : {}) }, info);
    let d = this.decide(attrs);
    if (d.decision !== 'allow' && await this.catchUp(this.decisionCaches(user))) d = this.decide(attrs);
    if (d.decision === 'allow') return { allowed: true, reason: d.reason, message: '' };
    return { allowed: false, reason: d.reason, message: forbiddenStatusMessage(attrs, d.reason) };
  }

  /** The union's RulesFor: everything for system:masters; the Node authorizer cannot enumerate; RBAC's rules. */
  /**
   * The union authorizer's RulesFor over the rule resolvers (Node, RBAC): the Node authorizer lists
   * nothing for a node (incomplete, "node authorizer does not support user rule resolution"); RBAC
   * lists the rules of every binding that names the user, as stored — system:masters included, through
   * the cluster-admin binding — and reports what it could not resolve as the evaluation error without
   * marking the answer incomplete. The errors join as utilerrors.NewAggregate does.
   */
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; incomplete: boolean; evaluationError?: string } {
    const u = { name: user.name, groups: [...user.groups] };
    const errors: string[] = [];
    let incomplete = false;
    if (nodeIdentity(u)) {
      incomplete = true;
      errors.push('node authorizer does not support user rule resolution');
    }
    const rbac = rulesFor(this.rbac, u, namespace);
    errors.push(...rbac.errors);
    const unique = [...new Set(errors)];
    return { rules: rbac.rules, incomplete, ...(unique.length ? { evaluationError: unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]` } : {}) };
  }

  /**
   * RBAC's escalation check (pkg/registry/rbac/*\/policybased): creating or updating a Role,
   * ClusterRole, RoleBinding or ClusterRoleBinding grants nothing the user does not hold, unless it
   * may `escalate` or `bind`. Kubernetes runs it in the registry's storage, after authorization and
   * mutating admission, before the strategy's validation and storage; here it runs from the admission
   * hook, the last step before storage on every write path (create, update, patch, dry run included),
   * so an object both invalid and escalating gets the 422 where Kubernetes answers 403. The RBAC
   * caches first catch up with this apiserver's writes: the registry reads its storage, not a cache.
   */
  private async confirmNoEscalation(request: AdmissionRequest, operation: 'CREATE' | 'UPDATE'): Promise<void> {
    const { info, object } = request;
    if (!object || !isPolicyResource(info.apiGroup, info.resource) || info.subresource !== '') return;
    await this.catchUp(this.rbacCaches);
    const err = checkEscalation({
      user: request.user, operation, apiGroup: info.apiGroup, resource: info.resource,
      namespace: info.namespace, name: info.name, object, ...(request.oldObject ? { oldObject: request.oldObject } : {}),
    }, { rbac: this.rbac, authorize: (attrs) => this.decide(attrs).decision === 'allow' });
    // The escalation check runs as admission here: its refusal is admission's, whatever its code.
    if (err) throw decidedBy('admission', err);
  }

  /** Admission: NodeRestriction (the other default plugins' effects live in the REST strategies), and RBAC's escalation check. */
  async admit(request: AdmissionRequest): Promise<void> {
    const { info } = request;
    const operation: AdmissionOperation | undefined = info.verb === 'create' ? 'CREATE'
      : info.verb === 'update' || info.verb === 'patch' ? 'UPDATE'
        : info.verb === 'delete' || info.verb === 'deletecollection' ? 'DELETE' : undefined;
    if (!operation) return;
    if (operation !== 'DELETE') await this.confirmNoEscalation(request, operation);
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
    if (!result.allowed) throw new ApiStatusError(result.status, 'admission');
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
