/**
 * Reading request bodies and writing JSON answers.
 *
 * Every body is decoded by json.ts (null-prototype objects, Go's depth limit), whatever its media type:
 * JSON, YAML (turned into JSON first, as sigs.k8s.io/yaml does) or protobuf (protobuf.ts). A body over
 * 3 MiB is refused with a 413 Status that reaches the client before the connection closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import YAML from 'yaml';
import type { Status } from '../api/types.js';
import { DecodeError, decodeInto, type FieldValidation } from './decode.js';
import { ApiStatusError, badRequest, failure } from '../api/errors.js';
import { JsonSyntaxError, parseJson, stringifyJson, type JsonRecord } from './json.js';
import { decodeProtobufObject, ProtobufError } from './protobuf.js';
import { KubeSimError } from '../../pki/errors.js';

/** The apiserver's request body limit (--max-request-bytes' default for writes, 3 MiB). */
export const MAX_BODY = 3 * 1024 * 1024;

const JSON_TYPE = 'application/json';
const YAML_TYPE = 'application/yaml';
const PROTOBUF_TYPE = 'application/vnd.kubernetes.protobuf';

/**
 * Answers written after the body was cut short (413): the rest of the body is still arriving. Node's
 * server would close such a connection at once after the answer (socket.destroySoon), and a close with
 * unread data in the kernel's buffer sends a TCP reset that can overtake the answer. Go's server instead
 * half-closes and waits (closeWriteAndWait, rstAvoidanceDelay = 500 ms) while the client reads; so here.
 */
const LINGER_MS = 500;
const oversized = new WeakSet<IncomingMessage>();

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRawBody(req)).toString('utf8');
}

export function readRawBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      if (refused) return; // drained and dropped, so the connection can still carry the 413
      size += c.length;
      if (size > MAX_BODY) {
        refused = true;
        chunks.length = 0;
        oversized.add(req);
        // NewRequestEntityTooLargeError("limit is 3145728"), as limitedReadBody answers.
        reject(failure(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_BODY}`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => { if (!refused) resolve(Buffer.concat(chunks)); });
    req.on('error', reject);
  });
}

const mediaTypeOf = (req: IncomingMessage): string => (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

/** NewUnsupportedMediaTypeError over the serializers this apiserver has. */
export const unsupportedBodyType = (): ApiStatusError =>
  failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${JSON_TYPE}, ${YAML_TYPE}, ${PROTOBUF_TYPE}`);

/** YAML → JSON text → the one JSON decoder, as sigs.k8s.io/yaml converts YAML to JSON before decoding. */
function yamlToJson(text: string): unknown {
  let doc: unknown;
  try {
    doc = YAML.parse(text, { maxAliasCount: 100, uniqueKeys: true }) as unknown;
  } catch (err) {
    throw new JsonSyntaxError(`error converting YAML to JSON: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  return doc === undefined || doc === null ? undefined : parseJson(JSON.stringify(doc));
}

/** Go's summarizeData: the first 30 bytes of a body, as text when it is a JSON object, else hex. */
function summarize(raw: Buffer): string {
  if (raw.length === 0) return '<empty>';
  const cut = raw.length > 30;
  const head = raw.subarray(0, 30);
  return (raw[0] === 0x7b ? head.toString('utf8') : head.toString('hex')) + (cut ? ' ...' : '');
}

interface Body {
  readonly value: unknown;
  readonly raw: Buffer;
}

/**
 * The body, negotiated on Content-Type as NegotiateInputSerializer does (absent: JSON; anything but JSON,
 * YAML or protobuf: 415, even when empty, except for DELETE whose body is optional). Syntax errors are
 * thrown as JsonSyntaxError for the caller to word; protobuf errors as the Status they are.
 */
async function readDecoded(req: IncomingMessage): Promise<Body> {
  const ct = mediaTypeOf(req) || JSON_TYPE;
  const known = ct === JSON_TYPE || ct === YAML_TYPE || ct === PROTOBUF_TYPE;
  if (!known && req.method !== 'DELETE') throw unsupportedBodyType();
  const raw = await readRawBody(req);
  if (raw.length === 0) return { value: undefined, raw };
  if (!known) throw unsupportedBodyType();
  if (ct === PROTOBUF_TYPE) {
    try {
      return { value: decodeProtobufObject(raw), raw };
    } catch (err) {
      if (err instanceof ProtobufError && err.unsupported) {
        throw failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${JSON_TYPE}, ${YAML_TYPE} (protobuf: ${err.message})`);
      }
      throw badRequest(`the object provided is unrecognized: ${(err as Error).message}`);
    }
  }
  const text = raw.toString('utf8');
  if (text.trim() === '') return { value: undefined, raw };
  try {
    return { value: ct === YAML_TYPE ? yamlToJson(text) : parseJson(text), raw };
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new BodySyntaxError(err.message, raw);
    throw err;
  }
}

