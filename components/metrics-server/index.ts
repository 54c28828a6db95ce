/**
 * metrics-server (kubernetes-sigs/metrics-server), an extension apiserver behind the aggregator: it
 * serves metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics (`kubectl top`) from what it scrapes off
 * each kubelet's /metrics/resource (scraper.ts).
 *
 * - Serving: --tls-cert-file when given; otherwise, as metrics-server's default (--cert-dir), a
 *   self-signed pair made at start (`localhost-ca@<unix>` signing `localhost@<unix>`). The sim adds the
 *   Service's DNS name to it so that an APIService caBundle of that CA verifies (metrics-server's own
 *   manifest sets insecureSkipTLSVerify instead).
 * - Identity: its service account's token, for the apiserver (reading the extension-apiserver-
 *   authentication ConfigMap, listing nodes and pods, TokenReviews and SubjectAccessReviews) and for
 *   the kubelets.
 * - Delegated authentication and authorization: delegated.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Trace } from '../client/trace.js';
import { Lifecycle, ServerDrain, systemClock, type Clock, type Component, type ComponentDeps } from '../client/common.js';
import { KubeClient } from '../client/kube-client.js';
import { createTlsServer, listen, type Identity, type TlsServer } from '../client/tls.js';
import { EXTENSION_APISERVER_AUTHENTICATION, readAuthenticationConfigMap } from '../api/requestheader.js';
import type { KubeObject, Node, Pod } from '../api/types.js';
import { matchLabels, parseLabelSelector } from '../api/selectors.js';
import { selfSignedServingPair } from '../../pki/issue.js';
import { attributesOf, DelegatedAuthenticator, DelegatedAuthorizer, delegatedGate } from '../client/delegated.js';
import { Scraper, usageOf, type Usage } from './scraper.js';

export interface MetricsServerOptions extends ComponentDeps {
  readonly host: string;
  /** --secure-port (the manifest's 10250); 0 in tests. */
  readonly port: number;
  readonly apiserver: string;
  /** The cluster CA (the service account's ca.crt): verifies the apiserver and, by default, kubelets. */
  readonly serverCa: string;
  /** The service account token (kube-system/metrics-server). */
  readonly token: string;
  /** --tls-cert-file/--tls-private-key-file; absent: self-signed at start. */
  readonly servingIdentity?: Identity;
  /** Names added to the self-signed certificate besides localhost/127.0.0.1 (the Service's DNS name). */
  readonly selfSignedAlternateNames?: { readonly dns: readonly string[]; readonly ip: readonly string[] };
  /** --kubelet-insecure-tls: do not verify kubelet serving certificates (the CIS finding). */
  readonly kubeletInsecureTls?: boolean;
  /** --kubelet-certificate-authority; default serverCa. */
  readonly kubeletCa?: string;
  /** --metric-resolution (ms); default 15 s. */
  readonly metricResolutionMs?: number;
}

const GROUP = 'metrics.k8s.io';
const VERSION = 'v1beta1';
const GV = `${GROUP}/${VERSION}`;

