/**
 * etcd's MVCC key-value store, in memory, with the semantics of etcd 3.4's `mvcc` package and its
 * applier (`etcdserver/apply.go`):
 *
 * - One global revision. An empty store is at revision 1; every write transaction that changes
 *   something raises it by one, however many keys it touches; read-only transactions do not.
 * - Per key: `create_revision` (the revision that created this generation of the key),
 *   `mod_revision` (the last write), `version` (writes since creation, reset by a delete).
 * - Reads at a past `revision` until it is compacted: a read below the compacted revision fails with
 *   `mvcc: required revision has been compacted`, one above the current revision with
 *   `mvcc: required revision is a future revision`.
 * - Compaction at C keeps, for every key, its latest state at or below C (unless that is a delete)
 *   and everything after.
 * - Watches replay the history from their start revision and then stream live events in revision
 *   order; a start revision below the compacted revision is refused with the compacted revision.
 * - Leases: keys attached to a lease are deleted, in one revision, when it is revoked or expires.
 *
 * Keys are handled internally as latin1 strings (one char per byte) so that JavaScript's string order
 * is etcd's byte order. No I/O and no timers here: the component drives lease expiry, and persistence
 * (wal.ts) is a `journal` that sees every change as a record (`JournalRecord`) in the order it
 * happened; `exportState`/`importState` and `replay` are what a snapshot and a recovery need.
 */
import { randomBytes } from 'node:crypto';
import { KubeSimError } from '../../pki/errors.js';

/** gRPC status codes that etcd's errors carry (google.golang.org/grpc/codes). */
export const GrpcCode = {
  OK: 0, Canceled: 1, Unknown: 2, InvalidArgument: 3, DeadlineExceeded: 4, NotFound: 5, AlreadyExists: 6,
  PermissionDenied: 7, ResourceExhausted: 8, FailedPrecondition: 9, Aborted: 10, OutOfRange: 11,
  Unimplemented: 12, Internal: 13, Unavailable: 14, DataLoss: 15, Unauthenticated: 16,
} as const;
export type GrpcCodeValue = (typeof GrpcCode)[keyof typeof GrpcCode];

export type StoreErrorCode =
  | 'COMPACTED' // the revision asked for has been compacted away
  | 'FUTURE_REVISION' // the revision asked for is above the current one
  | 'EMPTY_KEY' // a request without a key
  | 'DUPLICATE_KEY' // a txn that writes one key twice
  | 'TOO_MANY_OPS' // a txn with more compares or ops in a branch than --max-txn-ops
  | 'LEASE_NOT_FOUND'
  | 'LEASE_EXISTS'
  | 'LEASE_TTL_TOO_LARGE';

/** The words etcd's rpctypes use, and the gRPC code each is sent with. */
const STORE_ERRORS: Record<StoreErrorCode, { message: string; grpc: GrpcCodeValue }> = {
  COMPACTED: { message: 'etcdserver: mvcc: required revision has been compacted', grpc: GrpcCode.OutOfRange },
  FUTURE_REVISION: { message: 'etcdserver: mvcc: required revision is a future revision', grpc: GrpcCode.OutOfRange },
  EMPTY_KEY: { message: 'etcdserver: key is not provided', grpc: GrpcCode.InvalidArgument },
  DUPLICATE_KEY: { message: 'etcdserver: duplicate key given in txn request', grpc: GrpcCode.InvalidArgument },
  TOO_MANY_OPS: { message: 'etcdserver: too many operations in txn request', grpc: GrpcCode.InvalidArgument },
  LEASE_NOT_FOUND: { message: 'etcdserver: requested lease not found', grpc: GrpcCode.NotFound },
  LEASE_EXISTS: { message: 'etcdserver: lease already exists', grpc: GrpcCode.FailedPrecondition },
  LEASE_TTL_TOO_LARGE: { message: 'etcdserver: too large lease TTL', grpc: GrpcCode.OutOfRange },
};

