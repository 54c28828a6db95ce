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
  const sorted = managers.filter((m) => !isEmpty(m.set)).sort(entryOrder);
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

/**
 * Records an Update by `w.manager` that turned `old` (undefined on create) into `next`; sets next.metadata.managedFields.
 * As managedFieldsUpdater: the manager's time moves only when the write changed a field (the "current-operation"
 * took some); a write that changes nothing, or only removes fields, leaves every time as it was.
 */
export function trackUpdate(old: Rec | undefined, next: Rec, w: WriteInfo): void {
  // fieldSetOf skips metadata.managedFields (StripMetaManager), so the objects are walked as they are.
  const changed = fieldSetOf(next, { update: { old: old ?? {} } });
  const removed = old ? difference(fieldSetOf(old), fieldSetOf(next)) : emptySet();
  if (old && reuseEntries(old, next, changed, removed, w)) return;
  recomputeManagedFields(old, next, w, changed, removed);
}

/**
 * The full computation: every manager's FieldsV1 decoded into a set, the changed fields taken from the
 * others, the removed ones from all, then encoded again (what reuseEntries must always agree with).
 */
export function recomputeManagedFields(old: Rec | undefined, next: Rec, w: WriteInfo, changed = fieldSetOf(next, { update: { old: old ?? {} } }), removed = old ? difference(fieldSetOf(old), fieldSetOf(next)) : emptySet()): void {
  const managers = baseManagers(next, old);
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
    if (!isEmpty(changed)) mine.time = rfc3339(w.now);
  }
  setManagedFields(next, managers);
}

/**
 * The common case of a controller's or kubelet's write (a Lease's renewTime, a status heartbeat): the
 * request carries the stored managedFields back (or none), nothing was removed, and every changed field
 * is already the writer's own and nobody else's. Then no set changes: the stored entries are kept as
 * they are, FieldsV1 and all, and only the writer's time moves (and with it, the entries' order).
 * Returns false, touching nothing, whenever the full computation is needed.
 */
function reuseEntries(old: Rec, next: Rec, changed: FieldSet, removed: FieldSet, w: WriteInfo): boolean {
  if (!isEmpty(removed)) return false;
  const stored = isRec(old.metadata) ? (old.metadata as Rec).managedFields : undefined;
  if (!Array.isArray(stored)) return false;
  const md = isRec(next.metadata) ? next.metadata : undefined;
  if (!md) return false;
  const sent = (md as Rec).managedFields;
  if (sent !== undefined && sent !== stored && !jsonEqual(sent as never, stored as never)) return false;
  if (!stored.every(isEntry)) return false;
  if (isEmpty(changed)) {
    (md as Rec).managedFields = [...stored];
    return true;
  }
  const me = { manager: w.manager, operation: 'Update' as const, apiVersion: w.apiVersion, ...(w.subresource ? { subresource: w.subresource } : {}) };
  const key = identity(me);
  const mine = stored.find((e) => identity(e) === key);
  if (!mine || !membersIn(changed, mine.fieldsV1, 'all')) return false;
  for (const e of stored) if (e !== mine && membersIn(changed, e.fieldsV1, 'any')) return false;
  const entries = stored.map((e) => (e === mine ? { ...e, time: rfc3339(w.now) } : e));
  (md as Rec).managedFields = entries.sort(entryOrder);
  return true;
}

/** A stored entry as encode writes it (anything else goes the full way, where decode drops it). */
const isEntry = (e: unknown): e is ManagedFieldsEntry & { subresource?: string } =>
  isRec(e) && typeof e.manager === 'string' && (e.operation === 'Apply' || e.operation === 'Update') && typeof e.apiVersion === 'string' && isRec(e.fieldsV1) && Object.keys(e.fieldsV1).length > 0;

/**
 * Whether every (`all`) or some (`any`) member of `set` is a member of the FieldsV1 document `v1` (a
 * node is a member when it is `{}` or has `.`), read in place without decoding `v1`.
 */
function membersIn(set: FieldSet, v1: unknown, mode: 'all' | 'any'): boolean {
  if (set.self) {
    const member = isRec(v1) && (Object.keys(v1).length === 0 || Object.hasOwn(v1, '.'));
    if (mode === 'any' && member) return true;
    if (mode === 'all' && !member) return false;
  }
  for (const [pe, c] of set.children) {
    const sub = isRec(v1) && Object.hasOwn(v1, pe) ? v1[pe] : undefined;
    if (sub === undefined) { if (mode === 'all') return false; continue; }
    const r = membersIn(c, sub, mode);
    if (mode === 'any' && r) return true;
    if (mode === 'all' && !r) return false;
  }
  return mode === 'all';
}

/** managedfields' order: operation, time, manager, apiVersion, subresource. */
function entryOrder(p: Pick<Manager, 'operation' | 'time' | 'manager' | 'apiVersion' | 'subresource'>, q: Pick<Manager, 'operation' | 'time' | 'manager' | 'apiVersion' | 'subresource'>): number {
  if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
  const pt = p.time ? Date.parse(p.time) : 0;
  const qt = q.time ? Date.parse(q.time) : 0;
  if (pt !== qt) return pt - qt;
  if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
  if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
  return (p.subresource ?? '') < (q.subresource ?? '') ? -1 : (p.subresource ?? '') > (q.subresource ?? '') ? 1 : 0;
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
