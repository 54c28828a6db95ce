/**
 * Decoding a request body into a kind, as the apiserver's JSON serializer decodes into a Go struct:
 * - a value of the wrong JSON type, an integer that overflows its int32/int64 field or is written with
 *   a fraction or an exponent, bad base64 in a []byte, is Go's decode error
 *   (`json: cannot unmarshal number into Go struct field ConfigMap.data of type string`), a 400;
 * - a member no field has is an unknown field, handled by server-side field validation
 *   (`?fieldValidation=`): `Warn` (the default) drops it and answers a `Warning: 299 - "unknown field
 *   \"spec.foo\""` header, `Strict` refuses (`strict decoding error: unknown field "spec.foo"`),
 *   `Ignore` drops it silently.
 * The field tables are protobuf-schema.ts's (from k8s.io/api's generated.proto and types.go); a kind or a
 * nested message they do not cover is kept as sent below that point, which is the one place this differs
 * from Kubernetes (which knows every type): its unknown fields are stored, not dropped.
 */
import { failure } from '../api/errors.js';
import { numberLiteral, type JsonRecord } from './json.js';
import { KINDS, MESSAGES, type FieldSpec, type FieldType } from './protobuf-schema.js';
import { KubeSimError } from '../../pki/errors.js';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

/** A Go decode error (encoding/json's UnmarshalTypeError, base64, Quantity): the first one wins, as in Go. */
/** A value the strict decoder cannot take (Go's json.Unmarshal type errors); the request answers 400. */
export class DecodeError extends KubeSimError<'DECODE_FAILED'> {
  constructor(message: string) {
    super('DECODE_FAILED', message);
  }
}

export interface Decoded {
  /** Unknown fields, as Go's strict decoder names them (`unknown field "spec.foo"`). */
  readonly unknown: string[];
}

/**
 * The `fieldValidation` query parameter (CreateOptions/UpdateOptions/PatchOptions): '' is Warn; any other
 * value is refused as ValidateFieldValidation refuses it (a 422 on the options kind).
 */
export function fieldValidationOf(query: URLSearchParams, optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions'): FieldValidation {
  const v = query.get('fieldValidation') ?? '';
  if (v === '') return 'Warn';
  if (v === 'Ignore' || v === 'Warn' || v === 'Strict') return v;
  const message = `Unsupported value: ${JSON.stringify(v)}: supported values: "", "Ignore", "Strict", "Warn"`;
  throw failure(422, 'Invalid', `${optionsKind}.meta.k8s.io "" is invalid: fieldValidation: ${message}`, {
    group: 'meta.k8s.io', kind: optionsKind, name: '', causes: [{ reason: 'FieldValueNotSupported', message, field: 'fieldValidation' }],
  });
}

/** The top-level message of a kind (`v1 ConfigMap`), if the tables have it. */
export const messageOfKind = (apiVersion: string, kind: string): string | undefined => KINDS[`${apiVersion} ${kind}`];

/** JSON name → field, with inline structs' fields lifted into their parent, as encoding/json sees them. */
function jsonFields(message: string): Map<string, FieldSpec> | undefined {
  const table = MESSAGES[message];
  if (!table) return undefined;
  const out = new Map<string, FieldSpec>();
  for (const spec of Object.values(table)) {
    if (spec.inline && typeof spec.type === 'object' && 'message' in spec.type) {
      // An inline struct the tables do not have (Volume's VolumeSource): its members are unknown to
      // them, so the enclosing message is not checked at all rather than have its members dropped.
      const lifted = jsonFields(spec.type.message);
      if (!lifted) return undefined;
      for (const [k, s] of lifted) out.set(k, s);
    } else out.set(spec.name, spec);
  }
  return out;
}

/** The Go type name encoding/json prints (`v1.PodSpec`, `[]v1.Container`, `map[string]string`, `int32`). */
function goType(type: FieldType, spec?: FieldSpec): string {
  if (typeof type === 'object') {
    if ('map' in type) return `map[string]${goType(type.map)}`;
    const name = type.message;
    if (name.endsWith('.ExtraValue')) return `${goPackage(name)}.ExtraValue`;
    return `${goPackage(name)}.${name.slice(name.lastIndexOf('.') + 1)}`;
  }
  switch (type) {
    case 'int': return spec?.int64 ? 'int64' : 'int32';
    case 'bytes': return '[]uint8';
    case 'quantity': return 'resource.Quantity';
    case 'intOrString': return 'intstr.IntOrString';
    case 'time': return 'v1.Time';
    case 'microTime': return 'v1.MicroTime';
    default: return type;
  }
}
const goPackage = (message: string): string => {
  const parts = message.split('.');
  return parts[parts.length - 2] ?? '';
};
const structName = (message: string): string => message.slice(message.lastIndexOf('.') + 1);

const jsonKind = (v: unknown): string =>
  (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v);

const INT32: readonly [bigint, bigint] = [-(2n ** 31n), 2n ** 31n - 1n];
const INT64: readonly [bigint, bigint] = [-(2n ** 63n), 2n ** 63n - 1n];
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}$/;
const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

interface Walk {
  readonly unknown: string[];
  error: DecodeError | undefined;
}

/**
 * Checks `obj` against the kind's table and removes its unknown fields, in place. Throws DecodeError for
 * a type error; returns the unknown fields (the caller warns, refuses or ignores per fieldValidation).
 * A kind without a table has only its metadata checked.
 */
