/**
 * Label and field selectors in their query-string form, as k8s.io/apimachinery's labels.Parse and
 * fields.ParseSelector read them: `a=b,c!=d,e in (x,y),f notin (z),g,!h` and `spec.nodeName=,status.phase!=Failed`.
 */
import type { KubeObject } from './types.js';
import { badRequest } from './errors.js';
import type { ResourceDef } from './resources.js';

export type LabelRequirement =
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'exists' | '!' };

export type LabelSelector = readonly LabelRequirement[];

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/;

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

function checkKey(key: string, whole: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in "${whole}"`);
  return key;
}

function checkValue(value: string, whole: string): string {
  if (!VALUE.test(value) || value.length > 63) throw badRequest(`unable to parse requirement: invalid label value: "${value}" in "${whole}"`);
  return value;
}

export function parseLabelSelector(s: string | null | undefined): LabelSelector {
  if (!s) return [];
  return splitTerms(s).map((term): LabelRequirement => {
    let m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
    if (m) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim(), s));
      return { key: checkKey(m[1]!, s), op: m[2] as 'in' | 'notin', values };
    }
    m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (m) {
      const value = checkValue(m[3]!.trim(), s);
      return { key: checkKey(m[1]!, s), op: m[2] === '!=' ? 'notin' : 'in', values: [value] };
    }
    m = /^!\s*(\S+)$/.exec(term);
    if (m) return { key: checkKey(m[1]!, s), op: '!' };
    return { key: checkKey(term, s), op: 'exists' };
  });
}

export function matchLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists': return has;
      case '!': return !has;
      case 'in': return has && r.values.includes(l[r.key]!);
      case 'notin': return !has || !r.values.includes(l[r.key]!);
    }
  });
}

/** fields.Requirement: one `field=value` (`==` is the same) or `field!=value` term. */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: '=' | '!=';
  readonly value: string;
}

export type FieldSelector = readonly FieldRequirement[];

/**
 * fields.ParseSelector, term for term: the selector is split on commas not escaped by a backslash,
 * the terms are sorted (Go sorts them), empty terms are skipped, each term is split at its first
 * `!=`, `==` or `=` (the field is everything before it, spaces included: nothing is trimmed), and the
 * value is unescaped by UnescapeValue (`\\`, `\,` and `\=` are the only escapes; an unescaped `,` or `=`
 * in a value, an unknown escape or a trailing backslash is an error). Throws a 400 with Go's message.
 *
 * This is the only field-selector parser in the apiserver: RequestInfo (and through it the Node
 * authorizer) and the storage layer both read what it returns for the same query value.
 */
export function parseFieldSelectorTerms(selector: string): FieldSelector {
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i]!;
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') { terms.push(selector.slice(start, i)); start = i + 1; }
  }
  if (selector.length > 0) terms.push(selector.slice(start));
  // sort.StringSlice sorts by bytes; JavaScript compares UTF-16 code units, the same order for the
  // characters a selector holds in practice.
  terms.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: FieldRequirement[] = [];
  for (const term of terms) {
    if (term === '') continue;
    const split = splitTerm(term);
    if (!split) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    out.push({ field: split.lhs, operator: split.op === '!=' ? '!=' : '=', value: unescapeFieldValue(split.rhs) });
  }
  return out;
}

/** fields.splitTerm: the first position where `!=`, `==` or `=` starts (checked in that order). */
function splitTerm(term: string): { lhs: string; op: '!=' | '==' | '='; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

/** fields.UnescapeValue, with its error wording (an UnescapedRune prints the rune as a number: Go's %v of a rune). */
function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') throw badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') throw badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0)!}`);
    else out += c;
  }
  if (inSlash) throw badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/**
 * The field-label conversion every list and watch applies after parsing (ConvertFieldLabel): a field
 * the resource does not support is a 400 `field label not supported: <field>`.
 */
export function checkFieldLabels(selector: FieldSelector, def: ResourceDef): FieldSelector {
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(def.fieldLabels ?? [])]);
  for (const r of selector) if (!allowed.has(r.field)) throw badRequest(`field label not supported: ${r.field}`);
  return selector;
}

/** Parses a field selector and checks each field is one this resource supports (else 400, as the real one). */
export function parseFieldSelector(s: string | null | undefined, def: ResourceDef): FieldSelector {
  if (!s) return [];
  return checkFieldLabels(parseFieldSelectorTerms(s), def);
}

/** fields.Selector.RequiresExactMatch: the value of the first `field=value` (or `==`) term. */
export function requiresExactMatch(selector: FieldSelector | undefined, field: string): string | undefined {
  return selector?.find((r) => r.field === field && r.operator === '=')?.value;
}

/** A field's value as the real field-label functions print it ('' when unset, booleans as true/false). */
export function fieldValue(obj: KubeObject, field: string): string {
  let v: unknown = obj;
  // Events' `source` label is source.component (pkg/registry/core/event/strategy.go).
  const path = field === 'source' ? 'source.component' : field;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') { v = undefined; break; }
    v = (v as Record<string, unknown>)[part];
  }
  if (v === undefined || v === null) return field === 'spec.unschedulable' || field === 'spec.hostNetwork' ? 'false' : '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function matchFields(selector: FieldSelector, obj: KubeObject): boolean {
  return selector.every((r) => (fieldValue(obj, r.field) === r.value) === (r.operator === '='));
}

export interface Selection {
  readonly labels: LabelSelector;
  readonly fields: FieldSelector;
}

export const everything: Selection = { labels: [], fields: [] };

export function selects(sel: Selection, obj: KubeObject): boolean {
  return matchLabels(sel.labels, obj.metadata.labels) && matchFields(sel.fields, obj);
}
