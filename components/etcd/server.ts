/**
 * etcd's client port: the grpc-gateway JSON API of etcd 3.4 (`/v3/...`, and `/v3beta/...` as 3.4
 * still accepts), plus `GET /version` and `GET /health`, as an HTTP handler over an `MvccStore`.
 *
 * Shapes follow the real gateway: success bodies are jsonpb (see wire.ts); errors are
 * `{"error": msg, "message": msg, "code": grpcCode}` with the HTTP status grpc-gateway maps the code to
 * (OutOfRange → 400, NotFound → 404, FailedPrecondition → 412, ...); streams (`/v3/watch`,
 * `/v3/lease/keepalive`) answer one `{"result": ...}` per line, and read their requests as a stream of
 * JSON objects from the request body.
 */
import { batchedWriter } from '../client/lines.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { RequestLayer, Trace } from '../client/trace.js';
import { summarizePeer } from '../client/tls.js';
import { GrpcCode, StoreError, type GrpcCodeValue, type MvccStore, type WatchBatch } from './store.js';
import {
  WireError, boolField, bytesField, compareRequest, deleteRequest, enumField, event, header, int64Field, listField, numField,
  omitDefaults, parseBody, putRequest, rangeRequest, rangeResponse, requestOp, responseOp, kv as responseKv, type HeaderIds, type Json,
} from './wire.js';
import { KubeSimError } from '../../pki/errors.js';

export interface GatewayOptions {
  /** The member name, for logs and the trace (`etcd`). */
  readonly name: string;
  /** `etcdserver` in `/version` and `/v3/maintenance/status`. */
  readonly version: string;
  readonly ids: HeaderIds;
  readonly logger: Logger;
  readonly trace?: Trace;
  /** etcd's minimum lease TTL (seconds): 2 with the default heartbeat and election ticks. */
  readonly minLeaseTtl?: number;
  /** --max-txn-ops: the most compares, or ops in one branch, a txn may hold; default 128 (etcd's). */
  readonly maxTxnOps?: number;
  /**
   * Resolves once every change made so far is on disk (the write-ahead log's fsync). Given, no
   * answer and no watch event leaves before the changes it reflects are durable, as etcd applies
   * (and so answers and notifies) only entries its WAL has synced. Absent: in memory only.
   */
  readonly durable?: () => Promise<void>;
}

/** etcd's --max-txn-ops default. */
export const DEFAULT_MAX_TXN_OPS = 128;

/** etcd's --max-request-bytes default (1.5 MiB) plus gRPC's overhead allowance. */
const MAX_BODY = 1.5 * 1024 * 1024 + 512 * 1024;

/** grpc-gateway's runtime.HTTPStatusFromCode. */
export function httpStatusFromCode(code: GrpcCodeValue): number {
  switch (code) {
    case GrpcCode.OK: return 200;
    case GrpcCode.Canceled: return 408;
    case GrpcCode.Unknown: return 500;
    case GrpcCode.InvalidArgument: return 400;
    case GrpcCode.DeadlineExceeded: return 408;
    case GrpcCode.NotFound: return 404;
    case GrpcCode.AlreadyExists: return 409;
    case GrpcCode.PermissionDenied: return 403;
    case GrpcCode.Unauthenticated: return 401;
    case GrpcCode.ResourceExhausted: return 429;
    case GrpcCode.FailedPrecondition: return 412;
    case GrpcCode.Aborted: return 409;
    case GrpcCode.OutOfRange: return 400;
    case GrpcCode.Unimplemented: return 501;
    case GrpcCode.Internal: return 500;
    case GrpcCode.Unavailable: return 503;
    case GrpcCode.DataLoss: return 500;
  }
}

class RequestTooLarge extends KubeSimError<'REQUEST_TOO_LARGE'> {
  constructor() {
    super('REQUEST_TOO_LARGE', 'etcdserver: request is too large');
  }
}

interface Call {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The RPC, `kv/range`, `watch`, ... */
  readonly rpc: string;
  /** The key the request is about, for the trace (decoded as UTF-8). */
  resource: string;
}

const WATCH_FILTERS = ['NOPUT', 'NODELETE'] as const;

