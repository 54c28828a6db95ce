/**
 * Watches, as the real apiserver serves them: a chunked stream of newline-delimited
 * `{"type":...,"object":...}` built from an etcd watch on the collection's key prefix.
 *
 * - `resourceVersion=N`: events after N (the etcd watch starts at N+1), none lost, none repeated.
 * - `resourceVersion` unset or "0": first an ADDED event per existing object (a list at revision R),
 *   then changes from R+1.
 * - Selectors filter on the object before and after each change: an object that leaves the selection
 *   arrives as DELETED, one that enters it as ADDED.
 * - A revision etcd has compacted: one ERROR event carrying a 410 Expired Status, then the stream ends.
 */
import type { ServerResponse } from 'node:http';
import type { KubeObject, WatchEvent } from '../api/types.js';
import { ApiStatusError, expired, failure, toStatusError } from '../api/errors.js';
import { parseResourceVersion } from './list-options.js';
import { apiVersionOf, type ResourceDef } from '../api/resources.js';
import { storageKey } from './routes.js';
import { selects, type Selection } from '../api/selectors.js';
import { decode, KvCompactedError, type KvBackend, type KvEvent, type KvWatchHandle } from './storage.js';

export interface WatchOptions {
  readonly def: ResourceDef;
  readonly namespace: string | undefined;
  readonly selection: Selection;
  /** The query's resourceVersion ('' / '0' / absent = start with the current state). */
  readonly resourceVersion: string | undefined;
  /**
   * The server ends the watch after this many milliseconds (list-options.ts watchTimeoutMs: 0 ends
   * it at once, as Go's negative durations do); undefined: no timeout.
   */
  readonly timeoutMs: number | undefined;
  /** How long a watch from a future resourceVersion waits for it (the watch cache's blockTimeout, 3 s). */
  readonly blockTimeoutMs?: number;
  /** Re-encodes each event's object (a one-row Table for `kubectl get -w`); ERROR events are left alone. */
  readonly transform?: (o: KubeObject) => KubeObject;
}

/** Turns one etcd change into the watch event a client with this selection sees, if any. */
export function toWatchEvent(def: ResourceDef, ev: KvEvent, selection: Selection): WatchEvent | undefined {
  const withType = (o: KubeObject): KubeObject => ({ ...o, kind: def.kind, apiVersion: apiVersionOf(def) });
  if (ev.type === 'delete') {
    if (!ev.prevKv) return undefined;
    // The deleted object as it was, stamped with the revision of the deletion (as the real store does).
    const prev = decode(ev.prevKv, ev.kv.modRevision);
    return selects(selection, prev) ? { type: 'DELETED', object: withType(prev) } : undefined;
  }
  const cur = decode(ev.kv);
  const prev = ev.prevKv ? decode(ev.prevKv) : undefined;
  const now = selects(selection, cur);
  const before = prev !== undefined && selects(selection, prev);
  if (now && before) return { type: 'MODIFIED', object: withType(cur) };
  if (now) return { type: 'ADDED', object: withType(cur) };
  if (before) return { type: 'DELETED', object: withType(cur) };
  return undefined;
}

export interface ActiveWatch {
  /** Ends the stream (server shutdown). */
  stop(): void;
}

/**
 * Serves one watch on `res`. Resolves once the stream is set up (headers sent); the returned handle
 * ends it. Errors before the stream starts (a bad resourceVersion) reject with a Status error.
 */
export async function serveWatch(kv: KvBackend, res: ServerResponse, options: WatchOptions): Promise<ActiveWatch> {
  const { def, selection } = options;
  const prefix = storageKey(def, def.namespaced ? options.namespace : undefined);
  const rv = options.resourceVersion;
  let from: number;
  let initial: KubeObject[] = [];
  if (rv === undefined || rv === '' || rv === '0') {
    const { kvs, revision } = await kv.list(prefix);
    initial = kvs.map((x) => decode(x)).filter((o) => selects(selection, o));
    from = revision + 1;
  } else {
    const n = parseResourceVersion(rv);
    // Revisions are far below 2^53 here; a larger request is simply in the future.
    from = n >= BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n) + 1;
  }

  let handle: KvWatchHandle | undefined;
  const timers: LongTimer[] = [];
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    handle?.cancel();
    for (const t of timers) t.clear();
    if (!res.writableEnded) res.end();
  };
  const write = (e: WatchEvent): void => {
    if (ended) return;
    const out = options.transform && e.type !== 'ERROR' ? { type: e.type, object: options.transform(e.object) } : e;
    res.write(`${JSON.stringify(out)}\n`);
  };

  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  // The response's 'close' (not the request's) is the client going away.
  res.once('close', end);
  for (const o of initial) write({ type: 'ADDED', object: { ...o, kind: def.kind, apiVersion: apiVersionOf(def) } });
  handle = kv.watch(prefix, from, (events) => {
    for (const ev of events) {
      const out = toWatchEvent(def, ev, selection);
      if (out) write(out);
    }
  }, (err) => {
    const status = err instanceof KvCompactedError
      ? expired(`too old resource version: ${from - 1} (${err.compactRevision})`).status
      : toStatusError(err).status;
    write({ type: 'ERROR', object: status as unknown as KubeObject });
    end();
  });
  if (ended) handle.cancel();
  if (options.timeoutMs !== undefined) timers.push(longTimer(options.timeoutMs, end));
  if (rv !== undefined && rv !== '' && rv !== '0') {
    // A resourceVersion the store has not reached: the watch cache waits up to blockTimeout for it
    // (waitUntilFreshAndBlock), then the watch is one ERROR event, a 504 Timeout with the
    // ResourceVersionTooLarge cause (storage.NewTooLargeResourceVersionError), and ends.
    // The stream is served meanwhile: the check does not hold the answer back.
    const wanted = from - 1;
    void kv.get(prefix).then(({ revision: now }) => {
      if (wanted <= now || ended) return;
      timers.push(longTimer(options.blockTimeoutMs ?? 3000, () => {
        void kv.get(prefix).then(({ revision }) => {
          if (revision >= wanted || ended) return;
          write({ type: 'ERROR', object: tooLargeResourceVersion(wanted, revision).status as unknown as KubeObject });
          end();
        }, () => undefined);
      }));
    }, () => undefined);
  }
  return { stop: end };
}

/** storage.NewTooLargeResourceVersionError (retry after resourceVersionTooHighRetrySeconds = 1). */
export function tooLargeResourceVersion(minimum: number, current: number): ApiStatusError {
  return failure(504, 'Timeout', `Timeout: Too large resource version: ${minimum}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1,
  });
}

export interface LongTimer { clear(): void }

/** setTimeout beyond its 2^31-1 ms limit (Node fires an overflowing timer at once), unref'd. */
export function longTimer(ms: number, fire: () => void): LongTimer {
  const MAX = 2 ** 31 - 1;
  let t: NodeJS.Timeout | undefined;
  const arm = (left: number): void => {
    t = setTimeout(() => { if (left > MAX) arm(left - MAX); else fire(); }, Math.min(left, MAX));
    t.unref();
  };
  arm(Math.max(0, ms));
  return { clear: () => { if (t) clearTimeout(t); } };
}
