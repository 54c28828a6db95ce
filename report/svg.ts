/**
 * What the drawings share: escaping, the width a label takes (the SVG text is monospace, so its width
 * is known in Node without a browser), and each outcome's colour and line style (a dash pattern too,
 * so the legend still reads in black and white).
 */
import type { Outcome } from './model.js';

export const FONT_SIZE = 12;
/** The advance of one character of the monospace font at FONT_SIZE, with a margin (DejaVu Sans Mono: 0.602 em). */
export const CHAR_WIDTH = 7.4;
export const textWidth = (s: string): number => Math.ceil([...s].length * CHAR_WIDTH);

export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A label cut to `max` characters (the whole text stays in the element's title and the details). */
export const clip = (s: string, max: number): string => ([...s].length > max ? `${[...s].slice(0, max - 1).join('')}…` : s);

export const STYLE: Readonly<Record<Outcome, { color: string; dash: string }>> = {
  refused: { color: '#c62828', dash: '7 4' },
  unauthenticated: { color: '#e65100', dash: '2 3' },
  forbidden: { color: '#6a1b9a', dash: '9 3 2 3' },
  allowed: { color: '#2e7d32', dash: '' },
};

/** One arrowhead marker per outcome, referenced as url(#head-<outcome>). */
export function markers(): string {
  return `<defs>${Object.entries(STYLE).map(([o, s]) => `<marker id="head-${o}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="${s.color}"/></marker>`).join('')}</defs>`;
}
