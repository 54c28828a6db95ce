/**
 * The trace: every TLS handshake and every request, as structured events. Components emit into a
 * `Trace` they are given; the sim narrates them, prints them as NDJSON, and folds them into the table
 * of connections the tour ends with.
 *
 * A connection is seen from both ends. The client knows which component it is, whom it dialled and
 * what it thought of the server's certificate; the server knows the client certificate it was shown
 * and the exact reason it refused it (an OpenSSL code). The two halves are joined on the socket's
 * address pair.
 */

export interface CertSummary {
  readonly cn: string;
  readonly o: readonly string[];
  /** The issuer's CN. */
  readonly issuer: string;
  /** The serial number (hex, as OpenSSL prints it): tells apart two certificates with the same names, e.g. across a CA rotation. */
  readonly serial?: string;
}

/** The server's half of a handshake. */
export interface TlsServerEvent {
  readonly type: 'tls-server';
  readonly at: string;
  readonly server: string;
  /** This server's listening address and the peer's, `ip:port`. */
  readonly local: string;
  readonly peer: string;
  /** null: the server had no certificate to present (a kubelet waiting for its kubelet-serving CSR). */
  readonly serverCert: CertSummary | null;
  readonly clientCert: CertSummary | null;
  /** The CA (CN) the server checks client certificates against. */
  readonly trusts: string;
  /** `require`: the handshake fails without a verified client cert (etcd). `request`: authenticators decide later (apiserver, kubelet). */
  readonly mode: 'require' | 'request';
  readonly handshake: 'ok' | 'refused';
  /** Whether the client certificate verified against `trusts`. */
  readonly verified: boolean;
  /** OpenSSL's code when it did not, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE. */
  readonly code?: string;
  /** The same fault in the words Go's crypto/x509 and crypto/tls use. */
  readonly reason?: string;
}

/** The client's half. */
export interface TlsClientEvent {
  readonly type: 'tls-client';
  readonly at: string;
  readonly client: string;
  readonly server: string;
  readonly local: string;
  readonly peer: string;
  readonly clientCert: CertSummary | null;
  readonly serverCert: CertSummary | null;
  /** The CA (CN) the client checks the server's certificate against, or `none` when it does not verify. */
  readonly trusts: string;
  readonly handshake: 'ok' | 'refused';
  readonly code?: string;
  readonly reason?: string;
}

/** One request as the server decided it. */
export interface RequestEvent {
  readonly type: 'request';
  readonly at: string;
  readonly server: string;
  readonly peer: string;
  readonly method: string;
  readonly path: string;
  readonly user: string;
  readonly groups: readonly string[];
  readonly verb: string;
  readonly resource: string;
  readonly decision: 'allow' | 'deny' | 'unauthenticated';
  readonly status: number;
  readonly reason?: string;
}

export type TraceEvent = TlsServerEvent | TlsClientEvent | RequestEvent;
export type TraceInput = TraceEvent extends infer E ? (E extends TraceEvent ? Omit<E, 'at'> : never) : never;

export type TraceListener = (event: TraceEvent) => void;

/** A sink that components write to. Cheap when nobody listens. */
export class Trace {
  private readonly listeners = new Set<TraceListener>();
  private readonly now: () => Date;

  constructor(now: () => Date = () => new Date()) {
    this.now = now;
  }

  emit(event: TraceInput): void {
    if (this.listeners.size === 0) return;
    const full = { ...event, at: this.now().toISOString() } as TraceEvent;
    for (const l of this.listeners) l(full);
  }

