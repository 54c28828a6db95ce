/**
 * The trace contract: every TLS handshake and every request, as structured events that components
 * emit on a `Trace` bus they are given. The simulation (sim/) narrates them, prints them as NDJSON
 * and folds them into the connection table; it consumes these types and owns none of them.
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