/**
 * The HTTP side. `handle` is the https.Server's request handler; `closeStreams` ends every watch and
 * keepalive stream (on stop, before the sockets are closed).
 */
export class Gateway {
  private readonly store: MvccStore;
  private readonly options: GatewayOptions;
  private readonly streams = new Set<() => void>();

  constructor(store: MvccStore, options: GatewayOptions) {
    this.store = store;
    this.options = options;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'https://etcd');
    const path = url.pathname;
    if (path === '/version' || path === '/health') {
      this.plain(req, res, path);
      return;
    }
    const m = /^\/v3(?:beta)?\/(.+)$/.exec(path);
    if (!m) {
      this.finish({ req, res, rpc: path, resource: '' }, 404, '404 page not found\n', 'text/plain; charset=utf-8');
      return;
    }
    const rpc = m[1]!;
    const call: Call = { req, res, rpc, resource: '' };
    if (!KNOWN_RPCS.has(rpc)) {
      this.finish(call, 404, 'Not Found\n', 'text/plain; charset=utf-8');
      return;
    }
    if (req.method !== 'POST') {
      this.finish(call, 405, 'Method Not Allowed\n', 'text/plain; charset=utf-8');
      return;
    }
    if (rpc === 'watch') {
      this.watch(call);
      return;
    }
    if (rpc === 'lease/keepalive') {
      this.keepAlive(call);
      return;
    }
    readBody(req).then((text) => {
      let body: Json;
      try {
        body = this.unary(call, parseBody(text));
      } catch (e) {
        this.fail(call, e);
        return;
      }
      const durable = this.options.durable;
      if (!durable) { this.finish(call, 200, JSON.stringify(body)); return; }
      durable().then(() => this.finish(call, 200, JSON.stringify(body)), (e: unknown) => this.fail(call, e));
    }, (e: unknown) => this.fail(call, e instanceof RequestTooLarge ? new WireError('etcdserver: request is too large') : e));
  };

  /** Ends every open stream (watches and keepalives). */
  closeStreams(): void {
    for (const close of [...this.streams]) close();
    this.streams.clear();
  }

  private get ids(): HeaderIds {
    return this.options.ids;
  }

  private hdr(revision: number): Json {
    return header(this.ids, revision);
  }

  /** The unary RPCs. Throws StoreError / WireError, which `fail` renders as the gateway does. */
  private unary(call: Call, body: Json): Json {
    const s = this.store;
    switch (call.rpc) {
      case 'kv/range': {
        const r = rangeRequest(body);
        call.resource = describeKey(r.key, r.rangeEnd);
        const result = s.range(r.key, r.rangeEnd, r.options);
        return rangeResponse(this.hdr(result.revision), result);
      }
      case 'kv/put': {
        const p = putRequest(body);
        call.resource = describeKey(p.key, Buffer.alloc(0));
        const r = s.put(p.key, p.value, { lease: p.lease, prevKv: p.prevKv });
        return omitDefaults({ header: this.hdr(r.revision), prev_kv: r.prevKv ? responseKv(r.prevKv) : undefined });
      }
      case 'kv/deleterange': {
        const d = deleteRequest(body);
        call.resource = describeKey(d.key, d.rangeEnd);
        const r = s.deleteRange(d.key, d.rangeEnd, { prevKv: d.prevKv });
        return omitDefaults({ header: this.hdr(r.revision), deleted: r.deleted, prev_kvs: r.prevKvs?.map(responseKv) });
      }
      case 'kv/txn': {
        const compare = listField(body, 'compare').map(compareRequest);
        const success = listField(body, 'success').map(requestOp);
        const failure = listField(body, 'failure').map(requestOp);
        // v3rpc checkTxnRequest, before the request reaches the applier.
        if (Math.max(compare.length, success.length, failure.length) > (this.options.maxTxnOps ?? DEFAULT_MAX_TXN_OPS)) throw new StoreError('TOO_MANY_OPS');
        const first = compare[0] ?? success[0] ?? failure[0];
        if (first) call.resource = describeKey(first.key, 'rangeEnd' in first ? first.rangeEnd : Buffer.alloc(0));
        const r = s.txn(compare, success, failure);
        return omitDefaults({ header: this.hdr(r.revision), succeeded: r.succeeded, responses: r.responses.map(responseOp) });
      }
      case 'kv/compaction': {
        const r = s.compact(numField(body, 'revision'));
        call.resource = String(numField(body, 'revision'));
        this.options.logger.info({ compactRevision: s.compactRevision }, 'finished scheduled compaction');
        return { header: this.hdr(r.revision) };
      }
      case 'lease/grant': {
        const r = s.grantLease(int64Field(body, 'ID'), numField(body, 'TTL'), this.options.minLeaseTtl ?? 2);
        call.resource = r.id.toString();
        return omitDefaults({ header: this.hdr(s.revision), ID: r.id, TTL: r.ttl });
      }
      case 'lease/revoke':
      case 'kv/lease/revoke': {
        const id = int64Field(body, 'ID');
        call.resource = id.toString();
        const r = s.revokeLease(id);
        return { header: this.hdr(r.revision) };
      }
      case 'lease/timetolive':
      case 'kv/lease/timetolive': {
        const id = int64Field(body, 'ID');
        call.resource = id.toString();
        const info = s.leaseTimeToLive(id);
        return {
          header: this.hdr(s.revision), ID: id.toString(), TTL: info.ttl.toString(),
          ...omitDefaults({ grantedTTL: info.grantedTtl, keys: boolField(body, 'keys') ? info.keys.map((k) => k.toString('base64')) : undefined }),
        };
      }
      case 'lease/leases':
      case 'kv/lease/leases':
        return omitDefaults({ header: this.hdr(s.revision), leases: s.leaseIds().map((id) => ({ ID: id.toString() })) });
      case 'maintenance/status':
        return omitDefaults({
          header: this.hdr(s.revision), version: this.options.version, dbSize: 20480 + s.revision * 64, leader: this.ids.memberId,
          raftIndex: s.revision + 3, raftTerm: this.ids.raftTerm, raftAppliedIndex: s.revision + 3, dbSizeInUse: 16384 + s.revision * 64,
        });
      default:
        throw new WireError(`unknown rpc ${call.rpc}`);
    }
  }

  /**
   * `POST /v3/watch`: the body is a stream of WatchRequest objects (`create_request`,
   * `cancel_request`); the response streams one `{"result": WatchResponse}` per line until the client
   * closes the connection.
   */
  private watch(call: Call): void {
    const { req, res } = call;
    const cancels = new Map<number, () => void>();
    let nextId = 0;
    let started = false;
    let closed = false;
    const out = batchedWriter(res);
    const write = (result: Json): void => {
      if (closed) return;
      if (!started) {
        started = true;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        this.traceRequest(call, 200, 'none');
      }
      out(`${JSON.stringify({ result })}\n`);
    };
    // With a WAL, each message waits for the changes before it to be durable, in order.
    const durable = this.options.durable;
    let queue = Promise.resolve();
    const send = durable ? (result: Json): void => {
      queue = queue.then(durable).then(() => write(result), () => endStream());
    } : write;
    const close = (): void => {
      if (closed) return;
      closed = true;
      for (const cancel of cancels.values()) cancel();
      cancels.clear();
      this.streams.delete(endStream);
    };
    const endStream = (): void => {
      close();
      res.destroy();
    };
    this.streams.add(endStream);
    res.on('close', close);

    const onRequest = (o: Json): void => {
      const create = o['create_request'] ?? o['createRequest'];
      const cancel = o['cancel_request'] ?? o['cancelRequest'];
      if (create !== undefined && create !== null) {
        if (typeof create !== 'object' || Array.isArray(create)) throw new WireError('bad input: create_request is not an object');
        const c = create as Json;
        const key = bytesField(c, 'key');
        const rangeEnd = bytesField(c, 'range_end');
        if (!call.resource) call.resource = describeKey(key, rangeEnd);
        const filtersRaw = c['filters'];
        const filters = Array.isArray(filtersRaw) ? filtersRaw.map((f) => enumField({ f }, 'f', WATCH_FILTERS)) : [];
        const requested = numField(c, 'watch_id');
        let id = requested;
        if (id === 0) {
          while (cancels.has(nextId)) nextId++;
          id = nextId++;
        }
        const withPrev = boolField(c, 'prev_kv');
        const deliver = (b: WatchBatch): void => {
          send(omitDefaults({ header: this.hdr(b.revision), watch_id: id, events: b.events.map((e) => event(e, withPrev)) }));
        };
        const w = this.store.watch({
          key, rangeEnd, startRevision: numField(c, 'start_revision'),
          noPut: filters.includes('NOPUT'), noDelete: filters.includes('NODELETE'),
        }, deliver);
        send(omitDefaults({ header: this.hdr(this.store.revision), watch_id: id, created: true }));
        if (w.compacted) {
          send(omitDefaults({ header: this.hdr(0), watch_id: id, canceled: true, compact_revision: w.compactRevision }));
          this.options.logger.debug({ compactRevision: w.compactRevision }, 'watch start revision compacted');
          return;
        }
        cancels.set(id, w.cancel);
        for (const b of w.replay) deliver(b);
      } else if (cancel !== undefined && cancel !== null && typeof cancel === 'object' && !Array.isArray(cancel)) {
        const id = numField(cancel as Json, 'watch_id');
        const stop = cancels.get(id);
        if (stop) {
          stop();
          cancels.delete(id);
          send(omitDefaults({ header: this.hdr(this.store.revision), watch_id: id, canceled: true }));
        }
      }
    };
    this.readStream(call, onRequest, () => { /* the gateway keeps the stream open after the body ends */ });
  }

  /** `POST /v3/lease/keepalive`: one LeaseKeepAliveResponse per `{"ID": ...}` in the body. */
  private keepAlive(call: Call): void {
    const { res } = call;
    let started = false;
    const send = (result: Json): void => {
      if (!started) {
        started = true;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        this.traceRequest(call, 200, 'none');
      }
      res.write(`${JSON.stringify({ result })}\n`);
    };
    const end = (): void => { this.streams.delete(end); res.destroy(); };
    this.streams.add(end);
    res.on('close', () => this.streams.delete(end));
    this.readStream(call, (o) => {
      const id = int64Field(o, 'ID');
      if (!call.resource) call.resource = id.toString();
      let ttl: number;
      try {
        ttl = this.store.keepAlive(id);
      } catch (e) {
        if (!(e instanceof StoreError)) throw e;
        ttl = 0;
      }
      send(omitDefaults({ header: this.hdr(this.store.revision), ID: id, TTL: ttl }));
    }, () => {
      this.streams.delete(end);
      if (!started) this.traceRequest(call, 200, 'none');
      res.end();
    });
  }

  /**
   * Reads the request body as a stream of JSON objects. A fault in the first one is answered with the
   * gateway's error; later faults end the reading, as grpc-gateway's send loop does.
   */
  private readStream(call: Call, onObject: (o: Json) => void, onEnd: () => void): void {
    const splitter = new JsonObjectSplitter();
    let count = 0;
    let failed = false;
    call.req.setEncoding('utf8');
    call.req.on('data', (chunk: string) => {
      if (failed) return;
      try {
        for (const text of splitter.push(chunk)) {
          count++;
          onObject(parseBody(text));
        }
      } catch (e) {
        failed = true;
        if (count <= 1 && !call.res.headersSent) this.fail(call, e);
        else this.options.logger.debug({ err: e }, 'ignoring a bad request on a stream');
      }
    });
    call.req.on('end', () => { if (!failed) onEnd(); });
  }

  private plain(req: IncomingMessage, res: ServerResponse, path: string): void {
    const call: Call = { req, res, rpc: path.slice(1), resource: '' };
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.finish(call, 405, 'Method Not Allowed', 'text/plain; charset=utf-8');
      return;
    }
    const body = path === '/version'
      ? { etcdserver: this.options.version, etcdcluster: `${this.options.version.split('.').slice(0, 2).join('.')}.0` }
      : { health: 'true' };
    this.finish(call, 200, JSON.stringify(body));
  }

  private fail(call: Call, e: unknown): void {
    if (e instanceof StoreError || e instanceof WireError) {
      const message = e.message;
      const status = httpStatusFromCode(e.grpcCode);
      this.options.logger.debug({ rpc: call.rpc, status, err: message }, 'request failed');
      // A request it cannot decode or that breaks a rule of the API is refused before the store; the rest is the store's answer.
      const layer = e instanceof WireError || e.grpcCode === GrpcCode.InvalidArgument ? 'validation' : 'storage';
      this.finish(call, status, JSON.stringify({ error: message, message, code: e.grpcCode }), 'application/json', layer);
      return;
    }
    this.options.logger.error({ rpc: call.rpc, err: e }, 'internal error');
    const message = e instanceof Error ? e.message : String(e);
    this.finish(call, 500, JSON.stringify({ error: message, message, code: GrpcCode.Unknown }));
  }

  /** `layer`: who decided, for the trace (routing and internal errors are the handler's). */
  private finish(call: Call, status: number, body: string, contentType = 'application/json', layer: RequestLayer = status < 400 ? 'none' : 'handler'): void {
    if (call.res.headersSent) {
      call.res.destroy();
      return;
    }
    call.res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    call.res.end(body);
    this.traceRequest(call, status, layer);
  }

  private traceRequest(call: Call, status: number, layer: RequestLayer): void {
    const trace = this.options.trace;
    if (!trace?.active) return;
    const socket = call.req.socket as TLSSocket;
    const cert = summarizePeer(socket.getPeerCertificate?.());
    trace.emit({
      type: 'request', server: this.options.name, peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      method: call.req.method ?? '?', path: call.req.url ?? '', user: cert?.cn ?? '', groups: cert?.o ?? [],
      verb: call.rpc, resource: call.resource, decision: 'allow', layer, status,
    });
  }
}