export function decodeInto(apiVersion: string, kind: string, obj: JsonRecord): Decoded {
  const w: Walk = { unknown: [], error: undefined };
  const message = messageOfKind(apiVersion, kind) ?? (kind === 'DeleteOptions' ? KINDS['meta.k8s.io/v1 DeleteOptions'] : undefined);
  if (message) walkMessage(w, message, obj, '', true);
  else if (Object.hasOwn(obj, 'metadata')) {
    walkValue(w, { name: 'metadata', type: { message: 'k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta' } }, obj, 'metadata', kind, 'metadata', '');
  }
  if (w.error) throw w.error;
  return { unknown: w.unknown };
}

function walkMessage(w: Walk, message: string, obj: JsonRecord, path: string, top: boolean): void {
  const fields = jsonFields(message);
  if (!fields) return;
  const typeMeta = top || message.endsWith('.DeleteOptions');
  for (const key of Object.keys(obj)) {
    if (typeMeta && (key === 'apiVersion' || key === 'kind')) continue;
    const spec = fields.get(key);
    const at = path ? `${path}.${key}` : key;
    if (!spec) {
      w.unknown.push(`unknown field ${JSON.stringify(at.replace(/\.\[/g, '['))}`);
      delete obj[key];
      continue;
    }
    walkValue(w, spec, obj, key, structName(message), at, path);
  }
}

/** Go's UnmarshalTypeError: `json: cannot unmarshal <value> into Go struct field <Struct>.<path> of type <type>`. */
function typeError(w: Walk, value: string, struct: string, goPath: string, type: string): void {
  w.error ??= new DecodeError(`json: cannot unmarshal ${value} into Go struct field ${struct}.${goPath} of type ${type}`);
}

/** `container[key]` against `spec`; `at` is the strict-error path (with [i]), goPath drops indices as Go does. */
function walkValue(w: Walk, spec: FieldSpec, container: JsonRecord | unknown[], key: string | number, struct: string, at: string, _parent: string): void {
  const v = (container as JsonRecord)[key as string];
  if (v === null || v === undefined) return;
  const goPath = at.replace(/\[[^\]]*\]/g, '');
  const type = spec.type;
  if (spec.repeated) {
    if (!Array.isArray(v)) { typeError(w, jsonKind(v), struct, goPath, `[]${goType(type, spec)}`); return; }
    v.forEach((_x, i) => walkScalarOrMessage(w, spec, v, i, struct, `${at}[${i}]`, goPath));
    return;
  }
  if (typeof type === 'object' && 'map' in type) {
    if (typeof v !== 'object' || Array.isArray(v)) { typeError(w, jsonKind(v), struct, goPath, goType(type)); return; }
    const m = v as JsonRecord;
    for (const k of Object.keys(m)) walkScalarOrMessage(w, { name: k, type: type.map }, m, k, struct, `${at}[${k}]`, goPath);
    return;
  }
  walkScalarOrMessage(w, spec, container, key, struct, at, goPath);
}

function walkScalarOrMessage(w: Walk, spec: FieldSpec, container: JsonRecord | unknown[], key: string | number, struct: string, at: string, goPath: string): void {
  const v = (container as JsonRecord)[key as string];
  if (v === null || v === undefined) return;
  const type = spec.type;
  const bad = (value = jsonKind(v)): void => typeError(w, value, struct, goPath, goType(type, spec));
  if (typeof type === 'object') {
    if ('map' in type) return;
    const name = type.message;
    if (name.endsWith('.FieldsV1')) return; // raw JSON
    if (name.endsWith('.ExtraValue')) {
      if (!Array.isArray(v)) { bad(); return; }
      if (v.some((s) => typeof s !== 'string' && s !== null)) typeError(w, 'number', struct, goPath, 'string');
      return;
    }
    if (typeof v !== 'object' || Array.isArray(v)) { bad(); return; }
    walkMessage(w, name, v as JsonRecord, at, false);
    return;
  }
  switch (type) {
    case 'string': if (typeof v !== 'string') bad(); return;
    case 'bool': if (typeof v !== 'boolean') bad(); return;
    case 'int': {
      if (typeof v !== 'number') { bad(); return; }
      const literal = numberLiteral(container, key) ?? String(v);
      const [lo, hi] = spec.int64 ? INT64 : INT32;
      if (!/^-?\d+$/.test(literal) || BigInt(literal) < lo || BigInt(literal) > hi) bad(`number ${literal}`);
      return;
    }
    case 'bytes': {
      if (typeof v !== 'string') { bad(); return; }
      if (!BASE64.test(v) || v.replace(/[\r\n]/g, '').length % 4 !== 0) {
        const idx = v.search(/[^A-Za-z0-9+/=\r\n]/);
        w.error ??= new DecodeError(`illegal base64 data at input byte ${idx >= 0 ? idx : Math.max(0, v.length - (v.length % 4 || 4))}`);
      }
      return;
    }
    case 'quantity':
      if (typeof v === 'number') return;
      if (typeof v !== 'string') { bad(); return; }
      if (!QUANTITY.test(v.trim())) w.error ??= new DecodeError("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
      return;
    case 'intOrString':
      if (typeof v === 'string') return;
      if (typeof v !== 'number') { bad(); return; }
      {
        const literal = numberLiteral(container, key) ?? String(v);
        if (!/^-?\d+$/.test(literal) || BigInt(literal) < INT32[0] || BigInt(literal) > INT32[1]) {
          w.error ??= new DecodeError(`json: cannot unmarshal number ${literal} into Go value of type int32`);
        }
      }
      return;
    case 'time':
    case 'microTime':
      if (typeof v !== 'string') { bad(); return; }
      if (!RFC3339.test(v)) w.error ??= new DecodeError(`parsing time ${JSON.stringify(v)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(v)} as "2006"`);
      return;
  }
}
