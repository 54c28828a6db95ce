/**
 * One request over a fresh, real mutual-TLS connection, and the verdict as the component that made it
 * recorded it: the client's and the server's halves of the handshake and the server's request event,
 * joined on the client's socket address. Used by the refusal scenarios and the trust matrix; nothing
 * here decides anything, it only reads what TLS, the authenticators and the authorizers decided.
 *
 * Layers, in the order a request meets them:
 *   tls             the handshake failed: refused by the server (etcd with --client-cert-auth, an
 *                   OpenSSL verify code) or by the client (the server's certificate did not verify)
 *   authentication  401: the server completed the handshake but its authenticator refused the request
 *   authorization   403 from the authorizer (RBAC, Node, the kubelet's SubjectAccessReview)
 *   admission       403 from an admission plugin (NodeRestriction, the RBAC escalation check, ...)
 *   none            the request was allowed (any 2xx, or a status the handler chose)
 * The layer of a 401 or 403 is the one the server recorded (RequestEvent.layer); a refused handshake's
 * cause is the one TLS reported (TlsClientEvent.cause, TlsServerEvent.cause). Nothing is read from words.
 */
import https from 'node:https';
import { createTlsAgent, goReason, tlsCause, type Identity } from '../components/client/tls.js';
import { CERTIFICATE_CAUSES, type RequestEvent, type RequestLayer, type TlsCause, type TlsClientEvent, type TlsServerEvent, type Trace, type TraceEvent } from '../components/client/trace.js';
import { waitFor } from './wait.js';

/** `tls`, or the layer the server recorded (trace.ts RequestLayer). */
export type Layer = 'tls' | RequestLayer;
export type Decision = 'allowed' | 'handshake refused' | 'unauthenticated' | 'forbidden' | 'failed';

export interface ProbeRequest {
  /** The client's name in the trace (`kubectl (foreign CA)`, `matrix: admin.conf`). */
  readonly client: string;
  /** The server's name in the trace (`etcd`, `kube-apiserver`, `kubelet (node-1)`). */
  readonly server: string;
  /** `https://host:port`. */
  readonly url: string;
  /** Absent: no client certificate. */
  readonly identity?: Identity;
  /** The bundle the client trusts for the server's certificate (the client always verifies it). */
  readonly serverCa: string;
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  /** Extra request headers (an identity claim such as X-Remote-User, a bearer token). */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** The body's Content-Type (default application/json). */
  readonly contentType?: string;
  /**
   * What the server writes to the trace (default `all`, every component of the sim). A real etcd
   * (`refusals`) records only the handshakes it refuses, through its key log; members the user runs
   * (`none`) record nothing. For those, an answered request's verdict is the HTTP answer itself, and
   * the user is the client certificate's CN, which is what etcd takes (AuthInfoFromTLS).
   */
  readonly serverRecords?: 'all' | 'refusals' | 'none';
}

export interface ProbeOutcome {
  readonly layer: Layer;
  readonly decision: Decision;
  /** Which side refused the handshake (layer tls). */
  readonly refusedBy?: 'client' | 'server';
  readonly status?: number;
  /** OpenSSL's verify code for the refused or unverified certificate. */
  readonly code?: string;
  /** The same fault as data (layer tls, or a 401 for a certificate that did not verify). */
  readonly cause?: TlsCause;
  /** In the words Go prints: x509 reasons for certificates, the 403 message, the authorizer's allow reason. */
  readonly reason: string;
  /** The user the server authenticated, if it got that far. */
  readonly user?: string;
  /** The server's full record of the decision (the apiserver's authentication error names the certificate's serial). */
  readonly detail?: string;
  /** The response body (first 2 KiB). */
  readonly body?: string;
}


/** The trust matrix's one request a server (a read each): what the apiserver reads from etcd, a pod list, the kubelet's pods. */
export const ETCD_REQUEST = { method: 'POST', path: '/v3/kv/range', body: JSON.stringify({ key: Buffer.from('/registry/').toString('base64'), range_end: Buffer.from('/registry0').toString('base64'), count_only: true }) };
export const APISERVER_REQUEST = { method: 'GET', path: '/api/v1/namespaces/default/pods' };
export const KUBELET_REQUEST = { method: 'GET', path: '/pods' };

