/** The whole page: one self-contained HTML file (styles, script and data inlined; nothing fetched). */
import type { Matrix } from '../scenarios/matrix.js';
import { CSS, SCRIPT } from './assets.js';
import { certFragment, connectionFragments, verdict } from './details.js';
import { fold, FOLD_AT, type Folding } from './fold.js';
import { arrowLabel, componentGraph } from './graph.js';
import type { ReportModel } from './model.js';
import { OUTCOME_WORDS } from './model.js';
import { isMatrix, legend, matrixTable, narration, trustTree } from './sections.js';
import { drawnLabel, entryLabel, sequenceSvg } from './sequence.js';
import { esc, markers } from './svg.js';

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

export function renderPage(model: ReportModel, options: PageOptions = {}): string {
  const byId = new Map([...model.certs, ...model.cas].map((c) => [c.id, c]));
  const certCn = (id: string | null): string => (id === null ? 'no client certificate' : `CN=${byId.get(id)?.cn ?? '?'}`);
  const frag = connectionFragments(model);
  const conns = new Map(model.connections.map((c) => [c.id, c]));
  const cas = new Map(model.cas.map((c) => [c.id, c]));
  // id → fragments; a fragment `@x` stands for the fragments of x (the page's script expands them).
  const details: Record<string, string[]> = {};
  for (const c of [...model.certs, ...model.cas]) {
    details[`f-${c.id}`] = [certFragment(cas, c)];
    details[c.id] = [`<h3>Certificate CN=${esc(c.cn)}</h3>`, `@f-${c.id}`];
  }
  for (const c of model.connections) {
    details[`${c.id}-body`] = frag.body(c);
    details[c.id] = [frag.head(c), `@${c.id}-body`];
  }
  for (const a of model.arrows) {
    // The arrow's details: the first of its connections, with a request of the arrow's outcome in focus.
    const first = conns.get(a.connections[0]!)!;
    const k = first.requests.findIndex((r) => r.outcome === a.outcome);
    details[a.id] = [`<p class="quiet">Arrow: ${esc(a.client)} → ${esc(a.server)} with ${esc(certCn(a.clientCert))}: ${esc(OUTCOME_WORDS[a.outcome])}; ${a.connections.length} connection${a.connections.length === 1 ? '' : 's'}, ${a.requests} request${a.requests === 1 ? '' : 's'}. The first:</p>`,
      frag.head(first, k >= 0 ? k : undefined), `@${first.id}-body`];
  }
  for (const s of model.sections) {
    for (const e of s.entries) {
      const c = conns.get(e.connection)!;
      details[e.id] = e.kind === 'handshake'
        ? [`<p class="quiet">${esc(s.title)}: a TLS handshake${e.count > 1 ? ` (${e.count} alike)` : ''}.</p>`, `@${c.id}`]
        : [`<p class="quiet">${esc(s.title)}: ${esc(verdict(c, c.requests[e.request!]).line)}${e.count > 1 ? ` (${e.count} alike)` : ''}</p>`, frag.head(c, e.request), `@${c.id}-body`];
    }
  }
  const foldAt = options.foldAt ?? FOLD_AT;
  const folding = fold(model, (a) => arrowLabel(a, certCn), foldAt);
  foldedDetails(folding, model, details, certCn);
  const graph = componentGraph(model, folding);
  const m = isMatrix(model.report) ? matrixTable(model.report, options.golden) : undefined;
  for (const [id, html] of Object.entries(m?.details ?? {})) details[id] = [html];
  const entries = model.sections.reduce((n, s) => n + s.entries.length, 0);
  const nav = [['trust', 'Trust tree'], ['graph', 'Component graph'], ...(m ? [['matrix', 'Trust matrix']] : []), ['timeline', 'Timeline']]
    .map(([id, t]) => `<li><a href="#${id}">${t}</a></li>`).join('');
  const timeline = model.sections.map((s) => `<section class="step" id="${s.id}" aria-label="${esc(s.title)}"><div class="narration">${narration(s)}</div><div class="scroll">${sequenceSvg(s, folding)}</div></section>`).join('');
  const generated = options.generated ? ` · ${esc(options.generated.toISOString().replace('T', ' ').slice(0, 19))} UTC` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>${esc(model.title)} — k8s-mtls-sim report</title><style>${CSS}</style></head>
<body><a class="skip" href="#main">Skip to the report</a>
<svg width="0" height="0" style="position:absolute" aria-hidden="true">${markers()}</svg>
<header><h1>${esc(model.title)}</h1>
<p>${esc(model.summary)}</p>
<p>Scenario <code>${esc(model.scenario)}</code>: <strong class="verdict ${model.ok ? 'pass' : 'fail'}">${model.ok ? 'every expectation held' : 'some expectations failed'}</strong>${generated}.
${model.cas.length} CAs, ${model.certs.length} certificates, ${model.connections.length} connections, ${model.arrows.length} arrows, ${entries} timeline entries.</p>
<p class="hint quiet">Every arrow, timeline row, certificate and matrix cell opens its details: click it, or reach it with Tab and press Enter. Escape closes the details.</p>
<nav aria-label="Sections"><ul>${nav}</ul></nav>
<h2 id="legend-h">Legend</h2>${legend()}
</header>
<main id="main">
<section id="trust" aria-labelledby="trust-h"><h2 id="trust-h">Trust tree: each CA and the certificates it signed</h2>
<p>A certificate is trusted by whoever trusts the CA that signed it. "Held by" is who presented it on the wire in this run.</p>${trustTree(model, foldAt)}</section>
<section id="graph" aria-labelledby="graph-h"><h2 id="graph-h">Component graph: who connected to whom, with which certificate</h2>
<p>Each arrow goes from a client to the server it dialled, labelled with the client certificate it presented and coloured by what came of it (see the legend).</p>
<div class="scroll">${graph.svg}</div></section>
${m ? `<section id="matrix" aria-labelledby="matrix-h"><h2 id="matrix-h">Trust matrix: every client identity against every server</h2>${legendCells()}${m.html}</section>` : ''}
<section id="timeline" aria-labelledby="timeline-h"><h2 id="timeline-h">Timeline: the steps in order, with their handshakes and requests</h2>
<p>Each row is one TLS handshake or one kind of request (alike requests folded, ×n). Read top to bottom; the arrow goes from client to server.</p>
${timeline}</section>
</main>
<aside id="details" role="region" aria-label="Details" tabindex="-1" hidden><button type="button" class="close" id="details-close">Close (Esc)</button><div id="details-body"></div></aside>
<script type="application/json" id="report-data">${scriptJson(pooled(details))}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}

