/**
 * Label selectors (k8s.io/apimachinery/pkg/apis/meta/v1 LabelSelector): matching an object's labels,
 * and the string form used in `?labelSelector=` queries.
 */
import type { LabelSelector } from './types.js';

/** Whether `labels` satisfy every requirement of `selector`. An empty selector matches everything. */
export function matchesSelector(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector?.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const val = l[e.key];
    switch (e.operator) {
      case 'In': if (!has || !(e.values ?? []).includes(val ?? '')) return false; break;
      case 'NotIn': if (has && (e.values ?? []).includes(val ?? '')) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
    }
  }
  return true;
}

/** A map selector (Service.spec.selector, Pod.spec.nodeSelector): every pair must be present. */
export function matchesMap(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return matchesSelector({ matchLabels: selector ?? {} }, labels);
}

/** `metav1.FormatLabelSelector`: `app=web,tier in (a,b),!legacy`, sorted as the real one sorts requirements. */
export function selectorString(selector: LabelSelector | undefined): string {
  const parts: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) parts.push({ key: k, text: `${k}=${v}` });
  for (const e of selector?.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    const text = e.operator === 'In' ? `${e.key} in (${values})` : e.operator === 'NotIn' ? `${e.key} notin (${values})`
      : e.operator === 'Exists' ? e.key : `!${e.key}`;
    parts.push({ key: e.key, text });
  }
  parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return parts.map((p) => p.text).join(',');
}