  /** Subscribes; returns the unsubscribe function. */
  on(listener: TraceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** One connection, both halves joined. */
export interface Connection {
  /** The client's socket address (`ip:port`), which its requests arrive from. */
  readonly local: string;
  readonly client: string;
  readonly server: string;
  readonly clientCert: CertSummary | null;
  readonly serverCert: CertSummary | null;
  /** What the client checked the server against, and what the server checked the client against. */
  readonly clientTrusts: string;
  readonly serverTrusts: string;
  readonly result: 'ok' | 'refused';
  readonly refusedBy?: 'client' | 'server';
  readonly code?: string;
  readonly reason?: string;
  /**
   * A server in `request` mode (apiserver, kubelet) that was shown a client certificate which did not
   * verify: the handshake went on and its authenticator answers 401. Go's words for why.
   */
  readonly clientUnverified?: string;
  /** Requests seen on this connection, `METHOD path → status`. */
  readonly requests: number;
  readonly statuses: readonly number[];
}

/** Collects events and joins them into connections. */
export class TraceRecorder {
  readonly events: TraceEvent[] = [];
  private readonly unsubscribe: () => void;

  constructor(trace: Trace) {
    this.unsubscribe = trace.on((e) => this.events.push(e));
  }

  stop(): void {
    this.unsubscribe();
  }

  connections(): Connection[] {
    return joinConnections(this.events);
  }
}

/** Why a client certificate that a `request`-mode server accepted into the handshake did not verify. */
function unverified(s: TlsServerEvent | undefined): string | undefined {
  if (!s || s.handshake !== 'ok' || s.verified || s.clientCert === null) return undefined;
  return s.reason ?? s.code ?? 'does not verify';
}

/** Joins client and server halves of handshakes (on the socket address pair) into connections. */
export function joinConnections(events: readonly TraceEvent[]): Connection[] {
  const servers = new Map<string, TlsServerEvent>();
  const requests = new Map<string, RequestEvent[]>();
  for (const e of events) {
    if (e.type === 'tls-server') servers.set(`${e.peer}>${e.local}`, e);
    if (e.type === 'request') requests.set(e.peer, [...(requests.get(e.peer) ?? []), e]);
  }
  const out: Connection[] = [];
  const joined = new Set<TlsServerEvent>();
  for (const c of events) {
    if (c.type !== 'tls-client') continue;
    const s = servers.get(`${c.local}>${c.peer}`);
    if (s) joined.add(s);
    const reqs = requests.get(c.local) ?? [];
    const refusedBy = c.handshake === 'ok' && (s?.handshake ?? 'ok') === 'ok' ? undefined : s?.handshake === 'refused' ? 'server' : 'client';
    out.push({
      local: c.local, client: c.client, server: c.server, clientCert: c.clientCert, serverCert: c.serverCert ?? s?.serverCert ?? null,
      clientTrusts: c.trusts, serverTrusts: s?.trusts ?? '?',
      result: refusedBy ? 'refused' : 'ok',
      ...(refusedBy ? { refusedBy } : {}),
      ...(refusedBy === 'server' && s?.code ? { code: s.code, reason: s.reason ?? s.code } : {}),
      ...(refusedBy === 'client' && c.code ? { code: c.code, reason: c.reason ?? c.code } : {}),
      ...(unverified(s) ? { clientUnverified: unverified(s)! } : {}),
      requests: reqs.length, statuses: reqs.map((r) => r.status),
    });
  }
  // Connections from clients outside the sim (real kubectl, curl, etcdctl) have only a server half.
  for (const s of servers.values()) {
    if (joined.has(s)) continue;
    const reqs = requests.get(s.peer) ?? [];
    out.push({
      local: s.peer, client: `external client ${s.peer}`, server: s.server, clientCert: s.clientCert, serverCert: s.serverCert,
      clientTrusts: '?', serverTrusts: s.trusts, result: s.handshake === 'ok' ? 'ok' : 'refused',
      ...(s.handshake === 'ok' ? {} : { refusedBy: 'server' as const, ...(s.code ? { code: s.code, reason: s.reason ?? s.code } : {}) }),
      ...(unverified(s) ? { clientUnverified: unverified(s)! } : {}),
      requests: reqs.length, statuses: reqs.map((r) => r.status),
    });
  }
  return out;
}
