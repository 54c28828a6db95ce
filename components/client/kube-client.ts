/**
 * A small client of the Kubernetes REST API over mutual TLS, used by every component that talks to
 * the apiserver (kubelet, scheduler, controller-manager, kube-proxy, kubectl). JSON on the wire;
 * errors carry the apiserver's `Status`; watches stream newline-delimited watch events.
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Trace } from './trace.js';
import { onLines } from './lines.js';
import { createTlsAgent, type Identity, type TlsAgent, type TlsReload } from './tls.js';
import type { KubeList, KubeObject, Status, WatchEvent } from '../api/types.js';
import { userAgent } from '../api/version.js';
import { KubeSimError } from '../../pki/errors.js';
import { reasonCode, type StatusReasonCode } from '../api/errors.js';
import { ComponentError, MAX_IN_FLIGHT, Slots } from './common.js';

export interface KubeClientOptions {
  /** The client component's name, for the trace (`kube-scheduler`, `kubelet (node-1)`). */
  readonly name: string;
  /** `https://host:port` of the apiserver. */
  readonly server: string;
  /** The client certificate and key; absent = anonymous. */
  readonly identity?: Identity;
  /** The CA bundle the apiserver's serving certificate must chain to. */
  readonly serverCa: string;
  readonly trace?: Trace;
  /**
   * A bearer token (a service-account token from the TokenRequest API), sent as
   * `Authorization: Bearer`; the controller-manager's controllers use these, as with kubeadm's
   * --use-service-account-credentials.
   */
  readonly token?: string;
  /** Sent as the User-Agent, as client-go does (`kube-scheduler/v1.32.5 (linux/amd64) kubernetes/9894294`). */
  readonly userAgent?: string;
  /**
   * kubeconfig's insecure-skip-tls-verify: the server's certificate is not verified. Only kubeadm's
   * join discovery uses it, for the first, anonymous read of cluster-info (checked by its JWS).
   */
  readonly insecureSkipTLSVerify?: boolean;
}

/** A non-2xx answer: the HTTP status and the apiserver's Status object. */
/**
 * An answer other than 2xx. `code` is the Status reason ('NotFound', 'Conflict', ..., 'Unknown' when the
 * body carried none); `httpStatus` is the HTTP status (404, 409, ...; 0 when there was no response line).
 */
export class ApiError extends KubeSimError<StatusReasonCode> {
  readonly httpStatus: number;
  readonly status: Status | undefined;
  /** The reason exactly as the server sent it ('' for none). */
  readonly reason: string;

  constructor(httpStatus: number, status: Status | undefined, fallback: string) {
    super(reasonCode(status?.reason), status?.message ?? fallback);
    this.httpStatus = httpStatus;
    this.status = status;
    this.reason = status?.reason ?? '';
  }
}

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly resourceVersion?: string;
  readonly limit?: number;
}

export interface Watch {
  /** Resolves when the stream ends (server closed it, or `stop()`), rejects on a transport error. */
  readonly done: Promise<void>;
  stop(): void;
}

/** `/api/v1/namespaces/ns/pods/name/status`, `/apis/apps/v1/deployments`, ... */
export function resourcePath(r: { group?: string; version?: string; resource: string; namespace?: string; name?: string; subresource?: string }): string {
  const base = r.group ? `/apis/${r.group}/${r.version ?? 'v1'}` : `/api/${r.version ?? 'v1'}`;
  const ns = r.namespace ? `/namespaces/${encodeURIComponent(r.namespace)}` : '';
  const name = r.name ? `/${encodeURIComponent(r.name)}` : '';
  const sub = r.subresource && r.name ? `/${r.subresource}` : '';
  return `${base}${ns}/${r.resource}${name}${sub}`;
}

