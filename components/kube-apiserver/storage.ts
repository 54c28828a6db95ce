/**
 * Objects in etcd, as the real apiserver's etcd3 store keeps them: one JSON value per key
 * (`/registry/<resource>/<namespace>/<name>`), metadata.resourceVersion = the key's mod_revision (it
 * is never stored: the store strips it before writing and sets it from etcd on every read), a list's
 * resourceVersion = the revision of the read. Creates are a transaction on `MOD == 0`, updates on
 * `MOD == <the revision read>` ("GuaranteedUpdate"), so concurrent writers meet 409 Conflict instead of
 * losing updates.
 *
 * Every write takes `dryRun` (the request's `?dryRun=All`), as the real registry's
 * DryRunnableStorage does: the object is read and checked exactly as for a real write (AlreadyExists,
 * NotFound, preconditions, the update function with its admission and validation), and the answer is
 * what would have been stored, but nothing is written: no revision, no watch event.
 *
 * The backend is a narrow key-value interface (`KvBackend`); `etcd-backend.ts` adapts the etcd
 * client to it and tests may give it an in-memory one.
 */
import type { KubeObject } from '../api/types.js';
import { alreadyExists, conflict, notFound, OBJECT_MODIFIED, expired } from '../api/errors.js';
import { groupResource, type ResourceDef } from '../api/resources.js';
import { storageKey } from './routes.js';
import { KubeSimError } from '../../pki/errors.js';

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
}

export interface KvEvent {
  readonly type: 'put' | 'delete';
  /** For a delete: the key with the deletion's revision as modRevision and an empty value. */
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue;
}

/** Compare-and-swap result: `succeeded` false carries what is there now (if anything). */
export interface TxnResult {
  readonly succeeded: boolean;
  readonly revision: number;
  readonly current?: KeyValue;
}

export interface KvWatchHandle {
  cancel(): void;
}

export class KvCompactedError extends KubeSimError<'COMPACTED'> {
  readonly compactRevision: number;
  readonly requested: number;

  constructor(requested: number, compactRevision: number) {
    super('COMPACTED', `mvcc: required revision has been compacted (requested ${requested}, compacted ${compactRevision})`);
    this.requested = requested;
    this.compactRevision = compactRevision;
  }
}

export interface KvBackend {
  get(key: string): Promise<{ kv: KeyValue | undefined; revision: number }>;
  list(prefix: string): Promise<{ kvs: KeyValue[]; revision: number }>;
  /** Puts `value` only if `key` does not exist (txn compare MOD == 0). */
  create(key: string, value: string): Promise<TxnResult>;
  /** Puts `value` only if `key`'s mod_revision is `modRevision`. */
  update(key: string, value: string, modRevision: number): Promise<TxnResult>;
  /** Deletes `key` only if its mod_revision is `modRevision`; `current` is the deleted pair on success. */
  delete(key: string, modRevision: number): Promise<TxnResult>;
  /**
   * Streams every change under `prefix` from `fromRevision` (inclusive) on, in revision order, with the
   * previous value. A compacted `fromRevision` is reported through `onError` as a KvCompactedError.
   */
  watch(prefix: string, fromRevision: number, onEvent: (events: readonly KvEvent[]) => void, onError: (err: Error) => void): KvWatchHandle;
}

export interface Stored<T extends KubeObject = KubeObject> {
  readonly object: T;
  readonly modRevision: number;
}

/** Decodes a stored value and stamps it with its revision. */
export function decode<T extends KubeObject>(kv: KeyValue, revision = kv.modRevision): T {
  const obj = JSON.parse(kv.value) as T;
  obj.metadata = { ...obj.metadata, resourceVersion: String(revision) };
  return obj;
}

/** Encodes an object for storage: resourceVersion is never stored. */
export function encode(obj: KubeObject): string {
  const { resourceVersion: _rv, ...metadata } = obj.metadata;
  return JSON.stringify({ ...obj, metadata });
}

const MAX_RETRIES = 16;

/** `?dryRun=All`: do everything a write does except writing. */
export interface DryRunOption {
  readonly dryRun?: boolean;
}

export interface StoreOptions {
  /**
   * Where update() takes its first guess at an object's current state (the watch cache), instead of an
   * etcd read: the compare-and-swap confirms it, and a guess that turns out stale is re-read from etcd.
   */
  readonly cached?: (def: ResourceDef, key: string) => KeyValue | undefined;
}

export class Store {
  readonly kv: KvBackend;
  private readonly cached: ((def: ResourceDef, key: string) => KeyValue | undefined) | undefined;

  constructor(kv: KvBackend, options: StoreOptions = {}) {
    this.kv = kv;
    this.cached = options.cached;
  }

  async get<T extends KubeObject>(def: ResourceDef, namespace: string | undefined, name: string): Promise<T> {
    const { kv } = await this.kv.get(storageKey(def, namespace, name));
    if (!kv) throw notFound(groupResource(def), name);
    return decode<T>(kv);
  }