function legendCells(): string {
  return `<div class="legend">${[['allowed', 'allowed'], ['forbidden', '403: authenticated, not allowed'], ['unauthenticated', '401: not authenticated'], ['refused', 'handshake refused'], ['failed', 'no answer']]
    .map(([d, t]) => `<span><span class="swatch d-${d}"></span> ${esc(t!)}</span>`).join('')}<span><span class="swatch" style="outline:3px solid #ff6f00"></span> differs from the golden copy</span></div>`;
}

/**
 * The details of what the folding drew as one: the list of its members, each a button that opens its
 * own details, then the first member's details.
 */
function foldedDetails(folding: Folding, model: ReportModel, details: Record<string, string[]>, certCn: (id: string | null) => string): void {
  const list = (items: readonly { id: string; text: string }[]): string =>
    `<ul class="members">${items.map((m) => `<li><button type="button" data-detail="${m.id}">${esc(m.text)}</button></li>`).join('')}</ul>`;
  const nodes = (n: number): string => `${n} node${n === 1 ? '' : 's'}`;
  for (const a of folding.arrows) {
    if (!a.id.startsWith('fold-')) continue;
    details[a.id] = [`<h3>${esc(a.client)} → ${esc(a.server)}</h3>`,
      `<p>${a.members.length} arrow${a.members.length === 1 ? '' : 's'} alike but for the node (${esc(OUTCOME_WORDS[a.outcome])}), drawn as one: ${esc(a.label)}. Each opens its own details:</p>`,
      list(a.members.map((m) => ({ id: m.id, text: `${m.client} → ${m.server}, ${arrowLabel(m, certCn)}` }))), `@${a.members[0]!.id}`];
  }
  for (const s of model.sections) {
    for (const e of folding.entries(s.entries)) {
      if (!e.id.startsWith('fold-')) continue;
      details[e.id] = [`<h3>${esc(e.client)} → ${esc(e.server)}</h3>`,
        `<p class="quiet">${esc(s.title)}: ${e.members.length} timeline entr${e.members.length === 1 ? 'y' : 'ies'} alike but for the node (${esc(nodes(e.nodes))}), drawn as one row: ${esc(e.label)}. Each opens its own details:</p>`,
        list(e.members.map((m) => ({ id: m.id, text: `${m.client} → ${m.server}: ${entryLabel(m)}` }))), `@${e.members[0]!.id}`];
    }
  }
}
