/**
 * The aggregation layer inside the apiserver (k8s.io/kube-aggregator): APIServices, their
 * availability, and the proxy. A request for `/apis/<group>/<version>[/...]` whose APIService names a
 * Service is, once this apiserver has authenticated and authorized it, sent on to that Service's
 * endpoint over TLS:
 *   - the aggregator presents --proxy-client-cert-file (front-proxy-client, from the front-proxy CA);
 *   - it verifies the extension's serving certificate against the APIService's caBundle for the name
 *     `<service>.<namespace>.svc` (or not at all with insecureSkipTLSVerify);
 *   - the caller's identity travels as X-Remote-User, X-Remote-Group (one per group) and
 *     X-Remote-Extra-<key>; the caller's Authorization, Impersonate-* and X-Remote-* headers are dropped.
 * An APIService not Available answers 503 `service unavailable`, as the real proxy handler does.
 * Routing is by Endpoints (as --enable-aggregator-routing=true): the sim's Service ClusterIPs are not
 * routable on loopback.
 */
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../../client/common.js';
import type { Trace } from '../../client/trace.js';
import { createTlsAgent, type TlsAgent } from '../../client/tls.js';
import { availableCondition, type APIService } from '../../api/apiregistration.js';
import { extensionApiserverAuthentication, headerKeyEscape, EXTENSION_APISERVER_AUTHENTICATION } from '../../api/requestheader.js';
import type { KubeObject } from '../../api/types.js';
import { groupVersions, resourceByName } from '../../api/resources.js';
import { ApiStatusError } from '../../api/errors.js';
import type { UserInfo } from '../gate.js';
import type { Store } from '../storage.js';
import type { CacheSource } from '../cache.js';
import { transportMessage } from '../kubelet-client.js';
import { APISERVICES, AvailabilityController, resolveEndpoint } from './availability.js';
import type { AggregationOptions } from './options.js';

/**
 * The apiserver's priorities for its own groups (master.go's apiVersionPriorities); apiregistration's
 * is the aggregator's. The local APIServices the autoregister controller keeps carry them.
 */
const PRIORITIES: Readonly<Record<string, readonly [number, number]>> = {
  '': [18000, 1], 'apiregistration.k8s.io': [18000, 15], apps: [17800, 15], 'authentication.k8s.io': [17700, 15], 'authorization.k8s.io': [17600, 15],
  'certificates.k8s.io': [17300, 15], policy: [17100, 15], 'rbac.authorization.k8s.io': [17000, 15], 'coordination.k8s.io': [16500, 15], 'discovery.k8s.io': [16200, 15],
};

/** Hop-by-hop headers and the caller's credentials and identity claims: never forwarded. */
const DROPPED = /^(authorization|connection|keep-alive|proxy-.*|te|trailer|transfer-encoding|upgrade|host|impersonate-.*|x-remote-.*)$/i;

export class Aggregator {
  private readonly options: AggregationOptions;
  private readonly store: Store;
  private readonly logger: Logger;
  private readonly trace: Trace | undefined;
  readonly availability: AvailabilityController;
  private readonly agents = new Map<string, { key: string; agent: TlsAgent }>();
  private readonly open = new Set<ReturnType<typeof https.request>>();

  constructor(caches: CacheSource, store: Store, options: AggregationOptions, deps: { logger: Logger; clock: Clock; trace: Trace | undefined }) {
    this.options = options;
    this.store = store;
    this.logger = deps.logger.child({ part: 'aggregator' });
    this.trace = deps.trace;
    this.availability = new AvailabilityController(caches, store, options.proxyClient, { ...deps, logger: this.logger });
  }

