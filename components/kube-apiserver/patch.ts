/**
 * The three PATCH flavours the apiserver accepts for built-in types:
 * - application/merge-patch+json (RFC 7386): objects merge, null deletes, everything else replaces;
 * - application/strategic-merge-patch+json: as merge, but lists of objects with a patch merge key
 *   (containers by name, conditions by type, ...) merge element by element, and the `$patch`,
 *   `$setElementOrder/...`, `$retainKeys`, `$deleteFromPrimitiveList/...` directives kubectl sends are
 *   understood (`$setElementOrder` orders a merged list as strategicpatch's normalizeElementOrder does);
 * - application/json-patch+json (RFC 6902): add, remove, replace, move, copy, test.
 *
 * Every walker reads own members only (Object.hasOwn) and builds null-prototype objects, so a patch
 * naming `__proto__`, `constructor` or `prototype` reaches nothing but data: in Go, where these
 * patches are applied in Kubernetes, there are no prototypes, and such a path names a missing member.
 */
import { failure, unsupportedMediaType } from '../api/errors.js';
import { copyJson, jsonEqual, nullObject } from './json.js';
import { KubeSimError } from '../../pki/errors.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => copyJson(v);
/** `o[k]` if o has its own member k; never a prototype's. */
const own = (o: JsonObject, k: string): Json | undefined => (Object.hasOwn(o, k) ? o[k] : undefined);
/** A null-prototype shallow copy of an object's own members. */
const shallow = (o: Json | undefined): JsonObject => Object.assign(nullObject() as JsonObject, isObject(o) ? o : {});

/**
 * A patch's subtree merged into nothing (RFC 7386: the patch with its null members removed), without
 * recursion: a patch may be nested as deep as the decoder allows (10,000), deeper than a JavaScript stack.
 */
function mergeIntoNothing(patch: Json): Json {
  const out = clone(patch);
  const work: Json[] = [out];
  while (work.length > 0) {
    const o = work.pop()!;
    if (!isObject(o)) continue;
    for (const k of Object.keys(o)) {
      if (o[k] === null) delete o[k];
      else if (isObject(o[k]!)) work.push(o[k]!);
    }
  }
  return out;
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (!isObject(target)) return mergeIntoNothing(patch);
  const out = shallow(target);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(own(out, k) ?? null, v);
  }
  return out;
}

/** How deep strategic merge interprets directives in a subtree the target does not have. */
const MAX_STRATEGIC_DEPTH = 500;

/** Patch merge keys of the list fields the simulated types carry (k8s.io/api `patchMergeKey` tags). */
const MERGE_KEYS: ReadonlyMap<string, string> = new Map([
  ['containers', 'name'], ['initContainers', 'name'], ['ephemeralContainers', 'name'], ['env', 'name'], ['volumes', 'name'],
  ['volumeMounts', 'mountPath'], ['imagePullSecrets', 'name'], ['conditions', 'type'], ['addresses', 'type'], ['podIPs', 'ip'],
  ['ownerReferences', 'uid'], ['taints', 'key'], ['hostAliases', 'ip'],
]);

function mergeKeyFor(field: string, items: readonly Json[]): string | undefined {
  if (field === 'ports') {
    // ContainerPort merges on containerPort, ServicePort on port.
    return items.some((i) => isObject(i) && Object.hasOwn(i, 'containerPort')) ? 'containerPort' : 'port';
  }
  return MERGE_KEYS.get(field);
}

const directive = (p: Json): Json | undefined => (isObject(p) ? own(p, '$patch') : undefined);

