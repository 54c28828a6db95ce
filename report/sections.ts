/** The report's HTML parts other than the drawings: the legend, the trust tree, the trust matrix, the timeline's narration. */
import type { Matrix, MatrixCell } from '../scenarios/matrix.js';
import { cellLabel } from '../scenarios/matrix.js';
import { FOLD_AT, foldCerts, foldNames, type CertFold } from './fold.js';
import { GROUP_FILL } from './graph.js';
import type { CaView, CertView, Outcome, ReportModel, Section } from './model.js';
import { OUTCOMES, outcomeWord } from './model.js';
import { esc, STYLE } from './svg.js';
import type { MessageKey, Translate } from '../sim/i18n/index.js';

const GROUP_KEY: Readonly<Record<string, MessageKey>> = { 'control plane': 'report.group.controlPlane', node: 'report.group.node', 'users and tools': 'report.group.users' };

export function legend(t: Translate): string {
  const line = (o: Outcome): string => {
    const s = STYLE[o];
    return `<span><svg width="46" height="12" aria-hidden="true"><line x1="2" y1="6" x2="36" y2="6" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} marker-end="url(#head-${o})"/></svg> ${esc(outcomeWord(t, o))}</span>`;
  };
  const groups = Object.entries(GROUP_FILL).map(([g, fill]) => `<span><span class="swatch" style="background:${fill}"></span> ${esc(GROUP_KEY[g] ? t(GROUP_KEY[g]) : g)}</span>`).join('');
  return `<div class="legend" role="list" aria-label="${esc(t('report.legend.arrows'))}">${OUTCOMES.map((o) => `<span role="listitem">${line(o)}</span>`).join('')}</div>`
    + `<div class="legend" aria-label="${esc(t('report.legend.boxes'))}">${groups}</div>`;
}

const BRANCH_NOTE: Readonly<Record<CaView['branch'], MessageKey>> = {
  kubernetes: 'report.branch.kubernetes', etcd: 'report.branch.etcd', 'front-proxy': 'report.branch.frontProxy', other: 'report.branch.other',
};

const short = (iso: string | undefined): string => (iso ? iso.slice(0, 10) : '?');

function certRow(c: CertView, t: Translate, nodes: ReadonlySet<string> = new Set(), foldAt = FOLD_AT): string {
  return `<tr class="cert" data-cert-id="${c.id}" data-detail="${c.id}" tabindex="0" role="button" aria-label="${esc(t('report.certAria', { cn: c.cn }))}">`
    + `<td>${esc(c.name ?? t('report.seenOnWire'))}</td><td>${esc(c.cn)}</td><td>${esc(c.o.join(', '))}</td><td>${esc(c.eku.join(', '))}</td>`
    + `<td class="sans">${esc(c.sans.join(', '))}</td><td>${short(c.notBefore)} → ${short(c.notAfter)}</td><td>${esc(c.key ?? '?')}</td>`
    + `<td>${esc(foldNames(c.held, nodes, foldAt).join(', ') || (c.uses[0] ?? ''))}</td></tr>`;
}

/**
 * Certificates alike but for their node (at least `foldAt`) as one row, `<node>` in its cells, with a
 * button that shows them; the rows themselves are in the page (a hidden tbody), so none is lost.
 */
function certRows(folds: readonly CertFold[], key: string, nodes: ReadonlySet<string>, foldAt: number, t: Translate): string {
  let tbody = '';
  const out: string[] = [];
  folds.forEach((f, i) => {
    if (!f.row) { tbody += certRow(f.members[0]!, t, nodes, foldAt); return; }
    if (tbody) { out.push(`<tbody>${tbody}</tbody>`); tbody = ''; }
    const id = `fold-${key}-${i}`;
    const r = f.row;
    out.push(`<tbody class="fold"><tr class="fold-row"><td><button type="button" class="toggle" data-toggle="${id}" aria-expanded="false" aria-controls="${id}">▸ ${esc(t('report.fold.alike', { n: f.members.length }))}</button> ${esc(r.name ?? t('report.seenOnWire'))}</td>`
      + `<td>${esc(r.cn)}</td><td>${esc(r.o.join(', '))}</td><td>${esc(r.eku.join(', '))}</td><td class="sans">${esc(r.sans.join(', '))}</td><td>${short(r.notBefore)} → ${short(r.notAfter)}</td><td>${esc(r.key ?? '?')}</td>`
      + `<td>${esc(r.held.join(', ') || (r.uses[0] ?? ''))}</td></tr></tbody><tbody id="${id}" hidden>${f.members.map((m) => certRow(m, t, nodes, foldAt)).join('')}</tbody>`);
  });
  if (tbody) out.push(`<tbody>${tbody}</tbody>`);
  return out.join('');
}