/** An error of the store, with etcd's message and gRPC code. */
export class StoreError extends KubeSimError<StoreErrorCode> {
  readonly grpcCode: GrpcCodeValue;

  constructor(code: StoreErrorCode) {
    super(code, STORE_ERRORS[code].message);
    this.grpcCode = STORE_ERRORS[code].grpc;
  }
}

export interface KeyValue {
  readonly key: Buffer;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly value: Buffer;
  /** The lease ID, 0n for none. */
  readonly lease: bigint;
}

export interface MvccEvent {
  readonly type: 'PUT' | 'DELETE';
  /** For a DELETE, the tombstone: key and mod_revision only. */
  readonly kv: KeyValue;
  /** The key's state just before this event, when it existed. */
  readonly prevKv?: KeyValue;
}

export interface RangeOptions {
  /** 0 or absent: the current revision. */
  readonly revision?: number;
  /** 0 or absent: no limit. */
  readonly limit?: number;
  readonly countOnly?: boolean;
  readonly keysOnly?: boolean;
}

export interface RangeResult {
  readonly kvs: KeyValue[];
  /** Keys in the range at that revision, before `limit`. */
  readonly count: number;
  readonly more: boolean;
  /** The header revision etcd reports: the store's (or the write txn's) current revision. */
  readonly revision: number;
}

export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';
export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';

export interface Compare {
  readonly key: Buffer;
  /** Empty: the one key. `\0`: every key >= key. Otherwise [key, rangeEnd). */
  readonly rangeEnd: Buffer;
  readonly target: CompareTarget;
  readonly result: CompareResult;
  /** The operand: a revision/version number, a value, or a lease ID. */
  readonly operand: number | Buffer | bigint;
}

export type RequestOp =
  | { readonly op: 'range'; readonly key: Buffer; readonly rangeEnd: Buffer; readonly options: RangeOptions }
  | { readonly op: 'put'; readonly key: Buffer; readonly value: Buffer; readonly lease: bigint; readonly prevKv: boolean }
  | { readonly op: 'delete'; readonly key: Buffer; readonly rangeEnd: Buffer; readonly prevKv: boolean };

export type ResponseOp =
  | { readonly op: 'range'; readonly result: RangeResult }
  | { readonly op: 'put'; readonly revision: number; readonly prevKv?: KeyValue }
  | { readonly op: 'delete'; readonly revision: number; readonly deleted: number; readonly prevKvs?: KeyValue[] };

export interface TxnResult {
  readonly succeeded: boolean;
  readonly responses: ResponseOp[];
  /** The revision after the txn (raised only if it wrote something). */
  readonly revision: number;
}

export interface WatchOptions {
  readonly key: Buffer;
  readonly rangeEnd: Buffer;
  /** 0: from the next revision. Otherwise every event with mod_revision >= startRevision. */
  readonly startRevision: number;
  readonly noPut?: boolean;
  readonly noDelete?: boolean;
}

/** Events of one or more revisions, in order, and the header revision to send them with. */
export interface WatchBatch {
  readonly events: MvccEvent[];
  readonly revision: number;
}

export type WatchStart =
  | { readonly compacted: true; readonly compactRevision: number }
  | { readonly compacted: false; readonly revision: number; readonly replay: WatchBatch[]; cancel(): void };

export interface LeaseInfo {
  readonly id: bigint;
  readonly grantedTtl: number;
  /** Seconds left, rounded up; -1 when not found. */
  readonly ttl: number;
  readonly keys: Buffer[];
}

/** etcd sends replayed history in batches of at most this many revisions (watchBatchMaxRevs). */
const WATCH_BATCH_MAX_REVS = 1000;
/** etcd's lessor refuses TTLs above this (MaxLeaseTTL, 9000000000 s). */
const MAX_LEASE_TTL = 9_000_000_000;