function strategicList(field: string, target: Json | undefined, patch: Json[], depth: number): Json[] {
  const key = mergeKeyFor(field, [...patch, ...(Array.isArray(target) ? target : [])]);
  if (!key || !Array.isArray(target) || !patch.every(isObject)) return clone(patch).filter((p) => directive(p) === undefined);
  if (patch.some((p) => directive(p) === 'replace')) return clone(patch).filter((p) => directive(p) !== 'replace');
  const out = clone(target);
  for (const p of patch as JsonObject[]) {
    const idx = out.findIndex((t) => isObject(t) && own(t, key) === own(p, key));
    if (directive(p) === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMergePatch(out[idx]!, p, depth + 1);
    else out.push(strategicMergePatch(nullObject() as JsonObject, p, depth + 1));
  }
  return out;
}

export function strategicMergePatch(target: Json, patch: Json, depth = 0): Json {
  if (!isObject(patch)) return clone(patch);
  // Past any depth a Kubernetes type has, a new subtree can only be refused by the typed decode that
  // follows; merge it without recursion (directives that deep are not interpreted).
  if (depth > MAX_STRATEGIC_DEPTH && !isObject(target)) return mergeIntoNothing(patch);
  if (directive(patch) === 'replace') {
    const rest = clone(patch);
    delete rest.$patch;
    return rest;
  }
  if (directive(patch) === 'delete') return null;
  const out = shallow(target);
  const retainKeys = own(patch, '$retainKeys');
  const retain = Array.isArray(retainKeys) ? new Set(retainKeys.map(String)) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const list = own(out, field);
      if (Array.isArray(list) && Array.isArray(v)) out[field] = list.filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = strategicList(k, own(out, k), v, depth + 1);
    else out[k] = strategicMergePatch(own(out, k) ?? null, v, depth + 1);
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.has(k)) delete out[k];
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith('$setElementOrder/') || !Array.isArray(order)) continue;
    const field = k.slice('$setElementOrder/'.length);
    const merged = own(out, field);
    const live = own(shallow(target), field);
    if (Array.isArray(merged)) out[field] = orderElements(field, merged, order, Array.isArray(live) ? live : []);
  }
  return out;
}

/**
 * strategicpatch normalizeElementOrder + mergeSortedSlice: the items the order names, in its order;
 * the live object's other items interleaved by their live positions (a patch item goes first unless
 * both are live and the server-only one came before it).
 */
function orderElements(field: string, merged: Json[], order: Json[], live: Json[]): Json[] {
  const key = mergeKeyFor(field, [...merged, ...order]);
  const id = (x: Json): Json | undefined => (key === undefined ? x : isObject(x) ? own(x, key) : undefined);
  const orderIds = order.map(id);
  const liveIds = live.map(id);
  const inOrder = merged.filter((m) => orderIds.includes(id(m))).sort((a, b) => orderIds.indexOf(id(a)) - orderIds.indexOf(id(b)));
  const serverOnly = merged.filter((m) => !orderIds.includes(id(m))).sort((a, b) => liveIds.indexOf(id(a)) - liveIds.indexOf(id(b)));
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < inOrder.length) {
    if (j >= inOrder.length) { out.push(serverOnly[i++]!); continue; }
    if (i >= serverOnly.length) { out.push(inOrder[j++]!); continue; }
    const li = liveIds.indexOf(id(serverOnly[i]!));
    const ri = liveIds.indexOf(id(inOrder[j]!));
    if (li >= 0 && ri >= 0 && li < ri) out.push(serverOnly[i++]!);
    else out.push(inOrder[j++]!);
  }
  return out;
}

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: Json;
}

/**
 * A JSON patch that does not apply. The message is evanphx/json-patch's; the apiserver does not show it:
 * patch.go answers NewGenericServerResponse(422, ...), whose message is the generic one below.
 */
class JsonPatchError extends KubeSimError<'JSON_PATCH'> {
  constructor(message: string) {
    super('JSON_PATCH', message);
  }
}