const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** Go's time.Duration String for a window (`15.012s`). */
const goDuration = (ms: number): string => `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
const cpuQuantity = (n: number): string => `${Math.max(0, n)}n`;
const memQuantity = (b: number): string => (b % 1024 === 0 ? `${b / 1024}Ki` : String(Math.round(b)));

export class MetricsServer implements Component {
  readonly name = 'metrics-server';
  private readonly options: MetricsServerOptions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly trace: Trace | undefined;
  private readonly lifecycle = new Lifecycle('metrics-server');
  private server: TlsServer | undefined;
  private drain: ServerDrain | undefined;
  private api: KubeClient | undefined;
  private authn: DelegatedAuthenticator | undefined;
  private authz: DelegatedAuthorizer | undefined;
  private scraper: Scraper | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scraping: Promise<void> | undefined;
  private nodes: Node[] = [];
  private pods: Pod[] = [];
  private addr: AddressInfo | undefined;
  private servingCa: string | undefined;
  private readonly scrapeListeners = new Set<() => void>();

  constructor(options: MetricsServerOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'metrics-server' });
    this.clock = options.clock ?? systemClock;
    this.trace = options.trace;
  }

  get address(): AddressInfo | undefined {
    return this.addr;
  }

  /** The CA of the serving certificate (the self-signed one's, or the given chain's last): the APIService's caBundle. */
  get caBundle(): string {
    if (!this.servingCa) throw new Error('metrics-server: not started');
    return this.servingCa;
  }

  /** The last scrape error per node ('' when the last scrape worked). */
  get scrapeErrors(): ReadonlyMap<string, string> {
    return this.scraper?.lastError ?? new Map();
  }

  /** Resolves after the next scrape round has finished. */
  nextScrape(): Promise<void> {
    return new Promise((resolve) => { this.scrapeListeners.add(resolve); });
  }

  async start(): Promise<AddressInfo> {
    this.lifecycle.check('start');
    if (this.addr) return this.addr;
    const o = this.options;
    try {
      this.api = new KubeClient({ name: 'metrics-server', server: o.apiserver, serverCa: o.serverCa, token: o.token, ...(this.trace ? { trace: this.trace } : {}) });
      // RoleBinding metrics-server-auth-reader → extension-apiserver-authentication-reader.
      const cm = await this.api.get<KubeObject & { data?: Record<string, string> }>(`/api/v1/namespaces/kube-system/configmaps/${EXTENSION_APISERVER_AUTHENTICATION}`);
      const config = readAuthenticationConfigMap(cm);
      this.authn = new DelegatedAuthenticator(config, this.api);
      this.authz = new DelegatedAuthorizer(this.api);
      let identity = o.servingIdentity;
      if (identity) {
        const all = identity.cert.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) ?? [];
        this.servingCa = all.at(-1) ?? identity.cert;
      } else {
        const pair = await selfSignedServingPair('localhost', { dns: [...(o.selfSignedAlternateNames?.dns ?? [])], ip: ['127.0.0.1', ...(o.selfSignedAlternateNames?.ip ?? [])] }, 'rsa-2048', this.clock.now());
        identity = { cert: pair.certPem, key: pair.keyPem };
        this.servingCa = pair.caPem;
        this.logger.info({ cn: `localhost@${Math.floor(this.clock.now().getTime() / 1000)}` }, 'Generated self-signed cert');
      }
      this.scraper = new Scraper({ token: o.token, kubeletCa: o.kubeletCa ?? o.serverCa, insecure: o.kubeletInsecureTls === true, defaultPort: 10250 }, this.logger, this.trace);
      this.server = createTlsServer({ name: 'metrics-server', identity, clientCa: this.authn.trustedBundle, mode: 'request' }, (req, res) => { void this.handle(req, res); }, this.trace);
      this.drain = new ServerDrain(this.server);
      this.addr = await listen(this.server, o.host, o.port, 'metrics-server');
      this.scheduleScrape(0);
      this.logger.info({ address: this.addr }, 'serving');
      return this.addr;
    } catch (err) {
      await this.release('destroy');
      throw err;
    }
  }

  private scheduleScrape(delay: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.scraping = this.scrapeOnce().finally(() => {
        this.scraping = undefined;
        const listeners = [...this.scrapeListeners];
        this.scrapeListeners.clear();
        for (const l of listeners) l();
        if (this.server) this.scheduleScrape(this.options.metricResolutionMs ?? 15_000);
      });
    }, delay);
    this.timer.unref();
  }

  private async scrapeOnce(): Promise<void> {
    try {
      const [nodes, pods] = await Promise.all([this.api!.list<Node>('/api/v1/nodes'), this.api!.list<Pod>('/api/v1/pods')]);
      this.nodes = nodes.items;
      this.pods = pods.items;
      await this.scraper!.scrapeAll(this.nodes);
    } catch (err) {
      if (this.server) this.logger.error({ err: (err as Error).message }, 'Failed to scrape');
    }
  }

  close(): Promise<void> {
    return this.lifecycle.end(() => this.release('close'));
  }

  destroy(): Promise<void> {
    return this.lifecycle.end(() => this.release('destroy'));
  }

  stop(): Promise<void> {
    return this.close();
  }

  private async release(mode: 'close' | 'destroy'): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const server = this.server;
    this.server = undefined;
    // Scrapes in flight are abandoned first, then the API drains.
    this.scraper?.close();
    await this.scraping;
    if (this.drain) await (mode === 'close' ? this.drain.close() : this.drain.destroy());
    this.api?.close();
    for (const l of this.scrapeListeners) l();
    this.scrapeListeners.clear();
    this.drain = undefined;
    void server;
    this.addr = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket as TLSSocket;
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'https://metrics-server.invalid');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const attrs = attributesOf(method, path, url.searchParams.get('watch') === 'true');
    const base = {
      type: 'request' as const, server: 'metrics-server', peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, method, path: req.url ?? '/',
      verb: attrs.verb, resource: attrs.resource ? `${attrs.resource.resource}.${attrs.resource.group}` : '',
    };
    const status = (code: number, reason: string, message: string): void => {
      const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
      res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    try {
      const allowed = await delegatedGate(this.authn!, this.authz!, req, attrs, {
        log: (err) => this.logger.info({ err }, 'Unable to authenticate the request'), emit: (v) => this.trace?.emit({ ...base, ...v }), refuse: status,
      });
      if (!allowed) return;
      const { user } = allowed;
      const code = this.serve(path, url, res);
      this.trace?.emit({ ...base, user: user.name, groups: [...user.groups], decision: 'allow', layer: code < 400 ? 'none' : 'handler', status: code, reason: `authenticated by ${user.via}` });
    } catch (err) {
      this.logger.error({ err: (err as Error).message, path }, 'request failed');
      if (!res.headersSent) status(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`);
      else res.end();
    }
  }

  private serve(path: string, url: URL, res: ServerResponse): number {
    const json = (code: number, body: unknown): number => {
      const text = JSON.stringify(body);
      res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return code;
    };
    const notFound = (what: string, name: string): number => json(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `${what} "${name}" not found`, reason: 'NotFound', details: { name, group: GROUP, kind: what.split('.')[0] }, code: 404 });
    if (path === '/healthz' || path === '/livez') return this.text(res, 200, 'ok');
    if (path === '/readyz') return this.scraper && this.scraper.nodes.size > 0 ? this.text(res, 200, 'ok') : this.text(res, 500, '[-]metric-storage-ready failed: reason withheld\nreadyz check failed\n');
    const group = { name: GROUP, versions: [{ groupVersion: GV, version: VERSION }], preferredVersion: { groupVersion: GV, version: VERSION } };
    if (path === '/apis') return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [group] });
    if (path === `/apis/${GROUP}`) return json(200, { kind: 'APIGroup', apiVersion: 'v1', ...group });
    if (path === `/apis/${GV}`) {
      return json(200, {
        kind: 'APIResourceList', apiVersion: 'v1', groupVersion: GV, resources: [
          { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
          { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
        ],
      });
    }
    const selector = parseLabelSelector(url.searchParams.get('labelSelector'));
    const m = /^\/apis\/metrics\.k8s\.io\/v1beta1\/(?:namespaces\/([^/]+)\/)?(nodes|pods)(?:\/([^/]+))?$/.exec(path);
    if (!m || (m[2] === 'nodes' && m[1])) return json(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 });
    const [, ns, kind, name] = m;
    if (kind === 'nodes') {
      const items = this.nodes.filter((n) => (!name || n.metadata.name === name) && matchLabels(selector, n.metadata.labels))
        .map((n) => this.nodeMetrics(n)).filter((x) => x !== undefined);
      if (name) return items[0] ? json(200, items[0]) : notFound('nodemetrics.metrics.k8s.io', name);
      return json(200, { kind: 'NodeMetricsList', apiVersion: GV, metadata: {}, items });
    }
    const items = this.pods.filter((p) => (!ns || p.metadata.namespace === ns) && (!name || p.metadata.name === name) && matchLabels(selector, p.metadata.labels))
      .map((p) => this.podMetrics(p)).filter((x) => x !== undefined);
    if (name) return items[0] ? json(200, items[0]) : notFound('podmetrics.metrics.k8s.io', name);
    return json(200, { kind: 'PodMetricsList', apiVersion: GV, metadata: {}, items });
  }

  private text(res: ServerResponse, code: number, body: string): number {
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'X-Content-Type-Options': 'nosniff' });
    res.end(body);
    return code;
  }

  private nodeMetrics(n: Node): object | undefined {
    const u = usageOf(this.scraper?.nodes.get(n.metadata.name ?? '') ?? []);
    if (!u) return undefined;
    return {
      kind: 'NodeMetrics', apiVersion: GV,
      metadata: { name: n.metadata.name, creationTimestamp: rfc3339(this.clock.now().getTime()), ...(n.metadata.labels ? { labels: n.metadata.labels } : {}) },
      timestamp: rfc3339(u.timestamp), window: goDuration(u.windowMs), usage: { cpu: cpuQuantity(u.cpuNanocores), memory: memQuantity(u.memoryBytes) },
    };
  }

  private podMetrics(p: Pod): object | undefined {
    const key = `${p.spec.nodeName ?? ''}|${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;
    const containers = this.scraper?.pods.get(key);
    if (!containers) return undefined;
    const usages: [string, Usage][] = [];
    for (const [c, points] of containers) {
      const u = usageOf(points);
      if (!u) return undefined; // metrics-server drops a pod until every container has a rate
      usages.push([c, u]);
    }
    if (usages.length === 0) return undefined;
    const last = usages.reduce((a, [, u]) => Math.max(a, u.timestamp), 0);
    return {
      kind: 'PodMetrics', apiVersion: GV,
      metadata: { name: p.metadata.name, namespace: p.metadata.namespace, creationTimestamp: rfc3339(this.clock.now().getTime()), ...(p.metadata.labels ? { labels: p.metadata.labels } : {}) },
      timestamp: rfc3339(last), window: goDuration(usages[0]![1].windowMs),
      containers: usages.map(([c, u]) => ({ name: c, usage: { cpu: cpuQuantity(u.cpuNanocores), memory: memQuantity(u.memoryBytes) } })),
    };
  }
}


