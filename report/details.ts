/**
 * The details panel's contents, made in Node as HTML fragments: a connection (both certificates, the CA
 * each side checked, the verdict, the layer that decided and its reason in Kubernetes' and Go's words,
 * the requests it carried), a certificate, a cell of the trust matrix.
 */
import type { CaView, CertView, ConnectionView, Outcome, ReportModel, RequestView } from './model.js';
import { OUTCOME_WORDS } from './model.js';
import { shownPath } from '../sim/narrate.js';
import { esc } from './svg.js';

const dl = (rows: readonly (readonly [string, string | undefined])[]): string =>
  `<dl>${rows.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v!)}</dd>`).join('')}</dl>`;

const day = (iso: string | undefined): string | undefined => iso?.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

export function certFields(c: CertView | undefined, ca: CaView | undefined): string {
  if (!c) return '<p>No certificate.</p>';
  return dl([
    ['CN', c.cn], ['O', c.o.join(', ') || '(none)'], ['issued by', ca ? `CN=${ca.cn}${ca.name ? ` (${ca.name})` : ''}` : 'itself (self-signed) or a CA not in this run'],
    ['PKI name', c.name], ['EKU', c.eku.join(', ') || '(none)'], ['SANs', c.sans.join(', ') || '(none)'],
    ['valid from', day(c.notBefore)], ['valid to', day(c.notAfter)], ['key', c.key], ['serial', c.serial],
    ['held by', c.held.join(', ') || undefined], ['for', c.uses.join('; ') || undefined],
  ]);
}

export const LAYER_WORDS: Readonly<Record<string, string>> = {
  tls: 'the TLS handshake', authentication: 'authentication (who are you?)', authorization: 'authorization (may you?)',
  admission: 'admission (is this change allowed?)', validation: 'validation', storage: 'storage', handler: 'the handler', none: 'nothing refused it',
};

/** What decided a connection or one of its requests, in one line. */
export function verdict(c: ConnectionView, r: RequestView | undefined): { outcome: Outcome; layer: string; line: string } {
  if (c.result === 'refused') {
    const by = c.refusedBy === 'client' ? c.client : c.server;
    return { outcome: 'refused', layer: 'tls', line: `The handshake was refused by ${by} (the ${c.refusedBy ?? 'server'}): no request was sent.` };
  }
  if (!r) return { outcome: 'allowed', layer: 'none', line: 'The handshake completed; no request was seen on this connection.' };
  return { outcome: r.outcome, layer: r.layer, line: `${r.method} ${shownPath(r.path)} → HTTP ${r.status}: ${OUTCOME_WORDS[r.outcome]}.` };
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

export function connectionFragments(model: ReportModel): ConnectionFragments {
  const certs = new Map<string, CertView>([...model.certs, ...model.cas].map((x) => [x.id, x]));
  return {
    head: (c, focus) => connectionHead(c, focus),
    body: (c) => connectionBody(c, certs),
  };
}

function connectionHead(c: ConnectionView, focus: number | undefined): string {
  const r = focus === undefined ? c.requests.find((x) => x.outcome !== 'allowed') ?? c.requests[0] : c.requests[focus];
  const v = verdict(c, r);
  const go = c.result === 'refused' ? c.reason ?? c.code : c.clientUnverified;
  const kube = r ? r.reason ?? (r.outcome === 'allowed' ? undefined : `HTTP ${r.status}`) : undefined;
  return `<h3>${esc(c.client)} → ${esc(c.server)}</h3>`
    + `<p class="o-${v.outcome}"><strong>Verdict:</strong> ${esc(v.line)}</p>`
    + dl([['decided by', LAYER_WORDS[v.layer] ?? v.layer], ['TLS cause', c.cause && c.cause !== 'none' ? c.cause : undefined], ['OpenSSL code', c.code],
      ['user', r && r.user ? `${r.user}${r.groups.length ? ` [${r.groups.join(', ')}]` : ''}` : undefined]])
    + (kube ? `<p>In Kubernetes' words (what ${esc(c.server)} answered):</p><div class="words">${esc(kube)}</div>` : '')
    + (go ? `<p>In Go's words (crypto/x509, crypto/tls)${c.result === 'ok' ? ': the client certificate did not verify, so the handshake went on and the authenticator decided' : ''}:</p><div class="words">${esc(go)}</div>` : '');
}

function connectionBody(c: ConnectionView, certs: ReadonlyMap<string, CertView>): string[] {
  const clientChecked = c.serverTrusts === '?' ? (c.refusedBy === 'client' ? `not checked: ${c.client} gave up first` : 'not recorded') : `against the "${c.serverTrusts}" CA`;
  const serverChecked = c.clientTrusts === 'none' ? `${c.client} does not check it` : c.clientTrusts === '?' ? 'not recorded' : `against the "${c.clientTrusts}" CA`;
  const ref = (id: string | null): string => (id && certs.has(id) ? `@f-${id}` : '<p>No certificate.</p>');
  const reqs = new Map<string, { r: RequestView; n: number }>();
  for (const x of c.requests) {
    const k = `${x.method} ${shownPath(x.path)} ${x.status} ${x.user}`;
    const g = reqs.get(k);
    if (g) g.n++; else reqs.set(k, { r: x, n: 1 });
  }
  const list = [...reqs.values()].slice(0, 30).map(({ r: x, n }) => `<li>${esc(`${x.method} ${shownPath(x.path)} as ${x.user || '(nobody)'} → ${x.status}${n > 1 ? ` (×${n})` : ''}`)}</li>`).join('');
  return [
    `<h4>Client certificate, checked by ${esc(c.server)} ${esc(clientChecked)}</h4>`, ref(c.clientCert),
    `<h4>Server certificate, checked by ${esc(c.client)} ${esc(serverChecked)}</h4>`, ref(c.serverCert),
    list ? `<h4>Requests on this connection (${c.requests.length})</h4><ul>${list}</ul>` : '',
  ];
}

/** A certificate's fields, stored once as `f-<id>` and referenced by every connection that showed it. */
export function certFragment(cas: ReadonlyMap<string, CaView>, c: CertView): string {
  return certFields(c, c.caId ? cas.get(c.caId) : undefined);
}