/** A body that is not JSON (or YAML), with the bytes, for the summary the create handler prints. */
class BodySyntaxError extends KubeSimError<'BODY_SYNTAX'> {
  readonly raw: Buffer;
  constructor(message: string, raw: Buffer) {
    super('BODY_SYNTAX', message);
    this.raw = raw;
  }
}

/**
 * The body as JSON (null-prototype objects), for bodies that are not a kind's object (DeleteOptions,
 * reviews read by their own handlers). Malformed: 400.
 */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  try {
    return (await readDecoded(req)).value;
  } catch (err) {
    if (err instanceof BodySyntaxError) throw badRequest(`the object provided is unrecognized: ${err.message}`);
    throw err;
  }
}

/** What a decoded object is checked against: its kind and group/version (`v1`, `apps/v1`). */
export interface Target {
  readonly apiVersion: string;
  readonly kind: string;
}

/**
 * A create or update body decoded into its kind, as the apiserver's create/update handlers decode it:
 * a malformed body is `the object provided is unrecognized (Kind: <summary>)`, a type error or (Strict)
 * an unknown field is transformDecodeError's `<Kind> in version "<v>" cannot be handled as a <Kind>: ...`;
 * with Warn, each unknown field becomes a Warning header on `res`.
 */
export async function readObject(req: IncomingMessage, res: ServerResponse, target: Target, validation: FieldValidation): Promise<unknown> {
  let body: Body;
  try {
    body = await readDecoded(req);
  } catch (err) {
    // transformDecodeError without a kind: Go's syntax error is not shown, only the start of the body.
    if (err instanceof BodySyntaxError) throw badRequest(`the object provided is unrecognized (${target.kind}: ${summarize(err.raw)})`);
    throw err;
  }
  const { value } = body;
  if (value === undefined) throw badRequest(`the object provided is unrecognized (${target.kind}: <empty>)`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`the object provided is unrecognized (${target.kind}: ${summarize(body.raw)})`);
  }
  const obj = value as JsonRecord;
  const kind = typeof obj.kind === 'string' && obj.kind !== '' ? obj.kind : target.kind;
  const apiVersion = typeof obj.apiVersion === 'string' && obj.apiVersion !== '' ? obj.apiVersion : target.apiVersion;
  const version = apiVersion.slice(apiVersion.lastIndexOf('/') + 1);
  const cannot = (why: string): ApiStatusError => badRequest(`${kind} in version ${JSON.stringify(version)} cannot be handled as a ${target.kind}: ${why}`);
  if (kind !== target.kind && apiVersion === target.apiVersion) {
    // The codec decodes the kind the body names, then fails to convert it into the one the URL serves.
    throw cannot(`converting (${version}.${kind}) to (${target.kind}): unknown conversion`);
  }
  try {
    const { unknown } = decodeInto(target.apiVersion, target.kind, obj);
    applyFieldValidation(res, unknown, validation, (message) => cannot(message));
  } catch (err) {
    if (err instanceof DecodeError) throw cannot(err.message);
    throw err;
  }
  return obj;
}

/**
 * Server-side field validation of strict-decoding errors: Warn adds each as a `Warning: 299 - "..."`
 * header, Strict refuses (`strict decoding error: a, b`), Ignore drops them.
 */
export function applyFieldValidation(res: ServerResponse, errors: readonly string[], validation: FieldValidation, refuse: (message: string) => Error): void {
  if (errors.length === 0 || validation === 'Ignore') return;
  if (validation === 'Strict') throw refuse(`strict decoding error: ${errors.join(', ')}`);
  addWarnings(res, errors);
}