export function withQuery(path: string, q: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export class KubeClient {
  readonly name: string;
  readonly server: URL;
  private readonly agent: TlsAgent;
  private readonly userAgent: string;
  private auth: Record<string, string>;
  private readonly watches = new Set<Watch>();
  private readonly slots = new Slots(MAX_IN_FLIGHT);
  /** False for a client made by `sharingTransport`: the connections are its origin's to close. */
  private readonly ownsAgent: boolean;
  private closed = false;

  constructor(options: KubeClientOptions, shared?: { readonly agent: TlsAgent }) {
    this.name = options.name;
    this.server = new URL(options.server);
    this.userAgent = options.userAgent ?? userAgent(options.name.split(' ')[0] ?? 'client');
    this.auth = options.token ? { Authorization: `Bearer ${options.token}` } : {};
    this.ownsAgent = shared === undefined;
    this.agent = shared?.agent ?? createTlsAgent({
      name: options.name, target: 'kube-apiserver', serverCa: options.serverCa,
      ...(options.identity ? { identity: options.identity } : {}),
      ...(options.insecureSkipTLSVerify ? { verifyServer: false } : {}),
    }, options.trace);
  }

  /**
   * Another client on this one's connections (same certificate, same pool of TLS connections) with its
   * own in-flight cap and User-Agent: client-go's transport cache gives two clientsets made from one
   * kubeconfig the same http.Transport, each with its own rate limiter (kube-scheduler's `client` and
   * `eventClient`, cmd/kube-scheduler/app/options createClients). Its close() stops its own requests
   * and watches; the connections close with this client.
   */
  sharingTransport(userAgent: string): KubeClient {
    const c = new KubeClient({ name: this.name, server: this.server.href, serverCa: '', userAgent }, { agent: this.agent });
    c.auth = this.auth;
    return c;
  }

  /**
   * Replaces the bearer token for later requests (a refreshed service-account token); open watches
   * keep the token they started with, as client-go's do.
   */
  setToken(token: string): void {
    this.auth = { Authorization: `Bearer ${token}` };
  }

  /**
   * New client certificate and/or trusted bundle for later connections (client-go's rotating client
   * certificate); idle connections close, open watches keep theirs until they end.
   */
  reloadTls(material: TlsReload): void {
    this.agent.reloadTls(material);
  }

  /**
   * One request; resolves with whatever status came back (transport errors reject). At most
   * MAX_IN_FLIGHT requests (watches aside) are open at once; the rest wait their turn. Over HTTP/2,
   * client-go multiplexes its requests on one connection; over HTTP/1.1 each open request holds a
   * connection, and a burst (a ReplicaSet's 500 creates) would otherwise open as many, each with a full
   * handshake. A request on a kept-alive connection that the server closed as idle meanwhile
   * (ECONNRESET before any answer) is sent once more on a new one, as Go's transport does.
   */
  raw(method: string, path: string, body?: unknown, contentType = 'application/json', accept = 'application/json'): Promise<RawResponse> {
    if (this.closed) return Promise.reject(new ComponentError('CLOSED', this.name, `${method} ${path}`));
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return this.slots.run(() => this.send(method, path, payload, contentType, accept, true));
  }

  private send(method: string, path: string, payload: string | undefined, contentType: string, accept: string, retry: boolean): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const req = https.request({
        host: this.server.hostname.replace(/^\[|\]$/g, ''), port: this.server.port || 443, path, method, agent: this.agent,
        headers: {
          Accept: accept, 'User-Agent': this.userAgent, ...this.auth,
          ...(payload === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) }),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (retry && req.reusedSocket && err.code === 'ECONNRESET' && !this.closed) resolve(this.send(method, path, payload, contentType, accept, false));
        else reject(err);
      });
      req.end(payload);
    });
  }

  async request<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.raw(method, path, body, contentType);
    if (res.status >= 200 && res.status < 300) return (res.body === '' ? undefined : JSON.parse(res.body)) as T;
    let status: Status | undefined;
    try {
      const parsed = JSON.parse(res.body) as Status;
      if (parsed.kind === 'Status') status = parsed;
    } catch { /* not JSON */ }
    throw new ApiError(res.status, status, `${method} ${path}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
  }

  get<T extends KubeObject>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  list<T extends KubeObject>(path: string, options: ListOptions = {}): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', withQuery(path, { ...options }));
  }

  create<T extends KubeObject>(path: string, obj: T | KubeObject): Promise<T> {
    return this.request<T>('POST', path, obj);
  }

  update<T extends KubeObject>(path: string, obj: T): Promise<T> {
    return this.request<T>('PUT', path, obj);
  }

  patch<T extends KubeObject>(path: string, patch: unknown, type: 'merge' | 'strategic' | 'json' = 'merge'): Promise<T> {
    const ct = type === 'merge' ? 'application/merge-patch+json' : type === 'strategic' ? 'application/strategic-merge-patch+json' : 'application/json-patch+json';
    return this.request<T>('PATCH', path, patch, ct);
  }

  /** DELETE with background propagation; `preconditions` (DeleteOptions.preconditions) make it conditional on the object's uid or resourceVersion. */
  delete<T = Status>(path: string, options: { preconditions?: { uid?: string; resourceVersion?: string } } = {}): Promise<T> {
    return this.request<T>('DELETE', path, {
      kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', ...(options.preconditions ? { preconditions: options.preconditions } : {}),
    });
  }

  /**
   * Watches `path` (a collection) from `resourceVersion`. Events arrive in order; an `ERROR` event
   * (e.g. 410 Gone for a compacted revision) is delivered like any other and the caller re-lists.
   */
  watch<T extends KubeObject>(path: string, options: ListOptions, onEvent: (e: WatchEvent<T>) => void): Watch {
    let req: ReturnType<typeof https.request> | undefined;
    let stopped = false;
    let resolveDone!: () => void;
    let rejectDone!: (e: Error) => void;
    const done = new Promise<void>((res, rej) => { resolveDone = res; rejectDone = rej; });
    const watch: Watch = {
      done,
      stop: () => {
        stopped = true;
        req?.destroy();
        resolveDone();
      },
    };
    this.watches.add(watch);
    void done.catch(() => undefined).finally(() => this.watches.delete(watch));
    req = https.request({
      host: this.server.hostname.replace(/^\[|\]$/g, ''), port: this.server.port || 443, method: 'GET', agent: this.agent,
      path: withQuery(path, { ...options, watch: true, allowWatchBookmarks: undefined }),
      headers: { Accept: 'application/json', 'User-Agent': this.userAgent, ...this.auth },
    }, (res) => {
      if ((res.statusCode ?? 0) >= 300) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let status: Status | undefined;
          try { status = JSON.parse(Buffer.concat(chunks).toString()) as Status; } catch { /* not JSON */ }
          rejectDone(new ApiError(res.statusCode ?? 0, status, `watch ${path}: HTTP ${res.statusCode ?? 0}`));
        });
        return;
      }
      onLines(res, (line) => { if (!stopped) onEvent(JSON.parse(line) as WatchEvent<T>); });
      res.on('end', () => resolveDone());
      res.on('error', (e) => (stopped ? resolveDone() : rejectDone(e)));
    });
    req.on('error', (e) => (stopped ? resolveDone() : rejectDone(e)));
    req.end();
    return watch;
  }

  /** Stops every watch and closes every connection of this client; later requests reject with CLOSED. */
  close(): void {
    this.closed = true;
    for (const w of [...this.watches]) w.stop();
    if (this.ownsAgent) this.agent.destroy();
  }
}
