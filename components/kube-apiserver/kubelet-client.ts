/**
 * The apiserver as a client of the kubelets (port 10250): `pods/log` becomes
 * `GET https://<node InternalIP>:<kubelet port>/containerLogs/<ns>/<pod>/<container>`, and
 * `nodes/<name>/proxy/<path>` becomes `https://<node InternalIP>:<kubelet port>/<path>`, over mutual TLS
 * with the apiserver-kubelet-client certificate. The kubelet's serving certificate is verified
 * against --kubelet-certificate-authority when it is set; kubeadm leaves it unset, so by default it is
 * not verified (CIS 1.2.5 flags this).
 */
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Trace } from '../client/trace.js';
import { createTlsAgent, goReason, type Identity, type TlsAgent } from '../client/tls.js';
import type { Node, Pod } from '../api/types.js';
import { badRequest, failure, upstreamError } from '../api/errors.js';

export interface KubeletClientOptions {
  /** apiserver-kubelet-client; absent: no client certificate is presented to kubelets. */
  readonly identity?: Identity;
  /** --kubelet-certificate-authority; undefined = the kubelet's serving certificate is not verified. */
  readonly kubeletCertificateAuthority: string | undefined;
}

/** The query parameters of pods/log the kubelet understands (PodLogOptions). */
const LOG_PARAMS = ['follow', 'previous', 'timestamps', 'sinceSeconds', 'sinceTime', 'tailLines', 'limitBytes'];

const DEFAULT_KUBELET_PORT = 10250;

