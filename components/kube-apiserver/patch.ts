/**
 * The three PATCH flavours the apiserver accepts for built-in types:
 * - application/merge-patch+json (RFC 7386): objects merge, null deletes, everything else replaces;
 * - application/strategic-merge-patch+json: as merge, but lists of objects with a patch merge key
 *   (containers by name, conditions by type, ...) merge element by element, and the `$patch`,
 *   `$setElementOrder/...`, `$retainKeys`, `$deleteFromPrimitiveList/...` directives kubectl sends are
 *   understood (ordering directives are accepted and ignored);
 * - application/json-patch+json (RFC 6902): add, remove, replace, move, copy, test.
 */
import { failure, unsupportedMediaType } from './errors.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

/** Patch merge keys of the list fields the simulated types carry (k8s.io/api `patchMergeKey` tags). */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name', initContainers: 'name', ephemeralContainers: 'name', env: 'name', volumes: 'name',
  volumeMounts: 'mountPath', imagePullSecrets: 'name', conditions: 'type', addresses: 'type', podIPs: 'ip',
  ownerReferences: 'uid', taints: 'key', hostAliases: 'ip',
};

function mergeKeyFor(field: string, items: readonly Json[]): string | undefined {
  if (field === 'ports') {
    // ContainerPort merges on containerPort, ServicePort on port.
    return items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  }
  return MERGE_KEYS[field];
}

function strategicList(field: string, target: Json | undefined, patch: Json[]): Json[] {
  const key = mergeKeyFor(field, [...patch, ...(Array.isArray(target) ? target : [])]);
  if (!key || !Array.isArray(target) || !patch.every(isObject)) return clone(patch).filter((p) => !(isObject(p) && '$patch' in p));
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) return clone(patch).filter((p) => !(isObject(p) && p.$patch === 'replace'));
  const out = clone(target);
  for (const p of patch as JsonObject[]) {
    const idx = out.findIndex((t) => isObject(t) && t[key] === p[key]);
    if (p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx]!, p);
    else out.push(strategicMergePatch({}, p));
  }
  return out;
}

export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return null;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  const retain = Array.isArray(patch.$retainKeys) ? new Set(patch.$retainKeys.map(String)) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const list = out[field];
      if (Array.isArray(list) && Array.isArray(v)) out[field] = list.filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = strategicList(k, out[k], v);
    else out[k] = strategicMergePatch(out[k] ?? null, v);
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.has(k)) delete out[k];
  return out;
}

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: Json;
}

const unprocessable = (message: string): Error => failure(422, 'Invalid', message);

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw unprocessable(`invalid JSON pointer "${path}"`);
  return path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, parts: string[], path: string): { parent: Json[] | JsonObject; last: string } {
  let cur: Json = doc;
  for (const p of parts.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(cur) ? cur[Number(p)] : isObject(cur) ? cur[p] : undefined;
    if (next === undefined) throw unprocessable(`doc is missing path: "${path}": missing value`);
    cur = next;
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw unprocessable(`doc is missing path: "${path}": missing value`);
  return { parent: cur, last: parts[parts.length - 1] ?? '' };
}

function getAt(doc: Json, path: string): Json {
  let cur: Json | undefined = doc;
  for (const p of pointer(path)) {
    cur = Array.isArray(cur) ? cur[Number(p)] : isObject(cur) ? cur[p] : undefined;
    if (cur === undefined) throw unprocessable(`doc is missing path: "${path}": missing value`);
  }
  return cur;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, last } = parentOf(doc, pointer(path), path);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!(i >= 0 && i < parent.length)) throw unprocessable(`doc is missing path: "${path}": missing value`);
    return parent.splice(i, 1)[0]!;
  }
  if (!(last in parent)) throw unprocessable(`doc is missing path: "${path}": missing value`);
  const v = parent[last]!;
  delete parent[last];
  return v;
}

function addAt(doc: Json, path: string, value: Json): Json {
  const parts = pointer(path);
  if (parts.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!(i >= 0 && i <= parent.length)) throw unprocessable(`add operation does not apply: doc is missing path: "${path}"`);
    parent.splice(i, 0, clone(value));
  } else {
    parent[last] = clone(value);
  }
  return doc;
}

export function jsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw unprocessable('json patch must be an array of operations');
  let doc = clone(target);
  for (const raw of ops as JsonPatchOp[]) {
    switch (raw.op) {
      case 'add': doc = addAt(doc, raw.path, raw.value ?? null); break;
      case 'remove': removeAt(doc, raw.path); break;
      case 'replace': getAt(doc, raw.path); if (raw.path === '') doc = clone(raw.value ?? null); else { removeAt(doc, raw.path); doc = addAt(doc, raw.path, raw.value ?? null); } break;
      case 'move': { const v = removeAt(doc, raw.from ?? ''); doc = addAt(doc, raw.path, v); break; }
      case 'copy': doc = addAt(doc, raw.path, getAt(doc, raw.from ?? '')); break;
      case 'test':
        if (JSON.stringify(getAt(doc, raw.path)) !== JSON.stringify(raw.value ?? null)) throw unprocessable(`testing value ${raw.path} failed: test failed`);
        break;
      default: throw unprocessable(`Unexpected kind: ${String((raw as { op: unknown }).op)}`);
    }
  }
  return doc;
}

export type PatchType = 'merge' | 'strategic' | 'json';

export function patchTypeOf(contentType: string | undefined): PatchType {
  const ct = (contentType ?? '').split(';')[0]!.trim();
  if (ct === 'application/merge-patch+json') return 'merge';
  if (ct === 'application/strategic-merge-patch+json') return 'strategic';
  if (ct === 'application/json-patch+json') return 'json';
  throw unsupportedMediaType(ct);
}

export function applyPatch(type: PatchType, target: Json, patch: unknown): Json {
  switch (type) {
    case 'merge': return mergePatch(target, patch as Json);
    case 'strategic': return strategicMergePatch(target, patch as Json);
    case 'json': return jsonPatch(target, patch);
  }
}
