/**
 * kube-apiserver: the only client of etcd and the front door for everyone else. An HTTPS server in
 * `request` mode (any handshake completes; the authenticators decide, so a certificate from a
 * foreign CA gets a 401 Status rather than a reset), then for every request: authenticate,
 * RequestInfo, authorize (Node,RBAC), admission, handle. State lives in etcd under /registry/...;
 * the apiserver also dials the kubelets (pods/log) with its apiserver-kubelet-client certificate.
 */
import type https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Trace } from '../client/trace.js';
import { Lifecycle, ServerDrain, systemClock, type Clock, type Component, type ComponentDeps } from '../client/common.js';
import { EtcdClient, EtcdError } from '../client/etcd-client.js';
import { createTlsServer, listen, type Identity, type TlsReload, type TlsServer } from '../client/tls.js';
import type { KubeObject } from '../api/types.js';
import { AuthChain } from './auth-chain.js';
import { BadRequestTargetError, parseRequestTarget, requestInfo, type RequestInfo, type RequestTarget } from './auth/request-info.js';
import { apiserverBootstrapPolicy, bootstrap } from './bootstrap.js';
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions, VERSION_INFO } from './discovery.js';
import { forbidden, pathNotFound, toStatusError, unauthorized, type StatusLayer } from '../api/errors.js';
import { etcdBackend } from './etcd-backend.js';
import { DEFAULT_COMPONENTS, type HttpComponent } from './componentstatus.js';
import type { Gate, UserInfo } from './gate.js';
import { sendJson, sendStatus, sendText } from './http.js';
import { impersonate } from './impersonation.js';
import { KubeletClient } from './kubelet-client.js';
import { IpAllocator } from './allocator.js';
import { resourceByName } from '../api/resources.js';
import { resolveRoute } from './routes.js';
import { Rest } from './rest.js';
import { Store, type KvBackend } from './storage.js';
import type { StrategyContext } from './strategy.js';
import type { ActiveWatch } from './watch.js';
import { Compactor } from './compactor.js';
import { WatchCaches } from './cacher.js';
import { revisionTrackingBackend } from './cache.js';
import { Aggregator } from './aggregator/index.js';
import type { AggregationOptions } from './aggregator/options.js';
import { handleUpgrade } from './connect.js';

