/** The whole page: one self-contained HTML file (styles, script and data inlined; nothing fetched). */
import type { Matrix } from '../scenarios/matrix.js';
import { CSS, SCRIPT } from './assets.js';
import { certFragment, connectionFragments, verdict } from './details.js';
import { fold, FOLD_AT, type Folding } from './fold.js';
import { arrowLabel, componentGraph } from './graph.js';
import type { ReportModel } from './model.js';
import { outcomeWord } from './model.js';
import { isMatrix, legend, matrixTable, narration, trustTree } from './sections.js';
import { entryLabel, sequenceSvg } from './sequence.js';
import { esc, markers } from './svg.js';
import { translator, type Translate } from '../sim/i18n/index.js';

export interface PageOptions {
  /** The golden copy of the trust matrix: cells that differ from it are outlined. */
  readonly golden?: Matrix;
  /** When the run was made, for the header. */
  readonly generated?: Date;
  /** Draw the components of at least this many nodes that differ only by the node's name as one (default FOLD_AT). */
  readonly foldAt?: number;
}

/** JSON that can sit inside a <script> element, in ASCII (the browser decodes ASCII fastest). */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/[<\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * The details as the page's script reads them: each fragment stored once in `pool` (many arrows, rows and
 * connections share a title or a certificate), `ids` mapping an id to its fragments' places in the pool,
 * or to `@id` references.
 */
function pooled(details: Readonly<Record<string, readonly string[]>>): { pool: string[]; ids: Record<string, (number | string)[]> } {
  const pool: string[] = [];
  const at = new Map<string, number>();
  const ids: Record<string, (number | string)[]> = {};
  for (const [id, frags] of Object.entries(details)) {
    ids[id] = frags.map((f) => {
      if (f.startsWith('@')) return f;
      let i = at.get(f);
      if (i === undefined) { i = pool.length; pool.push(f); at.set(f, i); }
      return i;
    });
  }
  return { pool, ids };
}

/** `n connection(s)`, `n request(s)` in the page's language. */
export const countOf = (t: Translate, what: 'connections' | 'requests', n: number): string => t(n === 1 ? `report.${what}.one` : `report.${what}.other`, { n });