/** One entry of a key's history: its state from `rev` on (null: deleted). */
interface KeyRev {
  readonly rev: number;
  readonly kv: KeyValue | null;
}

interface Watcher {
  readonly start: number;
  readonly key: string;
  readonly end: string;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly deliver: (batch: WatchBatch) => void;
}

interface Lease {
  readonly id: bigint;
  readonly ttl: number;
  expiresAtMs: number;
  readonly keys: Set<string>;
}

const str = (b: Buffer): string => b.toString('latin1');
const buf = (s: string): Buffer => Buffer.from(s, 'latin1');
const ZERO_KV: KeyValue = { key: Buffer.alloc(0), createRevision: 0, modRevision: 0, version: 0, value: Buffer.alloc(0), lease: 0n };

/** A range as etcd reads `range_end`: [] → the key alone, [0] → everything from key, else [key, end). */
export interface KeyRange { readonly key: string; readonly end: string | 'single' | 'all-from' }

function toRange(key: Buffer, rangeEnd: Buffer): KeyRange {
  if (rangeEnd.length === 0) return { key: str(key), end: 'single' };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { key: str(key), end: 'all-from' };
  return { key: str(key), end: str(rangeEnd) };
}

function inRange(k: string, r: KeyRange): boolean {
  if (r.end === 'single') return k === r.key;
  if (r.end === 'all-from') return k >= r.key;
  return k >= r.key && k < r.end;
}

/**
 * One change, as the journal (the write-ahead log) records it. Values and lease IDs as strings so a
 * record is plain JSON: `k` a key (latin1), `v` a value (base64), `l` a lease ID (decimal, absent: none).
 */
export type JournalRecord =
  | { readonly t: 'w'; readonly rev: number; readonly ops: ReadonlyArray<{ readonly k: string; readonly v?: string; readonly l?: string }> }
  | { readonly t: 'c'; readonly rev: number }
  | { readonly t: 'g'; readonly id: string; readonly ttl: number }
  | { readonly t: 'r'; readonly id: string };

/** The whole store as plain JSON: what a snapshot holds. */
export interface StoreState {
  readonly rev: number;
  readonly compactRev: number;
  /** Per key (latin1), its history: [rev, null] a deletion, [rev, createRevision, version, value base64, lease]. */
  readonly keys: ReadonlyArray<readonly [string, ReadonlyArray<readonly [number, null] | readonly [number, number, number, string, string]>]>;
  readonly leases: ReadonlyArray<readonly [string, number]>;
}

