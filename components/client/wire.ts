/**
 * The wire: what a run sends over each TCP connection, recorded at the socket, and the TLS key log.
 *
 * A TLS socket in Node normally sits on a native TCP handle, so its ciphertext never passes through
 * JavaScript. When a run records (`npm run scenario -- --capture DIR`, `--wire`), the TLS socket is laid
 * over a small duplex stream instead (Node wraps it in its JSStreamSocket): every byte OpenSSL writes and
 * every byte the peer sends passes through `tap` on its way to or from the real TCP socket, and is kept
 * in order with the time it was seen, and each end of the connection (FIN, reset) too. sim/ turns this
 * into a pcapng file and a handshake told message by message; this module owns no format.
 *
 * A connection between two components of the run is recorded once, by its server: a client records
 * only when it dials a server that does not record (a real etcd, a server outside the run).
 *
 * Why at the socket and not `tcpdump -i lo`: see README "On the wire". Not recording, nothing changes:
 * sockets stay on their native handles.
 */
import type net from 'node:net';
import type https from 'node:https';
import type tls from 'node:tls';
import { Duplex } from 'node:stream';

export interface WireEndpoint {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

export type WireSide = 'client' | 'server';

/** One thing seen on a connection: bytes, or an end (FIN) or a reset (RST) from one side. */
export interface WireSegment {
  /** Microseconds since the Unix epoch. */
  readonly at: bigint;
  readonly from: WireSide;
  readonly kind: 'data' | 'fin' | 'rst';
  readonly bytes?: Buffer;
}

export interface WireConnection {
  readonly id: number;
  readonly client: WireEndpoint;
  readonly server: WireEndpoint;
  /** When the TCP connection was established (microseconds since the epoch). */
  readonly opened: bigint;
  /** Which end recorded it. */
  readonly recordedBy: WireSide;
  readonly segments: WireSegment[];
}

/** The highest TLS version every server and client of the run negotiates. */
export type TlsMax = 'TLSv1.2' | 'TLSv1.3';

export interface WireOptions {
  /** Record from the start (a run with --capture or --wire); a scenario may also turn it on for a step. */
  readonly recording?: boolean;
  /** Sim knob (`--tls-max 1.2`): cap every server and client at this version. Default TLS 1.3, as Go negotiates. */
  readonly tlsMax?: TlsMax;
}

const endpoint = (address: string | undefined, port: number | undefined, family: string | undefined): WireEndpoint | undefined =>
  address === undefined || port === undefined ? undefined : { address, port, family: family === 'IPv6' || address.includes(':') ? 'IPv6' : 'IPv4' };

const key = (address: string, port: number): string => `${address}|${port}`;

/** The recording of one run, shared by every component through the Trace they are given. */
export class Wire {
  readonly connections: WireConnection[] = [];
  /** NSS key log lines (`CLIENT_HANDSHAKE_TRAFFIC_SECRET <client random> <secret>`), each once, in order. */
  readonly keylog: string[] = [];
  recording: boolean;
  readonly tlsMax: TlsMax;
  private readonly seenKeys = new Set<string>();
  private readonly servers = new Set<string>();
  private readonly epochUs = BigInt(Date.now()) * 1000n;
  private readonly startNs = process.hrtime.bigint();

  constructor(options: WireOptions = {}) {
    this.recording = options.recording === true;
    this.tlsMax = options.tlsMax ?? 'TLSv1.3';
  }

  /** Microseconds since the epoch, monotonic within the run. */
  now(): bigint {
    return this.epochUs + (process.hrtime.bigint() - this.startNs) / 1000n;
  }

  /** A key log line from a `keylog` event. Lines of connections not recorded are kept too (they are harmless). */
  addKeylog(line: Buffer | string): void {
    const text = line.toString('latin1').trim();
    if (!this.recording || text === '' || this.seenKeys.has(text)) return;
    this.seenKeys.add(text);
    this.keylog.push(text);
  }

  /** A server of the run that records its connections listens here (so its clients need not). */
  serverListening(address: string, port: number): void { this.servers.add(key(address, port)); }

  /** Whether a client dialling host:port should record: only if no recording server of the run is there. */
  clientRecords(host: string, port: number): boolean {
    return this.recording && !this.servers.has(key(host, port));
  }

  /** A server-side accepted socket: the stream to hand to TLS instead of it. */
  tapAccepted(raw: net.Socket): Duplex | undefined {
    const client = endpoint(raw.remoteAddress, raw.remotePort, raw.remoteFamily);
    const server = endpoint(raw.localAddress, raw.localPort, raw.localFamily);
    if (!client || !server) return undefined;
    const conn: WireConnection = { id: this.connections.length + 1, client, server, opened: this.now(), recordedBy: 'server', segments: [] };
    this.connections.push(conn);
    return this.tap(raw, conn, 'server');
  }

