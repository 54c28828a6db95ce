/**
 * SPDY/3.1 framing and streams, as Kubernetes uses it for exec, attach and port-forward
 * (k8s.io/apimachinery/pkg/util/httpstream/spdy over moby/spdystream): one TCP (here TLS) connection
 * upgraded with `Upgrade: SPDY/3.1`, carrying many streams. A stream opens with SYN_STREAM (its
 * headers name its role: `streamtype: error|stdin|stdout|stderr|resize|data`, `port`, `requestid`),
 * is accepted with SYN_REPLY, carries DATA frames and half-closes with the FIN flag.
 *
 * What is implemented is what spdystream does: header blocks compressed with one zlib stream per
 * direction under the SPDY/3 dictionary (sync flush after each block); PING echoed when the peer sent
 * it; GOAWAY ends the connection; SETTINGS and WINDOW_UPDATE are read and ignored (spdystream keeps
 * no flow-control windows either). Streams opened by a client have odd ids, by a server even ones.
 */
import { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy-dictionary.js';

const VERSION = 3;
const TYPE = { SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9 } as const;
const FLAG_FIN = 0x01;
/** The largest DATA payload written at once (spdystream's MaxDataLength is 2^24-1; smaller frames interleave better). */
const MAX_CHUNK = 32 * 1024;
/** RST_STREAM status CANCEL. */
const RST_CANCEL = 5;

/** Header names are lower-case on the wire; several values of one name are joined with NUL. */
export type SpdyHeaders = Record<string, string>;

/** Serializes async steps in order (zlib's sync flush is asynchronous in Node). */
class Serial {
  private tail: Promise<void> = Promise.resolve();
  run(step: () => Promise<void> | void): void {
    this.tail = this.tail.then(step).catch(() => undefined);
  }
}

/** One zlib stream kept for the life of the connection, flushed (Z_SYNC_FLUSH) after each header block. */
class HeaderZlib {
  private readonly z: zlib.Inflate | zlib.Deflate;
  private chunks: Buffer[] = [];
  constructor(kind: 'inflate' | 'deflate') {
    this.z = kind === 'inflate' ? zlib.createInflate({ dictionary: SPDY3_DICTIONARY }) : zlib.createDeflate({ dictionary: SPDY3_DICTIONARY });
    this.z.on('data', (c: Buffer) => this.chunks.push(c));
    this.z.on('error', () => undefined);
  }
  process(input: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.z.once('error', onError);
      this.z.write(input);
      this.z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        this.z.off('error', onError);
        const out = Buffer.concat(this.chunks);
        this.chunks = [];
        resolve(out);
      });
    });
  }
  close(): void {
    this.z.destroy();
  }
}

function encodeHeaderBlock(h: SpdyHeaders): Buffer {
  const entries = Object.entries(h);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(value);
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

function decodeHeaderBlock(b: Buffer): SpdyHeaders {
  const out: SpdyHeaders = Object.create(null) as SpdyHeaders;
  let off = 0;
  const need = (n: number): void => { if (off + n > b.length) throw new Error('spdy: truncated header block'); };
  need(4);
  const count = b.readUInt32BE(off); off += 4;
  for (let i = 0; i < count; i++) {
    need(4); const nl = b.readUInt32BE(off); off += 4;
    need(nl); const name = b.subarray(off, off + nl).toString(); off += nl;
    need(4); const vl = b.readUInt32BE(off); off += 4;
    need(vl); const value = b.subarray(off, off + vl).toString(); off += vl;
    out[name.toLowerCase()] = value;
  }
  return out;
}

const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

function dataFrame(id: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(id & 0x7fffffff, 0);
  head.writeUInt32BE(((flags & 0xff) << 24 | data.length) >>> 0, 4);
  return Buffer.concat([head, data]);
}

/**
 * One SPDY stream as a Duplex: what the peer sends is readable (ending at its FIN), writes become
 * DATA frames, end() sends FIN. A RST_STREAM from the peer destroys it.
 */
export class SpdyStream extends Duplex {
  readonly id: number;
  readonly headers: SpdyHeaders;
  private readonly conn: SpdyConnection;
  private finSent = false;
  /** The peer sent FIN (or the connection ended): nothing more will be read. */
  remoteDone = false;

  constructor(conn: SpdyConnection, id: number, headers: SpdyHeaders) {
    super({ allowHalfOpen: true });
    this.conn = conn;
    this.id = id;
    this.headers = headers;
  }

  override _read(): void { /* no flow control: frames are pushed as they arrive */ }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    for (let off = 0; off < chunk.length; off += MAX_CHUNK) this.conn.sendData(this.id, 0, chunk.subarray(off, off + MAX_CHUNK));
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.finSent) { this.finSent = true; this.conn.sendData(this.id, FLAG_FIN, Buffer.alloc(0)); }
    cb();
  }

  /** RST_STREAM (CANCEL): this side drops the stream. */
  reset(): void {
    this.conn.sendReset(this.id);
    this.destroy();
  }

  /** @internal */
  remoteData(data: Buffer, fin: boolean): void {
    if (this.remoteDone) return;
    if (data.length) this.push(data);
    if (fin) { this.remoteDone = true; this.push(null); }
  }
}

