/**
 * The create/update steps every resource shares, a small part of each real REST strategy
 * (PrepareForCreate, PrepareForUpdate, ValidateObjectMeta): what the apiserver fills in, what it keeps
 * from the stored object, which objects it refuses. Each resource's own rules (defaults, validation,
 * status on create, how generation counts) are its entry in strategies.ts.
 */
import { randomUUID } from 'node:crypto';
import { badRequest, invalid } from '../api/errors.js';
import { groupResource, type ResourceDef } from '../api/resources.js';
import { strategyFor, type Obj, type StrategyContext } from './strategies.js';

export type { StrategyContext } from './strategies.js';

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** generateName + five characters, as names.SimpleNameGenerator does. */
export function generateName(base: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return `${base.slice(0, 58)}${suffix}`;
}

export function validateName(def: ResourceDef, name: string): void {
  if (name === '') throw invalid(groupResource(def), def.kind, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
  if (strategyFor(def).names === 'path-segment') {
    if (name === '.' || name === '..' || name.includes('/') || name.includes('%')) {
      throw invalid(groupResource(def), def.kind, name, [{ field: 'metadata.name', message: `Invalid value: "${name}": may not contain '/' or '%'` }]);
    }
    return;
  }
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    throw invalid(groupResource(def), def.kind, name, [{
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    }]);
  }
}

// k8s.io/apimachinery/pkg/util/validation: IsQualifiedName, IsValidLabelValue and their messages.
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const QUALIFIED_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const DNS1123_SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
/** Annotations may hold 256 KiB in all (TotalAnnotationSizeLimitB). */
const TOTAL_ANNOTATION_SIZE = 256 * 1024;