/** The store. Synchronous: every method is one atomic step. */
export class MvccStore {
  private rev = 1;
  private compactRev = 0;
  private readonly keys = new Map<string, KeyRev[]>();
  /** Every key that has a history, sorted (byte order). */
  private readonly sorted: string[] = [];
  /** The event log, one entry per write revision, oldest first (trimmed by compaction). */
  private readonly history: WatchBatch[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly leases = new Map<bigint, Lease>();
  private readonly now: () => number;
  /** Sees every change once it is made (the write-ahead log); undefined: in memory only. */
  journal: ((record: JournalRecord) => void) | undefined;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  get revision(): number {
    return this.rev;
  }

  get compactRevision(): number {
    return this.compactRev;
  }

  /** A plain range read (the RPC `Range`). */
  range(key: Buffer, rangeEnd: Buffer, options: RangeOptions = {}): RangeResult {
    if (key.length === 0) throw new StoreError('EMPTY_KEY');
    return this.rangeAt(toRange(key, rangeEnd), options, this.rev);
  }

  put(key: Buffer, value: Buffer, options: { lease?: bigint; prevKv?: boolean } = {}): { revision: number; prevKv?: KeyValue } {
    const r = this.txn([], [{ op: 'put', key, value, lease: options.lease ?? 0n, prevKv: options.prevKv ?? false }], []);
    const op = r.responses[0];
    if (op?.op !== 'put') throw new Error('unreachable');
    return { revision: op.revision, ...(op.prevKv ? { prevKv: op.prevKv } : {}) };
  }

  deleteRange(key: Buffer, rangeEnd: Buffer, options: { prevKv?: boolean } = {}): { revision: number; deleted: number; prevKvs?: KeyValue[] } {
    const r = this.txn([], [{ op: 'delete', key, rangeEnd, prevKv: options.prevKv ?? false }], []);
    const op = r.responses[0];
    if (op?.op !== 'delete') throw new Error('unreachable');
    return { revision: r.revision, deleted: op.deleted, ...(op.prevKvs ? { prevKvs: op.prevKvs } : {}) };
  }

  /**
   * A transaction: every compare is checked against the current state; then `success` or `failure`
   * runs as one write at one revision. Validation (empty keys, duplicate keys, unknown leases, bad
   * range revisions) happens before anything is written, as etcd's applier does.
   */
  txn(compare: readonly Compare[], success: readonly RequestOp[], failure: readonly RequestOp[]): TxnResult {
    for (const c of compare) if (c.key.length === 0) throw new StoreError('EMPTY_KEY');
    for (const op of [...success, ...failure]) if (op.key.length === 0) throw new StoreError('EMPTY_KEY');
    checkDuplicates(success);
    checkDuplicates(failure);
    const succeeded = compare.every((c) => this.compare(c));
    const ops = succeeded ? success : failure;
    for (const op of ops) {
      if (op.op === 'put' && op.lease !== 0n && !this.leases.has(op.lease)) throw new StoreError('LEASE_NOT_FOUND');
      if (op.op === 'range' && op.options.revision) {
        if (op.options.revision > this.rev) throw new StoreError('FUTURE_REVISION');
        if (op.options.revision < this.compactRev) throw new StoreError('COMPACTED');
      }
    }
    const w = new WriteTxn(this.rev);
    const responses = ops.map((op): ResponseOp => {
      switch (op.op) {
        case 'range':
          return { op: 'range', result: this.rangeAt(toRange(op.key, op.rangeEnd), op.options, w.readRev()) };
        case 'put': {
          const prev = this.latest(str(op.key));
          this.write(w, str(op.key), op.value, op.lease);
          return { op: 'put', revision: w.begin + 1, ...(op.prevKv && prev ? { prevKv: prev } : {}) };
        }
        case 'delete': {
          const r = toRange(op.key, op.rangeEnd);
          const victims = this.liveKeys(r);
          const prevKvs = op.prevKv ? victims.map((k) => this.latest(k)).filter((kv): kv is KeyValue => kv !== undefined) : undefined;
          for (const k of victims) this.tombstone(w, k);
          return { op: 'delete', revision: w.events.length > 0 ? w.begin + 1 : w.begin, deleted: victims.length, ...(prevKvs ? { prevKvs } : {}) };
        }
      }
    });
    return { succeeded, responses, revision: this.commit(w) };
  }

  /** Compacts history below `revision`. Errors as etcd: future revision, or already compacted. */
  compact(revision: number): { revision: number } {
    if (revision > this.rev) throw new StoreError('FUTURE_REVISION');
    if (revision <= this.compactRev) throw new StoreError('COMPACTED');
    this.compactRev = revision;
    for (const [k, revs] of this.keys) {
      let i = -1;
      for (let j = revs.length - 1; j >= 0; j--) if (revs[j]!.rev <= revision) { i = j; break; }
      if (i < 0) continue;
      const keepFrom = revs[i]!.kv === null ? i + 1 : i;
      revs.splice(0, keepFrom);
      if (revs.length === 0) {
        this.keys.delete(k);
        const at = lowerBound(this.sorted, k);
        if (this.sorted[at] === k) this.sorted.splice(at, 1);
      }
    }
    let drop = 0;
    while (drop < this.history.length && this.history[drop]!.revision < revision) drop++;
    this.history.splice(0, drop);
    this.journal?.({ t: 'c', rev: revision });
    return { revision: this.rev };
  }

  /**
   * Starts a watch. Synchronously collects the history from `startRevision` (the replay) and
   * registers for every later revision, so that nothing falls between the two.
   */
  watch(options: WatchOptions, deliver: (batch: WatchBatch) => void): WatchStart {
    const start = options.startRevision > 0 ? options.startRevision : this.rev + 1;
    if (start < this.compactRev) return { compacted: true, compactRevision: this.compactRev };
    const r = toRange(options.key, options.rangeEnd);
    const watcher: Watcher = {
      start, key: r.key, end: r.end, noPut: options.noPut ?? false, noDelete: options.noDelete ?? false, deliver,
    };
    const events: MvccEvent[] = [];
    const replay: WatchBatch[] = [];
    let revs = 0;
    for (const h of this.history) {
      if (h.revision < start) continue;
      const matching = this.match(watcher, h.events);
      if (matching.length === 0) continue;
      events.push(...matching);
      if (++revs >= WATCH_BATCH_MAX_REVS) {
        replay.push({ events: events.splice(0), revision: this.rev });
        revs = 0;
      }
    }
    if (events.length > 0) replay.push({ events, revision: this.rev });
    this.watchers.add(watcher);
    return { compacted: false, revision: this.rev, replay, cancel: () => { this.watchers.delete(watcher); } };
  }

  /** Number of live watchers (for tests and leak checks). */
  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Drops every watcher (the component is stopping). */
  cancelAllWatches(): void {
    this.watchers.clear();
  }

  /** Grants a lease. `id` 0n: the store picks one. TTL below `minTtl` is raised to it, as etcd's lessor does. */
  grantLease(id: bigint, ttl: number, minTtl = 0): { id: bigint; ttl: number } {
    if (ttl > MAX_LEASE_TTL) throw new StoreError('LEASE_TTL_TOO_LARGE');
    let leaseId = id;
    if (leaseId === 0n) {
      do leaseId = randomBytes(8).readBigInt64BE() & 0x7fff_ffff_ffff_ffffn; while (leaseId === 0n || this.leases.has(leaseId));
    } else if (this.leases.has(leaseId)) {
      throw new StoreError('LEASE_EXISTS');
    }
    const effective = Math.max(ttl, minTtl);
    this.leases.set(leaseId, { id: leaseId, ttl: effective, expiresAtMs: this.now() + effective * 1000, keys: new Set() });
    this.journal?.({ t: 'g', id: leaseId.toString(), ttl: effective });
    return { id: leaseId, ttl: effective };
  }

  /** Revokes a lease, deleting its keys in one revision. */
  revokeLease(id: bigint): { revision: number } {
    const lease = this.leases.get(id);
    if (!lease) throw new StoreError('LEASE_NOT_FOUND');
    this.leases.delete(id);
    const w = new WriteTxn(this.rev);
    for (const k of [...lease.keys].sort()) if (this.latest(k)) this.tombstone(w, k);
    const revision = this.commit(w);
    this.journal?.({ t: 'r', id: id.toString() });
    return { revision };
  }

  /** Renews a lease for its full TTL; returns the TTL, or throws LEASE_NOT_FOUND. */
  keepAlive(id: bigint): number {
    const lease = this.leases.get(id);
    if (!lease) throw new StoreError('LEASE_NOT_FOUND');
    lease.expiresAtMs = this.now() + lease.ttl * 1000;
    return lease.ttl;
  }

  leaseTimeToLive(id: bigint): LeaseInfo {
    const lease = this.leases.get(id);
    if (!lease) return { id, grantedTtl: 0, ttl: -1, keys: [] };
    const left = Math.max(0, Math.ceil((lease.expiresAtMs - this.now()) / 1000));
    return { id, grantedTtl: lease.ttl, ttl: left, keys: [...lease.keys].sort().map(buf) };
  }

  leaseIds(): bigint[] {
    return [...this.leases.keys()];
  }

  /** Revokes every lease whose time is up. Returns how many expired. */
  expireLeases(): number {
    const now = this.now();
    let n = 0;
    for (const lease of [...this.leases.values()]) {
      if (lease.expiresAtMs <= now) {
        this.revokeLease(lease.id);
        n++;
      }
    }
    return n;
  }

  // ---- persistence ----

  /**
   * Applies a journal record on recovery, as the original change did (the journal is not called).
   * Leases come back with their full TTL from now, as etcd's lessor refreshes every lease when a
   * member becomes leader again after a restart.
   */
  replay(record: JournalRecord): void {
    const journal = this.journal;
    this.journal = undefined;
    try {
      switch (record.t) {
        case 'w': {
          if (record.rev !== this.rev + 1) throw new Error(`write at revision ${record.rev} after revision ${this.rev}`);
          const w = new WriteTxn(this.rev);
          for (const op of record.ops) {
            if (op.v === undefined) this.tombstone(w, op.k);
            else this.write(w, op.k, Buffer.from(op.v, 'base64'), op.l === undefined ? 0n : BigInt(op.l));
          }
          this.commit(w);
          break;
        }
        case 'c':
          if (record.rev > this.compactRev) this.compact(record.rev);
          break;
        case 'g': {
          const id = BigInt(record.id);
          if (!this.leases.has(id)) this.grantLease(id, record.ttl);
          break;
        }
        case 'r':
          this.leases.delete(BigInt(record.id));
          break;
      }
    } finally {
      this.journal = journal;
    }
  }

  /** The whole state (keys with their uncompacted history, leases), for a snapshot. */
  exportState(): StoreState {
    const keys: Array<[string, Array<readonly [number, null] | readonly [number, number, number, string, string]>]> = [];
    for (const k of this.sorted) {
      const revs = this.keys.get(k)!;
      keys.push([k, revs.map((r) => (r.kv === null ? [r.rev, null] as const
        : [r.rev, r.kv.createRevision, r.kv.version, r.kv.value.toString('base64'), r.kv.lease.toString()] as const))]);
    }
    return { rev: this.rev, compactRev: this.compactRev, keys, leases: [...this.leases.values()].map((l) => [l.id.toString(), l.ttl] as const) };
  }

  /**
   * Loads a snapshot into an empty store. The watch history (what a watch from an old revision
   * replays) is rebuilt from the keys' histories: events of one revision come back in key order,
   * where the original transaction had them in the order of its operations (the apiserver writes
   * one key per transaction, so it never sees the difference).
   */
  importState(state: StoreState): void {
    if (this.rev !== 1 || this.keys.size > 0) throw new Error('importState: the store is not empty');
    this.rev = state.rev;
    this.compactRev = state.compactRev;
    for (const [id, ttl] of state.leases) {
      const lid = BigInt(id);
      this.leases.set(lid, { id: lid, ttl, expiresAtMs: this.now() + ttl * 1000, keys: new Set() });
    }
    const byRev = new Map<number, MvccEvent[]>();
    for (const [k, revs] of state.keys) {
      const key = buf(k);
      const entries: KeyRev[] = revs.map((r) => ({
        rev: r[0],
        kv: r[1] === null ? null : { key, createRevision: r[1], modRevision: r[0], version: r[2], value: Buffer.from(r[3], 'base64'), lease: BigInt(r[4]) },
      }));
      this.keys.set(k, entries);
      this.sorted.push(k);
      const last = entries[entries.length - 1]?.kv;
      if (last && last.lease !== 0n) this.leases.get(last.lease)?.keys.add(k);
      entries.forEach((e, i) => {
        if (e.rev < this.compactRev) return;
        const prev = i > 0 ? entries[i - 1]!.kv ?? undefined : undefined;
        const ev: MvccEvent = e.kv === null
          ? { type: 'DELETE', kv: { ...ZERO_KV, key, modRevision: e.rev }, ...(prev ? { prevKv: prev } : {}) }
          : { type: 'PUT', kv: e.kv, ...(prev ? { prevKv: prev } : {}) };
        let list = byRev.get(e.rev);
        if (!list) byRev.set(e.rev, list = []);
        list.push(ev);
      });
    }
    this.sorted.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const rev of [...byRev.keys()].sort((a, b) => a - b)) this.history.push({ events: byRev.get(rev)!, revision: rev });
  }

