/** The report's HTML parts other than the drawings: the legend, the trust tree, the trust matrix, the timeline's narration. */
import type { Matrix, MatrixCell } from '../scenarios/matrix.js';
import { cellLabel } from '../scenarios/matrix.js';
import { FOLD_AT, foldCerts, foldNames, type CertFold } from './fold.js';
import { GROUP_FILL } from './graph.js';
import type { CaView, CertView, Outcome, ReportModel, Section } from './model.js';
import { OUTCOME_WORDS, OUTCOMES } from './model.js';
import { esc, STYLE } from './svg.js';

export function legend(): string {
  const line = (o: Outcome): string => {
    const s = STYLE[o];
    return `<span><svg width="46" height="12" aria-hidden="true"><line x1="2" y1="6" x2="36" y2="6" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} marker-end="url(#head-${o})"/></svg> ${esc(OUTCOME_WORDS[o])}</span>`;
  };
  const groups = Object.entries(GROUP_FILL).map(([g, fill]) => `<span><span class="swatch" style="background:${fill}"></span> ${esc(g === 'node' ? 'a node (kubelet, kube-proxy)' : g)}</span>`).join('');
  return `<div class="legend" role="list" aria-label="Legend: arrow colours">${OUTCOMES.map((o) => `<span role="listitem">${line(o)}</span>`).join('')}</div>`
    + `<div class="legend" aria-label="Legend: box colours">${groups}</div>`;
}

const BRANCH_NOTE: Readonly<Record<CaView['branch'], string>> = {
  kubernetes: 'The Kubernetes CA: the apiserver trusts it for client certificates (--client-ca-file); it signs the apiserver\'s serving certificate, every component\'s kubeconfig certificate and the kubelets\'.',
  etcd: 'A separate branch: etcd trusts only this CA (--trusted-ca-file). A certificate from the Kubernetes CA is refused by etcd in the handshake, and this CA\'s certificates mean nothing to the apiserver\'s users.',
  'front-proxy': 'The front-proxy CA: the apiserver trusts it only for requests proxied to aggregated API servers (--requestheader-client-ca-file).',
  other: 'Not one of the cluster\'s CAs: known only as the issuer named by a certificate seen on the wire (a foreign CA, or a self-signed kubelet).',
};

const short = (iso: string | undefined): string => (iso ? iso.slice(0, 10) : '?');

function certRow(c: CertView, nodes: ReadonlySet<string> = new Set(), foldAt = FOLD_AT): string {
  return `<tr class="cert" data-cert-id="${c.id}" data-detail="${c.id}" tabindex="0" role="button" aria-label="Certificate CN=${esc(c.cn)}: details">`
    + `<td>${esc(c.name ?? '(seen on the wire)')}</td><td>${esc(c.cn)}</td><td>${esc(c.o.join(', '))}</td><td>${esc(c.eku.join(', '))}</td>`
    + `<td class="sans">${esc(c.sans.join(', '))}</td><td>${short(c.notBefore)} → ${short(c.notAfter)}</td><td>${esc(c.key ?? '?')}</td>`
    + `<td>${esc(foldNames(c.held, nodes, foldAt).join(', ') || (c.uses[0] ?? ''))}</td></tr>`;
}

/**
 * Certificates alike but for their node (at least `foldAt`) as one row, `<node>` in its cells, with a
 * button that shows them; the rows themselves are in the page (a hidden tbody), so none is lost.
 */
function certRows(folds: readonly CertFold[], key: string, nodes: ReadonlySet<string>, foldAt: number): string {
  let tbody = '';
  const out: string[] = [];
  folds.forEach((f, i) => {
    if (!f.row) { tbody += certRow(f.members[0]!, nodes, foldAt); return; }
    if (tbody) { out.push(`<tbody>${tbody}</tbody>`); tbody = ''; }
    const id = `fold-${key}-${i}`;
    const r = f.row;
    out.push(`<tbody class="fold"><tr class="fold-row"><td><button type="button" class="toggle" data-toggle="${id}" aria-expanded="false" aria-controls="${id}">▸ ${f.members.length} alike</button> ${esc(r.name ?? '(seen on the wire)')}</td>`
      + `<td>${esc(r.cn)}</td><td>${esc(r.o.join(', '))}</td><td>${esc(r.eku.join(', '))}</td><td class="sans">${esc(r.sans.join(', '))}</td><td>${short(r.notBefore)} → ${short(r.notAfter)}</td><td>${esc(r.key ?? '?')}</td>`
      + `<td>${esc(r.held.join(', ') || (r.uses[0] ?? ''))}</td></tr></tbody><tbody id="${id}" hidden>${f.members.map((m) => certRow(m, nodes, foldAt)).join('')}</tbody>`);
  });
  if (tbody) out.push(`<tbody>${tbody}</tbody>`);
  return out.join('');
}

