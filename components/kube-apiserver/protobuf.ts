/**
 * The Kubernetes protobuf wire form (`application/vnd.kubernetes.protobuf`), decoded into the JSON form
 * the rest of the apiserver works with. kubectl >= 1.32 sends what its typed clients write this way:
 * `create deployment|service|secret|serviceaccount|role|rolebinding|clusterrole|clusterrolebinding|
 * namespace|configmap|token`, `certificate approve|deny`, `auth can-i`, and the DeleteOptions of
 * `drain`. The body is the 4-byte magic `k8s\0` and a runtime.Unknown {typeMeta = 1 {apiVersion = 1,
 * kind = 2}, raw = 2, contentEncoding = 3, contentType = 4}, whose `raw` is the object's own message.
 *
 * Decoding follows the field tables of protobuf-schema.ts (the numbers of k8s.io/api's
 * generated.proto) and gives what encoding/json would give for the same Go object: strings, numbers
 * and booleans at their zero value are left out (omitempty) unless the Go field is a pointer, nested
 * messages are kept even when empty, []byte is base64, IntOrString a number or a string, Quantity a
 * string, Time RFC 3339. A field the tables do not know, carrying a value, is an error naming it:
 * nothing a client sent is dropped silently. Objects have a null prototype (json.ts), so map keys such as
 * `__proto__` are data.
 */
import { nullObject, parseJson } from './json.js';
import { KINDS, MESSAGES, type FieldSpec, type FieldType } from './protobuf-schema.js';
import { KubeSimError } from '../../pki/errors.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

type Field = { readonly no: number; readonly wire: number; readonly bytes?: Buffer; readonly varint?: bigint };

/** A body this module cannot turn into JSON: not the envelope, malformed, or a kind or field it does not know. */
/** MALFORMED: a truncated or ill-formed buffer; UNSUPPORTED: well formed, but a kind (or a field) the tables do not cover. */
export class ProtobufError extends KubeSimError<'MALFORMED' | 'UNSUPPORTED'> {
  constructor(message: string, unsupported = false) {
    super(unsupported ? 'UNSUPPORTED' : 'MALFORMED', message);
  }

  /** True when the body is well formed but holds a kind (or a field) the tables do not cover. */
  get unsupported(): boolean {
    return this.code === 'UNSUPPORTED';
  }
}