  // ---- internals ----

  private latest(k: string): KeyValue | undefined {
    const revs = this.keys.get(k);
    return revs?.[revs.length - 1]?.kv ?? undefined;
  }

  private at(k: string, rev: number): KeyValue | undefined {
    const revs = this.keys.get(k);
    if (!revs) return undefined;
    for (let i = revs.length - 1; i >= 0; i--) if (revs[i]!.rev <= rev) return revs[i]!.kv ?? undefined;
    return undefined;
  }

  private keysIn(r: KeyRange): string[] {
    if (r.end === 'single') return this.keys.has(r.key) ? [r.key] : [];
    const out: string[] = [];
    for (let i = lowerBound(this.sorted, r.key); i < this.sorted.length; i++) {
      const k = this.sorted[i]!;
      if (r.end !== 'all-from' && k >= r.end) break;
      out.push(k);
    }
    return out;
  }

  private liveKeys(r: KeyRange): string[] {
    return this.keysIn(r).filter((k) => this.latest(k) !== undefined);
  }

  private rangeAt(r: KeyRange, options: RangeOptions, currentRev: number): RangeResult {
    let rev = options.revision ?? 0;
    if (rev > currentRev) throw new StoreError('FUTURE_REVISION');
    if (rev <= 0) rev = currentRev;
    if (rev < this.compactRev) throw new StoreError('COMPACTED');
    const all: KeyValue[] = [];
    for (const k of this.keysIn(r)) {
      const kv = this.at(k, rev);
      if (kv) all.push(kv);
    }
    const limit = options.limit ?? 0;
    const kept = options.countOnly ? [] : limit > 0 ? all.slice(0, limit) : all;
    return {
      kvs: options.keysOnly ? kept.map((kv) => ({ ...kv, value: Buffer.alloc(0) })) : kept,
      count: all.length,
      more: !options.countOnly && limit > 0 && all.length > limit,
      revision: currentRev,
    };
  }

