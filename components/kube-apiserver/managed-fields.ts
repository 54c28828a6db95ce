/**
 * metadata.managedFields, as k8s.io/apiserver's fieldmanager keeps them with structured-merge-diff:
 * - every create, update and patch records an `Update` entry for its manager (`?fieldManager=`, else the
 *   first `/`-separated token of the User-Agent, at most 128 characters): the fields it added or changed
 *   become its, and are taken from every other manager; fields it removed leave every manager; a
 *   manager left with no field is dropped. Status writes carry `subresource: status`.
 * - server-side apply (`application/apply-patch+yaml`) records an `Apply` entry: its fields are exactly
 *   those of the applied configuration; a field another manager owns with a different value is a
 *   conflict (409 unless `force=true`, which takes the field over); fields it applied before and no
 *   longer applies are removed from the object unless another manager owns them.
 * - entries are identified by manager, operation, subresource and (for Update) apiVersion, and kept in
 *   managedfields' order: operation, time, manager, apiVersion, subresource.
 * Client-sent managedFields replace the stored ones when present (an empty list resets them), as
 * decodeLiveOrNew does; entries that do not decode are dropped.
 */
import { failure } from '../api/errors.js';
import {
  difference, emptySet, fieldSetOf, fromFieldsV1, intersection, isEmpty, members, mergeApplied, pathString, removeAt, toFieldsV1, union, valueAt,
  type FieldSet,
} from './fieldpath.js';
import { jsonEqual } from './json.js';

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Rec;
  subresource?: string;
}

interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  subresource?: string;
  set: FieldSet;
}

/** The most characters a manager name may have (validation of fieldManager). */
const MAX_MANAGER = 128;

/** The manager of a non-apply write: ?fieldManager=, else the User-Agent's first token. */
export function updateManagerOf(query: URLSearchParams, userAgent: string | undefined): string {
  const given = query.get('fieldManager');
  if (given !== null && given !== '') return given.slice(0, MAX_MANAGER);
  return (userAgent ?? '').split('/')[0]!.slice(0, MAX_MANAGER);
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

const identity = (m: Pick<Manager, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string =>
  JSON.stringify([m.manager, m.operation, m.operation === 'Apply' ? '' : m.apiVersion, m.subresource ?? '']);

function decode(entries: unknown): Manager[] {
  if (!Array.isArray(entries)) return [];
  const out: Manager[] = [];
  for (const e of entries) {
    if (!isRec(e) || typeof e.manager !== 'string' || (e.operation !== 'Apply' && e.operation !== 'Update')) continue;
    const set = fromFieldsV1(e.fieldsV1 ?? {});
    if (!set) continue;
    out.push({
      manager: e.manager, operation: e.operation, apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : '', set,
      ...(typeof e.time === 'string' ? { time: e.time } : {}), ...(typeof e.subresource === 'string' && e.subresource ? { subresource: e.subresource } : {}),
    });
  }
  return out;
}

function encode(managers: readonly Manager[]): ManagedFieldsEntry[] {
  const sorted = managers.filter((m) => !isEmpty(m.set)).sort((p, q) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    const pt = p.time ? Date.parse(p.time) : 0;
    const qt = q.time ? Date.parse(q.time) : 0;
    if (pt !== qt) return pt - qt;
    if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
    return (p.subresource ?? '') < (q.subresource ?? '') ? -1 : (p.subresource ?? '') > (q.subresource ?? '') ? 1 : 0;
  });
  return sorted.map((m) => ({
    manager: m.manager, operation: m.operation, apiVersion: m.apiVersion, ...(m.time ? { time: m.time } : {}),
    fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(m.set), ...(m.subresource ? { subresource: m.subresource } : {}),
  }));
}

/** The managers a write starts from: the request's managedFields when it sent some, else the stored ones. */
function baseManagers(next: Rec, old: Rec | undefined): Manager[] {
  const md = isRec(next.metadata) ? next.metadata : {};
  if (Array.isArray(md.managedFields)) return decode(md.managedFields);
  return decode(isRec(old?.metadata) ? (old.metadata as Rec).managedFields : undefined);
}

const withoutManagedFields = (o: Rec | undefined): Rec | undefined => {
  if (!o) return o;
  const md = isRec(o.metadata) ? { ...o.metadata } : {};
  delete md.managedFields;
  return { ...o, metadata: md };
};

export interface WriteInfo {
  readonly manager: string;
  readonly apiVersion: string;
  readonly subresource?: string;
  readonly now: Date;
}

/** Records an Update by `w.manager` that turned `old` (undefined on create) into `next`; sets next.metadata.managedFields. */
export function trackUpdate(old: Rec | undefined, next: Rec, w: WriteInfo): void {
  const managers = baseManagers(next, old);
  const o = withoutManagedFields(old);
  const n = withoutManagedFields(next)!;
  const changed = fieldSetOf(n, { update: { old: o ?? {} } });
  const removed = o ? difference(fieldSetOf(o), fieldSetOf(n)) : emptySet();
  const me = { manager: w.manager, operation: 'Update' as const, apiVersion: w.apiVersion, ...(w.subresource ? { subresource: w.subresource } : {}) };
  const key = identity(me);
  let mine = managers.find((m) => identity(m) === key);
  for (const m of managers) {
    if (m === mine) continue;
    m.set = difference(difference(m.set, changed), removed);
  }
  if (!mine && !isEmpty(changed)) {
    mine = { ...me, set: emptySet() };
    managers.push(mine);
  }
  if (mine) {
    mine.set = union(difference(mine.set, removed), changed);
    mine.time = rfc3339(w.now);
  }
  setManagedFields(next, managers);
}

function setManagedFields(obj: Rec, managers: readonly Manager[]): void {
  const md = isRec(obj.metadata) ? obj.metadata : (obj.metadata = {});
  const entries = encode(managers);
  if (entries.length) (md as Rec).managedFields = entries;
  else delete (md as Rec).managedFields;
}

/** One field another manager owns with another value. */
interface Conflict {
  readonly manager: Manager;
  readonly path: readonly string[];
}

/** printManager: `"kubectl-client-side-apply" using apps/v1`, `"x" with subresource "status"`. */
function printManager(m: Manager): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s = `${s} with subresource ${JSON.stringify(m.subresource)}`;
  return m.operation === 'Update' ? `${s} using ${m.apiVersion}` : s;
}

