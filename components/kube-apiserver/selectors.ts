/**
 * Label and field selectors in their query-string form, as k8s.io/apimachinery's labels.Parse and
 * fields.ParseSelector read them: `a=b,c!=d,e in (x,y),f notin (z),g,!h` and `spec.nodeName=,status.phase!=Failed`.
 */
import type { KubeObject } from '../types.js';
import { badRequest } from './errors.js';
import type { ResourceDef } from './registry.js';

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

export interface FieldRequirement {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

export type FieldSelector = readonly FieldRequirement[];

/** Parses a field selector and checks each field is one this resource supports (else 400, as the real one). */
export function parseFieldSelector(s: string | null | undefined, def: ResourceDef): FieldSelector {
  if (!s) return [];
  const allowed = new Set(['metadata.name', 'metadata.namespace', ...(def.fieldLabels ?? [])]);
  return splitTerms(s).map((term) => {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
    const field = m[1]!.trim();
    if (!allowed.has(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3]!.trim() };
  });
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
  return selector.every((r) => (fieldValue(obj, r.field) === r.value) === (r.op === '='));
}

export interface Selection {
  readonly labels: LabelSelector;
  readonly fields: FieldSelector;
}

export const everything: Selection = { labels: [], fields: [] };

export function selects(sel: Selection, obj: KubeObject): boolean {
  return matchLabels(sel.labels, obj.metadata.labels) && matchFields(sel.fields, obj);
}
