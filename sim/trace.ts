/**
 * Reading the trace: the connection table (both halves of each handshake joined on the socket's
 * address pair) and a recorder. The event types and the bus live with the components, in
 * components/client/trace.ts.
 */
import type { CertSummary, RequestEvent, TlsCause, TlsServerEvent, Trace, TraceEvent } from '../components/client/trace.js';

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
  /** Why it was refused, as data, from the side that refused it. */
  readonly cause?: TlsCause;
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
export interface TraceRecorderOptions {
  /**
   * Keep only the most recent events (a ring, for a long-running cluster): older ones are dropped in
   * blocks and counted in `dropped`. Default: every event (a scenario is bounded).
   */
  readonly maxEvents?: number;
}

export class TraceRecorder {
  readonly events: TraceEvent[] = [];
  /** Events dropped from the front under `maxEvents`. */
  dropped = 0;
  private readonly unsubscribe: () => void;

  constructor(trace: Trace, options: TraceRecorderOptions = {}) {
    const max = options.maxEvents;
    this.unsubscribe = trace.on(max === undefined ? (e) => this.events.push(e) : (e) => {
      this.events.push(e);
      // Trimmed a quarter at a time, so the copy is paid once per max/4 events.
      if (this.events.length > max + Math.ceil(max / 4)) {
        const drop = this.events.length - max;
        this.events.splice(0, drop);
        this.dropped += drop;
      }
    });
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
    if (e.type === 'request') {
      const l = requests.get(e.peer);
      if (l) l.push(e); else requests.set(e.peer, [e]);
    }
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
      ...(refusedBy === 'server' && s ? { cause: s.cause } : refusedBy === 'client' ? { cause: c.cause } : {}),
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
      ...(s.handshake === 'ok' ? {} : { refusedBy: 'server' as const, ...(s.code ? { code: s.code, reason: s.reason ?? s.code } : {}), cause: s.cause }),
      ...(unverified(s) ? { clientUnverified: unverified(s)! } : {}),
      requests: reqs.length, statuses: reqs.map((r) => r.status),
    });
  }
  return out;
}