  private compare(c: Compare): boolean {
    const kvs = this.keysIn(toRange(c.key, c.rangeEnd)).map((k) => this.latest(k)).filter((kv): kv is KeyValue => kv !== undefined);
    if (kvs.length === 0) return c.target === 'VALUE' ? false : compareKv(c, ZERO_KV);
    return kvs.every((kv) => compareKv(c, kv));
  }

  private write(w: WriteTxn, k: string, value: Buffer, lease: bigint): void {
    const revs = this.keys.get(k);
    const prev = this.latest(k);
    const rev = w.begin + 1;
    const kv: KeyValue = {
      key: buf(k), createRevision: prev ? prev.createRevision : rev, modRevision: rev,
      version: prev ? prev.version + 1 : 1, value: Buffer.from(value), lease,
    };
    if (prev && prev.lease !== 0n && prev.lease !== lease) this.leases.get(prev.lease)?.keys.delete(k);
    if (lease !== 0n) this.leases.get(lease)?.keys.add(k);
    this.append(k, revs, { rev, kv });
    w.events.push({ type: 'PUT', kv, ...(prev ? { prevKv: prev } : {}) });
  }

  private tombstone(w: WriteTxn, k: string): void {
    const prev = this.latest(k);
    if (!prev) return;
    const rev = w.begin + 1;
    if (prev.lease !== 0n) this.leases.get(prev.lease)?.keys.delete(k);
    this.append(k, this.keys.get(k), { rev, kv: null });
    w.events.push({ type: 'DELETE', kv: { ...ZERO_KV, key: buf(k), modRevision: rev }, prevKv: prev });
  }