export function renderPage(model: ReportModel, options: PageOptions = {}): string {
  const t = translator(model.lang);
  const byId = new Map([...model.certs, ...model.cas].map((c) => [c.id, c]));
  const certCn = (id: string | null): string => (id === null ? t('report.noClientCert') : `CN=${byId.get(id)?.cn ?? '?'}`);
  const frag = connectionFragments(model, t);
  const conns = new Map(model.connections.map((c) => [c.id, c]));
  const cas = new Map(model.cas.map((c) => [c.id, c]));
  // id → fragments; a fragment `@x` stands for the fragments of x (the page's script expands them).
  const details: Record<string, string[]> = {};
  for (const c of [...model.certs, ...model.cas]) {
    details[`f-${c.id}`] = [certFragment(cas, c, t)];
    details[c.id] = [`<h3>${esc(t('report.certHeading', { cn: c.cn }))}</h3>`, `@f-${c.id}`];
  }
  for (const c of model.connections) {
    details[`${c.id}-body`] = frag.body(c);
    details[c.id] = [frag.head(c), `@${c.id}-body`];
  }
  for (const a of model.arrows) {
    // The arrow's details: the first of its connections, with a request of the arrow's outcome in focus.
    const first = conns.get(a.connections[0]!)!;
    const k = first.requests.findIndex((r) => r.outcome === a.outcome);
    details[a.id] = [`<p class="quiet">${esc(t('report.arrowDetail', { client: a.client, server: a.server, cert: certCn(a.clientCert), outcome: outcomeWord(t, a.outcome), connections: countOf(t, 'connections', a.connections.length), requests: countOf(t, 'requests', a.requests) }))}</p>`,
      frag.head(first, k >= 0 ? k : undefined), `@${first.id}-body`];
  }
  for (const s of model.sections) {
    for (const e of s.entries) {
      const c = conns.get(e.connection)!;
      details[e.id] = e.kind === 'handshake'
        ? [`<p class="quiet">${esc(t('report.entryHandshake', { section: s.title, alike: e.count > 1 ? t('report.alike', { n: e.count }) : '' }))}</p>`, `@${c.id}`]
        : [`<p class="quiet">${esc(s.title)}: ${esc(verdict(c, c.requests[e.request!], t).line)}${esc(e.count > 1 ? t('report.alike', { n: e.count }) : '')}</p>`, frag.head(c, e.request), `@${c.id}-body`];
    }
  }
  const foldAt = options.foldAt ?? FOLD_AT;
  const folding = fold(model, (a) => arrowLabel(a, certCn), foldAt);
  foldedDetails(folding, model, details, certCn, t);
  const graph = componentGraph(model, folding, t);
  const m = isMatrix(model.report) ? matrixTable(model.report, options.golden, t) : undefined;
  for (const [id, html] of Object.entries(m?.details ?? {})) details[id] = [html];
  const entries = model.sections.reduce((n, s) => n + s.entries.length, 0);
  const nav = [['trust', t('report.nav.trust')], ['graph', t('report.nav.graph')], ...(m ? [['matrix', t('report.nav.matrix')]] : []), ['timeline', t('report.nav.timeline')]]
    .map(([id, label]) => `<li><a href="#${id}">${esc(label!)}</a></li>`).join('');
  const timeline = model.sections.map((s) => `<section class="step" id="${s.id}" aria-label="${esc(s.title)}"><div class="narration">${narration(s, t)}</div><div class="scroll">${sequenceSvg(s, folding, t)}</div></section>`).join('');
  const generated = options.generated ? ` · ${esc(options.generated.toISOString().replace('T', ' ').slice(0, 19))} UTC` : '';
  return `<!doctype html>
<html lang="${model.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>${esc(t('report.pageTitle', { title: model.title }))}</title><style>${CSS}</style></head>
<body><a class="skip" href="#main">${esc(t('report.skip'))}</a>
<svg width="0" height="0" style="position:absolute" aria-hidden="true">${markers()}</svg>
<header><h1>${esc(model.title)}</h1>
<p>${esc(model.summary)}</p>
<p>${esc(t('report.scenario'))} <code>${esc(model.scenario)}</code>: <strong class="verdict ${model.ok ? 'pass' : 'fail'}">${esc(t(model.ok ? 'report.allHeld' : 'report.someFailed'))}</strong>${generated}.
${esc(t('report.counts', { cas: model.cas.length, certs: model.certs.length, connections: model.connections.length, arrows: model.arrows.length, entries }))}</p>
<p class="hint quiet">${esc(t('report.hint'))}</p>
<nav aria-label="${esc(t('report.nav'))}"><ul>${nav}</ul></nav>
<h2 id="legend-h">${esc(t('report.legend'))}</h2>${legend(t)}
</header>
<main id="main">
<section id="trust" aria-labelledby="trust-h"><h2 id="trust-h">${esc(t('report.trust.heading'))}</h2>
<p>${esc(t('report.trust.intro'))}</p>${trustTree(model, t, foldAt)}</section>
<section id="graph" aria-labelledby="graph-h"><h2 id="graph-h">${esc(t('report.graph.heading'))}</h2>
<p>${esc(t('report.graph.intro'))}</p>
<div class="scroll">${graph.svg}</div></section>
${m ? `<section id="matrix" aria-labelledby="matrix-h"><h2 id="matrix-h">${esc(t('report.matrix.heading'))}</h2>${legendCells(t)}${m.html}</section>` : ''}
<section id="timeline" aria-labelledby="timeline-h"><h2 id="timeline-h">${esc(t('report.timeline.heading'))}</h2>
<p>${esc(t('report.timeline.intro'))}</p>
${timeline}</section>
</main>
<aside id="details" role="region" aria-label="${esc(t('report.details'))}" tabindex="-1" hidden><button type="button" class="close" id="details-close">${esc(t('report.close'))}</button><div id="details-body"></div></aside>
<script type="application/json" id="report-data">${scriptJson(pooled(details))}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}

function legendCells(t: Translate): string {
  return `<div class="legend">${(['allowed', 'forbidden', 'unauthenticated', 'refused', 'failed'] as const)
    .map((d) => `<span><span class="swatch d-${d}"></span> ${esc(t(`report.cell.${d}`))}</span>`).join('')}<span><span class="swatch" style="outline:3px solid #ff6f00"></span> ${esc(t('report.cell.differs'))}</span></div>`;
}

/**
 * The details of what the folding drew as one: the list of its members, each a button that opens its
 * own details, then the first member's details.
 */
function foldedDetails(folding: Folding, model: ReportModel, details: Record<string, string[]>, certCn: (id: string | null) => string, t: Translate): void {
  const list = (items: readonly { id: string; text: string }[]): string =>
    `<ul class="members">${items.map((m) => `<li><button type="button" data-detail="${m.id}">${esc(m.text)}</button></li>`).join('')}</ul>`;
  const nodes = (n: number): string => t(n === 1 ? 'report.fold.nodes.one' : 'report.fold.nodes.other', { n });
  for (const a of folding.arrows) {
    if (!a.id.startsWith('fold-')) continue;
    details[a.id] = [`<h3>${esc(a.client)} → ${esc(a.server)}</h3>`,
      `<p>${esc(t('report.fold.arrowsDetail', { n: a.members.length, outcome: outcomeWord(t, a.outcome), label: a.label }))}</p>`,
      list(a.members.map((m) => ({ id: m.id, text: `${m.client} → ${m.server}, ${arrowLabel(m, certCn)}` }))), `@${a.members[0]!.id}`];
  }
  for (const s of model.sections) {
    for (const e of folding.entries(s.entries)) {
      if (!e.id.startsWith('fold-')) continue;
      details[e.id] = [`<h3>${esc(e.client)} → ${esc(e.server)}</h3>`,
        `<p class="quiet">${esc(t('report.fold.entriesDetail', { section: s.title, n: e.members.length, nodes: nodes(e.nodes), label: e.label }))}</p>`,
        list(e.members.map((m) => ({ id: m.id, text: `${m.client} → ${m.server}: ${entryLabel(m)}` }))), `@${e.members[0]!.id}`];
    }
  }
}