const KNOWN_RPCS = new Set([
  'kv/range', 'kv/put', 'kv/deleterange', 'kv/txn', 'kv/compaction', 'watch',
  'lease/grant', 'lease/revoke', 'kv/lease/revoke', 'lease/timetolive', 'kv/lease/timetolive',
  'lease/leases', 'kv/lease/leases', 'lease/keepalive', 'maintenance/status',
]);

/** For the trace: the key, `/registry/pods/*` for a prefix range, `>= key` for an open one, else `[key, end)`. */
function describeKey(key: Buffer, rangeEnd: Buffer): string {
  const k = key.toString('utf8');
  if (rangeEnd.length === 0) return k;
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return key.length === 1 && key[0] === 0 ? '*' : `>= ${k}`;
  let i = key.length - 1;
  while (i >= 0 && key[i] === 0xff) i--;
  const prefixEnd = i < 0 ? undefined : Buffer.concat([key.subarray(0, i), Buffer.from([key[i]! + 1])]);
  if (prefixEnd && prefixEnd.equals(rangeEnd)) return `${k}*`;
  return `[${k}, ${rangeEnd.toString('utf8')})`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.removeAllListeners('data');
        req.resume();
        reject(new RequestTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Splits a stream of concatenated JSON objects (what json.Decoder reads) into their texts. */
export class JsonObjectSplitter {
  private buffered = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private scanned = 0;

  push(chunk: string): string[] {
    this.buffered += chunk;
    const out: string[] = [];
    let start = 0;
    for (let i = this.scanned; i < this.buffered.length; i++) {
      const ch = this.buffered[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === '\\') this.escaped = true;
        else if (ch === '"') this.inString = false;
        continue;
      }
      if (this.depth === 0) {
        if (/\s/.test(ch)) { start = i + 1; continue; }
        if (ch !== '{') throw new WireError(`invalid character '${ch}' looking for beginning of value`);
      }
      if (ch === '"') this.inString = true;
      else if (ch === '{' || ch === '[') this.depth++;
      else if (ch === '}' || ch === ']') {
        this.depth--;
        if (this.depth === 0) {
          out.push(this.buffered.slice(start, i + 1));
          start = i + 1;
        }
      }
    }
    this.buffered = this.buffered.slice(start);
    this.scanned = this.buffered.length;
    return out;
  }
}
