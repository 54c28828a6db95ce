/**
 * The narration's languages: one keyed catalogue per language, English (en.ts) the source, Korean (ko.ts)
 * the seed document's language. `translator(lang)` gives the `t(key, params)` the runner, the narration and
 * the scenarios print with. A placeholder is `{{name}}`; its params are typed from the English text, and a
 * test (test/sim/i18n.test.ts) fails when a key or a placeholder differs between the catalogues.
 * Technical tokens (CNs, paths, HTTP codes, Go's x509 strings, kubectl output) are not in the catalogues:
 * they come in through placeholders, as Kubernetes prints them.
 * A message with placeholders is one string literal in en*.ts ('...\n...'), never a `+` concatenation: a
 * concatenation is typed `string`, and its placeholders would no longer be checked.
 */
import { en } from './en.js';
import { ko } from './ko.js';

export const LANGS = ['en', 'ko'] as const;
export type Lang = (typeof LANGS)[number];
export type MessageKey = keyof typeof en;
export type Catalogue = { readonly [K in MessageKey]: string };

/** The placeholder names of a message: `{{node}} → {{server}}` gives `'node' | 'server'`. */
export type Placeholders<S extends string> = S extends `${string}{{${infer P}}}${infer Rest}` ? P | Placeholders<Rest> : never;
export type Params<K extends MessageKey> = { readonly [P in Placeholders<(typeof en)[K]>]: string | number };
/** `t('key')` for a message without placeholders, `t('key', { name: value })` for one with them. */
export type Translate = <K extends MessageKey>(key: K, ...params: [Placeholders<(typeof en)[K]>] extends [never] ? [] : [Params<K>]) => string;

export const CATALOGUES: { readonly [L in Lang]: Catalogue } = { en, ko };

const PLACEHOLDER = /\{\{(\w+)\}\}/g;

/** The placeholder names a text uses, sorted and without repeats (for the catalogue test). */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))].sort();
}

function fill(text: string, params: Readonly<Record<string, string | number>> | undefined): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const v = params?.[name];
    return v === undefined ? whole : String(v);
  });
}

export function translator(lang: Lang = 'en'): Translate {
  const catalogue = CATALOGUES[lang];
  return ((key: MessageKey, params?: Readonly<Record<string, string | number>>) => fill(catalogue[key], params)) as Translate;
}

/** A message looked up by a key made at run time (a scenario's `scenario.<name>.title`), if the catalogue has it. */
export function lookup(lang: Lang, key: string, params?: Readonly<Record<string, string | number>>): string | undefined {
  const catalogue: Readonly<Record<string, string>> = CATALOGUES[lang];
  return Object.hasOwn(catalogue, key) ? fill(catalogue[key]!, params) : undefined;
}

export function isLang(value: string): value is Lang {
  return (LANGS as readonly string[]).includes(value);
}

/**
 * The language the locale asks for, as POSIX reads it: the first set of LC_ALL, LC_MESSAGES, LANG; Korean
 * when it starts with `ko` (ko_KR.UTF-8, ko), else English.
 */
export function langFromEnv(env: Readonly<Record<string, string | undefined>>): Lang {
  const locale = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((v) => v !== undefined && v !== '') ?? '';
  return locale.toLowerCase().startsWith('ko') ? 'ko' : 'en';
}

/**
 * The width a terminal gives a text: Hangul, CJK and full-width forms take two columns. For padding the
 * connection table's columns when a heading is Korean.
 */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const wide = (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3)
      || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6);
    w += wide ? 2 : 1;
  }
  return w;
}

export const padEndWide = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - displayWidth(text)));
