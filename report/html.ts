/** The whole page: one self-contained HTML file (styles, script and data inlined; nothing fetched). */
import type { Matrix } from '../scenarios/matrix.js';
import { CSS, SCRIPT } from './assets.js';
import { certFragment, connectionFragments, verdict } from './details.js';
import { componentGraph } from './graph.js';
import type { ReportModel } from './model.js';
import { outcomeWord } from './model.js';
import { isMatrix, legend, matrixTable, narration, trustTree } from './sections.js';
import { sequenceSvg } from './sequence.js';
import { esc, markers } from './svg.js';
import { translator, type Translate } from '../sim/i18n/index.js';

export interface PageOptions {
  /** The golden copy of the trust matrix: cells that differ from it are outlined. */
  readonly golden?: Matrix;
  /** When the run was made, for the header. */
  readonly generated?: Date;
}

/** JSON that can sit inside a <script> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

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
  const order = model.components.map((c) => c.name);
  for (const s of model.sections) {
    for (const e of s.entries) {
      const c = conns.get(e.connection)!;
      details[e.id] = e.kind === 'handshake'
        ? [`<p class="quiet">${esc(t('report.entryHandshake', { section: s.title, alike: e.count > 1 ? t('report.alike', { n: e.count }) : '' }))}</p>`, `@${c.id}`]
        : [`<p class="quiet">${esc(s.title)}: ${esc(verdict(c, c.requests[e.request!], t).line)}${esc(e.count > 1 ? t('report.alike', { n: e.count }) : '')}</p>`, frag.head(c, e.request), `@${c.id}-body`];
    }
  }
  const graph = componentGraph(model, certCn, t);
  const m = isMatrix(model.report) ? matrixTable(model.report, options.golden, t) : undefined;
  for (const [id, html] of Object.entries(m?.details ?? {})) details[id] = [html];
  const entries = model.sections.reduce((n, s) => n + s.entries.length, 0);
  const nav = [['trust', t('report.nav.trust')], ['graph', t('report.nav.graph')], ...(m ? [['matrix', t('report.nav.matrix')]] : []), ['timeline', t('report.nav.timeline')]]
    .map(([id, label]) => `<li><a href="#${id}">${esc(label!)}</a></li>`).join('');
  const timeline = model.sections.map((s) => `<section class="step" id="${s.id}" aria-label="${esc(s.title)}"><div class="narration">${narration(s, t)}</div><div class="scroll">${sequenceSvg(s, order, t)}</div></section>`).join('');
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
<p>${esc(t('report.trust.intro'))}</p>${trustTree(model, t)}</section>
<section id="graph" aria-labelledby="graph-h"><h2 id="graph-h">${esc(t('report.graph.heading'))}</h2>
<p>${esc(t('report.graph.intro'))}</p>
<div class="scroll">${graph.svg}</div></section>
${m ? `<section id="matrix" aria-labelledby="matrix-h"><h2 id="matrix-h">${esc(t('report.matrix.heading'))}</h2>${legendCells(t)}${m.html}</section>` : ''}
<section id="timeline" aria-labelledby="timeline-h"><h2 id="timeline-h">${esc(t('report.timeline.heading'))}</h2>
<p>${esc(t('report.timeline.intro'))}</p>
${timeline}</section>
</main>
<aside id="details" role="region" aria-label="${esc(t('report.details'))}" tabindex="-1" hidden><button type="button" class="close" id="details-close">${esc(t('report.close'))}</button><div id="details-body"></div></aside>
<script type="application/json" id="report-data">${scriptJson(details)}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}

function legendCells(t: Translate): string {
  return `<div class="legend">${(['allowed', 'forbidden', 'unauthenticated', 'refused', 'failed'] as const)
    .map((d) => `<span><span class="swatch d-${d}"></span> ${esc(t(`report.cell.${d}`))}</span>`).join('')}<span><span class="swatch" style="outline:3px solid #ff6f00"></span> ${esc(t('report.cell.differs'))}</span></div>`;
}
