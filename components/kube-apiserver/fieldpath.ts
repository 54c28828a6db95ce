/**
 * Field sets as sigs.k8s.io/structured-merge-diff (v4) keeps them, for managedFields:
 * - a set is a tree of path elements: `f:<field>` (a struct or map member), `k:{"name":"x"}` (an item of
 *   an associative list, by its keys), `v:"x"` (an item of a set list), `i:0` (list index, unused here);
 *   a node may itself be a member (`.` in FieldsV1 when it has children too);
 * - toFieldSet (typed/tofieldset.go): every leaf, every item of a non-atomic list, atomic lists and
 *   structs and empty maps as leaves; `apiVersion`, `kind` and the apiserver's own metadata are stripped
 *   (fieldmanager's StripMetaManager);
 * - FieldsV1 is the JSON of the tree (`{"f:spec":{"f:replicas":{}}}`); a path prints as `.spec.replicas`,
 *   `.spec.template.spec.containers[name="nginx"].image`, `.metadata.finalizers[="x"]`.
 *
 * The schema (which lists are associative and by which keys, which structs and maps are atomic) is the
 * part of k8s.io/api's OpenAPI extensions (`x-kubernetes-list-type`, `-list-map-keys`, `-map-type`) for
 * the fields the served kinds carry, by field name; a list it does not name is atomic, as SMD treats a
 * list with no list-type.
 */
import { copyJson, jsonEqual, nullObject } from './json.js';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A field set: children by path element; `self` when the node itself is a member. */
export interface FieldSet {
  self: boolean;
  readonly children: Map<string, FieldSet>;
}

export const emptySet = (): FieldSet => ({ self: false, children: new Map() });

/** Associative lists and their keys (with the defaults SMD fills into a key: protocol TCP). */
const ASSOCIATIVE: Readonly<Record<string, readonly string[]>> = {
  containers: ['name'], initContainers: ['name'], ephemeralContainers: ['name'], env: ['name'], volumes: ['name'],
  imagePullSecrets: ['name'], volumeMounts: ['mountPath'], volumeDevices: ['devicePath'], conditions: ['type'],
  ownerReferences: ['uid'], hostAliases: ['ip'], resourceClaims: ['name'], topologySpreadConstraints: ['topologyKey', 'whenUnsatisfiable'],
  addresses: ['type'], podIPs: ['ip'], hostIPs: ['ip'], taints: ['key', 'effect'], containerStatuses: ['name'],
};
const KEY_DEFAULTS: Readonly<Record<string, unknown>> = { protocol: 'TCP' };
/** Lists of scalars that are sets. */
const SETS = new Set(['finalizers']);
/** Structs and maps owned as a whole (`+structType=atomic`, `+mapType=atomic`): label selectors, node selectors. */
const ATOMIC_OBJECTS = new Set(['selector', 'nodeSelector', 'matchLabels']);
/** Fields that are Go maps (a new one is a member itself, `.`, when an Update adds it). */
const MAP_FIELDS = new Set(['labels', 'annotations', 'data', 'binaryData', 'stringData', 'limits', 'requests', 'capacity', 'allocatable']);
/** Pointer structs (absent from Go's zero value, so an Update that adds one adds the node itself). */
const POINTER_STRUCTS = new Set([
  'rollingUpdate', 'readinessProbe', 'livenessProbe', 'startupProbe', 'httpGet', 'tcpSocket', 'exec', 'grpc', 'affinity', 'lifecycle',
  'emptyDir', 'configMap', 'secret', 'hostPath', 'persistentVolumeClaim', 'projected', 'downwardAPI', 'valueFrom', 'configMapKeyRef',
  'secretKeyRef', 'fieldRef', 'resourceFieldRef', 'sessionAffinityConfig', 'clientIP', 'securityContext',
]);
/** Fields whose Go type is never omitted (present, maybe null, in the zero value): no `.` when filled. */
const ALWAYS_PRESENT_LISTS = new Set(['containers']);

