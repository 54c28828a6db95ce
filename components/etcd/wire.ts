/**
 * etcd 3.4's grpc-gateway JSON, both ways. The gateway marshals with jsonpb (`OrigName: true`,
 * defaults omitted), so:
 *
 * - field names are the proto names (`range_end`, `create_revision`, `cluster_id`; leases `ID`, `TTL`);
 * - `bytes` are standard base64, 64-bit integers are decimal strings, enums are their names;
 * - a field at its default (0, "", false, empty list, enum 0) is left out: no `kvs` when empty, no
 *   `count` when 0, no `type` on a PUT event, no `succeeded` when false, no `watch_id` when 0;
 * - fields come out in proto field-number order.
 *
 * On the way in, jsonpb takes either the proto name or the lowerCamel JSON name, numbers as strings
 * or numbers, enums as names or numbers.
 */
import type { Compare, CompareResult, CompareTarget, KeyValue, MvccEvent, RangeOptions, RequestOp, ResponseOp } from './store.js';
import { GrpcCode, type GrpcCodeValue } from './store.js';
import { KubeSimError } from '../../pki/errors.js';

export type Json = Record<string, unknown>;

/** A request the gateway cannot decode: gRPC InvalidArgument, as jsonpb's errors are. */
export class WireError extends KubeSimError<'INVALID_ARGUMENT'> {
  readonly grpcCode: GrpcCodeValue = GrpcCode.InvalidArgument;

  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

const camel = (name: string): string => name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

function field(o: Json, name: string): unknown {
  return o[name] ?? o[camel(name)];
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function bytesField(o: Json, name: string): Buffer {
  const v = field(o, name);
  if (v === undefined || v === null) return Buffer.alloc(0);
  if (typeof v !== 'string' || !BASE64.test(v) || v.length % 4 === 1) throw new WireError(`bad input: field "${name}" is not valid base64`);
  return Buffer.from(v, 'base64');
}

export function int64Field(o: Json, name: string): bigint {
  const v = field(o, name);
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new WireError(`bad input: field "${name}" is not a 64-bit integer`);
}

export const numField = (o: Json, name: string): number => Number(int64Field(o, name));

export function boolField(o: Json, name: string): boolean {
  const v = field(o, name);
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new WireError(`bad input: field "${name}" is not a bool`);
  return v;
}

export function enumField<T extends string>(o: Json, name: string, values: readonly T[]): T {
  const v = field(o, name);
  if (v === undefined || v === null) return values[0]!;
  if (typeof v === 'number' && values[v] !== undefined) return values[v]!;
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
  throw new WireError(`bad input: unknown value ${JSON.stringify(v)} for enum field "${name}"`);
}

export function objectField(o: Json, name: string): Json | undefined {
  const v = field(o, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new WireError(`bad input: field "${name}" is not an object`);
  return v as Json;
}

export function listField(o: Json, name: string): Json[] {
  const v = field(o, name);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((e) => typeof e !== 'object' || e === null || Array.isArray(e))) {
    throw new WireError(`bad input: field "${name}" is not a list of objects`);
  }
  return v as Json[];
}

export function parseBody(text: string): Json {
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new WireError(e instanceof Error ? e.message : String(e));
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WireError('bad input: the body is not a JSON object');
  return v as Json;
}

// ---- requests ----

export function rangeRequest(o: Json): { key: Buffer; rangeEnd: Buffer; options: RangeOptions } {
  return {
    key: bytesField(o, 'key'), rangeEnd: bytesField(o, 'range_end'),
    options: { limit: numField(o, 'limit'), revision: numField(o, 'revision'), countOnly: boolField(o, 'count_only'), keysOnly: boolField(o, 'keys_only') },
  };
}

export function putRequest(o: Json): RequestOp & { op: 'put' } {
  return { op: 'put', key: bytesField(o, 'key'), value: bytesField(o, 'value'), lease: int64Field(o, 'lease'), prevKv: boolField(o, 'prev_kv') };
}

export function deleteRequest(o: Json): RequestOp & { op: 'delete' } {
  return { op: 'delete', key: bytesField(o, 'key'), rangeEnd: bytesField(o, 'range_end'), prevKv: boolField(o, 'prev_kv') };
}

const TARGETS: readonly CompareTarget[] = ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'];
const RESULTS: readonly CompareResult[] = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'];

export function compareRequest(o: Json): Compare {
  const target = enumField(o, 'target', TARGETS);
  const operand = target === 'VALUE' ? bytesField(o, 'value')
    : target === 'LEASE' ? int64Field(o, 'lease')
    : numField(o, target === 'CREATE' ? 'create_revision' : target === 'MOD' ? 'mod_revision' : 'version');
  return { key: bytesField(o, 'key'), rangeEnd: bytesField(o, 'range_end'), target, result: enumField(o, 'result', RESULTS), operand };
}

export function requestOp(o: Json): RequestOp {
  const range = objectField(o, 'request_range');
  if (range) return { op: 'range', ...rangeRequest(range) };
  const put = objectField(o, 'request_put');
  if (put) return putRequest(put);
  const del = objectField(o, 'request_delete_range');
  if (del) return deleteRequest(del);
  if (objectField(o, 'request_txn')) throw new WireError('nested txn (request_txn) is not supported by this etcd');
  throw new WireError('bad input: an empty RequestOp');
}

// ---- responses ----

export interface HeaderIds {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  readonly raftTerm: bigint;
}

/** A full response header (what etcd's v3rpc layer fills in on every top-level response). */
export function header(ids: HeaderIds, revision: number): Json {
  return omitDefaults({ cluster_id: ids.clusterId, member_id: ids.memberId, revision, raft_term: ids.raftTerm });
}

/** A header on a txn's inner response: the applier sets only the revision. */
export const innerHeader = (revision: number): Json => omitDefaults({ revision });

export function kv(k: KeyValue): Json {
  return omitDefaults({
    key: k.key, create_revision: k.createRevision, mod_revision: k.modRevision, version: k.version, value: k.value, lease: k.lease,
  });
}

export function event(e: MvccEvent, withPrev: boolean): Json {
  return omitDefaults({ type: e.type === 'DELETE' ? 'DELETE' : undefined, kv: kv(e.kv), prev_kv: withPrev && e.prevKv ? kv(e.prevKv) : undefined });
}

export function rangeResponse(h: Json, r: { kvs: KeyValue[]; more: boolean; count: number }): Json {
  return omitDefaults({ header: h, kvs: r.kvs.map(kv), more: r.more, count: r.count });
}

export function responseOp(r: ResponseOp): Json {
  switch (r.op) {
    case 'range': return { response_range: rangeResponse(innerHeader(r.result.revision), r.result) };
    case 'put': return { response_put: omitDefaults({ header: innerHeader(r.revision), prev_kv: r.prevKv ? kv(r.prevKv) : undefined }) };
    case 'delete': return { response_delete_range: omitDefaults({ header: innerHeader(r.revision), deleted: r.deleted, prev_kvs: r.prevKvs?.map(kv) }) };
  }
}

/**
 * Leaves out what proto3 leaves out and renders the rest as jsonpb does: Buffers as base64, numbers
 * and bigints as decimal strings (every integer in etcd's API is 64-bit), nested objects as they are.
 */
export function omitDefaults(o: Record<string, unknown>): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null || v === false || v === 0 || v === 0n || v === '') continue;
    if (Buffer.isBuffer(v)) {
      if (v.length > 0) out[k] = v.toString('base64');
    } else if (Array.isArray(v)) {
      if (v.length > 0) out[k] = v;
    } else if (typeof v === 'number' || typeof v === 'bigint') {
      out[k] = v.toString();
    } else if (typeof v === 'object' && Object.keys(v).length === 0) {
      // an empty message: jsonpb still writes it when the pointer is set; headers are never empty here
      out[k] = v;
    } else {
      out[k] = v;
    }
  }
  return out;
}