  async tryGet<T extends KubeObject>(def: ResourceDef, namespace: string | undefined, name: string): Promise<T | undefined> {
    const { kv } = await this.kv.get(storageKey(def, namespace, name));
    return kv ? decode<T>(kv) : undefined;
  }

  /** Every object of a resource (in one namespace, or all); `revision` is the read's etcd revision. */
  async list<T extends KubeObject>(def: ResourceDef, namespace: string | undefined): Promise<{ items: T[]; revision: number }> {
    const { kvs, revision } = await this.kv.list(storageKey(def, def.namespaced ? namespace : undefined));
    return { items: kvs.map((kv) => decode<T>(kv)), revision };
  }

  /**
   * Creates `obj` (txn on MOD == 0). A dry run answers AlreadyExists as a real create would and else
   * returns the object as given: it has no resourceVersion, since no revision was made for it.
   */
  async create<T extends KubeObject>(def: ResourceDef, obj: T, options: DryRunOption = {}): Promise<T> {
    const name = obj.metadata.name ?? '';
    const key = storageKey(def, obj.metadata.namespace, name);
    if (options.dryRun) {
      if ((await this.kv.get(key)).kv) throw alreadyExists(groupResource(def), name);
      return obj;
    }
    const r = await this.kv.create(key, encode(obj));
    if (!r.succeeded) throw alreadyExists(groupResource(def), name);
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(r.revision) } };
  }

  /**
   * Writes `obj` over the stored object. With `obj.metadata.resourceVersion` set the write happens only
   * if it is still the stored revision (else 409 Conflict); without it the write is unconditional
   * (retried against whatever is current), as for resources that allow unconditional update.
   * A dry run runs `mutate` (and so admission and validation) on the stored object and returns its
   * result unwritten, with the resourceVersion it carries (GuaranteedUpdate's dry-run branch).
   */
  async update<T extends KubeObject>(def: ResourceDef, namespace: string | undefined, name: string, mutate: (current: T) => T | Promise<T>, options: { expectedRv?: string } & DryRunOption = {}): Promise<{ object: T; previous: T }> {
    const key = storageKey(def, namespace, name);
    const gr = groupResource(def);
    // As etcd3's GuaranteedUpdate: start from the cached state when there is one (origStateIsCurrent
    // false); anything decided on it that is not a successful swap (NotFound aside, a failed
    // precondition, an error from mutate, "nothing changed", a dry run) is decided again on etcd's state.
    let kv = this.cached?.(def, key);
    let fresh = kv === undefined;
    if (fresh) kv = (await this.kv.get(key)).kv;
    const refresh = async (): Promise<void> => { kv = (await this.kv.get(key)).kv; fresh = true; };
    for (let i = 0; i < MAX_RETRIES; i++) {
      if (!kv) throw notFound(gr, name);
      const current = decode<T>(kv);
      if (options.expectedRv !== undefined && options.expectedRv !== String(kv.modRevision)) {
        if (!fresh) { await refresh(); continue; }
        throw conflict(gr, name, OBJECT_MODIFIED);
      }
      let next: T;
      try {
        next = await mutate(current);
      } catch (err) {
        if (!fresh) { await refresh(); continue; }
        throw err;
      }
      const value = encode(next);
      // etcd3's GuaranteedUpdate compares the new encoding with the bytes it read (bytes.Equal(data, origState.data)).
      const unchanged = value === kv.value;
      if (unchanged || options.dryRun) {
        if (!fresh) { await refresh(); continue; }
        return unchanged ? { object: current, previous: current } : { object: next, previous: current };
      }
      const r = await this.kv.update(key, value, kv.modRevision);
      if (r.succeeded) return { object: { ...next, metadata: { ...next.metadata, resourceVersion: String(r.revision) } }, previous: current };
      kv = r.current;
      fresh = true;
    }
    throw conflict(gr, name, OBJECT_MODIFIED);
  }

  /**
   * Deletes an object, optionally only at a given resourceVersion / uid (DeleteOptions.preconditions).
   * A dry run checks existence and the preconditions and returns the object as stored.
   */
  async delete<T extends KubeObject>(def: ResourceDef, namespace: string | undefined, name: string, preconditions: { uid?: string; resourceVersion?: string } = {}, options: DryRunOption = {}): Promise<T> {
    const key = storageKey(def, namespace, name);
    const gr = groupResource(def);
    let { kv } = await this.kv.get(key);
    for (let i = 0; i < MAX_RETRIES; i++) {
      if (!kv) throw notFound(gr, name);
      const current = decode<T>(kv);
      if (preconditions.uid !== undefined && preconditions.uid !== current.metadata.uid) {
        throw conflict(gr, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
      }
      if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== current.metadata.resourceVersion) {
        throw conflict(gr, name, `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`);
      }
      if (options.dryRun) return current;
      const r = await this.kv.delete(key, kv.modRevision);
      if (r.succeeded) return current;
      kv = r.current;
    }
    throw conflict(gr, name, OBJECT_MODIFIED);
  }
}

/** The watch cache's answer to a resourceVersion older than etcd keeps. */
export function tooOld(requested: number, oldest: number): Error {
  return expired(`too old resource version: ${requested} (${oldest})`);
}