/** What a list at `field` is: associative (by keys), a set, or atomic. `ports` depends on its parent. */
function listKind(field: string, parentPath: readonly string[]): { kind: 'map'; keys: readonly string[] } | { kind: 'set' } | { kind: 'atomic' } {
  if (field === 'ports') {
    const parent = parentPath[parentPath.length - 1] ?? '';
    if (parent.startsWith('k:') || parentPath.includes('f:containers') || parentPath.includes('f:initContainers')) return { kind: 'map', keys: ['containerPort', 'protocol'] };
    if (parentPath.length === 1 && parentPath[0] === 'f:spec') return { kind: 'map', keys: ['port', 'protocol'] };
    return { kind: 'atomic' };
  }
  const keys = ASSOCIATIVE[field];
  if (keys) return { kind: 'map', keys };
  if (SETS.has(field)) return { kind: 'set' };
  return { kind: 'atomic' };
}

/** The path element of an associative list item: `k:{"containerPort":80,"protocol":"TCP"}` (keys in schema order). */
function keyElement(item: Rec, keys: readonly string[]): string {
  const k: Rec = {};
  for (const key of keys) {
    const v = Object.hasOwn(item, key) ? item[key] : KEY_DEFAULTS[key];
    if (v !== undefined) k[key] = v;
  }
  return `k:${JSON.stringify(k)}`;
}

const valueElement = (v: unknown): string => `v:${JSON.stringify(v)}`;