export interface SpdyConnectionEvents {
  stream: [SpdyStream];
  close: [];
}

/**
 * A SPDY/3.1 session over an upgraded socket. `server` accepts streams the peer opens (each
 * `stream` event is already answered with SYN_REPLY, as the Kubernetes handler replies once it has
 * taken the stream); `client` opens them with open().
 */
export class SpdyConnection extends EventEmitter<SpdyConnectionEvents> {
  private readonly socket: Duplex;
  private readonly role: 'server' | 'client';
  private readonly inflate = new HeaderZlib('inflate');
  private readonly deflate = new HeaderZlib('deflate');
  private readonly inbound = new Serial();
  private readonly outbound = new Serial();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly replies = new Map<number, { resolve: (s: SpdyStream) => void; reject: (e: Error) => void }>();
  private buffer: Buffer = Buffer.alloc(0);
  private nextId: number;
  private closed = false;

  constructor(socket: Duplex, role: 'server' | 'client', head?: Buffer) {
    super();
    this.socket = socket;
    this.role = role;
    this.nextId = role === 'client' ? 1 : 2;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // The end of the socket is handled after the frames before it (their header blocks inflate asynchronously).
    socket.on('end', () => this.inbound.run(() => this.shutdown()));
    socket.on('close', () => this.inbound.run(() => this.shutdown()));
    socket.on('error', () => this.shutdown());
    if (head?.length) this.onData(head);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Opens a stream (SYN_STREAM) and resolves once the peer accepts it (SYN_REPLY). */
  open(headers: SpdyHeaders): Promise<SpdyStream> {
    if (this.closed) return Promise.reject(new Error('spdy: connection closed'));
    const id = this.nextId;
    this.nextId += 2;
    const stream = new SpdyStream(this, id, headers);
    this.streams.set(id, stream);
    const accepted = new Promise<SpdyStream>((resolve, reject) => this.replies.set(id, { resolve, reject }));
    this.outbound.run(async () => {
      const block = await this.deflate.process(encodeHeaderBlock(headers));
      const p = Buffer.alloc(10);
      p.writeUInt32BE(id, 0);
      p.writeUInt32BE(0, 4);
      this.write(controlFrame(TYPE.SYN_STREAM, 0, Buffer.concat([p, block])));
    });
    return accepted;
  }

  /** GOAWAY, then the socket is ended; every stream ends. */
  close(): void {
    if (this.closed) return;
    const p = Buffer.alloc(8);
    this.outbound.run(() => {
      this.write(controlFrame(TYPE.GOAWAY, 0, p));
      this.socket.end();
    });
    this.outbound.run(() => this.shutdown());
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.socket.destroy();
    this.shutdown();
  }

  /** @internal */
  sendData(id: number, flags: number, data: Buffer): void {
    this.outbound.run(() => this.write(dataFrame(id, flags, data)));
  }

  /** @internal */
  sendReset(id: number): void {
    const p = Buffer.alloc(8);
    p.writeUInt32BE(id, 0);
    p.writeUInt32BE(RST_CANCEL, 4);
    this.outbound.run(() => this.write(controlFrame(TYPE.RST_STREAM, 0, p)));
  }

  private write(frame: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(frame);
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (this.buffer.length >= 8) {
      const length = this.buffer.readUInt32BE(4) & 0xffffff;
      if (this.buffer.length < 8 + length) break;
      const frame = this.buffer.subarray(0, 8 + length);
      this.buffer = this.buffer.subarray(8 + length);
      this.inbound.run(() => this.onFrame(frame).catch(() => this.destroy()));
    }
  }

  private async onFrame(f: Buffer): Promise<void> {
    const flags = f[4]!;
    const payload = f.subarray(8);
    if ((f[0]! & 0x80) === 0) {
      const id = f.readUInt32BE(0) & 0x7fffffff;
      this.streams.get(id)?.remoteData(Buffer.from(payload), (flags & FLAG_FIN) !== 0);
      if ((flags & FLAG_FIN) !== 0) this.forgetIfDone(id);
      return;
    }
    const type = f.readUInt16BE(2);
    switch (type) {
      case TYPE.SYN_STREAM: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.inflate.process(payload.subarray(10)));
        const stream = new SpdyStream(this, id, headers);
        this.streams.set(id, stream);
        // SYN_REPLY with no headers: httpstream/spdy's newSpdyStream accepts it so.
        this.outbound.run(async () => {
          const block = await this.deflate.process(encodeHeaderBlock({}));
          this.write(controlFrame(TYPE.SYN_REPLY, 0, Buffer.concat([u32(id), block])));
        });
        this.emit('stream', stream);
        if ((flags & FLAG_FIN) !== 0) stream.remoteData(Buffer.alloc(0), true);
        return;
      }
      case TYPE.SYN_REPLY: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        await this.inflate.process(payload.subarray(4));
        const stream = this.streams.get(id);
        const waiter = this.replies.get(id);
        this.replies.delete(id);
        if (stream && waiter) waiter.resolve(stream);
        if (stream && (flags & FLAG_FIN) !== 0) stream.remoteData(Buffer.alloc(0), true);
        return;
      }
      case TYPE.HEADERS:
        await this.inflate.process(payload.subarray(4));
        return;
      case TYPE.RST_STREAM: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const stream = this.streams.get(id);
        this.streams.delete(id);
        this.replies.get(id)?.reject(new Error(`spdy: stream ${id} reset by peer`));
        this.replies.delete(id);
        stream?.destroy();
        return;
      }
      case TYPE.PING: {
        const pingId = payload.readUInt32BE(0);
        // The peer's pings (odd from a client, even from a server) are echoed; ours would be answers.
        if ((pingId & 1) !== (this.role === 'client' ? 1 : 0)) this.outbound.run(() => this.write(f));
        return;
      }
      case TYPE.GOAWAY:
        this.shutdown();
        this.socket.end();
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE, and anything newer: ignored, as spdystream does.
    }
  }

  private forgetIfDone(id: number): void {
    const s = this.streams.get(id);
    if (s && s.writableFinished) this.streams.delete(id);
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const { reject } of this.replies.values()) reject(new Error('spdy: connection closed'));
    this.replies.clear();
    // What was received stays readable (a reader may attach after the peer's GOAWAY); nothing more comes.
    for (const s of this.streams.values()) s.remoteData(Buffer.alloc(0), true);
    this.streams.clear();
    this.inflate.close();
    this.deflate.close();
    // The socket is ended, never destroyed here: a TLS socket destroyed right after its last writes drops them.
    if (!this.socket.destroyed && this.socket.writable) this.socket.end();
    this.emit('close');
  }
}

/** The headers of an HTTP/1.1 upgrade to SPDY/3.1 (httpstream.Handshake). */
export const SPDY_UPGRADE = 'SPDY/3.1';
export const STREAM_PROTOCOL_HEADER = 'X-Stream-Protocol-Version';
