/**
 * The query parameters of a list or watch, decoded as metainternalversion's ParameterCodec decodes
 * ListOptions (runtime.Convert_Slice_string_To_int64 and friends: the first value, trimmed, parsed
 * by strconv), the resourceVersion as storage.APIObjectVersioner parses it, and the continue token as
 * storage.DecodeContinue reads it. Every failure is the 400 the real apiserver answers, in Go's words.
 */
import { badRequest } from '../api/errors.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** strconv.ParseInt(s, 10, 64), with Go's error text. */
export function goParseInt64(s: string): bigint {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n < INT64_MIN || n > INT64_MAX) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

/** strconv.ParseUint(s, 10, 64), with Go's error text. */
export function goParseUint64(s: string): bigint {
  if (!/^[0-9]+$/.test(s)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > UINT64_MAX) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

/** Convert_Slice_string_To_int64 / _To_Pointer_int64: absent or blank is unset. */
function int64Param(query: URLSearchParams, key: string): bigint | undefined {
  const raw = query.get(key);
  if (raw === null) return undefined;
  const s = raw.trim();
  if (s === '') return undefined;
  try {
    return goParseInt64(s);
  } catch (err) {
    throw badRequest((err as Error).message);
  }
}

export interface ListOptions {
  /** 0 = no limit. */
  readonly limit: number;
  /** Absent: no timeout asked. */
  readonly timeoutSeconds?: bigint;
  /** '' when absent. */
  readonly resourceVersion: string;
  /** The resourceVersion parsed (0 for '' and '0'). */
  readonly resourceVersionNumber: bigint;
  readonly continue: string;
}

/**
 * storage.APIObjectVersioner.ParseResourceVersion. The list path answers its error as a 400
 * `invalid resource version: ...` (storage.ValidateListOptions); the same answer is used for a watch
 * (where the cacher's error would otherwise reach the client as an unconverted 500).
 */
export function parseResourceVersion(rv: string): bigint {
  if (rv === '' || rv === '0') return 0n;
  try {
    return goParseUint64(rv);
  } catch (err) {
    throw badRequest(`invalid resource version: resourceVersion: Invalid value: ${JSON.stringify(rv)}: ${(err as Error).message}`);
  }
}

/** Decodes the ListOptions a list or watch reads; throws a 400 for a value Go cannot parse. */
export function parseListOptions(query: URLSearchParams): ListOptions {
  const limit = int64Param(query, 'limit') ?? 0n;
  const timeoutSeconds = int64Param(query, 'timeoutSeconds');
  const resourceVersion = query.get('resourceVersion') ?? '';
  const cont = query.get('continue') ?? '';
  const resourceVersionNumber = parseResourceVersion(resourceVersion);
  return {
    // A limit beyond what a list can hold means "no limit" here, as it does for etcd.
    limit: limit > 0n && limit <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(limit) : limit > 0n ? Number.MAX_SAFE_INTEGER : 0,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    resourceVersion, resourceVersionNumber, continue: cont,
  };
}

/**
 * The watch's timeout as the list handler computes it: time.Duration(timeoutSeconds) * time.Second,
 * an int64 of nanoseconds that wraps on overflow (so a huge value can come out negative, and a
 * negative duration ends the watch at once, as it does in Go). Returns milliseconds, or undefined
 * for no timeout (0 or absent; the real server then picks a random --min-request-timeout between
 * 30 and 60 minutes, which this simulation does not impose).
 */
export function watchTimeoutMs(timeoutSeconds: bigint | undefined): number | undefined {
  if (timeoutSeconds === undefined) return undefined;
  const ns = BigInt.asIntN(64, timeoutSeconds * 1_000_000_000n);
  if (ns === 0n) return undefined;
  return ns < 0n ? 0 : Number(ns / 1_000_000n);
}

export interface ContinueToken {
  readonly rv: number;
  /** The key, below the collection's prefix, the next page starts at. */
  readonly start: string;
}

const ERR_GENERIC = 'continue key is not valid';

const jsonType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v);

/**
 * storage.DecodeContinue: base64 (RawURLEncoding, strict), JSON into {v, rv, start}, version
 * meta.k8s.io/v1, a non-zero rv, a non-empty start that path.Clean leaves as it is. Errors are the
 * 400 `invalid continue token: ...` the etcd3 store answers.
 */
export function decodeContinue(value: string): ContinueToken {
  const fail = (why: string): never => { throw badRequest(`invalid continue token: ${why}`); };
  const bad = /[^A-Za-z0-9_-]/.exec(value);
  if (bad) fail(`${ERR_GENERIC}: illegal base64 data at input byte ${bad.index}`);
  if (value.length % 4 === 1) fail(`${ERR_GENERIC}: illegal base64 data at input byte ${value.length - 1}`);
  const text = Buffer.from(value, 'base64url').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const c = text.trimStart()[0];
    fail(`${ERR_GENERIC}: ${c === undefined ? 'unexpected end of JSON input' : `invalid character ${JSON.stringify(c).replace(/^"|"$/g, "'")} looking for beginning of value`}`);
  }
  let v = '';
  let rv = 0;
  let start = '';
  if (parsed !== null) {
    if (typeof parsed !== 'object' || Array.isArray(parsed)) fail(`${ERR_GENERIC}: json: cannot unmarshal ${jsonType(parsed)} into Go value of type storage.continueToken`);
    const o = parsed as Record<string, unknown>;
    const field = (name: 'v' | 'rv' | 'start', goType: string, ok: (x: unknown) => boolean): unknown => {
      const x = o[name];
      if (x === undefined || x === null) return undefined;
      if (!ok(x)) fail(`${ERR_GENERIC}: json: cannot unmarshal ${jsonType(x)}${typeof x === 'number' ? ` ${x}` : ''} into Go struct field continueToken.${name} of type ${goType}`);
      return x;
    };
    v = (field('v', 'string', (x) => typeof x === 'string') as string | undefined) ?? '';
    rv = (field('rv', 'int64', (x) => typeof x === 'number' && Number.isSafeInteger(x)) as number | undefined) ?? 0;
    start = (field('start', 'string', (x) => typeof x === 'string') as string | undefined) ?? '';
  }
  if (v !== 'meta.k8s.io/v1') fail(`${ERR_GENERIC}: server does not recognize this encoded version ${v}`);
  if (rv === 0) fail(`${ERR_GENERIC}: incorrect encoded start resourceVersion (version meta.k8s.io/v1)`);
  if (start === '') fail(`${ERR_GENERIC}: encoded start key empty (version meta.k8s.io/v1)`);
  const key = start.startsWith('/') ? start : `/${start}`;
  if (cleanPath(key) !== key) fail(`${ERR_GENERIC}: ${start}`);
  return { rv, start: key.slice(1) };
}

/** Go's path.Clean for a rooted path. */
function cleanPath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}
