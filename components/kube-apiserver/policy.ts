/**
 * ValidatePodDisruptionBudgetSpec (k8s.io/kubernetes pkg/apis/policy/validation), the checks a
 * hand-written budget meets first: minAvailable or maxUnavailable, not both, each a non-negative
 * count or a percentage up to 100%, and a well-formed label selector.
 */
import type { KubeObject } from '../api/types.js';
import { invalid } from '../api/errors.js';
import { groupResource, type ResourceDef } from '../api/resources.js';

type Rec = Record<string, unknown>;
type FieldErr = { field: string; message: string };
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

const PERCENT = /^[0-9]+%$/;
const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** ValidatePositiveIntOrPercent and IsNotMoreThan100Percent. */
function intOrPercentErrors(field: string, v: unknown): FieldErr[] {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) return [{ field, message: `Invalid value: ${v}: must be greater than or equal to 0` }];
    return [];
  }
  if (typeof v === 'string') {
    if (!PERCENT.test(v)) return [{ field, message: `Invalid value: "${v}": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')` }];
    if (Number(v.slice(0, -1)) > 100) return [{ field, message: `Invalid value: "${v}": must not be greater than 100%` }];
    return [];
  }
  return [{ field, message: `Invalid value: ${JSON.stringify(v)}: must be an integer or a percentage` }];
}

/** ValidateLabelSelector, the parts a budget's selector meets: matchLabels values are strings, matchExpressions well-formed. */
function selectorErrors(selector: unknown): FieldErr[] {
  if (selector === undefined || selector === null) return [];
  if (!isRec(selector)) return [{ field: 'spec.selector', message: 'Invalid value: must be a label selector' }];
  const errs: FieldErr[] = [];
  if (selector.matchLabels !== undefined) {
    if (!isRec(selector.matchLabels)) errs.push({ field: 'spec.selector.matchLabels', message: 'Invalid value: must be a map of strings' });
    else {
      for (const [k, v] of Object.entries(selector.matchLabels)) {
        if (typeof v !== 'string') errs.push({ field: `spec.selector.matchLabels`, message: `Invalid value: ${JSON.stringify(v)}: the value of "${k}" must be a string` });
      }
    }
  }
  const exprs = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  exprs.forEach((e, i) => {
    const field = `spec.selector.matchExpressions[${i}]`;
    const op = isRec(e) ? e.operator : undefined;
    const values = isRec(e) && Array.isArray(e.values) ? e.values : [];
    if (typeof op !== 'string' || !OPERATORS.includes(op)) {
      errs.push({ field: `${field}.operator`, message: `Unsupported value: "${String(op)}": supported values: ${OPERATORS.map((o) => `"${o}"`).join(', ')}` });
    } else if ((op === 'In' || op === 'NotIn') && values.length === 0) {
      errs.push({ field: `${field}.values`, message: "Required value: must be specified when `operator` is 'In' or 'NotIn'" });
    } else if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) {
      errs.push({ field: `${field}.values`, message: "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'" });
    }
  });
  return errs;
}

/** A 422 listing every fault of the budget's spec. */
export function validatePodDisruptionBudget(def: ResourceDef, obj: KubeObject & Rec): void {
  const spec = isRec(obj.spec) ? obj.spec : {};
  const errs: FieldErr[] = [];
  const { minAvailable, maxUnavailable } = spec;
  if (minAvailable !== undefined && maxUnavailable !== undefined) {
    errs.push({ field: 'spec', message: `Invalid value: ${JSON.stringify({ minAvailable, maxUnavailable })}: minAvailable and maxUnavailable cannot be both set` });
  }
  if (minAvailable !== undefined) errs.push(...intOrPercentErrors('spec.minAvailable', minAvailable));
  if (maxUnavailable !== undefined) errs.push(...intOrPercentErrors('spec.maxUnavailable', maxUnavailable));
  errs.push(...selectorErrors(spec.selector));
  if (errs.length) throw invalid(groupResource(def), def.kind, obj.metadata.name ?? '', errs);
}
