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

import type { StatusLayer } from '../api/errors.js';
import type { Wire } from './wire.js';

/**
 * Why a handshake failed, or why a client certificate a `request`-mode server took into the handshake
 * did not verify: a closed set, computed once in components/client/tls.ts from what TLS reports
 * (OpenSSL's verify codes, Node's TLS errors, socket errors). Narration, the trust matrix and the
 * probes read it; `reason` keeps Go's words for the narration.
 */
export type TlsCause =
  /** Nothing failed: the handshake completed (and, on a server, the client certificate verified). */
  | 'none'
  // This side checked the peer's certificate and it did not verify (Go: `x509: ...`).
  /** Not signed by a CA this side trusts (UNABLE_TO_VERIFY_LEAF_SIGNATURE, a self-signed certificate, a bad signature). */
  | 'unknown-authority'
  | 'expired'
  | 'not-yet-valid'
  /** The certificate lacks the extended key usage for its role (INVALID_PURPOSE: a server certificate used as a client). */
  | 'wrong-usage'
  /** The server's SANs do not name the address the client dialled (ERR_TLS_CERT_ALTNAME_INVALID). */
  | 'name-mismatch'
  /** The client presented no certificate (server side). */
  | 'no-certificate'
  // The peer refused with an alert (Go: `remote error: tls: ...`); the peer's own event says why.
  /** The peer did not trust this side's certificate (alerts unknown_ca, bad_certificate, decrypt_error). */
  | 'peer-refused-certificate'
  /** The server required a certificate this client did not present (alert certificate_required). */
  | 'peer-required-certificate'
  /** The peer found nothing to agree on (alert handshake_failure: no shared cipher, or a server with no certificate). */
  | 'handshake-failure'
  // Negotiation.
  /** A version below TLS 1.2, offered by the client or chosen by the server (either side, or the peer's alert). */
  | 'protocol-version'
  /** No cipher suite both sides support (the server's view). */
  | 'no-shared-cipher'
  /** The server has no certificate to present (a kubelet waiting for its kubelet-serving CSR). */
  | 'no-server-certificate'
  /** A renegotiation, refused (no_renegotiation). */
  | 'renegotiation'
  // The transport.
  /** The peer closed the connection during the handshake (ECONNRESET, EPIPE). */
  | 'reset'
  /** The handshake did not finish in time (ERR_TLS_HANDSHAKE_TIMEOUT). */
  | 'handshake-timeout'
  /** Nothing listens on the address (ECONNREFUSED). */
  | 'connection-refused'
  /** Anything else: `code` and `reason` say what. */
  | 'other';

/** The causes that mean this side checked the peer's certificate and refused it (Go's `x509:` errors). */
export const CERTIFICATE_CAUSES: ReadonlySet<TlsCause> = new Set(['unknown-authority', 'expired', 'not-yet-valid', 'wrong-usage', 'name-mismatch']);

/**
 * Which layer decided a request: the one that refused it (the apiserver's handler chain, in order:
 * authentication, authorization, admission, validation, storage; `handler` for routing, decoding and
 * the handler's own answers), or `none` when nothing refused it. Set by the component that decided.
 */
export type RequestLayer = StatusLayer | 'none';

export interface CertSummary {
  readonly cn: string;
  readonly o: readonly string[];
  /** The issuer's CN. */
  readonly issuer: string;
  /** The serial number (hex, as OpenSSL prints it): tells apart two certificates with the same names, e.g. across a CA rotation. */
  readonly serial?: string;
  // What the trust tree of a report shows (sim/report reads them); absent in events recorded before they were added.
  /** Validity, ISO 8601. */
  readonly notBefore?: string;
  readonly notAfter?: string;
  /** Subject alternative names as OpenSSL prints them: `DNS:cp-1`, `IP Address:127.0.1.1`. */
  readonly sans?: readonly string[];
  /** Extended key usages: `serverAuth`, `clientAuth`, or the OID of another. */
  readonly eku?: readonly string[];
  /** The key's algorithm and size: `RSA 2048`, `ECDSA P-256`, `Ed25519`. */
  readonly key?: string;
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
  /** The same fault as data: `none` when the handshake completed with a verified client certificate. */
  readonly cause: TlsCause;
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
  /** Why the handshake failed, as data; `none` when it completed. */
  readonly cause: TlsCause;
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
  /** The layer that decided: the one that refused the request, or `none` when it was served. */
  readonly layer: RequestLayer;
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
  /**
   * The run's wire, when it has one (components/client/wire.ts): TLS servers and clients given this
   * Trace record their bytes and key log there while it records, and cap their TLS version at its `tlsMax`.
   */
  readonly wire: Wire | undefined;

  constructor(now: () => Date = () => new Date(), wire?: Wire) {
    this.now = now;
    this.wire = wire;
  }

  /** Listeners that do not make the trace active (see `on`). */
  private passive = 0;
  /** Told when `active` changes (a node worker process forwards its events only while the parent's trace is active). */
  private readonly activity = new Set<(active: boolean) => void>();

  /** Subscribes to changes of `active`; returns the unsubscribe function. */
  onActivity(listener: (active: boolean) => void): () => void {
    this.activity.add(listener);
    return () => { this.activity.delete(listener); };
  }

  private changed(before: boolean): void {
    const now = this.active;
    if (now !== before) for (const l of this.activity) l(now);
  }

  /**
   * Whether anyone (not passive) listens: callers skip building costly events (a successful
   * handshake's peer certificate, each request) when nobody does.
   */
  get active(): boolean {
    return this.listeners.size > this.passive;
  }

  emit(event: TraceInput): void {
    if (this.listeners.size === 0) return;
    const full = { ...event, at: this.now().toISOString() } as TraceEvent;
    for (const l of this.listeners) l(full);
  }

  /**
   * Passes on an event stamped elsewhere, keeping its `at`: what a node worker process emitted on its
   * own bus and sent over IPC (sim/workers.ts), recorded here in the order it arrived.
   */
  record(event: TraceEvent): void {
    for (const l of this.listeners) l(event);
  }

  /**
   * Subscribes; returns the unsubscribe function. A `passive` listener (a component logging its own
   * refusals) does not make the trace active: it gets refused handshakes, and other events only
   * while someone else listens.
   */
  on(listener: TraceListener, options: { passive?: boolean } = {}): () => void {
    const wrapped: TraceListener = (e) => listener(e);
    const before = this.active;
    this.listeners.add(wrapped);
    if (options.passive) this.passive++;
    this.changed(before);
    let off = false;
    return () => {
      if (off) return;
      off = true;
      const was = this.active;
      this.listeners.delete(wrapped);
      if (options.passive) this.passive--;
      this.changed(was);
    };
  }
}