  private append(k: string, revs: KeyRev[] | undefined, entry: KeyRev): void {
    if (!revs) {
      this.keys.set(k, [entry]);
      this.sorted.splice(lowerBound(this.sorted, k), 0, k);
      return;
    }
    const last = revs[revs.length - 1];
    if (last && last.rev === entry.rev) revs[revs.length - 1] = entry;
    else revs.push(entry);
  }

  /** Ends a write: raises the revision if anything changed, logs the events and notifies watchers. */
  private commit(w: WriteTxn): number {
    if (w.events.length === 0) return this.rev;
    this.rev = w.begin + 1;
    const batch: WatchBatch = { events: w.events, revision: this.rev };
    this.history.push(batch);
    this.journal?.({
      t: 'w', rev: this.rev,
      ops: w.events.map((e) => (e.type === 'DELETE' ? { k: str(e.kv.key) } : {
        k: str(e.kv.key), v: e.kv.value.toString('base64'), ...(e.kv.lease !== 0n ? { l: e.kv.lease.toString() } : {}),
      })),
    });
    for (const watcher of [...this.watchers]) {
      if (!this.watchers.has(watcher) || watcher.start > this.rev) continue;
      const events = this.match(watcher, batch.events);
      if (events.length > 0) watcher.deliver({ events, revision: this.rev });
    }
    return this.rev;
  }