/** Sends one request and reads the verdict from the trace (which the components write to). */
export async function probe(trace: Trace, request: ProbeRequest, timeoutMs = 10_000): Promise<ProbeOutcome> {
  const events: TraceEvent[] = [];
  const unsubscribe = trace.on((e) => events.push(e));
  const agent = createTlsAgent({
    name: request.client, target: request.server, serverCa: request.serverCa, ...(request.identity ? { identity: request.identity } : {}),
  }, trace);
  const url = new URL(request.url);
  try {
    const response = await new Promise<{ status: number; body: string } | { error: NodeJS.ErrnoException }>((resolve) => {
      const req = https.request({
        host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: request.path, method: request.method, agent,
        headers: { Accept: 'application/json', ...(request.headers as Record<string, string | string[]> | undefined), ...(request.body === undefined ? {} : { 'Content-Type': request.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(request.body) }) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ error }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => resolve({ error }));
      req.end(request.body);
    });
    const clientEvent = await waitFor(`the client half of ${request.client} → ${request.server}`,
      () => events.find((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === request.client), timeoutMs);
    const local = clientEvent.local;
    const serverEvent = (): TlsServerEvent | undefined => events.find((e): e is TlsServerEvent => e.type === 'tls-server' && e.peer === local);
    if ('error' in response) {
      // The client itself refused the server's certificate (Go's `x509:` errors), rather than the peer's alert or a reset.
      if (clientEvent.handshake === 'refused' && CERTIFICATE_CAUSES.has(clientEvent.cause)) {
        return { layer: 'tls', decision: 'handshake refused', refusedBy: 'client', code: clientEvent.code!, cause: clientEvent.cause, reason: clientEvent.reason ?? goReason(clientEvent.code) };
      }
      // The server refused: etcd records the refusal when the socket closes, just after the client saw it.
      const refused = request.serverRecords === 'none' ? undefined : await waitFor(`${request.server} to record why it refused ${request.client}`, () => {
        const s = serverEvent();
        return s?.handshake === 'refused' ? s : undefined;
      }, timeoutMs).catch(() => undefined);
      if (refused) return { layer: 'tls', decision: 'handshake refused', refusedBy: 'server', ...(refused.code ? { code: refused.code } : {}), cause: refused.cause, reason: refused.reason ?? refused.code ?? 'refused' };
      return {
        layer: 'tls', decision: 'failed', reason: goReason(response.error.code, response.error.message), ...(response.error.code ? { code: response.error.code } : {}),
        cause: clientEvent.handshake === 'refused' ? clientEvent.cause : tlsCause(response.error.code ?? 'ERROR', response.error.message),
      };
    }
    if (request.serverRecords === 'refusals' || request.serverRecords === 'none') return fromAnswer(response, clientEvent);
    const tlsServer = await waitFor(`the server half of ${request.client} → ${request.server}`, serverEvent, timeoutMs);
    const requestEvent = await waitFor(`${request.server} to record the request of ${request.client}`,
      () => events.find((e): e is RequestEvent => e.type === 'request' && e.peer === local), timeoutMs);
    const body = response.body.slice(0, 2048);
    const common = { status: response.status, body, ...(requestEvent.reason ? { detail: requestEvent.reason } : {}) };
    const certCode = tlsServer.verified ? {} : tlsServer.code && tlsServer.code !== 'NO_CLIENT_CERT' ? { code: tlsServer.code } : {};
    const certCause = tlsServer.verified || tlsServer.cause === 'none' ? {} : { cause: tlsServer.cause };
    if (requestEvent.layer === 'authentication' || response.status === 401) {
      // The certificate's fault as OpenSSL found it (the apiserver's own record also names its serial).
      const reason = !tlsServer.verified && tlsServer.clientCert ? tlsServer.reason ?? requestEvent.reason ?? 'Unauthorized'
        : requestEvent.reason ?? 'Unauthorized';
      return { layer: 'authentication', decision: 'unauthenticated', ...common, ...certCode, ...certCause, reason };
    }
    const user = requestEvent.user ? { user: requestEvent.user } : {};
    if (response.status === 403) {
      // The layer the server recorded: the authorizer's 403 and an admission plugin's look alike on the wire.
      return { layer: requestEvent.layer, decision: 'forbidden', ...common, ...user, reason: statusMessage(response.body) };
    }
    return { layer: 'none', decision: 'allowed', ...common, ...user, reason: requestEvent.decision === 'allow' ? requestEvent.reason ?? '' : requestEvent.reason ?? '' };
  } finally {
    agent.destroy();
    unsubscribe();
  }
}

/** The verdict of a server that does not trace accepted connections: its HTTP answer. */
function fromAnswer(response: { status: number; body: string }, client: TlsClientEvent): ProbeOutcome {
  const common = { status: response.status, body: response.body.slice(0, 2048) };
  if (response.status === 401) return { layer: 'authentication', decision: 'unauthenticated', ...common, reason: statusMessage(response.body) || 'Unauthorized' };
  if (response.status === 403) return { layer: 'authorization', decision: 'forbidden', ...common, reason: statusMessage(response.body) };
  return { layer: 'none', decision: 'allowed', ...common, ...(client.clientCert ? { user: client.clientCert.cn } : {}), reason: '' };
}

/** The message of a Kubernetes Status body, or the text body (the kubelet answers in text). */
export function statusMessage(body: string): string {
  try {
    const s = JSON.parse(body) as { kind?: string; message?: string };
    if (s.kind === 'Status' && typeof s.message === 'string') return s.message;
  } catch { /* text */ }
  return body.trim();
}