/** validation.RegexError: `<msg> (e.g. 'a',  or 'b', regex used for validation is '<fmt>')`. */
const regexError = (msg: string, fmt: string, ...examples: string[]): string =>
  `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;

/** validation.IsQualifiedName: `[prefix/]name`, the prefix a DNS subdomain, the name at most 63 characters. */
export function qualifiedNameErrors(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else {
      if (prefix.length > 253) errs.push('prefix part must be no more than 253 characters');
      if (!DNS1123_SUBDOMAIN.test(prefix)) errs.push(`prefix part ${regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com')}`);
    }
  } else {
    return [`a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (!QUALIFIED_NAME.test(name)) errs.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

/** validation.IsValidLabelValue. */
function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

type FieldErr = { field: string; message: string };
const invalidValue = (field: string, value: string, msg: string): FieldErr => ({ field, message: `Invalid value: ${JSON.stringify(value)}: ${msg}` });

/**
 * ValidateLabels and ValidateAnnotations (metav1validation / apimachinery's objectmeta.go), as every
 * create and update runs them through ValidateObjectMeta: a 422 listing each bad key and value.
 */
export function validateObjectMeta(def: ResourceDef, obj: Obj): void {
  const md = obj.metadata as Rec;
  const errs: FieldErr[] = [];
  if (isRec(md.labels)) {
    for (const [k, v] of Object.entries(md.labels)) {
      for (const m of qualifiedNameErrors(k)) errs.push(invalidValue('metadata.labels', k, m));
      for (const m of labelValueErrors(String(v))) errs.push(invalidValue('metadata.labels', String(v), m));
    }
  }
  if (isRec(md.annotations)) {
    let size = 0;
    for (const [k, v] of Object.entries(md.annotations)) {
      // "The rule is QualifiedName except that case doesn't matter."
      for (const m of qualifiedNameErrors(k.toLowerCase())) errs.push(invalidValue('metadata.annotations', k, m));
      size += k.length + String(v).length;
    }
    if (size > TOTAL_ANNOTATION_SIZE) errs.push({ field: 'metadata.annotations', message: `Too long: may not be more than ${TOTAL_ANNOTATION_SIZE} bytes` });
  }
  if (errs.length) throw invalid(groupResource(def), def.kind, String(md.name ?? ''), errs);
}

/** ValidateTokenRequest: at least 10 minutes, at most 2^32 seconds. */
export function validateTokenRequest(name: string, expirationSeconds: number): void {
  const gr = { group: 'authentication.k8s.io', resource: 'tokenrequests' };
  const errs: FieldErr[] = [];
  if (expirationSeconds < 600) errs.push({ field: 'spec.expirationSeconds', message: `Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes` });
  if (expirationSeconds > 2 ** 32) errs.push({ field: 'spec.expirationSeconds', message: `Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds` });
  if (errs.length) throw invalid(gr, 'TokenRequest', name, errs);
}

/** Everything the apiserver stamps on a new object before it is stored, then the resource's own defaults and checks. */
export async function prepareForCreate(def: ResourceDef, obj: Obj, ctx: StrategyContext): Promise<void> {
  const strategy = strategyFor(def);
  validateObjectMeta(def, obj);
  const now = ctx.clock.now();
  const md = obj.metadata;
  md.uid = randomUUID();
  md.creationTimestamp = new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  delete md.deletionTimestamp;
  if (strategy.generation) md.generation = 1;
  strategy.defaults?.(def, obj);
  await strategy.create?.(def, obj, ctx);
}

/** The subresource that an update writes: the main resource keeps the stored status, `status` keeps everything else. */
export async function prepareForUpdate(def: ResourceDef, obj: Obj, old: Obj, subresource: string | undefined, ctx: StrategyContext): Promise<Obj> {
  const md = { ...obj.metadata };
  // Fields that are the apiserver's, not the client's.
  if (old.metadata.uid) md.uid = old.metadata.uid;
  if (old.metadata.creationTimestamp) md.creationTimestamp = old.metadata.creationTimestamp;
  else delete md.creationTimestamp;
  if (old.metadata.name) md.name = old.metadata.name;
  if (old.metadata.namespace !== undefined) md.namespace = old.metadata.namespace;
  if (old.metadata.deletionTimestamp) md.deletionTimestamp = old.metadata.deletionTimestamp;
  if (subresource === 'status') {
    // Only .status changes through the status subresource (labels and annotations too, for nodes and pods).
    const labels = md.labels ?? old.metadata.labels;
    const annotations = md.annotations ?? old.metadata.annotations;
    const metadata = { ...old.metadata, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) };
    const updated = { ...structuredClone(old), status: obj.status, metadata } as Obj;
    validateObjectMeta(def, updated);
    return updated;
  }
  const strategy = strategyFor(def);
  const next: Obj = { ...obj, metadata: md };
  validateObjectMeta(def, next);
  strategy.defaults?.(def, next);
  const hasStatus = def.subresources.some((s) => s.name === 'status');
  if (hasStatus) {
    if (old.status === undefined) delete next.status;
    else next.status = old.status;
  }
  const { generation } = strategy;
  if (generation) {
    const changed = generation === 'spec' ? JSON.stringify(next.spec) !== JSON.stringify(old.spec) : generation(next, old);
    md.generation = (old.metadata.generation ?? 1) + (changed ? 1 : 0);
  } else if (old.metadata.generation !== undefined) {
    md.generation = old.metadata.generation;
  }
  await strategy.update?.(def, next, old, ctx);
  return next;
}

/** The object a request body must be: an object with metadata; kind/apiVersion filled in when absent, refused when wrong. */
export function checkBody(def: ResourceDef, body: unknown, kind = def.kind, apiVersion?: string): Obj {
  if (!isRec(body)) throw badRequest('the body of the request was in an unknown format');
  const want = apiVersion ?? (def.group ? `${def.group}/${def.version}` : def.version);
  if (body.kind !== undefined && body.kind !== '' && body.kind !== kind) {
    // The codec decodes the kind the body names, then cannot convert it into the kind the URL serves
    // (transformDecodeError around the converter's error); the version check below is only for versions.
    const version = want.slice(want.lastIndexOf('/') + 1);
    throw badRequest(`${String(body.kind)} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: converting (${version}.${String(body.kind)}) to (${kind}): unknown conversion`);
  }
  if (body.apiVersion !== undefined && body.apiVersion !== want) throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${want})`);
  const metadata = isRec(body.metadata) ? body.metadata : {};
  return { ...body, kind, apiVersion: want, metadata } as Obj;
}