  private match(w: Watcher, events: readonly MvccEvent[]): MvccEvent[] {
    const r: KeyRange = { key: w.key, end: w.end };
    return events.filter((e) => inRange(str(e.kv.key), r) && !(e.type === 'PUT' && w.noPut) && !(e.type === 'DELETE' && w.noDelete));
  }
}

/** A write in progress: the revision it started from and the events it made. */
class WriteTxn {
  readonly events: MvccEvent[] = [];
  constructor(readonly begin: number) {}

  /** What a read inside this txn sees as the current revision (etcd's storeTxnWrite.Range). */
  readRev(): number {
    return this.events.length > 0 ? this.begin + 1 : this.begin;
  }
}

function compareKv(c: Compare, kv: KeyValue): boolean {
  let result: number;
  switch (c.target) {
    case 'VALUE':
      result = Buffer.compare(kv.value, c.operand instanceof Buffer ? c.operand : Buffer.alloc(0));
      break;
    case 'LEASE': {
      const want = typeof c.operand === 'bigint' ? c.operand : 0n;
      result = kv.lease < want ? -1 : kv.lease > want ? 1 : 0;
      break;
    }
    default: {
      const have = c.target === 'CREATE' ? kv.createRevision : c.target === 'MOD' ? kv.modRevision : kv.version;
      const want = typeof c.operand === 'number' ? c.operand : 0;
      result = Math.sign(have - want);
    }
  }
  switch (c.result) {
    case 'EQUAL': return result === 0;
    case 'NOT_EQUAL': return result !== 0;
    case 'GREATER': return result > 0;
    case 'LESS': return result < 0;
  }
}

/** etcd refuses a txn branch that puts one key twice, or puts a key that a delete in it covers. */
function checkDuplicates(ops: readonly RequestOp[]): void {
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.op !== 'put') continue;
    const k = str(op.key);
    if (puts.has(k)) throw new StoreError('DUPLICATE_KEY');
    puts.add(k);
  }
  for (const op of ops) {
    if (op.op !== 'delete') continue;
    const r = toRange(op.key, op.rangeEnd);
    for (const k of puts) if (inRange(k, r)) throw new StoreError('DUPLICATE_KEY');
  }
}

function lowerBound(a: readonly string[], k: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
