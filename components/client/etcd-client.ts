/**
 * The apiserver's etcd client (kube-apiserver's `--etcd-servers`, `--etcd-cafile`, `--etcd-certfile`,
 * `--etcd-keyfile`): etcd v3's JSON gateway over mutual TLS, with the apiserver-etcd-client
 * certificate, verifying etcd's serving certificate against the etcd CA. It speaks only what a real
 * etcd 3.4/3.5 serves on `/v3/...`, so it works unchanged against the real one.
 *
 * Keys are strings (UTF-8). Values are written from strings or bytes and read back as UTF-8 strings
 * (the apiserver stores JSON); `valueBytes` keeps the raw bytes. Revisions are numbers; lease IDs,
 * which are int64, are decimal strings.
 *
 * The writes are etcd3-store transactions, as the real apiserver's storage does them: create is
 * `If(mod_revision(key) == 0).Then(put)`, a guarded update `If(mod_revision(key) == N).Then(put)
 * .Else(get)`, a guarded delete `If(mod_revision(key) == N).Then(delete prev_kv).Else(get)`.
 *
 * Endpoints are tried in order: a request that fails to connect (refused, reset, TLS refused, timed
 * out) goes to the next endpoint, and the one that answered is used first from then on. With `retry`
 * (the apiserver sets it), a request that no endpoint took is tried again after an exponential
 * backoff until its deadline, as clientv3's retry interceptor does: reads always, writes only when
 * the request cannot have reached etcd (refused before it was sent), since a txn is not idempotent.
 */
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Trace } from './trace.js';
import { onLines } from './lines.js';
import { MAX_IN_FLIGHT, Slots } from './common.js';
import { createTlsAgent, type Identity, type TlsAgent, type TlsReload } from './tls.js';
import { KubeSimError } from '../../pki/errors.js';

export interface EtcdClientOptions {
  /** `https://host:port` of each etcd member, tried in order. */
  readonly endpoints: readonly string[];
  /** apiserver-etcd-client.crt and .key. */
  readonly identity: Identity;
  /** etcd/ca.crt: etcd's serving certificate must chain to it. */
  readonly ca: string;
  /** The client's name in the trace; default `kube-apiserver`. */
  readonly name?: string;
  readonly trace?: Trace;
  /** Per-request timeout for unary calls (ms); default 10000. Watches have none. */
  readonly timeoutMs?: number;
  /**
   * Retry a request no endpoint could take, with a backoff from `initialMs` doubling to `maxMs` (10%
   * jitter), until the call's deadline (`timeoutMs`). Absent: fail at once (after trying every endpoint).
   */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
}

export type EtcdErrorCode =
  | 'COMPACTED' // the revision asked for (read or watch start) has been compacted; `compactRevision` says to where
  | 'FUTURE_REVISION' // a read at a revision etcd has not reached
  | 'LEASE_NOT_FOUND'
  | 'UNAVAILABLE' // no endpoint could be reached (the cause is kept), or a watch stream broke
  | 'SERVER_ERROR' // any other error etcd answered with (`grpcCode`, `httpStatus`)
  | 'BAD_RESPONSE'; // an answer that is not etcd's JSON

export class EtcdError extends KubeSimError<EtcdErrorCode> {
  /** The gRPC code etcd's gateway reported (11 = OutOfRange for a compacted revision). */
  readonly grpcCode: number | undefined;
  readonly httpStatus: number | undefined;
  /** For COMPACTED: the revision etcd has compacted to, when it said (watches do). */
  readonly compactRevision: number | undefined;

  constructor(code: EtcdErrorCode, message: string, extra: { grpcCode?: number; httpStatus?: number; compactRevision?: number; cause?: unknown } = {}) {
    super(code, message, extra);
    this.grpcCode = extra.grpcCode;
    this.httpStatus = extra.httpStatus;
    this.compactRevision = extra.compactRevision;
  }
}

export interface EtcdKv {
  readonly key: string;
  /** The value as UTF-8 text ('' for a delete's tombstone). */
  readonly value: string;
  readonly valueBytes: Buffer;
  readonly createRevision: number;
  readonly modRevision: number;
  /** Writes since the key was created (1 after create). */
  readonly version: number;
  /** The lease ID, decimal, when the key has one. */
  readonly lease?: string;
}