export function trustTree(model: ReportModel, foldAt = FOLD_AT): string {
  const nodes = new Set(model.nodes);
  const cards = model.cas.map((ca) => {
    const leaves = model.certs.filter((c) => c.caId === ca.id);
    const head = `<h3>${ca.rotatedOut ? 'Old ' : ''}CA CN=${esc(ca.cn)}${ca.name ? ` <span class="quiet">(${esc(ca.name)}.crt)</span>` : ''}</h3>`;
    const facts = ca.inPki ? `<p class="note">${esc(`valid ${short(ca.notBefore)} → ${short(ca.notAfter)}, ${ca.key ?? '?'}, serial ${ca.serial ?? '?'}${ca.rotatedOut ? '; replaced during this run by a new CA of the same name' : ''}`)}</p>` : '';
    const uses = ca.uses.length ? `<p class="note">Trusted by: ${esc(ca.uses.join('; '))}</p>` : '';
    const table = leaves.length === 0 ? '<p class="quiet">It signed no certificate seen in this run.</p>'
      : `<div class="scroll"><table class="certs"><caption class="quiet">${leaves.length} certificate${leaves.length === 1 ? '' : 's'} it signed</caption><thead><tr><th>name</th><th>CN</th><th>O</th><th>EKU</th><th>SANs</th><th>valid</th><th>key</th><th>held by</th></tr></thead>${certRows(foldCerts(leaves, nodes, foldAt), ca.id, nodes, foldAt)}</table></div>`;
    return `<div class="ca branch-${ca.branch}" data-ca-id="${ca.id}" aria-label="CA ${esc(ca.cn)}">${head}<p class="note">${esc(BRANCH_NOTE[ca.branch])}</p>${facts}${uses}${table}</div>`;
  });
  const orphans = model.certs.filter((c) => c.caId === null);
  const orphanCard = orphans.length === 0 ? '' : `<div class="ca branch-other"><h3>Self-signed, or signed by a CA not in this run</h3><div class="scroll"><table class="certs">${certRows(foldCerts(orphans, nodes, foldAt), 'orphans', nodes, foldAt)}</table></div></div>`;
  return `<div class="cas">${cards.join('')}${orphanCard}</div>`;
}

export const decisionClass = (c: MatrixCell): string => ({ allowed: 'allowed', forbidden: 'forbidden', unauthenticated: 'unauthenticated', 'handshake refused': 'refused', failed: 'failed' })[c.decision];

/** A cell as data, without the cause (the golden copy records OpenSSL's code it is computed from), as diffMatrix compares. */
export const cellKey = ({ cause: _, ...c }: MatrixCell): string => JSON.stringify(c);

export function isMatrix(v: unknown): v is Matrix {
  return typeof v === 'object' && v !== null && Array.isArray((v as Matrix).cells) && Array.isArray((v as Matrix).clients) && Array.isArray((v as Matrix).servers);
}

export function matrixTable(m: Matrix, golden: Matrix | undefined): { html: string; details: Record<string, string>; differs: number } {
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
        + `<dl>${[['decision', c.decision], ['decided by', c.layer], ['refused by', c.refusedBy], ['HTTP status', c.status?.toString()], ['OpenSSL code', c.code], ['user', c.user]]
          .filter(([, v]) => v).map(([k, v]) => `<dt>${esc(k!)}</dt><dd>${esc(v!)}</dd>`).join('')}</dl>${c.reason ? `<div class="words">${esc(c.reason)}</div>` : ''}`
        + (differ ? `<p><strong>Differs from the golden copy</strong>, which has: ${g ? `${esc(cellLabel(g))}</p><div class="words">${esc(g.reason)}</div>` : 'no such cell</p>'}` : '');
      return `<td class="cell d-${decisionClass(c)}${differ ? ' differs' : ''}" data-detail="${id}" tabindex="0" role="button" aria-label="${esc(`${c.client} to ${c.server}: ${cellLabel(c)}${differ ? ', differs from the golden copy' : ''}`)}">${esc(cellLabel(c))}</td>`;
    });
    const who = cl.kind === 'no certificate' ? 'no certificate' : `${cl.name}${cl.kind === 'foreign CA' ? ' (foreign CA)' : cl.kind === 'server certificate used as a client' ? ' (serverAuth only)' : ''}`;
    return `<tr><th scope="row">${esc(who)}<br><span class="quiet">${esc(cl.cn ? `CN=${cl.cn}, issuer ${cl.issuer}` : '')}</span></th>${cells.join('')}</tr>`;
  });
  const head = `<tr><th>client ↓ · server →</th>${m.servers.map((s) => `<th scope="col">${esc(s)}</th>`).join('')}</tr>`;
  const note = golden ? `<p>${differs === 0 ? 'Every cell equals the golden copy.' : `${differs} cell${differs === 1 ? '' : 's'} differ${differs === 1 ? 's' : ''} from the golden copy (outlined).`}</p>` : '';
  return { html: `${note}<div class="scroll"><table class="matrix"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table></div>`, details, differs };
}

export function narration(s: Section): string {
  const exp = s.expectations.length ? `<ul>${s.expectations.map((e) => `<li class="${e.ok ? 'ok' : 'bad'}">${e.ok ? '✔' : '✘'} ${esc(e.what)}${!e.ok && e.detail ? ` — ${esc(e.detail)}` : ''}</li>`).join('')}</ul>` : '';
  const said = s.said.length ? `<details><summary>What the scenario printed</summary><pre>${esc(s.said.join('\n'))}</pre></details>` : '';
  return `<h3>${esc(s.title)}</h3><p>${esc(s.lesson)}</p>${exp}${said}<p class="quiet">${s.entries.length} entr${s.entries.length === 1 ? 'y' : 'ies'}: ${s.entries.filter((e) => e.kind === 'handshake').length} handshakes, ${s.entries.filter((e) => e.kind === 'request').length} kinds of request.</p>`;
}