export interface KubeApiserverOptions extends ComponentDeps {
  readonly host: string;
  /** 6443 in the plan; 0 in tests. */
  readonly port: number;
  /**
   * --watch-cache (default true): watches are served from one etcd watch per resource (cacher.ts);
   * false: every watch is its own etcd watch.
   */
  readonly watchCache?: boolean;
  /**
   * The most events a resource's watch cache keeps (--default-watch-cache-size); events also leave it
   * after 75 s (eventFreshDuration). Default 100,000.
   */
  readonly watchCacheSize?: number;
  /** apiserver.crt/.key (serverAuth; SANs: kubernetes.default..., 10.96.0.1, the advertise address). */
  readonly identity: Identity;
  /** --client-ca-file: the Kubernetes CA. */
  readonly clientCa: string;
  readonly etcd: {
    /** --etcd-servers. */
    readonly endpoints: readonly string[];
    /** apiserver-etcd-client. */
    readonly identity: Identity;
    /** --etcd-cafile: the etcd CA. */
    readonly ca: string;
  };
  readonly kubeletClient: {
    /**
     * --kubelet-client-certificate/--kubelet-client-key: apiserver-kubelet-client. Absent: the apiserver
     * dials kubelets without a client certificate (a kubelet with anonymous auth off answers 401).
     */
    readonly identity?: Identity;
    /**
     * --kubelet-certificate-authority. Absent (kubeadm's default): the kubelets' serving
     * certificates are not verified.
     */
    readonly ca?: string;
  };
  /** sa.key (signs TokenRequest tokens) and sa.pub (verifies bearer tokens). */
  readonly serviceAccount: { readonly privateKeyPem: string; readonly publicKeyPem: string };
  /** --anonymous-auth; default true. */
  readonly anonymousAuth?: boolean;
  /** --advertise-address: written into the `kubernetes` Endpoints; default `host`. */
  readonly advertiseAddress?: string;
  /** --service-cluster-ip-range; default 10.96.0.0/12 (its first address is the `kubernetes` Service). */
  readonly serviceClusterIPRange?: string;
  /** --service-account-issuer; default https://kubernetes.default.svc.cluster.local. */
  readonly serviceAccountIssuer?: string;
  /** The RBAC objects written at start when absent (default: apiserverBootstrapPolicy()). */
  readonly bootstrapPolicy?: readonly KubeObject[];
  /** A key-value backend instead of etcd (unit tests). */
  readonly kv?: KvBackend;
  /** --etcd-compaction-interval (ms): how often the compactor runs; default 5 minutes, 0 turns it off. */
  readonly etcdCompactionIntervalMs?: number;
  /** What v1 ComponentStatus probes besides etcd; default the real apiserver's (127.0.0.1:10257 and :10259). */
  readonly componentStatusServers?: readonly HttpComponent[];
  /**
   * The aggregation layer: --requestheader-* (published in kube-system/extension-apiserver-authentication)
   * and --proxy-client-cert-file/--proxy-client-key-file. Absent: no APIServices, nothing proxied.
   */
  readonly aggregation?: AggregationOptions;
  /** The 1.35 gate AuthorizePodWebsocketUpgradeCreatePermission (connect.ts); default false, as in 1.32. */
  readonly authorizePodWebsocketUpgradeCreatePermission?: boolean;
  /** --etcd-healthcheck-timeout (ms): how long /healthz, /livez and /readyz wait for etcd; default 2000. */
  readonly etcdHealthcheckTimeoutMs?: number;
}

const HEALTH_PATHS = /^\/(healthz|livez|readyz)(\/.*)?$/;

export class KubeApiserver implements Component {
  readonly name = 'kube-apiserver';
  private readonly options: KubeApiserverOptions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly trace: Trace | undefined;
  private server: TlsServer | undefined;
  private componentStatusServers: readonly HttpComponent[];
  private etcdClient: EtcdClient | undefined;
  private chain: AuthChain | undefined;
  private gate: Gate | undefined;
  private rest: Rest | undefined;
  private kubelets: KubeletClient | undefined;
  private readonly watches = new Set<ActiveWatch>();
  /** Connections upgraded for exec, attach and port-forward: close() and destroy() end them. */
  private readonly upgraded = new Set<Duplex>();
  private addr: AddressInfo | undefined;
  private store: Store | undefined;
  private compactor: Compactor | undefined;
  private watchCaches: WatchCaches | undefined;
  private aggregatorLayer: Aggregator | undefined;
  private drain: ServerDrain | undefined;
  private readonly lifecycle = new Lifecycle('kube-apiserver');

  constructor(options: KubeApiserverOptions) {
    this.options = options;
    this.componentStatusServers = options.componentStatusServers ?? DEFAULT_COMPONENTS;
    this.logger = options.logger.child({ component: 'kube-apiserver' });
    this.clock = options.clock ?? systemClock;
    this.trace = options.trace;
  }

  get address(): AddressInfo | undefined {
    return this.addr;
  }

  /** HTTP requests being served now (close() waits for them). */
  get requestsInFlight(): number {
    return this.drain?.inFlight ?? 0;
  }

  /** `https://host:port` once started. */
  get url(): string {
    if (!this.addr) throw new Error('kube-apiserver: not started');
    return `https://${this.addr.family === 'IPv6' ? `[${this.addr.address}]` : this.addr.address}:${this.addr.port}`;
  }

  /** How many watchers each resource's watch cache serves (each holds one etcd watch). */
  watchCacheStats(): { resource: string; watchers: number }[] {
    return this.watchCaches?.stats() ?? [];
  }