/**
 * Warning headers as k8s.io/apiserver's recorder writes them (RFC 7234, code 299, agent "-"); like it, a
 * text already recorded for the request is not added again (a retried update decodes its patch twice).
 */
export function addWarnings(res: ServerResponse, texts: readonly string[]): void {
  if (res.headersSent || texts.length === 0) return;
  const prior = res.getHeader('Warning');
  const have = Array.isArray(prior) ? prior.map(String) : prior === undefined ? [] : [String(prior)];
  const add = texts.map((t) => `299 - ${JSON.stringify(t)}`).filter((w, i, all) => !have.includes(w) && all.indexOf(w) === i);
  if (add.length > 0) res.setHeader('Warning', [...have, ...add]);
}

/**
 * A PATCH body: JSON only (the patch types are all JSON). Malformed: 400 `error decoding patch: <Go's
 * syntax error>` (strategic merge: the error alone), as patch.go's strict unmarshal words it.
 */
export async function readPatchBody(req: IncomingMessage, strategic: boolean): Promise<unknown> {
  const raw = await readRawBody(req);
  const text = raw.toString('utf8');
  if (text.trim() === '') throw badRequest('the body of the request was empty');
  try {
    return parseJson(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw badRequest(strategic ? err.message : `error decoding patch: ${err.message}`);
    throw err;
  }
}

/**
 * A server-side apply body (application/apply-patch+yaml): YAML or JSON, decoded as every body is (null
 * prototypes, depth-bounded). Malformed: 400 `error decoding YAML: ...`; not an object: 400.
 */
export async function readApplyBody(req: IncomingMessage): Promise<JsonRecord> {
  const text = (await readRawBody(req)).toString('utf8');
  if (text.trim() === '') throw badRequest('the body of the request was empty');
  let v: unknown;
  try {
    v = yamlToJson(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw badRequest(`error decoding YAML: ${err.message}`);
    throw err;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest('error decoding YAML: the applied configuration is not an object');
  return v as JsonRecord;
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) { res.end(); return; }
  const text = JSON.stringify(body);
  const req = (res as ServerResponse & { req?: IncomingMessage }).req;
  if (req && oversized.has(req)) {
    res.shouldKeepAlive = false;
    lingerAfter(res);
  }
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

/**
 * Go's closeWriteAndWait for an answer sent before the body was read: half-close once the answer is out,
 * keep reading (and dropping) what the client still sends, and destroy after LINGER_MS or when the client
 * closes, whichever is first.
 */
function lingerAfter(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket) return;
  socket.destroySoon = function lingeringClose(this: typeof socket): void {
    this.end();
    this.resume();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
  };
}

export function sendStatus(res: ServerResponse, status: Status): void {
  sendJson(res, status.code, status);
}

export function sendText(res: ServerResponse, code: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}

/** The kind a request body must be: the subresource's (Binding, TokenRequest, Scale) or the resource's. */
export function targetOf(def: { group: string; version: string; kind: string; subresources: readonly { name: string; kind: string; group?: string; version?: string }[] }, sub: string | undefined): Target {
  const s = sub ? def.subresources.find((x) => x.name === sub) : undefined;
  if (s?.group && s.version) return { apiVersion: `${s.group}/${s.version}`, kind: s.kind };
  const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
  return { apiVersion, kind: s?.kind || def.kind };
}

/**
 * A patched object decoded into its kind (patch.go: DecodeInto the patched JSON): a type error, or with
 * Strict an unknown field, is a 422 on the field `patch` whose value is the patched object; with Warn,
 * unknown fields are warnings. Unknown fields are dropped from `patched`.
 */
export function decodePatched(res: ServerResponse, target: Target, patched: JsonRecord, validation: FieldValidation): void {
  const refuse = (message: string): ApiStatusError => {
    const cause = `Invalid value: ${JSON.stringify(stringifyJson(patched))}: ${message}`;
    return failure(422, 'Invalid', ` "" is invalid: patch: ${cause}`, { causes: [{ reason: 'FieldValueInvalid', message: cause, field: 'patch' }] });
  };
  try {
    const { unknown } = decodeInto(target.apiVersion, target.kind, patched);
    applyFieldValidation(res, unknown, validation, refuse);
  } catch (err) {
    if (err instanceof DecodeError) throw refuse(err.message);
    throw err;
  }
}