/** Metadata the fieldmanager never tracks (StripMetaManager), and the type fields. */
const STRIPPED_TOP = new Set(['apiVersion', 'kind']);
const STRIPPED_META = new Set(['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'resourceVersion', 'generation', 'managedFields', 'deletionTimestamp', 'deletionGracePeriodSeconds']);

function child(set: FieldSet, pe: string): FieldSet {
  let c = set.children.get(pe);
  if (!c) { c = emptySet(); set.children.set(pe, c); }
  return c;
}

/**
 * The set of every field `obj` sets (Apply's view: the node itself is a member only for list items,
 * atomic values, empty maps and leaves). With `addedFrom`, the Update view: members are the fields
 * whose value differs from `addedFrom`'s, plus each node (list item, map, pointer struct, list) that
 * `addedFrom` lacks.
 */
export function fieldSetOf(obj: unknown, options: { update?: { old: unknown } } = {}): FieldSet {
  const root = emptySet();
  walk(root, obj, [], [], options.update ? { old: options.update.old } : undefined);
  return root;
}

type Old = { old: unknown } | undefined;

function walk(set: FieldSet, v: unknown, path: readonly string[], names: readonly string[], upd: Old): void {
  if (!isRec(v)) return;
  for (const [k, val] of Object.entries(v)) {
    if (path.length === 0 && STRIPPED_TOP.has(k)) continue;
    if (path.length === 1 && path[0] === 'f:metadata' && STRIPPED_META.has(k)) continue;
    if (val === undefined) continue;
    const pe = `f:${k}`;
    const oldVal = upd && isRec(upd.old) && Object.hasOwn(upd.old, k) ? upd.old[k] : undefined;
    const oldPresent = upd !== undefined && isRec(upd.old) && Object.hasOwn(upd.old, k);
    walkValue(set, pe, k, val, [...path, pe], [...names, k], upd ? { old: oldVal } : undefined, oldPresent);
  }
}

function walkValue(parent: FieldSet, pe: string, field: string, val: unknown, path: readonly string[], names: readonly string[], upd: Old, oldPresent: boolean): void {
  const mark = (): void => { if (!upd || !jsonEqual(upd.old as never, val as never)) child(parent, pe).self = true; };
  if (Array.isArray(val)) {
    const lk = listKind(field, path.slice(0, -1));
    if (lk.kind === 'atomic' || val.length === 0) { mark(); return; }
    const node = (): FieldSet => child(parent, pe);
    if (upd && !oldPresent && !ALWAYS_PRESENT_LISTS.has(field)) node().self = true;
    const oldList = upd && Array.isArray(upd.old) ? upd.old : [];
    for (const item of val) {
      if (lk.kind === 'set') {
        if (!upd || !oldList.some((o) => jsonEqual(o as never, item as never))) node().children.set(valueElement(item), emptySet());
        continue;
      }
      if (!isRec(item)) continue;
      const ipe = keyElement(item, lk.keys);
      const oldItem = oldList.find((o) => isRec(o) && keyElement(o, lk.keys) === ipe);
      const itemSet = emptySet();
      if (!upd || oldItem === undefined) itemSet.self = true;
      walk(itemSet, item, [...path, ipe], names, upd ? { old: oldItem } : undefined);
      if (itemSet.self || itemSet.children.size) node().children.set(ipe, itemSet);
    }
    if (parent.children.get(pe)?.children.size === 0 && !parent.children.get(pe)?.self) parent.children.delete(pe);
    return;
  }
  if (isRec(val)) {
    if (ATOMIC_OBJECTS.has(field) || Object.keys(val).length === 0) { mark(); return; }
    const sub = emptySet();
    if (upd && !oldPresent && (MAP_FIELDS.has(field) || POINTER_STRUCTS.has(field))) sub.self = true;
    walk(sub, val, path, names, upd ? { old: upd.old } : undefined);
    if (sub.self || sub.children.size) {
      const existing = parent.children.get(pe);
      if (existing) { merge(existing, sub); } else parent.children.set(pe, sub);
    }
    return;
  }
  mark();
}

function merge(into: FieldSet, from: FieldSet): void {
  if (from.self) into.self = true;
  for (const [k, c] of from.children) {
    const have = into.children.get(k);
    if (have) merge(have, c); else into.children.set(k, copySet(c));
  }
}

export const copySet = (s: FieldSet): FieldSet => ({ self: s.self, children: new Map([...s.children].map(([k, c]) => [k, copySet(c)])) });

export function union(a: FieldSet, b: FieldSet): FieldSet {
  const out = copySet(a);
  merge(out, b);
  return out;
}

/** a \ b, member by member. */
export function difference(a: FieldSet, b: FieldSet | undefined): FieldSet {
  const out: FieldSet = { self: a.self && !b?.self, children: new Map() };
  for (const [k, c] of a.children) {
    const d = difference(c, b?.children.get(k));
    if (d.self || d.children.size) out.children.set(k, d);
  }
  return out;
}

export function intersection(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { self: a.self && b.self, children: new Map() };
  for (const [k, c] of a.children) {
    const other = b.children.get(k);
    if (!other) continue;
    const d = intersection(c, other);
    if (d.self || d.children.size) out.children.set(k, d);
  }
  return out;
}

export const isEmpty = (s: FieldSet): boolean => !s.self && s.children.size === 0;

/** Every member path, as path-element lists, in FieldsV1 order. */
export function members(s: FieldSet, prefix: readonly string[] = []): string[][] {
  const out: string[][] = [];
  if (s.self && prefix.length) out.push([...prefix]);
  for (const k of sortedKeys(s)) out.push(...members(s.children.get(k)!, [...prefix, k]));
  return out;
}

/** SMD's PathElement order: field names, then keys, then values, then indices, each lexically. */
function sortedKeys(s: FieldSet): string[] {
  const rank = (k: string): number => ({ f: 0, k: 1, v: 2, i: 3 } as Record<string, number>)[k[0] ?? 'f'] ?? 4;
  return [...s.children.keys()].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** FieldsV1's JSON: `.` first for a member with children. */
export function toFieldsV1(s: FieldSet): Rec {
  const out: Rec = {};
  if (s.self && s.children.size) out['.'] = {};
  for (const k of sortedKeys(s)) out[k] = toFieldsV1(s.children.get(k)!);
  return out;
}

/** A FieldsV1 document back into a set; undefined when it is not one. */
export function fromFieldsV1(v: unknown): FieldSet | undefined {
  if (!isRec(v)) return undefined;
  const s = emptySet();
  const keys = Object.keys(v);
  if (keys.length === 0) { s.self = true; return s; }
  for (const k of keys) {
    if (k === '.') { s.self = true; continue; }
    if (!/^[fkvi]:/.test(k)) return undefined;
    const c = fromFieldsV1(v[k]);
    if (!c) return undefined;
    s.children.set(k, c);
  }
  return s;
}

/** `.spec.template.spec.containers[name="nginx"].image`, as fieldpath.Path.String() prints it. */
export function pathString(path: readonly string[]): string {
  return path.map((pe) => {
    const body = pe.slice(2);
    switch (pe[0]) {
      case 'f': return `.${body}`;
      case 'k': {
        const k = JSON.parse(body) as Rec;
        return `[${Object.entries(k).map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(',')}]`;
      }
      case 'v': return `[=${body}]`;
      default: return `[${body}]`;
    }
  }).join('');
}

/** The value at a path in an object (undefined when absent). */
export function valueAt(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (let i = 0; i < path.length; i++) {
    const pe = path[i]!;
    if (pe.startsWith('f:')) {
      if (!isRec(cur) || !Object.hasOwn(cur, pe.slice(2))) return undefined;
      cur = cur[pe.slice(2)];
    } else if (pe.startsWith('k:')) {
      if (!Array.isArray(cur)) return undefined;
      const keys = Object.keys(JSON.parse(pe.slice(2)) as Rec);
      cur = cur.find((it) => isRec(it) && keyElement(it, keys) === pe);
      if (cur === undefined) return undefined;
    } else if (pe.startsWith('v:')) {
      if (!Array.isArray(cur)) return undefined;
      const want = JSON.parse(pe.slice(2)) as unknown;
      return cur.some((x) => jsonEqual(x as never, want as never)) ? want : undefined;
    } else return undefined;
  }
  return cur;
}

/** Removes the member at `path` from `obj` (a field, a keyed item, a set value), in place. */
export function removeAt(obj: unknown, path: readonly string[]): void {
  if (path.length === 0) return;
  const parent = valueAt(obj, path.slice(0, -1));
  const pe = path[path.length - 1]!;
  if (pe.startsWith('f:') && isRec(parent)) delete parent[pe.slice(2)];
  else if (Array.isArray(parent)) {
    const idx = parent.findIndex((it) => (pe.startsWith('k:') ? isRec(it) && keyElement(it, Object.keys(JSON.parse(pe.slice(2)) as Rec)) === pe : pe.startsWith('v:') && jsonEqual(it as never, JSON.parse(pe.slice(2)) as never)));
    if (idx >= 0) parent.splice(idx, 1);
  }
}

/**
 * Merges an applied configuration into the live object as SMD's merge does: struct and map members
 * merge, associative lists merge item by item on their keys (new items appended), sets union, and
 * atomic values (scalars, atomic lists and objects) are replaced. Returns a new object.
 */
export function mergeApplied(live: unknown, config: unknown, field = '', path: readonly string[] = []): unknown {
  if (isRec(config)) {
    if (!isRec(live) || ATOMIC_OBJECTS.has(field)) return copyJson(config);
    const out = Object.assign(nullObject(), copyJson(live)) as Rec;
    for (const [k, v] of Object.entries(config)) {
      out[k] = mergeApplied(Object.hasOwn(live, k) ? live[k] : undefined, v, k, [...path, `f:${k}`]);
    }
    return out;
  }
  if (Array.isArray(config) && Array.isArray(live)) {
    const lk = listKind(field, path.slice(0, -1));
    if (lk.kind === 'set') return [...copyJson(live), ...config.filter((c) => !live.some((l) => jsonEqual(l as never, c as never)))];
    if (lk.kind === 'map') {
      const out = copyJson(live) as unknown[];
      for (const item of config) {
        if (!isRec(item)) continue;
        const pe = keyElement(item, lk.keys);
        const idx = out.findIndex((o) => isRec(o) && keyElement(o, lk.keys) === pe);
        if (idx >= 0) out[idx] = mergeApplied(out[idx], item, '', [...path, pe]);
        else out.push(copyJson(item));
      }
      return out;
    }
  }
  return copyJson(config);
}
