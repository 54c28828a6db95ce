/**
 * The details panel's contents, made in Node as HTML fragments: a connection (both certificates, the CA
 * each side checked, the verdict, the layer that decided and its reason in Kubernetes' and Go's words,
 * the requests it carried), a certificate, a cell of the trust matrix.
 */
import type { CaView, CertView, ConnectionView, Outcome, ReportModel, RequestView } from './model.js';
import { outcomeWord } from './model.js';
import { shownPath } from '../sim/narrate.js';
import { esc } from './svg.js';
import type { MessageKey, Translate } from '../sim/i18n/index.js';

const dl = (rows: readonly (readonly [string, string | undefined])[]): string =>
  `<dl>${rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v!)}</dd>`).join('')}</dl>`;

const day = (iso: string | undefined): string | undefined => iso?.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

export function certFields(c: CertView | undefined, ca: CaView | undefined, t: Translate): string {
  if (!c) return `<p>${esc(t('report.noCert'))}</p>`;
  const none = t('report.none');
  return dl([
    ['CN', c.cn], ['O', c.o.join(', ') || none], [t('report.field.issuedBy'), ca ? `CN=${ca.cn}${ca.name ? ` (${ca.name})` : ''}` : t('report.field.selfOrUnknown')],
    [t('report.field.pkiName'), c.name], ['EKU', c.eku.join(', ') || none], ['SANs', c.sans.join(', ') || none],
    [t('report.field.validFrom'), day(c.notBefore)], [t('report.field.validTo'), day(c.notAfter)], [t('report.field.key'), c.key], [t('report.field.serial'), c.serial],
    [t('report.field.heldBy'), c.held.join(', ') || undefined], [t('report.field.for'), c.uses.join('; ') || undefined],
  ]);
}

/** The layer that decided, in words (the trace's token when it is not one of these). */
const LAYER_WORDS: Readonly<Record<string, MessageKey>> = {
  tls: 'report.layer.tls', authentication: 'report.layer.authentication', authorization: 'report.layer.authorization', admission: 'report.layer.admission',
  validation: 'report.layer.validation', storage: 'report.layer.storage', handler: 'report.layer.handler', none: 'report.layer.none',
};

/** What decided a connection or one of its requests, in one line. */
export function verdict(c: ConnectionView, r: RequestView | undefined, t: Translate): { outcome: Outcome; layer: string; line: string } {
  if (c.result === 'refused') {
    const by = c.refusedBy === 'client' ? c.client : c.server;
    return { outcome: 'refused', layer: 'tls', line: t('report.verdict.refused', { by, side: t(c.refusedBy === 'client' ? 'report.side.client' : 'report.side.server') }) };
  }
  if (!r) return { outcome: 'allowed', layer: 'none', line: t('report.verdict.noRequest') };
  return { outcome: r.outcome, layer: r.layer, line: t('report.verdict.request', { method: r.method, path: shownPath(r.path), status: r.status, outcome: outcomeWord(t, r.outcome) }) };
}

/**
 * A connection's details in fragments (the page assembles them; `@id` stands for the fragments of `id`):
 * its title and the verdict on one request in `focus`, then a body shared by every arrow and timeline row
 * that shows the connection (both certificates, by reference, and the requests it carried).
 */
export interface ConnectionFragments {
  /** The title and verdict, for one request (the first refused one, or the first, when `focus` is absent). */
  head(c: ConnectionView, focus?: number): string;
  /** Both certificates (as `@f-<cert id>`) and the requests: stored once per connection as `<id>-body`. */
  body(c: ConnectionView): string[];
}

export function connectionFragments(model: ReportModel, t: Translate): ConnectionFragments {
  const certs = new Map<string, CertView>([...model.certs, ...model.cas].map((x) => [x.id, x]));
  return {
    head: (c, focus) => connectionHead(c, focus, t),
    body: (c) => connectionBody(c, certs, t),
  };
}

function connectionHead(c: ConnectionView, focus: number | undefined, t: Translate): string {
  const r = focus === undefined ? c.requests.find((x) => x.outcome !== 'allowed') ?? c.requests[0] : c.requests[focus];
  const v = verdict(c, r, t);
  const go = c.result === 'refused' ? c.reason ?? c.code : c.clientUnverified;
  const kube = r ? r.reason ?? (r.outcome === 'allowed' ? undefined : `HTTP ${r.status}`) : undefined;
  return `<h3>${esc(c.client)} → ${esc(c.server)}</h3>`
    + `<p class="o-${v.outcome}"><strong>${esc(t('report.verdict'))}</strong> ${esc(v.line)}</p>`
    + dl([[t('report.matrix.decidedBy'), LAYER_WORDS[v.layer] ? t(LAYER_WORDS[v.layer]!) : v.layer], [t('report.tlsCause'), c.cause && c.cause !== 'none' ? c.cause : undefined], [t('report.matrix.code'), c.code],
      [t('report.matrix.user'), r && r.user ? `${r.user}${r.groups.length ? ` [${r.groups.join(', ')}]` : ''}` : undefined]])
    + (kube ? `<p>${esc(t('report.kubeWords', { server: c.server }))}</p><div class="words">${esc(kube)}</div>` : '')
    + (go ? `<p>${esc(t('report.goWords', { more: c.result === 'ok' ? t('report.goWordsUnverified') : '' }))}</p><div class="words">${esc(go)}</div>` : '');
}

function connectionBody(c: ConnectionView, certs: ReadonlyMap<string, CertView>, t: Translate): string[] {
  const clientChecked = c.serverTrusts === '?' ? (c.refusedBy === 'client' ? t('report.checked.gaveUp', { client: c.client }) : t('report.checked.notRecorded')) : t('report.checked.against', { ca: c.serverTrusts });
  const serverChecked = c.clientTrusts === 'none' ? t('report.checked.notChecked', { client: c.client }) : c.clientTrusts === '?' ? t('report.checked.notRecorded') : t('report.checked.against', { ca: c.clientTrusts });
  const ref = (id: string | null): string => (id && certs.has(id) ? `@f-${id}` : `<p>${esc(t('report.noCert'))}</p>`);
  const reqs = new Map<string, { r: RequestView; n: number }>();
  for (const x of c.requests) {
    const k = `${x.method} ${shownPath(x.path)} ${x.status} ${x.user}`;
    const g = reqs.get(k);
    if (g) g.n++; else reqs.set(k, { r: x, n: 1 });
  }
  const list = [...reqs.values()].slice(0, 30).map(({ r: x, n }) => `<li>${esc(t('report.requestLine', { method: x.method, path: shownPath(x.path), user: x.user || t('report.nobody'), status: x.status, times: n > 1 ? ` (×${n})` : '' }))}</li>`).join('');
  return [
    `<h4>${esc(t('report.clientCertChecked', { server: c.server, how: clientChecked }))}</h4>`, ref(c.clientCert),
    `<h4>${esc(t('report.serverCertChecked', { client: c.client, how: serverChecked }))}</h4>`, ref(c.serverCert),
    list ? `<h4>${esc(t('report.requestsOn', { n: c.requests.length }))}</h4><ul>${list}</ul>` : '',
  ];
}

/** A certificate's fields, stored once as `f-<id>` and referenced by every connection that showed it. */
export function certFragment(cas: ReadonlyMap<string, CaView>, c: CertView, t: Translate): string {
  return certFields(c, c.caId ? cas.get(c.caId) : undefined, t);
}