/** A guarded write: whether the compare held, the revision after it, and what the key holds. */
export interface CasResult {
  readonly succeeded: boolean;
  /** The header revision of the txn (the new revision when it wrote). */
  readonly revision: number;
  /**
   * On failure: the key's current state (undefined: absent). On a successful delete: the deleted
   * pair. On a successful put: undefined.
   */
  readonly current?: EtcdKv;
}

export interface EtcdWatchEvent {
  readonly type: 'PUT' | 'DELETE';
  readonly key: string;
  /** The new value ('' for DELETE). */
  readonly value: string;
  /** The event's revision (for DELETE, the deletion's). */
  readonly modRevision: number;
  readonly createRevision: number;
  readonly version: number;
  /** The value before this event, when the key existed (always asked for: prev_kv). */
  readonly prevValue?: string;
  readonly kv: EtcdKv;
  readonly prevKv?: EtcdKv;
}

export interface EtcdWatch {
  /** Resolves with the header revision once etcd has created the watch; rejects if it could not. */
  readonly ready: Promise<number>;
  stop(): void;
}

export interface ReadOptions {
  /** Read at this past revision (0: current). */
  readonly revision?: number;
  /** This call's deadline (ms), retries included; default the client's timeoutMs. */
  readonly timeoutMs?: number;
}

export interface ListOptions extends ReadOptions {
  readonly limit?: number;
  readonly keysOnly?: boolean;
}

export interface WriteOptions {
  /** Attach the key to this lease (decimal ID from `grantLease`). */
  readonly lease?: string;
}

type Json = Record<string, unknown>;

const b64 = (s: string | Uint8Array): string => (typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s)).toString('base64');

