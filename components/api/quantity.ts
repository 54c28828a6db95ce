/**
 * Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource): a decimal number with an
 * optional suffix — binary (Ki Mi Gi Ti Pi Ei), decimal (n u m "" k M G T P E) or a decimal exponent
 * (`1e3`, `1E-2`). The scheduler compares CPU in millicores and memory in bytes, both rounded up, as
 * `Quantity.MilliValue()` and `Quantity.Value()` do.
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
import { KubeSimError } from '../../pki/errors.js';
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

export class QuantityError extends KubeSimError<'QUANTITY_INVALID'> {
  constructor(readonly input: string) {
    // resource.ErrFormatWrong's text.
    super('QUANTITY_INVALID', `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (got "${input}")`);
  }
}

/** The quantity's value in base units (cores, bytes, count) as a float. */
export function parseQuantity(input: string | number): number {
  if (typeof input === 'number') return input;
  const s = input.trim();
  const m = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(.*)$/.exec(s);
  if (!m) throw new QuantityError(input);
  const num = Number(m[1]);
  const suffix = m[2] ?? '';
  const bin = BINARY[suffix];
  if (bin !== undefined) return num * bin;
  const dec = DECIMAL[suffix];
  if (dec !== undefined) return num * dec;
  const exp = /^[eE]([+-]?[0-9]+)$/.exec(suffix);
  if (exp) return num * 10 ** Number(exp[1]);
  throw new QuantityError(input);
}

/** `Quantity.MilliValue()`: thousandths, rounded up (`100m` → 100, `1` → 1000, `0.0001` → 1). */
export function milliValue(input: string | number): number {
  return Math.ceil(Math.round(parseQuantity(input) * 1e3 * 1e6) / 1e6);
}

/** `Quantity.Value()`: whole units, rounded up (`1Ki` → 1024, `1.5` → 2). */
export function value(input: string | number): number {
  return Math.ceil(Math.round(parseQuantity(input) * 1e6) / 1e6);
}

/** Formats millicores the way kubectl prints CPU (`250m`, `2`). */
export function formatMilli(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}