export function trustTree(model: ReportModel, t: Translate, foldAt = FOLD_AT): string {
  const nodes = new Set(model.nodes);
  const cards = model.cas.map((ca) => {
    const leaves = model.certs.filter((c) => c.caId === ca.id);
    const head = `<h3>${esc(t(ca.rotatedOut ? 'report.ca.oldHeading' : 'report.ca.heading', { cn: ca.cn }))}${ca.name ? ` <span class="quiet">(${esc(ca.name)}.crt)</span>` : ''}</h3>`;
    const facts = ca.inPki ? `<p class="note">${esc(`${t('report.ca.facts', { from: short(ca.notBefore), to: short(ca.notAfter), key: ca.key ?? '?', serial: ca.serial ?? '?' })}${ca.rotatedOut ? t('report.ca.replaced') : ''}`)}</p>` : '';
    const uses = ca.uses.length ? `<p class="note">${esc(t('report.ca.trustedBy', { uses: ca.uses.join('; ') }))}</p>` : '';
    const columns = [t('report.col.name'), 'CN', 'O', 'EKU', 'SANs', t('report.col.valid'), t('report.col.key'), t('report.col.heldBy')].map((h) => `<th>${esc(h)}</th>`).join('');
    const table = leaves.length === 0 ? `<p class="quiet">${esc(t('report.ca.signedNone'))}</p>`
      : `<div class="scroll"><table class="certs"><caption class="quiet">${esc(t(leaves.length === 1 ? 'report.ca.signed.one' : 'report.ca.signed.other', { n: leaves.length }))}</caption><thead><tr>${columns}</tr></thead>${certRows(foldCerts(leaves, nodes, foldAt), ca.id, nodes, foldAt, t)}</table></div>`;
    return `<div class="ca branch-${ca.branch}" data-ca-id="${ca.id}" aria-label="CA ${esc(ca.cn)}">${head}<p class="note">${esc(t(BRANCH_NOTE[ca.branch]))}</p>${facts}${uses}${table}</div>`;
  });
  const orphans = model.certs.filter((c) => c.caId === null);
  const orphanCard = orphans.length === 0 ? '' : `<div class="ca branch-other"><h3>${esc(t('report.ca.orphans'))}</h3><div class="scroll"><table class="certs">${certRows(foldCerts(orphans, nodes, foldAt), 'orphans', nodes, foldAt, t)}</table></div></div>`;
  return `<div class="cas">${cards.join('')}${orphanCard}</div>`;
}

export const decisionClass = (c: MatrixCell): string => ({ allowed: 'allowed', forbidden: 'forbidden', unauthenticated: 'unauthenticated', 'handshake refused': 'refused', failed: 'failed' })[c.decision];

/** A cell as data, without the cause (the golden copy records OpenSSL's code it is computed from), as diffMatrix compares. */
export const cellKey = ({ cause: _, ...c }: MatrixCell): string => JSON.stringify(c);

export function isMatrix(v: unknown): v is Matrix {
  return typeof v === 'object' && v !== null && Array.isArray((v as Matrix).cells) && Array.isArray((v as Matrix).clients) && Array.isArray((v as Matrix).servers);
}