/** etcd's GetPrefixRangeEnd: the key just past every key with this prefix (`\0` = no upper bound). */
export function prefixRangeEnd(prefix: string | Uint8Array): Buffer {
  const end = Buffer.from(typeof prefix === 'string' ? Buffer.from(prefix, 'utf8') : prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

const num = (v: unknown): number => (typeof v === 'string' || typeof v === 'number' ? Number(v) : 0);

function decodeKv(o: unknown): EtcdKv {
  const j = (o ?? {}) as Json;
  const valueBytes = Buffer.from(typeof j['value'] === 'string' ? j['value'] : '', 'base64');
  const lease = j['lease'];
  return {
    key: Buffer.from(typeof j['key'] === 'string' ? j['key'] : '', 'base64').toString('utf8'),
    value: valueBytes.toString('utf8'), valueBytes,
    createRevision: num(j['create_revision']), modRevision: num(j['mod_revision']), version: num(j['version']),
    ...(lease !== undefined && lease !== '0' ? { lease: String(lease) } : {}),
  };
}

const headerRevision = (body: Json): number => num((body['header'] as Json | undefined)?.['revision']);

/** The RPCs that change nothing, safe to send again whatever happened to the first try. */
const READ_ONLY_RPCS = new Set(['/v3/kv/range', '/v3/maintenance/status', '/v3/lease/timetolive', '/v3/lease/leases']);

/**
 * A failure that may pass: the member is down or restarting (refused, reset, timed out). Not a TLS
 * refusal or an untrusted certificate: trying those again cannot help.
 */
function isTransient(e: unknown): boolean {
  const code = ((e as { cause?: NodeJS.ErrnoException }).cause)?.code ?? '';
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'].includes(code)
    || /socket hang up/.test(String((e as { cause?: Error }).cause?.message));
}

/** Errors where the request never reached a member: try the next endpoint. */
function isConnectionError(e: unknown): boolean {
  return e instanceof EtcdError && e.code === 'UNAVAILABLE';
}

export class EtcdClient {
  readonly name: string;
  private readonly endpoints: URL[];
  private readonly agent: TlsAgent;
  private readonly timeoutMs: number;
  private readonly watches = new Set<() => void>();
  /** Index of the endpoint that last answered. */
  private current = 0;
  private closed = false;
  /** Unary calls open at once (watches aside): over gRPC they would share one HTTP/2 connection; here each holds one. */
  private readonly slots = new Slots(MAX_IN_FLIGHT);
  private readonly retry: { readonly initialMs: number; readonly maxMs: number } | undefined;
  /** Wakes the backoff sleeps (close()). */
  private readonly sleepers = new Set<() => void>();

  constructor(options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new Error('etcd client: no endpoints');
    this.name = options.name ?? 'kube-apiserver';
    this.endpoints = options.endpoints.map((e) => new URL(e));
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.retry = options.retry ? { initialMs: options.retry.initialMs ?? 25, maxMs: options.retry.maxMs ?? 1000 } : undefined;
    this.agent = createTlsAgent({ name: this.name, target: 'etcd', identity: options.identity, serverCa: options.ca }, options.trace);
  }

  /** New client certificate and/or etcd CA bundle for later connections (the apiserver's --etcd-certfile/--etcd-cafile re-read). */
  reloadTls(material: TlsReload): void {
    this.agent.reloadTls(material);
  }

  // ---- reads ----

  /** One key, and the revision the read was served at. */
  async get(key: string, options: ReadOptions = {}): Promise<{ kv: EtcdKv | undefined; revision: number }> {
    const r = await this.request('POST', '/v3/kv/range', { key: b64(key), ...(options.revision ? { revision: String(options.revision) } : {}) }, options.timeoutMs);
    const kvs = Array.isArray(r['kvs']) ? r['kvs'] : [];
    return { kv: kvs.length > 0 ? decodeKv(kvs[0]) : undefined, revision: headerRevision(r) };
  }

  /** Every key under `prefix`, in key order; `revision` is the read's (a list's resourceVersion). */
  async list(prefix: string, options: ListOptions = {}): Promise<{ kvs: EtcdKv[]; revision: number; count: number; more: boolean }> {
    const r = await this.call('kv/range', {
      key: b64(prefix), range_end: prefixRangeEnd(prefix).toString('base64'),
      ...(options.revision ? { revision: String(options.revision) } : {}),
      ...(options.limit ? { limit: String(options.limit) } : {}),
      ...(options.keysOnly ? { keys_only: true } : {}),
    });
    const kvs = Array.isArray(r['kvs']) ? r['kvs'].map(decodeKv) : [];
    return { kvs, revision: headerRevision(r), count: num(r['count']), more: r['more'] === true };
  }

  // ---- guarded writes ----

  /** Creates `key` if absent: the new revision, or `false` if it exists. */
  async create(key: string, value: string | Uint8Array, options: WriteOptions = {}): Promise<number | false> {
    const r = await this.txn([modCompare(key, 0)], [putOp(key, value, options)], []);
    return r.succeeded ? headerRevision(r) : false;
  }

  /** Writes `key` if its mod_revision is still `expectedModRevision`: the new revision, or `false`. */
  async update(key: string, value: string | Uint8Array, expectedModRevision: number, options: WriteOptions = {}): Promise<number | false> {
    const r = await this.putIfModRevision(key, value, expectedModRevision, options);
    return r.succeeded ? r.revision : false;
  }

  /**
   * Deletes `key`. Returns the deleted pair (with `deleteRevision`), `undefined` if the key did not
   * exist, or `false` if `expectedModRevision` was given and the key has moved on.
   */
  async delete(key: string, expectedModRevision?: number): Promise<(EtcdKv & { deleteRevision: number }) | undefined | false> {
    if (expectedModRevision === undefined) {
      const r = await this.call('kv/deleterange', { key: b64(key), prev_kv: true });
      const prev = Array.isArray(r['prev_kvs']) ? r['prev_kvs'][0] : undefined;
      return prev === undefined ? undefined : { ...decodeKv(prev), deleteRevision: headerRevision(r) };
    }
    const r = await this.deleteIfModRevision(key, expectedModRevision);
    if (r.succeeded) return r.current ? { ...r.current, deleteRevision: r.revision } : undefined;
    return r.current ? false : undefined;
  }

  /** `If(mod_revision == N).Then(put).Else(get)`: on failure `current` is what is there now. N = 0: create. */
  async putIfModRevision(key: string, value: string | Uint8Array, modRevision: number, options: WriteOptions = {}): Promise<CasResult> {
    const r = await this.txn([modCompare(key, modRevision)], [putOp(key, value, options)], [{ request_range: { key: b64(key) } }]);
    return casResult(r, false);
  }

  /** `If(mod_revision == N).Then(delete prev_kv).Else(get)`: on success `current` is the deleted pair. */
  async deleteIfModRevision(key: string, modRevision: number): Promise<CasResult> {
    const r = await this.txn([modCompare(key, modRevision)], [{ request_delete_range: { key: b64(key), prev_kv: true } }], [{ request_range: { key: b64(key) } }]);
    return casResult(r, true);
  }

  /** A raw txn (compare/success/failure in the gateway's JSON); resolves with etcd's TxnResponse. */
  txn(compare: Json[], success: Json[], failure: Json[]): Promise<Json> {
    return this.call('kv/txn', { compare, success, failure });
  }

  // ---- maintenance and leases ----

  /** Compacts history below `revision` (etcd keeps `revision` itself readable). */
  async compact(revision: number): Promise<number> {
    return headerRevision(await this.call('kv/compaction', { revision: String(revision) }));
  }

  /** Grants a lease; resolves with its decimal ID and the TTL etcd granted. */
  async grantLease(ttlSeconds: number): Promise<{ id: string; ttl: number }> {
    const r = await this.call('lease/grant', { TTL: String(ttlSeconds) });
    return { id: String(r['ID']), ttl: num(r['TTL']) };
  }

  /** Revokes a lease, deleting its keys. */
  async revokeLease(id: string): Promise<number> {
    return headerRevision(await this.call('lease/revoke', { ID: id }));
  }

  /** `GET /version`: `{etcdserver, etcdcluster}`. */
  async version(): Promise<{ etcdserver: string; etcdcluster: string }> {
    return await this.request('GET', '/version') as { etcdserver: string; etcdcluster: string };
  }

  /** `GET /health`: true when etcd says `{"health":"true"}`. */
  async health(): Promise<boolean> {
    const r = await this.request('GET', '/health');
    return r['health'] === 'true';
  }

  // ---- watch ----

  /**
   * Watches every key under `prefix` from `startRevision` on (inclusive: events with mod_revision >=
   * startRevision; the apiserver passes resourceVersion + 1; 0 = from now). History after
   * startRevision is replayed first, then live events follow, in revision order, each with its
   * previous value. A compacted `startRevision` is reported through `onError` as an EtcdError with
   * code COMPACTED (the apiserver's 410 Gone); a broken stream as UNAVAILABLE. After `onError` the
   * watch is over; `stop()` ends it quietly.
   */
  watch(prefix: string, startRevision: number, onEvent: (e: EtcdWatchEvent) => void, onError: (e: EtcdError) => void): EtcdWatch {
    let req: ReturnType<typeof https.request> | undefined;
    let stopped = false;
    let created = false;
    let resolveReady!: (rev: number) => void;
    let rejectReady!: (e: EtcdError) => void;
    const ready = new Promise<number>((res, rej) => { resolveReady = res; rejectReady = rej; });
    ready.catch(() => undefined);
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      this.watches.delete(stop);
      req?.destroy();
    };
    const fail = (e: EtcdError): void => {
      if (stopped) return;
      stop();
      if (!created) rejectReady(e);
      onError(e);
    };
    this.watches.add(stop);
    const body = JSON.stringify({
      create_request: {
        key: b64(prefix), range_end: prefixRangeEnd(prefix).toString('base64'),
        ...(startRevision > 0 ? { start_revision: String(startRevision) } : {}), prev_kv: true,
      },
    });
    const onResult = (result: Json): void => {
      if (result['created'] === true && !created) {
        created = true;
        resolveReady(headerRevision(result));
      }
      if (result['canceled'] === true) {
        const compactRevision = num(result['compact_revision']);
        fail(compactRevision > 0
          ? new EtcdError('COMPACTED', `etcdserver: mvcc: required revision has been compacted (watch from ${startRevision}, compacted to ${compactRevision})`, { grpcCode: 11, compactRevision })
          : new EtcdError('SERVER_ERROR', `watch canceled by etcd${typeof result['cancel_reason'] === 'string' ? `: ${result['cancel_reason']}` : ''}`));
        return;
      }
      const events = Array.isArray(result['events']) ? (result['events'] as Json[]) : [];
      for (const e of events) {
        if (stopped) return;
        onEvent(decodeEvent(e));
      }
    };
    const attempt = (n: number): void => {
      if (stopped) return;
      const index = (this.current + n) % this.endpoints.length;
      const url = this.endpoints[index]!;
      let responded = false;
      req = https.request({
        host: hostOf(url), port: url.port || 2379, method: 'POST', path: '/v3/watch', agent: this.agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      }, (res) => {
        responded = true;
        this.current = index;
        if ((res.statusCode ?? 0) !== 200) {
          readAll(res).then((text) => fail(errorFrom(res.statusCode ?? 0, text)), (e: unknown) => fail(unavailable(url, e)));
          return;
        }
        onLines(res, (line) => {
          if (stopped) return false;
          let msg: Json;
          try {
            msg = JSON.parse(line) as Json;
          } catch {
            fail(new EtcdError('BAD_RESPONSE', `etcd watch: not JSON: ${line.slice(0, 200)}`));
            return false;
          }
          if (msg['error'] !== undefined) {
            const err = msg['error'] as Json;
            fail(new EtcdError('SERVER_ERROR', `etcd watch: ${String(err['message'] ?? JSON.stringify(err))}`, { grpcCode: num(err['grpc_code']) }));
            return false;
          }
          onResult((msg['result'] ?? {}) as Json);
          return true;
        });
        res.on('end', () => fail(new EtcdError('UNAVAILABLE', `etcd watch on ${url.origin}: the stream ended`)));
        res.on('error', (e) => fail(unavailable(url, e)));
        res.on('close', () => { if (!res.complete) fail(new EtcdError('UNAVAILABLE', `etcd watch on ${url.origin}: the connection closed`)); });
      });
      req.on('error', (e) => {
        if (stopped || responded) return;
        if (n + 1 < this.endpoints.length) attempt(n + 1);
        else fail(unavailable(url, e));
      });
      req.end(body);
    };
    attempt(0);
    return { ready, stop };
  }

  /** Stops every watch and closes every connection. */
  close(): void {
    this.closed = true;
    for (const wake of [...this.sleepers]) wake();
    for (const stop of [...this.watches]) stop();
    this.agent.destroy();
  }

  // ---- transport ----

  /** One gateway RPC (`kv/range`, `kv/txn`, ...), with endpoint failover; etcd's errors become EtcdError. */
  call(rpc: string, body: Json): Promise<Json> {
    return this.request('POST', `/v3/${rpc}`, body);
  }

  private async request(method: string, path: string, body?: Json, timeoutMs = this.timeoutMs): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    const readOnly = method === 'GET' || READ_ONLY_RPCS.has(path);
    let last: unknown;
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new EtcdError('UNAVAILABLE', 'etcd client: closed');
      let retryable = true;
      for (let n = 0; n < this.endpoints.length; n++) {
        const index = (this.current + n) % this.endpoints.length;
        try {
          const url = this.endpoints[index]!;
          const r = await this.slots.run(() => this.once(url, method, path, body, Math.max(1, deadline - Date.now()), true));
          this.current = index;
          return r;
        } catch (e) {
          if (!isConnectionError(e)) throw e;
          last = e;
          if (!readOnly && (e as EtcdError & { sent?: boolean }).sent) retryable = false;
          if (!isTransient(e)) retryable = false;
        }
      }
      const wait = this.retry ? Math.min(this.retry.maxMs, this.retry.initialMs * 2 ** attempt) * (0.9 + Math.random() * 0.2) : 0;
      if (!this.retry || !retryable || Date.now() + wait >= deadline) break;
      await new Promise<void>((resolve) => {
        const wake = (): void => { clearTimeout(timer); this.sleepers.delete(wake); resolve(); };
        const timer = setTimeout(wake, wait);
        this.sleepers.add(wake);
      });
    }
    throw last instanceof EtcdError ? last : new EtcdError('UNAVAILABLE', String(last));
  }

  /**
   * One call on one endpoint. A call on a kept-alive connection the server had closed as idle
   * (ECONNRESET before any answer) goes once more on a new connection, as Go's transport would.
   */
  private once(url: URL, method: string, path: string, body: Json | undefined, timeoutMs: number, retryReset: boolean): Promise<Json> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      let sent = false;
      const req = https.request({
        host: hostOf(url), port: url.port || 2379, method, path, agent: this.agent,
        headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      }, (res) => {
        readAll(res).then((text) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) { reject(errorFrom(status, text)); return; }
          try {
            resolve(JSON.parse(text) as Json);
          } catch {
            reject(new EtcdError('BAD_RESPONSE', `etcd ${url.origin}${path}: not JSON: ${text.slice(0, 200)}`, { httpStatus: status }));
          }
        }, (e: unknown) => reject(Object.assign(unavailable(url, e), { sent: true })));
      });
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer in ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('finish', () => { sent = true; });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (retryReset && req.reusedSocket && e.code === 'ECONNRESET' && !this.closed) resolve(this.once(url, method, path, body, timeoutMs, false));
        else reject(Object.assign(unavailable(url, e), { sent }));
      });
      req.end(payload);
    });
  }
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function unavailable(url: URL, e: unknown): EtcdError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const msg = e instanceof Error ? e.message : String(e);
  return new EtcdError('UNAVAILABLE', `etcd ${url.origin}: ${code ? `${code}: ` : ''}${msg}`, { cause: e });
}