  /**
   * What the apiserver's post-start hooks write for aggregation: the extension-apiserver-authentication
   * ConfigMap (updated when it differs) and a local APIService for each built-in group/version.
   */
  async bootstrap(clientCa: string): Promise<void> {
    const cms = resourceByName('configmaps');
    const want = extensionApiserverAuthentication(clientCa, this.options.requestHeader);
    const have = await this.store.tryGet<KubeObject & { data?: Record<string, string> }>(cms, 'kube-system', EXTENSION_APISERVER_AUTHENTICATION);
    if (!have) await this.createTolerant(cms, { ...want, metadata: { ...want.metadata, creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), uid: randomUUID() } });
    else if (JSON.stringify(have.data) !== JSON.stringify(want.data)) await this.store.update(cms, 'kube-system', EXTENSION_APISERVER_AUTHENTICATION, (o) => ({ ...o, data: want.data }));
    for (const gv of groupVersions()) {
      const [gpm, vp] = PRIORITIES[gv.group] ?? [1000, 15];
      const name = `${gv.version}.${gv.group}`;
      if (await this.store.tryGet(APISERVICES, undefined, name)) continue;
      await this.createTolerant(APISERVICES, {
        apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService',
        metadata: { name, labels: { 'kube-aggregator.kubernetes.io/automanaged': 'onstart' }, creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), uid: randomUUID() },
        spec: { ...(gv.group ? { group: gv.group } : {}), version: gv.version, groupPriorityMinimum: gpm, versionPriority: vp },
        status: {},
      } as APIService);
    }
  }

  private async createTolerant(def: typeof APISERVICES, obj: KubeObject): Promise<void> {
    try {
      await this.store.create(def, obj);
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.status.reason === 'AlreadyExists')) throw err;
    }
  }

  start(): Promise<void> {
    return this.availability.start();
  }

  /** The group/versions served by extension apiservers (service-backed APIServices), for /apis. */
  remoteGroupVersions(): { group: string; version: string }[] {
    return this.availability.apiServices.list().filter((s) => s.spec.service && s.spec.group)
      .sort((a, b) => b.spec.groupPriorityMinimum - a.spec.groupPriorityMinimum || b.spec.versionPriority - a.spec.versionPriority)
      .map((s) => ({ group: s.spec.group!, version: s.spec.version ?? '' }));
  }

  /** The service-backed APIService that serves `path`, if any. */
  apiServiceFor(path: string): APIService | undefined {
    const m = /^\/apis\/([^/]+)\/([^/]+)(?:\/|$)/.exec(path);
    if (!m) return undefined;
    const s = this.availability.apiServices.get(undefined, `${m[2]}.${m[1]}`);
    return s?.spec.service ? s : undefined;
  }

  private agentFor(s: APIService): TlsAgent {
    const svc = s.spec.service!;
    const name = s.metadata.name ?? '';
    const ca = s.spec.caBundle ? Buffer.from(s.spec.caBundle, 'base64').toString('utf8') : '';
    const key = `${svc.namespace}/${svc.name}|${s.spec.insecureSkipTLSVerify === true}|${ca}`;
    const have = this.agents.get(name);
    if (have?.key === key) return have.agent;
    have?.agent.destroy();
    const agent = createTlsAgent({
      name: 'kube-apiserver (aggregator)', target: `${svc.name}.${svc.namespace}.svc`, identity: this.options.proxyClient,
      serverCa: ca, verifyServer: s.spec.insecureSkipTLSVerify !== true, servername: `${svc.name}.${svc.namespace}.svc`,
    }, this.trace);
    this.agents.set(name, { key, agent });
    return agent;
  }

  /** Proxies an authenticated, authorized request to the APIService's extension apiserver. */
  proxy(s: APIService, req: IncomingMessage, res: ServerResponse, user: UserInfo): Promise<void> {
    const unavailable = (): void => {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end('service unavailable\n');
    };
    if (availableCondition(s)?.status !== 'True') { unavailable(); return Promise.resolve(); }
    const where = resolveEndpoint(s.spec.service, this.availability.services, this.availability.endpoints);
    if (!where.ok) { unavailable(); return Promise.resolve(); }
    const headers: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROPPED.test(k)) headers[k] = v;
    const rh = this.options.requestHeader;
    headers[rh.usernameHeaders[0] ?? 'X-Remote-User'] = user.name;
    if (user.groups.length) headers[rh.groupHeaders[0] ?? 'X-Remote-Group'] = [...user.groups];
    for (const [k, vs] of Object.entries(user.extra ?? {})) headers[`${rh.extraHeadersPrefix[0] ?? 'X-Remote-Extra-'}${headerKeyEscape(k)}`] = [...vs];
    const { host, port } = where;
    return new Promise((resolve) => {
      const upstream = https.request({ host, port, path: req.url ?? '/', method: req.method ?? 'GET', headers, agent: this.agentFor(s) }, (ures) => {
        const passed: OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(ures.headers)) if (v !== undefined && !/^(connection|keep-alive|transfer-encoding)$/i.test(k)) passed[k] = v;
        res.writeHead(ures.statusCode ?? 502, passed);
        res.once('close', () => ures.destroy());
        ures.pipe(res);
        ures.once('end', resolve);
        ures.once('error', () => { res.destroy(); resolve(); });
      });
      this.open.add(upstream);
      upstream.once('close', () => this.open.delete(upstream));
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        const why = transportMessage(err, host, port);
        this.logger.warn({ apiservice: s.metadata.name, err: why }, 'error proxying to the extension apiserver');
        if (res.headersSent) { res.destroy(); resolve(); return; }
        // proxy handler's responder.Error: a 503 with the transport's words.
        res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
        res.end(`Error trying to reach service: '${why}'\n`);
        resolve();
      });
      req.pipe(upstream);
    });
  }

  stop(): void {
    this.availability.stop();
    for (const r of this.open) r.destroy();
    for (const a of this.agents.values()) a.agent.destroy();
    this.agents.clear();
  }
}