export function matrixTable(m: Matrix, golden: Matrix | undefined, t: Translate): { html: string; details: Record<string, string>; differs: number } {
  const details: Record<string, string> = {};
  let differs = 0;
  const want = new Map(golden?.cells.map((c) => [`${c.client}|${c.server}`, c]) ?? []);
  const rows = m.clients.map((cl) => {
    const cells = m.servers.map((s) => {
      const i = m.cells.findIndex((x) => x.client === cl.name && x.server === s);
      const c = m.cells[i];
      if (!c) return '<td class="cell d-failed">?</td>';
      const g = golden ? want.get(`${c.client}|${c.server}`) : undefined;
      const differ = golden !== undefined && (!g || cellKey(g) !== cellKey(c));
      if (differ) differs++;
      const id = `cell-${i}`;
      details[id] = `<h3>${esc(c.client)} → ${esc(c.server)}</h3><p><strong>${esc(cellLabel(c))}</strong></p>`
        + `<dl>${[[t('report.matrix.decision'), c.decision], [t('report.matrix.decidedBy'), c.layer], [t('report.matrix.refusedBy'), c.refusedBy], [t('report.matrix.status'), c.status?.toString()], [t('report.matrix.code'), c.code], [t('report.matrix.user'), c.user]]
          .filter(([, v]) => v).map(([k, v]) => `<dt>${esc(k!)}</dt><dd>${esc(v!)}</dd>`).join('')}</dl>${c.reason ? `<div class="words">${esc(c.reason)}</div>` : ''}`
        + (differ ? `<p><strong>${esc(t('report.matrix.differs'))}</strong>${esc(t('report.matrix.goldenHas'))}${g ? `${esc(cellLabel(g))}</p><div class="words">${esc(g.reason)}</div>` : `${esc(t('report.matrix.noSuchCell'))}</p>`}` : '');
      return `<td class="cell d-${decisionClass(c)}${differ ? ' differs' : ''}" data-detail="${id}" tabindex="0" role="button" aria-label="${esc(`${t('report.matrix.cellAria', { client: c.client, server: c.server, label: cellLabel(c) })}${differ ? t('report.matrix.cellAriaDiffers') : ''}`)}">${esc(cellLabel(c))}</td>`;
    });
    const who = cl.kind === 'no certificate' ? t('report.matrix.noCert') : `${cl.name}${cl.kind === 'foreign CA' ? t('report.matrix.foreignCa') : cl.kind === 'server certificate used as a client' ? t('report.matrix.serverAuthOnly') : ''}`;
    return `<tr><th scope="row">${esc(who)}<br><span class="quiet">${esc(cl.cn ? t('report.matrix.cnIssuer', { cn: cl.cn, issuer: cl.issuer ?? '?' }) : '')}</span></th>${cells.join('')}</tr>`;
  });
  const head = `<tr><th>${esc(t('report.matrix.corner'))}</th>${m.servers.map((s) => `<th scope="col">${esc(s)}</th>`).join('')}</tr>`;
  const note = golden ? `<p>${esc(differs === 0 ? t('report.matrix.allEqual') : t(differs === 1 ? 'report.matrix.differ.one' : 'report.matrix.differ.other', { n: differs }))}</p>` : '';
  return { html: `${note}<div class="scroll"><table class="matrix"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table></div>`, details, differs };
}

export function narration(s: Section, t: Translate): string {
  const exp = s.expectations.length ? `<ul>${s.expectations.map((e) => `<li class="${e.ok ? 'ok' : 'bad'}">${e.ok ? '✔' : '✘'} ${esc(e.what)}${!e.ok && e.detail ? ` — ${esc(e.detail)}` : ''}</li>`).join('')}</ul>` : '';
  const said = s.said.length ? `<details><summary>${esc(t('report.printed'))}</summary><pre>${esc(s.said.join('\n'))}</pre></details>` : '';
  return `<h3>${esc(s.title)}</h3><p>${esc(s.lesson)}</p>${exp}${said}<p class="quiet">${esc(t(s.entries.length === 1 ? 'report.entries.one' : 'report.entries.other', { n: s.entries.length, handshakes: s.entries.filter((e) => e.kind === 'handshake').length, requests: s.entries.filter((e) => e.kind === 'request').length }))}</p>`;
}