/** The most operations one JSON patch may carry (patch.go's maxJSONPatchOperations). */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer "${path}"`);
  return path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** An array index as evanphx parses it; anything else names no element. */
const index = (p: string): number => (/^(0|[1-9]\d*)$/.test(p) ? Number(p) : NaN);

/** One step down: an own member of an object or an element of an array, else undefined. */
const child = (cur: Json | undefined, p: string): Json | undefined =>
  (Array.isArray(cur) ? cur[index(p)] : isObject(cur) ? own(cur, p) : undefined);

function parentOf(doc: Json, parts: string[], path: string): { parent: Json[] | JsonObject; last: string } {
  let cur: Json | undefined = doc;
  for (const p of parts.slice(0, -1)) {
    cur = child(cur, p);
    if (cur === undefined) throw new JsonPatchError(`doc is missing path: "${path}": missing value`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) throw new JsonPatchError(`doc is missing path: "${path}": missing value`);
  return { parent: cur, last: parts[parts.length - 1] ?? '' };
}

function getAt(doc: Json, path: string): Json {
  let cur: Json | undefined = doc;
  for (const p of pointer(path)) {
    cur = child(cur, p);
    if (cur === undefined) throw new JsonPatchError(`doc is missing path: "${path}": missing value`);
  }
  return cur;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, last } = parentOf(doc, pointer(path), path);
  if (Array.isArray(parent)) {
    const i = index(last);
    if (!(i >= 0 && i < parent.length)) throw new JsonPatchError(`doc is missing path: "${path}": missing value`);
    return parent.splice(i, 1)[0]!;
  }
  if (!Object.hasOwn(parent, last)) throw new JsonPatchError(`doc is missing path: "${path}": missing value`);
  const v = parent[last]!;
  delete parent[last];
  return v;
}

function addAt(doc: Json, path: string, value: Json): Json {
  const parts = pointer(path);
  if (parts.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : index(last);
    if (!(i >= 0 && i <= parent.length)) throw new JsonPatchError(`add operation does not apply: doc is missing path: "${path}"`);
    parent.splice(i, 0, clone(value));
  } else {
    // The parent is one of this document's null-prototype objects (the target was copied), so even a
    // member named __proto__ is only data here.
    parent[last] = clone(value);
  }
  return doc;
}

/** The 422 the apiserver answers for any JSON patch that does not apply. */
const patchDoesNotApply = (): Error => failure(422, 'Invalid', 'the server rejected our request due to an error in our request', {});

export function jsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw failure(400, 'BadRequest', `json: cannot unmarshal ${isObject(ops) ? 'object' : typeof ops} into Go value of type jsonpatch.Patch`);
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw failure(413, 'RequestEntityTooLarge', `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`);
  }
  let doc = clone(target);
  try {
    for (const op of ops as unknown[]) {
      const raw = (isObject(op as Json) ? op : nullObject()) as JsonObject;
      const path = typeof own(raw, 'path') === 'string' ? own(raw, 'path') as string : undefined;
      const from = typeof own(raw, 'from') === 'string' ? own(raw, 'from') as string : '';
      const value = own(raw, 'value') ?? null;
      const kind = own(raw, 'op');
      if (path === undefined && kind !== undefined) throw new JsonPatchError(`operation missing path field`);
      switch (kind) {
        case 'add': doc = addAt(doc, path!, value); break;
        case 'remove': removeAt(doc, path!); break;
        case 'replace': getAt(doc, path!); if (path === '') doc = clone(value); else { removeAt(doc, path!); doc = addAt(doc, path!, value); } break;
        case 'move': { const v = removeAt(doc, from); doc = addAt(doc, path!, v); break; }
        case 'copy': doc = addAt(doc, path!, getAt(doc, from)); break;
        case 'test':
          if (!jsonEqual(getAt(doc, path!), value)) throw new JsonPatchError(`testing value ${path!} failed: test failed`);
          break;
        default: throw new JsonPatchError(`Unexpected kind: ${String(kind)}`);
      }
    }
  } catch (err) {
    if (err instanceof JsonPatchError) throw patchDoesNotApply();
    throw err;
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
