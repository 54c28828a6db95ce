/**
 * The JSON decoder for request bodies, in place of `JSON.parse`, for three reasons:
 * - Objects have a null prototype, so a member named `__proto__`, `constructor` or `prototype` is plain
 *   data (as it is for Go's `map[string]string`), never a path to `Object.prototype`, whatever code later
 *   indexes or assigns it.
 * - Nesting is bounded as Go's encoding/json bounds it (10,000 levels: `exceeded max depth`), and the
 *   parser is iterative, so a deep document is a 400, never a stack overflow.
 * - The text of each number whose JavaScript value does not print back the same (`1e300`, `1.0`,
 *   `9223372036854775808`) is kept, so that decoding into an int32/int64 field can refuse it in Go's
 *   words (`json: cannot unmarshal number 1e300 into Go struct field ...`).
 * Errors are SyntaxErrors worded as Go's scanner words them.
 */

/** A null-prototype object: what request JSON decodes into. */
export type JsonRecord = { [k: string]: unknown };
import { KubeSimError } from '../../pki/errors.js';

export const nullObject = (): JsonRecord => Object.create(null) as JsonRecord;

const MAX_DEPTH = 10_000;

/** Number literals that differ from their JavaScript value's text, by container and member. */
const literals = new WeakMap<object, Map<string, string>>();

/** The literal a number was written as in the request, when it is not `String(value)`. */
export function numberLiteral(container: object, key: string | number): string | undefined {
  return literals.get(container)?.get(String(key));
}

export class JsonSyntaxError extends KubeSimError<'JSON_SYNTAX'> {
  constructor(message: string) {
    super('JSON_SYNTAX', message);
  }
}

/** Go's quoteChar. */
const quoteChar = (c: string): string => {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  const q = JSON.stringify(c);
  return `'${q.slice(1, -1)}'`;
};

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

type Frame = { container: JsonRecord | unknown[]; count: number };

export function parseJson(text: string): unknown {
  let i = 0;
  const n = text.length;
  const stack: Frame[] = [];
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const fail = (context: string): never => {
    if (i >= n) throw new JsonSyntaxError('unexpected end of JSON input');
    throw new JsonSyntaxError(`invalid character ${quoteChar(text[i]!)} ${context}`);
  };
  const str = (): string => {
    // text[i] === '"'
    let j = i + 1;
    let simple = true;
    for (; j < n; j++) {
      const c = text.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) { simple = false; j++; continue; }
      if (c < 0x20) { i = j; fail('in string literal'); }
    }
    if (j >= n) { i = n; fail(''); }
    const raw = text.slice(i, j + 1);
    i = j + 1;
    if (simple) return raw.slice(1, -1);
    try {
      return JSON.parse(raw) as string;
    } catch {
      i -= raw.length;
      throw new JsonSyntaxError('invalid character in string escape code');
    }
  };
  /** A scalar or the start of a container; returns [value, opened]. */
  const value = (): [unknown, boolean] => {
    ws();
    if (i >= n) fail('');
    const c = text[i]!;
    if (c === '{' || c === '[') {
      if (stack.length >= MAX_DEPTH) fail('exceeded max depth');
      i++;
      return [c === '{' ? nullObject() : [], true];
    }
    if (c === '"') return [str(), false];
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) { i += word.length; return [v, false]; }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m) {
      i += m[0].length;
      return [Number(m[0]), false];
    }
    return fail('looking for beginning of value');
  };
  const place = (container: JsonRecord | unknown[], at: string, v: unknown, literal: string | undefined): void => {
    if (Array.isArray(container)) container.push(v);
    else container[at] = v;
    if (literal !== undefined) {
      let m = literals.get(container);
      if (!m) literals.set(container, (m = new Map()));
      m.set(at, literal);
    }
  };
  const [root, opened] = value();
  if (opened) stack.push({ container: root as JsonRecord | unknown[], count: 0 });
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const { container } = frame;
    const isArray = Array.isArray(container);
    ws();
    if (text[i] === (isArray ? ']' : '}')) { i++; stack.pop(); continue; }
    if (frame.count > 0) {
      if (text[i] !== ',') fail(isArray ? 'after array element' : 'after object key:value pair');
      i++;
      ws();
    }
    let at = String(frame.count);
    if (!isArray) {
      if (text[i] !== '"') fail('looking for beginning of object key string');
      at = str();
      ws();
      if (text[i] !== ':') fail('after object key');
      i++;
    }
    ws();
    const litStart = i;
    const [v, open] = value();
    const literal = typeof v === 'number' && String(v) !== text.slice(litStart, i) ? text.slice(litStart, i) : undefined;
    place(container, at, v, literal);
    frame.count++;
    if (open) stack.push({ container: v as JsonRecord | unknown[], count: 0 });
  }
  ws();
  if (i < n) fail('after top-level value');
  return root;
}

/**
 * A deep copy into null-prototype objects, iterative (no recursion limit below the decoder's depth).
 * Only own enumerable members are copied, so nothing reachable through a prototype is.
 */
export function copyJson<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  const root: unknown = Array.isArray(v) ? [] : nullObject();
  const work: [from: object, to: JsonRecord | unknown[]][] = [[v, root as JsonRecord | unknown[]]];
  while (work.length > 0) {
    const [from, to] = work.pop()!;
    const entries: [string, unknown][] = Array.isArray(from) ? from.map((x, idx) => [String(idx), x]) : Object.entries(from);
    for (const [k, x] of entries) {
      let copy: unknown = x;
      if (typeof x === 'object' && x !== null) {
        copy = Array.isArray(x) ? [] : nullObject();
        work.push([x, copy as JsonRecord | unknown[]]);
      }
      if (Array.isArray(to)) to.push(copy);
      else to[k] = copy;
    }
  }
  return root as T;
}

/** Deep equality of two JSON values, iterative. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  const work: [unknown, unknown][] = [[a, b]];
  while (work.length > 0) {
    const [x, y] = work.pop()!;
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    const kx = Object.keys(x);
    const ky = Object.keys(y);
    if (kx.length !== ky.length) return false;
    for (const k of kx) {
      if (!Object.hasOwn(y, k)) return false;
      work.push([(x as JsonRecord)[k], (y as JsonRecord)[k]]);
    }
  }
  return true;
}

/** JSON.stringify without recursion (a value the decoder accepted may be nested 10,000 deep). */
export function stringifyJson(v: unknown): string {
  const out: string[] = [];
  // Work items: a value to write, or a literal piece of text.
  const work: ({ v: unknown } | string)[] = [{ v }];
  while (work.length > 0) {
    const item = work.pop()!;
    if (typeof item === 'string') { out.push(item); continue; }
    const x = item.v;
    if (typeof x !== 'object' || x === null) { out.push(JSON.stringify(x) ?? 'null'); continue; }
    const entries: [string | undefined, unknown][] = Array.isArray(x)
      ? x.map((e) => [undefined, e])
      : Object.entries(x).filter(([, e]) => e !== undefined && typeof e !== 'function');
    const pieces: ({ v: unknown } | string)[] = [Array.isArray(x) ? '[' : '{'];
    entries.forEach(([k, e], idx) => {
      if (idx > 0) pieces.push(',');
      if (k !== undefined) pieces.push(`${JSON.stringify(k)}:`);
      pieces.push({ v: e });
    });
    pieces.push(Array.isArray(x) ? ']' : '}');
    for (let i = pieces.length - 1; i >= 0; i--) work.push(pieces[i]!);
  }
  return out.join('');
}