/** validateContainer from pkg/registry/core/pod/strategy.go. */
export function logContainer(pod: Pod, requested: string | null): string {
  const names = pod.spec.containers.map((c) => c.name);
  const name = pod.metadata.name ?? '';
  if (requested) {
    if (!names.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  if (names.length === 1) return names[0]!;
  if (names.length === 0) throw badRequest(`no containers in pod ${name}`);
  return (() => { throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`); })();
}

/**
 * Go's url.URL.EscapedPath for a path with no RawPath (shouldEscape in encodePath mode): letters,
 * digits, `-_.~` and `$&+,/:;=@` stay; every other byte (`?`, `#`, `%`, space, non-ASCII...) is %XX.
 */
export function escapeGoPath(path: string): string {
  let out = '';
  for (const b of Buffer.from(path, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Where a node's kubelet listens: its InternalIP and status.daemonEndpoints.kubeletEndpoint.Port. */
export function kubeletLocation(node: Node): { host: string; port: number } {
  const host = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address
    ?? node.status?.addresses?.find((a) => a.type === 'Hostname')?.address;
  if (!host) throw failure(500, '', `no preferred addresses found; known addresses: []`);
  const port = node.status?.daemonEndpoints?.kubeletEndpoint.Port;
  return { host, port: port !== undefined && port > 0 ? port : DEFAULT_KUBELET_PORT };
}

/** What a kubelet answered an upgrade with. */
export type KubeletUpgrade =
  | { readonly upgraded: true; readonly socket: Duplex; readonly head: Buffer; readonly headers: IncomingHttpHeaders }
  | { readonly upgraded: false; readonly status: number; readonly statusText: string; readonly contentType: string; readonly body: string };

export class KubeletClient {
  private options: KubeletClientOptions;
  private readonly trace: Trace | undefined;
  private readonly agents = new Map<string, TlsAgent>();
  private readonly open = new Set<IncomingMessage | ReturnType<typeof https.request>>();
  /** Upgraded connections to kubelets (exec, attach, port-forward). */
  private readonly sockets = new Set<Duplex>();

  constructor(options: KubeletClientOptions, trace: Trace | undefined) {
    this.options = options;
    this.trace = trace;
  }

  /**
   * New apiserver-kubelet-client certificate and/or --kubelet-certificate-authority bundle for later
   * connections to every kubelet (a bundle only replaces a bundle: verification stays on or off).
   */
  reloadTls(material: { identity?: Identity; ca?: string }): void {
    const ca = this.options.kubeletCertificateAuthority === undefined ? undefined : material.ca ?? this.options.kubeletCertificateAuthority;
    const identity = material.identity ?? this.options.identity;
    this.options = { ...(identity ? { identity } : {}), kubeletCertificateAuthority: ca };
    for (const agent of this.agents.values()) agent.reloadTls({ ...(identity ? { identity } : {}), ...(ca === undefined ? {} : { ca }) });
  }

  private agentFor(node: string): TlsAgent {
    let agent = this.agents.get(node);
    if (!agent) {
      const ca = this.options.kubeletCertificateAuthority;
      agent = createTlsAgent({
        name: 'kube-apiserver', target: `kubelet (${node})`, ...(this.options.identity ? { identity: this.options.identity } : {}),
        serverCa: ca ?? '', verifyServer: ca !== undefined,
      }, this.trace);
      this.agents.set(node, agent);
    }
    return agent;
  }

  /**
   * Streams a container's log from the node's kubelet into `res`. The kubelet's errors come back as
   * the real apiserver reports them (its status code, its body as message); a transport or TLS failure
   * is a 500 whose message is Go's `Get "<url>": <error>`.
   */
  streamLogs(node: Node, pod: Pod, container: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
    const nodeName = node.metadata.name ?? '';
    const { host, port } = kubeletLocation(node);
    const q = new URLSearchParams();
    for (const k of LOG_PARAMS) {
      const v = query.get(k);
      if (v !== null) q.set(k, v);
    }
    const path = `/containerLogs/${encodeURIComponent(pod.metadata.namespace ?? '')}/${encodeURIComponent(pod.metadata.name ?? '')}/${encodeURIComponent(container)}${q.size ? `?${q.toString()}` : ''}`;
    const url = `https://${host}:${port}${path}`;
    return new Promise((resolve, reject) => {
      const upstream = https.request({ host, port, path, method: 'GET', agent: this.agentFor(nodeName) }, (kres) => {
        this.track(kres);
        const code = kres.statusCode ?? 0;
        if (code < 200 || code > 206) {
          const chunks: Buffer[] = [];
          kres.on('data', (c: Buffer) => chunks.push(c));
          kres.on('end', () => reject(upstreamError(code, Buffer.concat(chunks).toString().slice(0, 4096), { group: '', resource: 'pods/log' }, pod.metadata.name ?? '')));
          kres.on('error', reject);
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
        res.flushHeaders();
        relay(kres, res, resolve);
      });
      this.track(upstream);
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (res.headersSent) { res.destroy(); resolve(); return; }
        reject(failure(500, '', `Get ${JSON.stringify(url)}: ${transportMessage(err, host, port)}`));
      });
      upstream.end();
    });
  }

  /**
   * nodes/<name>/proxy/<path>: the request goes to the node's kubelet as it came (method, path, query,
   * body, Content-Type), over mutual TLS with apiserver-kubelet-client, and the kubelet's answer comes
   * back as it is, its 401 or 403 included (the kubelet decides those, after its SubjectAccessReview).
   * A dial or handshake failure is the apiserver's own 503: `error trying to reach service: <Go's error>`.
   */
  proxy(node: Node, req: IncomingMessage, path: string, res: ServerResponse): Promise<void> {
    const nodeName = node.metadata.name ?? '';
    const { host, port } = kubeletLocation(node);
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'accept', 'content-length']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    return new Promise((resolve, reject) => {
      const upstream = https.request({ host, port, path, method: req.method ?? 'GET', headers, agent: this.agentFor(nodeName) }, (kres) => {
        this.track(kres);
        const passed: Record<string, string> = {};
        for (const h of ['content-type', 'content-length']) {
          const v = kres.headers[h];
          if (typeof v === 'string') passed[h] = v;
        }
        res.writeHead(kres.statusCode ?? 502, passed);
        relay(kres, res, resolve);
      });
      this.track(upstream);
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (res.headersSent) { res.destroy(); resolve(); return; }
        reject(failure(503, 'ServiceUnavailable', `error trying to reach service: ${transportMessage(err, host, port)}`));
      });
      req.pipe(upstream);
    });
  }

  /**
   * An HTTP/1.1 upgrade to the node's kubelet (exec, attach, port-forward), over mutual TLS with
   * apiserver-kubelet-client: resolves with the upgraded socket, or with the kubelet's answer when it
   * did not switch protocols (its 401/403 after its SubjectAccessReview, its 404). A dial or handshake
   * failure rejects with Go's words (`error dialing backend: ...`).
   */
  upgrade(node: Node, path: string, method: string, headers: Record<string, string | string[]>): Promise<KubeletUpgrade> {
    const nodeName = node.metadata.name ?? '';
    const { host, port } = kubeletLocation(node);
    return new Promise((resolve, reject) => {
      const upstream = https.request({ host, port, path, method, headers: { ...headers, Connection: 'Upgrade' }, agent: this.agentFor(nodeName) });
      this.track(upstream);
      upstream.on('upgrade', (res, socket, head) => {
        this.open.add(res);
        socket.once('close', () => this.open.delete(res));
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        resolve({ upgraded: true, socket, head, headers: res.headers });
      });
      upstream.on('response', (kres) => {
        const chunks: Buffer[] = [];
        kres.on('data', (c: Buffer) => chunks.push(c));
        kres.on('end', () => resolve({ upgraded: false, status: kres.statusCode ?? 502, statusText: kres.statusMessage ?? '', contentType: String(kres.headers['content-type'] ?? 'text/plain'), body: Buffer.concat(chunks).toString() }));
        kres.on('error', reject);
      });
      upstream.on('error', (err: NodeJS.ErrnoException) => reject(failure(500, 'InternalError', `error dialing backend: ${transportMessage(err, host, port)}`)));
      upstream.end();
    });
  }

  /** Keeps a request to a kubelet, or its answer, until it closes: close() ends what is still open. */
  private track(stream: IncomingMessage | ReturnType<typeof https.request>): void {
    this.open.add(stream);
    stream.once('close', () => this.open.delete(stream));
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    for (const r of this.open) r.destroy();
    this.open.clear();
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}

/** Streams the kubelet's answer to the client until it ends, or until the client goes away. */
function relay(kres: IncomingMessage, res: ServerResponse, done: () => void): void {
  res.once('close', () => kres.destroy());
  kres.pipe(res);
  kres.once('end', done);
  kres.once('error', () => { res.destroy(); done(); });
}

/** A failed dial or handshake in the words Go's net/http and crypto/tls use. */
export function transportMessage(err: NodeJS.ErrnoException, host: string, port: number): string {
  switch (err.code) {
    case 'ECONNREFUSED': return `dial tcp ${host}:${port}: connect: connection refused`;
    case 'ECONNRESET': return 'read: connection reset by peer';
    case 'ETIMEDOUT': return `dial tcp ${host}:${port}: i/o timeout`;
    default: {
      const why = goReason(err.code, err.message);
      return why.startsWith('x509:') ? `tls: failed to verify certificate: ${why}` : why;
    }
  }
}