  /**
   * A client socket not yet connected: the stream to hand to TLS. The connection is recorded from the
   * moment TCP connects (bytes TLS writes before that wait in the socket and are recorded then).
   */
  tapDialled(raw: net.Socket): Duplex {
    let conn: WireConnection | undefined;
    const early: Buffer[] = [];
    raw.once('connect', () => {
      const client = endpoint(raw.localAddress, raw.localPort, raw.localFamily);
      const server = endpoint(raw.remoteAddress, raw.remotePort, raw.remoteFamily);
      if (!client || !server) return;
      conn = { id: this.connections.length + 1, client, server, opened: this.now(), recordedBy: 'client', segments: [] };
      this.connections.push(conn);
      for (const b of early.splice(0)) conn.segments.push({ at: this.now(), from: 'client', kind: 'data', bytes: b });
    });
    return this.tap(raw, () => conn, 'client', early);
  }

  private tap(raw: net.Socket, connection: WireConnection | (() => WireConnection | undefined), us: WireSide, early?: Buffer[]): Duplex {
    const them: WireSide = us === 'client' ? 'server' : 'client';
    const conn = typeof connection === 'function' ? connection : (): WireConnection => connection;
    const note = (from: WireSide, kind: WireSegment['kind'], bytes?: Buffer): void => {
      const c = conn();
      if (c) c.segments.push({ at: this.now(), from, kind, ...(bytes ? { bytes } : {}) });
      else if (kind === 'data' && bytes && from === us) early?.push(bytes);
    };
    let ended = false;
    let closedByUs = false;
    const stream = new Duplex({
      write(chunk: Buffer, _enc, callback) {
        note(us, 'data', Buffer.from(chunk));
        if (raw.write(chunk)) callback(); else raw.once('drain', () => callback());
      },
      final(callback) {
        if (!ended) { ended = true; note(us, 'fin'); }
        raw.end(() => callback());
      },
      read() { raw.resume(); },
      destroy(err, callback) {
        // Closing the socket sends a FIN (the kernel's RST for unread data is not visible from here).
        if (!ended && !closedByUs && !raw.destroyed) { ended = true; note(us, 'fin'); }
        raw.destroy();
        callback(err);
      },
    });
    raw.on('data', (chunk: Buffer) => {
      note(them, 'data', chunk);
      if (!stream.push(chunk)) raw.pause();
    });
    raw.on('end', () => { note(them, 'fin'); stream.push(null); });
    raw.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') note(them, 'rst');
      closedByUs = true;
      stream.destroy(err);
    });
    raw.on('close', () => { closedByUs = true; if (!stream.destroyed) stream.destroy(); });
    return stream;
  }
}

/**
 * A TLS socket laid over a tap reports no addresses (its handle is a JavaScript stream): give it those
 * of the TCP socket underneath, which every trace event and request handler reads.
 */
export function lendAddresses(socket: tls.TLSSocket, raw: net.Socket): void {
  const get = (name: keyof net.Socket): PropertyDescriptor => ({ configurable: true, get: () => raw[name] });
  for (const name of ['remoteAddress', 'remotePort', 'remoteFamily', 'localAddress', 'localPort', 'localFamily'] as const) {
    Object.defineProperty(socket, name, get(name));
  }
  Object.defineProperty(socket, 'address', { configurable: true, value: () => raw.address() });
}

/**
 * The tapped TCP socket under a server-side TLS socket. Node's tls.Server builds the TLSSocket itself,
 * so the link goes through the TLS handle's `_parentWrap` (the JSStreamSocket Node wraps our stream in,
 * whose `stream` is the tap): Node's own field names, stable since Node 12. Undefined when the socket
 * is not tapped.
 */
export function tappedRaw(socket: tls.TLSSocket, taps: WeakMap<Duplex, net.Socket>): net.Socket | undefined {
  const handle = (socket as unknown as { _handle?: { _parentWrap?: { stream?: unknown } } | null })._handle;
  const stream = handle?._parentWrap?.stream;
  return stream instanceof Duplex ? taps.get(stream) : undefined;
}

/**
 * While the run's wire records, each accepted TCP socket is handed to TLS through a tap
 * (components/client/wire.ts), and the TLS socket is lent the TCP socket's addresses.
 */
export function recordAccepted(server: https.Server, wire: Wire | undefined): void {
  if (!wire) return;
  const listeners = server.listeners('connection');
  const [tlsListener] = listeners;
  if (listeners.length !== 1 || !tlsListener) throw new Error(`tls.Server has ${listeners.length} 'connection' listeners, expected Node's one`);
  const taps = new WeakMap<Duplex, net.Socket>();
  server.removeAllListeners('connection');
  server.on('connection', (raw: net.Socket) => {
    const stream = wire.recording ? wire.tapAccepted(raw) : undefined;
    if (stream) taps.set(stream, raw);
    (tlsListener as (s: net.Socket | Duplex) => void).call(server, stream ?? raw);
  });
  const lend = (socket: tls.TLSSocket): void => {
    const raw = socket.remoteAddress === undefined ? tappedRaw(socket, taps) : undefined;
    if (raw) lendAddresses(socket, raw);
  };
  server.prependListener('secureConnection', lend);
  server.prependListener('tlsClientError', (_err: Error, socket: tls.TLSSocket) => { lend(socket); });
  server.prependListener('keylog', (line: Buffer, socket: tls.TLSSocket) => { lend(socket); wire.addKeylog(line); });
  server.on('listening', () => {
    const a = server.address();
    if (a && typeof a === 'object') wire.serverListening(a.address, a.port);
  });
}
