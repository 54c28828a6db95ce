/**
 * The component graph: a box per component, an arrow from client to server for each client
 * certificate and outcome, laid out by dagre in Node and written as static SVG (no script draws it).
 */
import { Graph, layout } from '@dagrejs/dagre';
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

export function componentGraph(model: ReportModel, certCn: (id: string | null) => string, t: Translate): GraphSvg {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 14, edgesep: 10, ranksep: 90, marginx: 12, marginy: 12, ...(model.components.length > 60 ? { ranker: 'longest-path' } : {}) });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Map(model.components.map((c, i) => [c.name, `n${i}`]));
  for (const c of model.components) g.setNode(ids.get(c.name)!, { width: Math.max(110, textWidth(c.name) + 24), height: BOX_H });
  for (const a of model.arrows) {
    const label = clip(arrowLabel(a, certCn), LABEL_MAX);
    g.setEdge(ids.get(a.client)!, ids.get(a.server)!, { width: textWidth(label) + 8, height: LABEL_H, labelpos: 'c', minlen: 1 }, a.id);
  }
  layout(g);
  const info = g.graph();
  const width = Math.ceil(info.width ?? 0);
  const height = Math.ceil(info.height ?? 0);
  const parts: string[] = [];
  const byName = new Map(model.components.map((c) => [c.name, c]));
  for (const a of model.arrows) {
    const e = g.edge({ v: ids.get(a.client)!, w: ids.get(a.server)!, name: a.id });
    const pts = e.points ?? [];
    const d = pts.map((p: { x: number; y: number }, i: number) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join('');
    const s = STYLE[a.outcome];
    const full = arrowLabel(a, certCn);
    const label = clip(full, LABEL_MAX);
    const lw = textWidth(label) + 8;
    const x = e.x ?? 0;
    const y = e.y ?? 0;
    const title = t('report.arrowTitle', { client: a.client, server: a.server, cert: full, outcome: outcomeWord(t, a.outcome), connections: t(a.connections.length === 1 ? 'report.connections.one' : 'report.connections.other', { n: a.connections.length }), requests: t(a.requests === 1 ? 'report.requests.one' : 'report.requests.other', { n: a.requests }) });
    parts.push(`<g class="arrow o-${a.outcome}" id="${a.id}" data-detail="${a.id}" tabindex="0" role="button" aria-label="${esc(title)}"><title>${esc(title)}</title>`
      + `<path class="hit" d="${d}"/><path class="line" d="${d}" stroke="${s.color}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} marker-end="url(#head-${a.outcome})"/>`
      + `<rect class="lbl-bg" x="${(x - lw / 2).toFixed(1)}" y="${(y - LABEL_H / 2).toFixed(1)}" width="${lw}" height="${LABEL_H}" rx="3" stroke="${s.color}"/>`
      + `<text class="lbl" x="${x.toFixed(1)}" y="${(y + FONT_SIZE / 2 - 2).toFixed(1)}" text-anchor="middle">${esc(label)}</text></g>`);
  }
  for (const [name, id] of ids) {
    const n = g.node(id);
    const c = byName.get(name)!;
    parts.push(`<g class="box" data-group="${esc(c.group)}"><rect x="${(n.x - n.width / 2).toFixed(1)}" y="${(n.y - n.height / 2).toFixed(1)}" width="${n.width}" height="${n.height}" rx="6" fill="${groupFill(c.group)}"/>`
      + `<text class="lbl name" x="${n.x.toFixed(1)}" y="${(n.y + FONT_SIZE / 2 - 2).toFixed(1)}" text-anchor="middle">${esc(name)}</text></g>`);
  }
  const svg = `<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="group" aria-label="${esc(t('report.graph.aria', { arrows: model.arrows.length, components: model.components.length }))}">${parts.join('')}</svg>`;
  return { svg, width, height };
}
