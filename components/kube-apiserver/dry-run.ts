/**
 * The `dryRun` option of the write verbs (metav1 CreateOptions, UpdateOptions, PatchOptions and
 * DeleteOptions), read and validated as the real handlers do (staging/src/k8s.io/apiserver/pkg/
 * endpoints/handlers/{create,update,patch,delete}.go):
 *
 * - create, update, patch: from the query, `?dryRun=All` (repeatable: `dryRun` is a []string);
 * - delete, deletecollection: from the DeleteOptions body when there is one (kubectl sends
 *   `{"kind":"DeleteOptions",...,"dryRun":["All"]}`), else from the query;
 * - the only value is `All` (metav1.DryRunAll); anything else is 422 Invalid, worded as
 *   apimachinery's ValidateDryRun + errors.NewInvalid word it:
 *   `CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Bogus"}: supported values: "All"`.
 * GET, LIST, WATCH and connect verbs (nodes/proxy) have no such option: a `dryRun` there is ignored.
 */
import { badRequest, failure, type ApiStatusError } from '../api/errors.js';

export type WriteOptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions';

/** metav1.DryRunAll. */
export const DRY_RUN_ALL = 'All';

/** Go's strconv.Quote for the common cases (what %#v prints for each string of a []string). */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** field.NotSupported(field.NewPath("dryRun"), values, ["All"]) inside errors.NewInvalid(meta.k8s.io/<kind>, ""). */
export function unsupportedDryRun(kind: WriteOptionsKind, values: readonly string[]): ApiStatusError {
  const body = `Unsupported value: []string{${values.map(goQuote).join(', ')}}: supported values: "${DRY_RUN_ALL}"`;
  return failure(422, 'Invalid', `${kind}.meta.k8s.io "" is invalid: dryRun: ${body}`, {
    group: 'meta.k8s.io', kind, causes: [{ reason: 'FieldValueNotSupported', message: body, field: 'dryRun' }],
  });
}

/** ValidateDryRun: every value must be `All`; an empty list is no dry run. */
function validated(kind: WriteOptionsKind, values: readonly string[]): boolean {
  if (values.some((v) => v !== DRY_RUN_ALL)) throw unsupportedDryRun(kind, values);
  return values.length > 0;
}

/** Whether a create, update or patch is a dry run (`?dryRun=All`); throws 422 for another value. */
export function queryDryRun(kind: Exclude<WriteOptionsKind, 'DeleteOptions'>, query: URLSearchParams): boolean {
  return validated(kind, query.getAll('dryRun'));
}

/**
 * Whether a delete or deletecollection is a dry run: the DeleteOptions body's `dryRun` when a body
 * was sent (the query is then not read, as in delete.go), else `?dryRun=`.
 */
export function deleteDryRun(query: URLSearchParams, body: unknown): boolean {
  if (body === undefined) return validated('DeleteOptions', query.getAll('dryRun'));
  const value = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>).dryRun : undefined;
  if (value === undefined || value === null) return false;
  // encoding/json leaves a null element as "" (which ValidateDryRun then refuses).
  const list = Array.isArray(value) ? value.map((v: unknown) => (v === null ? '' : v)) : value;
  if (!Array.isArray(list) || !list.every((v): v is string => typeof v === 'string')) {
    const bad: unknown = Array.isArray(list) ? list.find((v) => typeof v !== 'string') : list;
    const goType = typeof bad === 'boolean' ? 'bool' : Array.isArray(bad) ? 'array' : typeof bad;
    throw badRequest(`json: cannot unmarshal ${goType} into Go struct field DeleteOptions.dryRun of type ${Array.isArray(list) ? 'string' : '[]string'}`);
  }
  return validated('DeleteOptions', list);
}