/** The fields of one message, in order; throws on a truncated or malformed buffer. */
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new ProtobufError('truncated varint');
      const b = buf[i++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
      if (shift > 63n) throw new ProtobufError('varint too long');
    }
  };
  while (i < buf.length) {
    const key = varint();
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) out.push({ no, wire, varint: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new ProtobufError('truncated length-delimited field');
      out.push({ no, wire, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new ProtobufError(`unsupported wire type ${wire}`);
  }
  return out;
}

/** The last occurrence of a field (protobuf: the last one wins). */
const one = (fs: readonly Field[], no: number): Field | undefined => {
  for (let i = fs.length - 1; i >= 0; i--) if (fs[i]!.no === no) return fs[i];
  return undefined;
};
const text = (f: Field | undefined): string => f?.bytes?.toString('utf8') ?? '';
/** Two's complement: int32 and int64 negatives travel as 64-bit varints. */
const int = (f: Field, where: string): number => {
  if (f.varint === undefined) throw new ProtobufError(`${where}: expected a varint`);
  return Number(BigInt.asIntN(64, f.varint));
};

/** Whether a field the tables do not know carries anything (proto2 writes empty values too). */
const carries = (f: Field): boolean => (f.varint !== undefined ? f.varint !== 0n : (f.bytes?.length ?? 1) > 0);

const rfc3339 = (seconds: number, fraction?: string): string =>
  new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, fraction ? `.${fraction}Z` : 'Z');

type Json = string | number | boolean | Json[] | { [k: string]: Json };

/** One value of the given type; undefined when it is the type's zero value and the Go field is not a pointer. */
function value(type: FieldType, f: Field, spec: FieldSpec, where: string): Json | undefined {
  const keep = spec.keepZero === true;
  if (typeof type === 'object') {
    if ('message' in type) return message(type.message, f.bytes ?? Buffer.alloc(0), where);
    throw new ProtobufError(`${where}: a map where a single value was expected`);
  }
  switch (type) {
    case 'string': { const s = text(f); return s !== '' || keep ? s : undefined; }
    case 'bytes': { const b = f.bytes ?? Buffer.alloc(0); return b.length > 0 || keep ? b.toString('base64') : undefined; }
    case 'int': { const n = int(f, where); return n !== 0 || keep ? n : undefined; }
    case 'bool': { const b = int(f, where) !== 0; return b || keep ? b : undefined; }
    case 'quantity': return text(one(fields(f.bytes ?? Buffer.alloc(0)), 1)) || undefined;
    case 'intOrString': {
      const fs = fields(f.bytes ?? Buffer.alloc(0));
      const kind = one(fs, 1);
      if (kind && int(kind, where) === 1) return text(one(fs, 3));
      const iv = one(fs, 2);
      const n = iv ? int(iv, where) : 0;
      return n !== 0 || keep ? n : undefined;
    }
    case 'time':
    case 'microTime': {
      const fs = fields(f.bytes ?? Buffer.alloc(0));
      const s = one(fs, 1);
      const ns = one(fs, 2);
      const seconds = s ? int(s, where) : 0;
      const nanos = ns ? int(ns, where) : 0;
      if (seconds === 0 && nanos === 0) return undefined; // Go's zero Time marshals as null
      return rfc3339(seconds, type === 'microTime' ? String(Math.floor(nanos / 1000)).padStart(6, '0') : undefined);
    }
  }
}

/** A message's JSON form, by its table. */
function message(name: string, buf: Buffer, where: string): Json {
  const table = MESSAGES[name];
  if (!table) throw new ProtobufError(`${where}: ${name} is not decoded by this simulation`, true);
  const fs = fields(buf);
  // Messages whose Go type is not a struct: ExtraValue is a []string, FieldsV1 raw JSON.
  if (name.endsWith('.ExtraValue')) return fs.filter((f) => f.no === 1).map((f) => text(f));
  if (name.endsWith('.FieldsV1')) {
    const raw = text(one(fs, 1));
    try { return raw ? parseJson(raw) as Json : nullObject() as Json; } catch { throw new ProtobufError(`${where}: FieldsV1 is not JSON`); }
  }
  const out = nullObject() as Record<string, Json>;
  for (const f of fs) {
    const spec = table[f.no];
    if (!spec) {
      if (carries(f)) throw new ProtobufError(`${where}: field ${f.no} of ${name} is not decoded by this simulation`, true);
      continue;
    }
    const at = `${where}.${spec.name}`;
    const type = spec.type;
    if (typeof type === 'object' && 'map' in type) {
      const entry = fields(f.bytes ?? Buffer.alloc(0));
      const key = text(one(entry, 1));
      const v = one(entry, 2);
      const map = (out[spec.name] ??= nullObject() as Record<string, Json>) as Record<string, Json>;
      const vt = type.map;
      map[key] = v === undefined ? (typeof vt === 'object' ? nullObject() as Record<string, Json> : '')
        : (value(vt, v, { name: key, type: vt, keepZero: true }, `${at}[${key}]`) ?? '');
      continue;
    }
    if (spec.inline) {
      // An embedded Go struct (json:",inline"): its fields are the enclosing object's.
      Object.assign(out, value(type, f, spec, where));
      continue;
    }
    const v = value(type, f, spec, at);
    if (spec.repeated) {
      // A repeated scalar keeps its zero elements: ["", 0] are elements, not absent values.
      const element = v ?? value(type, f, { ...spec, keepZero: true }, at);
      if (element !== undefined) ((out[spec.name] ??= []) as Json[]).push(element);
    } else if (v !== undefined) out[spec.name] = v;
  }
  return out;
}

/** Which message a kind is; DeleteOptions travels under the resource's own group version. */
function messageFor(apiVersion: string, kind: string): string | undefined {
  return KINDS[`${apiVersion} ${kind}`] ?? (kind === 'DeleteOptions' ? KINDS['meta.k8s.io/v1 DeleteOptions'] : undefined);
}

/**
 * The JSON form of a protobuf request body. Throws ProtobufError: `unsupported` for a well-formed body
 * of a kind (or with a field) the tables do not cover, otherwise for a body that is not the envelope.
 */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new ProtobufError('the body does not start with the k8s protobuf magic number');
  const unknown = fields(body.subarray(4));
  const typeMeta = fields(one(unknown, 1)?.bytes ?? Buffer.alloc(0));
  const apiVersion = text(one(typeMeta, 1));
  const kind = text(one(typeMeta, 2));
  const encoding = text(one(unknown, 3));
  if (encoding !== '') throw new ProtobufError(`contentEncoding "${encoding}" is not supported`, true);
  const name = messageFor(apiVersion, kind);
  if (!name) throw new ProtobufError(`${apiVersion} ${kind} is not decoded from protobuf by this simulation`, true);
  const obj = message(name, one(unknown, 2)?.bytes ?? Buffer.alloc(0), kind) as Record<string, unknown>;
  return Object.assign(nullObject(), { apiVersion, kind }, obj);
}
