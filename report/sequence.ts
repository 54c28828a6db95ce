/**
 * The timeline of one section (start-up, a step, what followed) as a sequence diagram: a lifeline per
 * component that took part, one row per handshake or (folded) request, client on the left of the
 * arrow's tail. Static SVG; each row is a keyboard-reachable button that opens its details.
 */
import type { DrawnEntry, Folding } from './fold.js';
import { outcomeWord, type Section, type TimelineEntry } from './model.js';
import type { Translate } from '../sim/i18n/index.js';
import { clip, esc, FONT_SIZE, STYLE, textWidth } from './svg.js';

const ROW = 26;
const HEAD = 40;
const COL_MIN = 150;
const LABEL_MAX = 64;

export const entryLabel = (e: TimelineEntry): string => `${e.label}${e.count > 1 ? ` (×${e.count})` : ''}`;

/** A drawn row's label: its entry's, or for alike entries of folded nodes the label with NODE and how many. */
export const drawnLabel = (d: DrawnEntry, t: Translate): string => (d.id.startsWith('fold-')
  ? `${d.label} · ${d.nodes === d.members.length ? t(d.nodes === 1 ? 'report.fold.nodes.one' : 'report.fold.nodes.other', { n: d.nodes }) : t('report.fold.alike', { n: d.members.length })}`
  : entryLabel(d.members[0]!));

/**
 * `folding` draws alike nodes' columns and rows as one (a folded row carries `data-n`, the entries it
 * stands for); its boxes are every component in a fixed order, so a column keeps its rank in every section.
 */
export function sequenceSvg(section: Section, folding: Folding, t: Translate): string {
  if (section.entries.length === 0) return '<p class="quiet">Nothing on the wire in this step.</p>';
  const drawn = folding.entries(section.entries);
  const order = folding.boxes.map((b) => b.name);
  const used = new Set(drawn.flatMap((e) => [e.client, e.server]));
  const cols = order.filter((n) => used.has(n));
  const x = new Map<string, number>();
  const widths = cols.map((c) => Math.max(COL_MIN, textWidth(c) + 20));
  let left = 8;
  cols.forEach((c, i) => { x.set(c, left + widths[i]! / 2); left += widths[i]!; });
  // Labels sit centred over their arrow; a long one may run past the outer lifelines: widen for it.
  let minX = 0;
  let maxX = left + 8;
  const rows = drawn.map((e, i) => {
    const x1 = x.get(e.client)!;
    const x2 = x.get(e.server)!;
    const label = clip(drawnLabel(e, t), LABEL_MAX);
    const mid = (x1 + x2) / 2;
    const half = textWidth(label) / 2 + 4;
    minX = Math.min(minX, mid - half);
    maxX = Math.max(maxX, mid + half);
    return { e, i, x1, x2, label, mid };
  });
  const shift = -minX;
  const width = Math.ceil(maxX + shift);
  const height = HEAD + rows.length * ROW + 12;
  const parts: string[] = [];
  cols.forEach((c, i) => {
    const cx = x.get(c)! + shift;
    parts.push(`<line class="life" x1="${cx}" y1="${HEAD - 8}" x2="${cx}" y2="${height - 4}"/>`
      + `<rect class="head" x="${cx - widths[i]! / 2 + 6}" y="4" width="${widths[i]! - 12}" height="24" rx="4"/>`
      + `<text class="lbl name" x="${cx}" y="${4 + 12 + FONT_SIZE / 2 - 2}" text-anchor="middle">${esc(c)}</text>`);
  });
  for (const { e, i, x1, x2, label, mid } of rows) {
    const y = HEAD + i * ROW + ROW - 6;
    const s = STYLE[e.outcome];
    const dir = x2 >= x1 ? 1 : -1;
    const title = `${e.client} → ${e.server}: ${drawnLabel(e, t)} (${outcomeWord(t, e.outcome)})`;
    parts.push(`<g class="entry o-${e.outcome} k-${e.kind}${e.id.startsWith('fold-') ? ' folded' : ''}" id="${e.id}" data-detail="${e.id}" data-n="${e.members.length}" tabindex="0" role="button" aria-label="${esc(title)}"><title>${esc(title)}</title>`
      + `<rect class="hit" x="${Math.min(x1, x2, mid - textWidth(label) / 2) + shift - 4}" y="${y - ROW + 6}" width="${Math.max(Math.abs(x2 - x1), textWidth(label)) + 8}" height="${ROW - 2}"/>`
      + `<line class="line" x1="${x1 + shift}" y1="${y}" x2="${x2 + shift - dir * 2}" y2="${y}" stroke="${s.color}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} marker-end="url(#head-${e.outcome})"/>`
      + `<text class="lbl" x="${mid + shift}" y="${y - 5}" text-anchor="middle">${esc(label)}</text></g>`);
  }
  return `<svg class="seq" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="group" aria-label="${esc(t('report.timeline.aria', { section: section.title }))}">${parts.join('')}</svg>`;
}