/** The gateway's error body `{"error","message","code"}` as an EtcdError. */
function errorFrom(status: number, text: string): EtcdError {
  let parsed: Json | undefined;
  try { parsed = JSON.parse(text) as Json; } catch { /* not JSON */ }
  const message = typeof parsed?.['message'] === 'string' ? parsed['message'] : typeof parsed?.['error'] === 'string' ? parsed['error'] : text.trim() || `HTTP ${status}`;
  const grpcCode = typeof parsed?.['code'] === 'number' ? parsed['code'] : undefined;
  const code: EtcdErrorCode = /required revision has been compacted/.test(message) ? 'COMPACTED'
    : /required revision is a future revision/.test(message) ? 'FUTURE_REVISION'
    : /requested lease not found/.test(message) ? 'LEASE_NOT_FOUND'
    : 'SERVER_ERROR';
  return new EtcdError(code, message, { httpStatus: status, ...(grpcCode === undefined ? {} : { grpcCode }) });
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function modCompare(key: string, modRevision: number): Json {
  return { key: b64(key), target: 'MOD', result: 'EQUAL', mod_revision: String(modRevision) };
}

function putOp(key: string, value: string | Uint8Array, options: WriteOptions): Json {
  return { request_put: { key: b64(key), value: b64(value), ...(options.lease ? { lease: options.lease } : {}) } };
}

function casResult(r: Json, isDelete: boolean): CasResult {
  const succeeded = r['succeeded'] === true;
  const op = (Array.isArray(r['responses']) ? r['responses'][0] : undefined) as Json | undefined;
  let current: EtcdKv | undefined;
  if (succeeded && isDelete) {
    const prev = (op?.['response_delete_range'] as Json | undefined)?.['prev_kvs'];
    if (Array.isArray(prev) && prev.length > 0) current = decodeKv(prev[0]);
  } else if (!succeeded) {
    const kvs = (op?.['response_range'] as Json | undefined)?.['kvs'];
    if (Array.isArray(kvs) && kvs.length > 0) current = decodeKv(kvs[0]);
  }
  return { succeeded, revision: headerRevision(r), ...(current ? { current } : {}) };
}

function decodeEvent(e: Json): EtcdWatchEvent {
  const kv = decodeKv(e['kv']);
  const prevKv = e['prev_kv'] === undefined ? undefined : decodeKv(e['prev_kv']);
  return {
    type: e['type'] === 'DELETE' ? 'DELETE' : 'PUT', key: kv.key, value: kv.value, modRevision: kv.modRevision,
    createRevision: kv.createRevision, version: kv.version, kv,
    ...(prevKv ? { prevValue: prevKv.value, prevKv } : {}),
  };
}
