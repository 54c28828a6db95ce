/**
 * The component graph: a box per component, an arrow from client to server for each client
 * certificate and outcome, laid out by dagre in Node and written as static SVG (no script draws it).
 */
import { Graph, layout } from '@dagrejs/dagre';
import type { Folding } from './fold.js';
import type { Arrow, Group, ReportModel } from './model.js';
import { outcomeWord } from './model.js';
import type { Translate } from '../sim/i18n/index.js';
import { clip, esc, FONT_SIZE, STYLE, textWidth } from './svg.js';

export const GROUP_FILL: Readonly<Record<string, string>> = { 'control plane': '#e3f2fd', node: '#fff8e1', 'users and tools': '#f3e5f5' };
export const groupFill = (g: Group): string => GROUP_FILL[g.startsWith('node ') ? 'node' : g] ?? '#fff';

const LABEL_MAX = 52;
const BOX_H = 34;
const LABEL_H = 18;

export interface GraphSvg {
  readonly svg: string;
  readonly width: number;
  readonly height: number;
}

/** The label an arrow carries: its client certificate's CN (and, for several connections, how many). */
export function arrowLabel(a: Arrow, certCn: (id: string | null) => string): string {
  return a.clientCert === null && a.user ? `token: ${a.user}` : certCn(a.clientCert);
}

/**
 * Boxes and arrows as `folding` draws them (alike node boxes as one): a folded arrow carries `data-n`,
 * how many of the model's arrows it stands for, and opens the list of them.
 */
export function componentGraph(model: ReportModel, folding: Folding, t: Translate): GraphSvg {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 14, edgesep: 10, ranksep: 90, marginx: 12, marginy: 12, ...(folding.boxes.length > 60 ? { ranker: 'longest-path' } : {}) });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Map(folding.boxes.map((c, i) => [c.name, `n${i}`]));
  const shown = (a: Folding['arrows'][number]): string => (a.members.length > 1 ? `${a.label} ×${a.members.length}` : a.label);
  for (const c of folding.boxes) g.setNode(ids.get(c.name)!, { width: Math.max(110, textWidth(c.name) + 24), height: BOX_H });
  for (const a of folding.arrows) {
    const label = clip(shown(a), LABEL_MAX);
    g.setEdge(ids.get(a.client)!, ids.get(a.server)!, { width: textWidth(label) + 8, height: LABEL_H, labelpos: 'c', minlen: 1 }, a.id);
  }
  layout(g);
  const info = g.graph();
  const width = Math.ceil(info.width ?? 0);
  const height = Math.ceil(info.height ?? 0);
  const parts: string[] = [];
  for (const a of folding.arrows) {
    const e = g.edge({ v: ids.get(a.client)!, w: ids.get(a.server)!, name: a.id });
    const pts = e.points ?? [];
    const d = pts.map((p: { x: number; y: number }, i: number) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join('');
    const s = STYLE[a.outcome];
    const n = a.members.length;
    const full = shown(a);
    const label = clip(full, LABEL_MAX);
    const lw = textWidth(label) + 8;
    const x = e.x ?? 0;
    const y = e.y ?? 0;
    const conns = a.members.reduce((k, m) => k + m.connections.length, 0);
    const reqs = a.members.reduce((k, m) => k + m.requests, 0);
    const counted = (what: 'connections' | 'requests', k: number): string => t(k === 1 ? `report.${what}.one` : `report.${what}.other`, { n: k });
    const title = t('report.arrowTitle', { client: a.client, server: a.server, cert: full, outcome: outcomeWord(t, a.outcome), connections: counted('connections', conns), requests: counted('requests', reqs) })
      + (n > 1 || a.id.startsWith('fold-') ? t('report.fold.arrowsTitle', { n }) : '');
    parts.push(`<g class="arrow o-${a.outcome}${a.id.startsWith('fold-') ? ' folded' : ''}" id="${a.id}" data-detail="${a.id}" data-n="${n}" tabindex="0" role="button" aria-label="${esc(title)}"><title>${esc(title)}</title>`
      + `<path class="hit" d="${d}"/><path class="line" d="${d}" stroke="${s.color}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} marker-end="url(#head-${a.outcome})"/>`
      + `<rect class="lbl-bg" x="${(x - lw / 2).toFixed(1)}" y="${(y - LABEL_H / 2).toFixed(1)}" width="${lw}" height="${LABEL_H}" rx="3" stroke="${s.color}"/>`
      + `<text class="lbl" x="${x.toFixed(1)}" y="${(y + FONT_SIZE / 2 - 2).toFixed(1)}" text-anchor="middle">${esc(label)}</text></g>`);
  }
  for (const c of folding.boxes) {
    const n = g.node(ids.get(c.name)!);
    const many = c.members.length > 1;
    parts.push(`<g class="box${many ? ' folded' : ''}" data-group="${esc(c.group)}"${many ? ` data-n="${c.members.length}"` : ''}><rect x="${(n.x - n.width / 2).toFixed(1)}" y="${(n.y - n.height / 2).toFixed(1)}" width="${n.width}" height="${n.height}" rx="6" fill="${groupFill(c.group)}"${many ? ' stroke-dasharray="6 2" stroke-width="2"' : ''}/>`
      + `<text class="lbl name" x="${n.x.toFixed(1)}" y="${(n.y + FONT_SIZE / 2 - 2).toFixed(1)}" text-anchor="middle">${esc(c.name)}</text></g>`);
  }
  const svg = `<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="group" aria-label="${esc(t('report.graph.aria', { arrows: model.arrows.length, components: model.components.length }))}">${parts.join('')}</svg>`;
  return { svg, width, height };
}