/** NewConflictError: 409 Conflict, one FieldManagerConflict cause per field, getConflictMessage's wording. */
function conflictError(conflicts: readonly Conflict[]): Error {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0]!.manager)}: ${pathString(conflicts[0]!.path)}`;
  } else {
    const by = new Map<string, string[]>();
    for (const c of conflicts) by.set(printManager(c.manager), [...(by.get(printManager(c.manager)) ?? []), pathString(c.path)]);
    const lines: string[] = [];
    for (const m of [...by.keys()].sort()) {
      lines.push(`conflicts with ${m}:`);
      for (const p of by.get(m)!) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return failure(409, 'Conflict', message, { causes });
}

/**
 * Server-side apply of `config` by `w.manager` onto `live` (undefined: the object is created): the
 * merged object with its managedFields, or a 409 naming each conflict.
 */
export function applyConfiguration(live: Rec | undefined, config: Rec, w: WriteInfo & { readonly force: boolean }): Rec {
  const managers = baseManagers({}, live);
  const liveClean = withoutManagedFields(live) ?? {};
  const applied = fieldSetOf(config);
  let merged = mergeApplied(liveClean, withoutManagedFields(config)) as Rec;
  const me = { manager: w.manager, operation: 'Apply' as const, apiVersion: w.apiVersion, ...(w.subresource ? { subresource: w.subresource } : {}) };
  const key = identity(me);
  const mine = managers.find((m) => identity(m) === key);
  const conflicts: Conflict[] = [];
  for (const m of managers) {
    if (m === mine) continue;
    for (const path of members(intersection(applied, m.set))) {
      if (!jsonEqual(valueAt(liveClean, path), valueAt(merged, path))) conflicts.push({ manager: m, path });
    }
  }
  if (conflicts.length && !w.force) throw conflictError(conflicts);
  for (const c of conflicts) {
    const taken = emptySet();
    let node = taken;
    for (const pe of c.path) { const n = emptySet(); node.children.set(pe, n); node = n; }
    node.self = true;
    c.manager.set = difference(c.manager.set, taken);
  }
  // Fields this manager applied before and applies no more leave the object unless another manager has them.
  if (mine) {
    const others = managers.filter((m) => m !== mine).reduce((acc, m) => union(acc, m.set), emptySet());
    const dropped = members(difference(mine.set, applied)).filter((p) => !owned(others, p)).sort((a, b) => b.length - a.length);
    for (const p of dropped) removeAt(merged, p);
  }
  const entry: Manager = mine ?? { ...me, set: emptySet() };
  entry.set = applied;
  entry.apiVersion = w.apiVersion;
  entry.time = rfc3339(w.now);
  if (!mine) managers.push(entry);
  merged = { ...merged };
  setManagedFields(merged, managers);
  return merged;
}

/** Whether `set` has `path` or anything below it. */
function owned(set: FieldSet, path: readonly string[]): boolean {
  let node: FieldSet | undefined = set;
  for (const pe of path) {
    node = node.children.get(pe);
    if (!node) return false;
  }
  return true;
}
