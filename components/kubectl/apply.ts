/**
 * Client-side apply's bookkeeping: the `kubectl.kubernetes.io/last-applied-configuration` annotation
 * and the three-way merge patch (original = last applied, modified = the manifest, current = the live
 * object), as jsonmergepatch.CreateThreeWayJSONMergePatch computes it: fields dropped from the
 * manifest since the last apply are deleted (null), fields whose value differs from the live object
 * are set. A list is replaced whole, but only when the manifest's list is not already contained in the
 * live one (so fields the server defaults inside list items do not make every apply a change — what
 * the strategic merge patch achieves with merge keys).
 */
import type { KubeObject } from '../api/types.js';
import { sortKeys } from './printers.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The manifest as it is recorded: its JSON without the annotation itself, keys sorted, newline-terminated. */
export function lastAppliedOf(obj: KubeObject): string {
  const copy = structuredClone(obj) as KubeObject;
  if (copy.metadata.annotations) {
    delete copy.metadata.annotations[LAST_APPLIED];
    if (Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
  }
  return `${JSON.stringify(sortKeys(copy))}\n`;
}

/** The manifest with its last-applied annotation set (what is sent on create, and compared on patch). */
export function withLastApplied(obj: KubeObject): KubeObject {
  const copy = structuredClone(obj) as KubeObject;
  copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [LAST_APPLIED]: lastAppliedOf(obj) };
  return copy;
}

function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

/** Whether everything in `want` is present, equal, in `have` (extra fields in `have` allowed). */
function contained(want: Json | undefined, have: Json | undefined): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && want.length === have.length && want.every((w, i) => contained(w, have[i]));
  if (isObject(want)) return isObject(have) && Object.entries(want).every(([k, v]) => contained(v, have[k]));
  return deepEqual(want, have);
}

/** Fields in `original` that `modified` no longer has → null. */
function deletions(original: JsonObject, modified: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(original)) {
    if (!(k in modified)) out[k] = null;
    else if (isObject(v) && isObject(modified[k])) {
      const sub = deletions(v, modified[k] as JsonObject);
      if (Object.keys(sub).length) out[k] = sub;
    }
  }
  return out;
}

/** Fields of `modified` whose value `current` does not have. */
function changes(current: JsonObject, modified: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(modified)) {
    const cur = current[k];
    if (isObject(v) && isObject(cur)) {
      const sub = changes(cur, v);
      if (Object.keys(sub).length) out[k] = sub;
    } else if (Array.isArray(v)) {
      if (!contained(v, cur)) out[k] = v;
    } else if (!deepEqual(v, cur)) out[k] = v;
  }
  return out;
}

function merge(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObject(v) && isObject(out[k]) ? merge(out[k] as JsonObject, v) : v;
  return out;
}

/**
 * The merge patch that takes `current` to the applied manifest `modified` (with its new last-applied
 * annotation); `{}` means unchanged.
 */
export function threeWayMergePatch(original: KubeObject | undefined, modified: KubeObject, current: KubeObject): Record<string, unknown> {
  const mod = modified as unknown as JsonObject;
  const del = original ? deletions(original as unknown as JsonObject, mod) : {};
  return merge(del, changes(current as unknown as JsonObject, mod));
}