  async start(): Promise<AddressInfo> {
    this.lifecycle.check('start');
    if (this.addr) return this.addr;
    const o = this.options;
    try {
      let kv = o.kv;
      if (!kv) {
        // clientv3 retries a request no member took (etcd down or restarting) with a backoff, within its deadline.
        this.etcdClient = new EtcdClient({
          endpoints: o.etcd.endpoints, identity: o.etcd.identity, ca: o.etcd.ca, name: 'kube-apiserver', retry: { initialMs: 25, maxMs: 1000 },
          ...(this.trace ? { trace: this.trace } : {}),
        });
        kv = etcdBackend(this.etcdClient);
      }
      // One cache per resource, following etcd: the watches are served from it (unless --watch-cache=false,
      // when it keeps no window) and the authorizers, admission and the aggregator read it.
      const serveFromCache = o.watchCache !== false;
      const caches = new WatchCaches(kv, this.logger, !serveFromCache ? { maxEvents: 0 } : o.watchCacheSize === undefined ? {} : { maxEvents: o.watchCacheSize });
      this.watchCaches = caches;
      const chain = new AuthChain(kv, (def) => caches.cache(def), {
        anonymousAuth: o.anonymousAuth ?? true, serviceAccount: o.serviceAccount, now: () => this.clock.now(),
        ...(o.serviceAccountIssuer ? { issuer: o.serviceAccountIssuer } : {}),
      }, this.logger);
      this.chain = chain;
      // Writes note their revision on the caches, so a reader knows which revision reflects them.
      const written = revisionTrackingBackend(kv, () => caches.all());
      const store = serveFromCache ? new Store(written, { cached: (def, key) => caches.peek(def, key) }) : new Store(written);
      this.store = store;
      const allocator = new IpAllocator(o.serviceClusterIPRange ?? '10.96.0.0/12', store);
      const strategy: StrategyContext = {
        clock: this.clock,
        allocateClusterIP: () => allocator.allocateClusterIP(),
        allocateNodePort: () => allocator.allocateNodePort(),
        forDryRun: () => ({ ...strategy, ...allocator.dryRun() }),
      };
      this.gate = chain;
      this.kubelets = new KubeletClient({ ...(o.kubeletClient.identity ? { identity: o.kubeletClient.identity } : {}), kubeletCertificateAuthority: o.kubeletClient.ca }, this.trace);
      const self = this;
      this.rest = new Rest({
        store, gate: chain, clock: this.clock, kubelets: this.kubelets, strategy,
        apiAudiences: [o.serviceAccountIssuer ?? 'https://kubernetes.default.svc.cluster.local'],
        trackWatch: (w) => { this.watches.add(w); return () => this.watches.delete(w); },
        ...(serveFromCache ? { watchCache: (def) => this.watchCaches?.for(def) } : {}),
        componentStatus: {
          get components() { return self.componentStatusServers; },
          // The etcd3 prober's read of `health`, through this apiserver's own etcd client.
          etcd: [() => this.etcdHealth()],
        },
      });

      this.server = createTlsServer({ name: 'kube-apiserver', identity: o.identity, clientCa: o.clientCa, mode: 'request' }, (req, res) => {
        void this.handle(req, res);
      }, this.trace);
      this.drain = new ServerDrain(this.server);
      this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (!this.gate || !this.store || !this.kubelets || !this.addr) { socket.destroy(); return; }
        this.upgraded.add(socket);
        socket.once('close', () => this.upgraded.delete(socket));
        void handleUpgrade({
          gate: this.gate, store: this.store, kubelets: this.kubelets, trace: this.trace, logger: this.logger,
          authorizeWebsocketCreate: o.authorizePodWebsocketUpgradeCreatePermission ?? false,
        }, req, socket, head).catch((err: unknown) => { this.logger.error({ err: (err as Error).message }, 'upgrade failed'); socket.destroy(); });
      });
      // The port is needed for the `kubernetes` Endpoints, so listen first and serve once bootstrapped.
      const addr = await listen(this.server, o.host, o.port, 'kube-apiserver');
      await bootstrap(store, {
        advertiseAddress: o.advertiseAddress ?? o.host, securePort: addr.port, serviceIP: allocator.firstIP,
        policy: o.bootstrapPolicy ?? apiserverBootstrapPolicy(),
      }, strategy);
      await chain.start();
      if (o.aggregation) {
        const aggregator = new Aggregator((def) => caches.cache(def), store, o.aggregation, { logger: this.logger, clock: this.clock, trace: this.trace });
        this.aggregatorLayer = aggregator;
        await aggregator.bootstrap(o.clientCa);
        await aggregator.start();
      }
      const interval = o.etcdCompactionIntervalMs ?? 5 * 60_000;
      if (this.etcdClient && interval > 0) {
        this.compactor = new Compactor(this.etcdClient, interval, this.logger);
        this.compactor.start();
      }
      this.addr = addr;
      this.logger.info({ address: addr }, 'serving');
      return addr;
    } catch (err) {
      await this.release('destroy');
      throw err;
    }
  }

  /**
   * New TLS material while serving, as the real apiserver's dynamic certificate content does for
   * --tls-cert-file/--client-ca-file (file watchers) and its transports for etcd and kubelets:
   * later handshakes use it, established connections keep theirs.
   */
  /**
   * Where ComponentStatus probes controller-manager and scheduler from now on. The real apiserver
   * assumes 127.0.0.1:10257 and :10259; a simulated cluster on free ports tells it where they are.
   */
  setComponentStatusServers(servers: readonly HttpComponent[]): void {
    this.componentStatusServers = servers;
  }

  reloadTls(material: { serving?: Identity; clientCa?: string; etcd?: TlsReload; kubeletClient?: TlsReload }): void {
    this.lifecycle.check('reload TLS');
    if (!this.server) throw new Error('kube-apiserver: not started');
    if (material.serving || material.clientCa) {
      this.server.reloadTls({ ...(material.serving ? { identity: material.serving } : {}), ...(material.clientCa ? { ca: material.clientCa } : {}) });
    }
    if (material.etcd) this.etcdClient?.reloadTls(material.etcd);
    if (material.kubeletClient) this.kubelets?.reloadTls(material.kubeletClient);
    this.logger.info({ serving: Boolean(material.serving), clientCa: Boolean(material.clientCa), etcd: Boolean(material.etcd), kubeletClient: Boolean(material.kubeletClient) }, 'reloaded TLS material');
  }

  /**
   * Drains, as the real server's graceful shutdown does: stops accepting connections, ends open watches,
   * answers the requests in flight (they still reach etcd and the kubelets), then closes its clients.
   */
  close(): Promise<void> {
    return this.lifecycle.end(() => this.release('close'));
  }

  /** Aborts: drops every connection now, requests in flight included, then closes its clients. */
  destroy(): Promise<void> {
    if (this.lifecycle.closed) void this.drain?.destroy();
    return this.lifecycle.end(() => this.release('destroy'));
  }

  /** An alias of close(). */
  stop(): Promise<void> {
    return this.close();
  }

  private async release(mode: 'close' | 'destroy'): Promise<void> {
    for (const w of [...this.watches]) w.stop();
    this.watches.clear();
    this.watchCaches?.stop();
    this.watchCaches = undefined;
    for (const s of this.upgraded) s.destroy();
    this.upgraded.clear();
    if (this.drain) await (mode === 'close' ? this.drain.close() : this.drain.destroy());
    await this.compactor?.stop();
    this.compactor = undefined;
    this.chain?.stop();
    this.aggregatorLayer?.stop();
    this.aggregatorLayer = undefined;
    this.kubelets?.close();
    this.etcdClient?.close();
    this.drain = undefined;
    this.server = undefined;
    this.etcdClient = undefined;
    this.chain = undefined;
    this.kubelets = undefined;
    this.addr = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const trace = this.trace;
    // The client's address (a getpeername), read now for the trace, which records it after the socket has closed.
    const peer = trace ? peerAddress(req) : undefined;
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    // The request line is parsed once, with Go's rules (a raw `#` stays in the query); RequestInfo,
    // the authorizers and the handlers all read this one parse.
    let target: RequestTarget;
    let info: RequestInfo;
    try {
      target = parseRequestTarget(rawUrl);
      info = requestInfo(method, target);
    } catch (err) {
      if (!(err instanceof BadRequestTargetError)) throw err;
      // net/http refuses the request line before any handler runs.
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      res.end('400 Bad Request');
      return;
    }
    const resource = info.isResourceRequest ? (info.subresource ? `${info.resource}/${info.subresource}` : info.resource) : '';
    let user: UserInfo | undefined;
    let decision: 'allow' | 'deny' | 'unauthenticated' = 'unauthenticated';
    let reason: string | undefined;
    // The layer that refused the request (from the error it threw); none refused it when unset.
    let layer: StatusLayer | undefined;
    let traced = false;
    // Recorded when the answer is done (a watch: once it starts); without a trace, nothing is set up for it.
    const emit = trace && ((): void => {
      if (traced) return;
      traced = true;
      trace.emit({
        type: 'request', server: 'kube-apiserver', peer: peer ?? '?:?', method, path: rawUrl, user: user?.name ?? '', groups: user ? [...user.groups] : [],
        verb: info.verb, resource, decision, layer: layer ?? (res.statusCode < 400 ? 'none' : 'handler'), status: res.statusCode, ...(reason ? { reason } : {}),
      });
    });
    if (emit) res.once('close', emit);
    try {
      if (!this.gate || !this.rest || !this.addr) throw toStatusError(new Error('the server is starting'));
      const authn = await this.gate.authenticate(req);
      if (!authn.ok) {
        reason = authn.reason;
        this.logger.debug({ peer: peer ?? peerAddress(req), reason }, 'Unable to authenticate the request');
        throw unauthorized();
      }
      user = authn.user;
      decision = 'deny';
      user = await impersonate(req, user, this.gate);
      const d = await this.gate.authorize(user, info);
      decision = d.allowed ? 'allow' : 'deny';
      if (d.reason) reason = d.reason;
      if (!d.allowed) {
        throw forbidden(d.message, info.isResourceRequest ? { group: info.apiGroup, resource: info.resource } : undefined, info.name || undefined, 'authorization');
      }
      // kube-aggregator sits in front of the apiserver's own handlers: a group/version an extension
      // apiserver serves is proxied there, after the same authentication and authorization.
      const aggregated = this.aggregatorLayer?.apiServiceFor(target.path);
      if (aggregated) {
        await this.aggregatorLayer!.proxy(aggregated, req, res, user);
        return;
      }
      // Then the mux, as Kubernetes orders its handler chain (WithAuthorization wraps the router): routes
      // come from the resource table, so a path it gives no route (a cluster-scoped resource under
      // /namespaces/{ns}/, a POST on a named object) is a 404/405 before any handler or storage runs,
      // whatever the authorizers said about its attributes.
      const route = info.isResourceRequest ? resolveRoute(method, info) : undefined;
      if (route) {
        const { watching } = await this.rest.handle({ req, res, query: target.query, rawQuery: target.rawQuery, info, route, user });
        if (watching) emit?.();
      } else {
        await this.nonResource(info, target, res);
      }
    } catch (err) {
      const statusError = toStatusError(err);
      const status = statusError.status;
      layer = statusError.layer;
      if (status.code >= 500) this.logger.error({ err: err instanceof Error ? err.message : String(err), path: rawUrl }, 'request failed');
      if (res.headersSent) res.end();
      else sendStatus(res, status);
    }
  }

  /**
   * /healthz, /livez, /readyz and their per-check paths: `ping` and `etcd` (a read through the etcd
   * client). `?verbose` lists the checks as the real server does; a failed check is a 500.
   */
  /** etcd answers a read (the etcd3 prober's `Get(ctx, "health")`), within --etcd-healthcheck-timeout. */
  private async etcdHealth(): Promise<void> {
    if (this.etcdClient) await this.etcdClient.get('/registry/health', { timeoutMs: this.options.etcdHealthcheckTimeoutMs ?? 2000 });
    else await this.storage.kv.get('/registry/health');
  }

  private async health(path: string, target: RequestTarget, res: ServerResponse): Promise<void> {
    const [, kind, sub] = HEALTH_PATHS.exec(path) ?? [];
    const checks: [string, () => Promise<void>][] = [
      ['ping', () => Promise.resolve()],
      ['etcd', () => this.etcdHealth()],
    ];
    const selected = sub ? checks.filter(([n]) => `/${n}` === sub) : checks;
    if (selected.length === 0) throw pathNotFound();
    const results = await Promise.all(selected.map(async ([n, run]) => {
      try { await run(); return [n, true, ''] as const; } catch (err) { return [n, false, checkError(n, err)] as const; }
    }));
    const failed = results.some(([, ok]) => !ok);
    // One check's own path answers as healthz's adaptCheckToHandler: "ok", or http.Error with the reason.
    if (sub && failed) { sendText(res, 500, `internal server error: ${results[0]![2]}\n`); return; }
    if (!failed && !target.query.has('verbose')) { sendText(res, 200, 'ok'); return; }
    const lines = results.map(([n, ok]) => (ok ? `[+]${n} ok` : `[-]${n} failed: reason withheld`));
    sendText(res, failed ? 500 : 200, `${lines.join('\n')}\n${kind} check ${failed ? 'failed' : 'passed'}\n`);
  }

  private async nonResource(info: RequestInfo, target: RequestTarget, res: ServerResponse): Promise<void> {
    const path = target.path.replace(/\/+$/, '') || '/';
    if (HEALTH_PATHS.test(path)) { await this.health(path, target, res); return; }
    if (info.verb !== 'get' && info.verb !== 'head') throw pathNotFound();
    if (path === '/version') { sendJson(res, 200, VERSION_INFO); return; }
    if (path === '/api') { sendJson(res, 200, apiVersions(`${this.options.advertiseAddress ?? this.options.host}:${this.addr?.port ?? 0}`)); return; }
    if (path === '/apis') { sendJson(res, 200, apiGroupList(this.aggregatorLayer?.remoteGroupVersions() ?? [])); return; }
    if (path === '/openapi/v2') {
      // An empty protobuf document: enough for kubectl apply's client-side validation to proceed.
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': 0 });
      res.end();
      return;
    }
    const core = /^\/api\/([^/]+)$/.exec(path);
    const grouped = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    const doc = core ? apiResourceList('', core[1]!)
      : grouped ? (grouped[2] ? apiResourceList(grouped[1]!, grouped[2]) : apiGroupDoc(grouped[1]!))
        : undefined;
    if (!doc) throw pathNotFound();
    sendJson(res, 200, doc);
  }

  /** The aggregation layer (its availability controller), when configured. */
  get aggregator(): Aggregator | undefined {
    return this.aggregatorLayer;
  }

  /** The store (tests and the sim's narration read etcd through it). */
  get storage(): Store {
    if (!this.store) throw new Error('kube-apiserver: not started');
    return this.store;
  }
}

/** `ip:port` of the client. */
const peerAddress = (req: IncomingMessage): string => `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;

/** A failed health check's error, as the real check words it (etcd3's: "error getting data from etcd: ..."). */
function checkError(name: string, err: unknown): string {
  if (name !== 'etcd') return err instanceof Error ? err.message : String(err);
  // The client gave up retrying within the check's deadline: what Go's context says then.
  const why = err instanceof EtcdError && err.code === 'UNAVAILABLE' ? 'context deadline exceeded' : err instanceof Error ? err.message : String(err);
  return `error getting data from etcd: ${why}`;
}
