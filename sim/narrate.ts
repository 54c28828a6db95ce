/**
 * Turns trace events into text a learner can follow: for each connection, who dialled whom, which
 * certificate each side showed, which CA each side checked it against, and the verdict with its
 * reason; for each request, who was authenticated as whom and what the authorizer decided.
 */
import type { CertSummary, RequestEvent, TraceEvent } from '../components/client/trace.js';
import type { Connection } from './trace.js';
import { joinConnections } from './trace.js';
import { displayWidth, padEndWide, translator, type Translate } from './i18n/index.js';

const EN = translator('en');

export const cert = (c: CertSummary | null, t: Translate = EN): string =>
  c === null ? t('narrate.noCert') : t('narrate.cert', { cn: c.cn, org: c.o.length ? `, O=${c.o.join('+')}` : '', issuer: c.issuer });

/** One connection in two or three lines. */
export function describeConnection(c: Connection, t: Translate = EN): string {
  const verdict = c.result === 'ok' ? t('narrate.handshakeOk')
    : t('narrate.refused', { who: c.refusedBy === 'server' ? c.server : c.client, reason: `${c.reason ?? c.code ?? ''}${c.code && c.reason !== c.code ? ` [${c.code}]` : ''}` });
  const clientCheck = c.clientTrusts === 'none' ? t('narrate.clientNoVerify', { client: c.client }) : t('narrate.clientChecks', { client: c.client, ca: c.clientTrusts });
  if (c.refusedBy === 'client' && c.serverTrusts === '?') {
    // The client refused the server's certificate and closed: the server never got to check the client's.
    return [
      `${c.client} → ${c.server}: ${verdict}`,
      `    ${t('narrate.serverPresents', { cert: cert(c.serverCert, t), check: clientCheck })}`,
      `    ${t('narrate.clientHoldsUnchecked', { cert: cert(c.clientCert, t), server: c.server })}`,
    ].join('\n');
  }
  const serverCheck = c.clientCert === null ? t('narrate.serverAsks', { server: c.server, ca: c.serverTrusts })
    : c.clientUnverified ? t('narrate.serverUnverified', { server: c.server, ca: c.serverTrusts, reason: c.clientUnverified })
    : t('narrate.serverChecks', { server: c.server, ca: c.serverTrusts });
  return [
    `${c.client} → ${c.server}: ${verdict}`,
    `    ${t('narrate.serverPresents', { cert: cert(c.serverCert, t), check: clientCheck })}`,
    `    ${t('narrate.clientPresents', { cert: cert(c.clientCert, t), check: serverCheck })}`,
  ].join('\n');
}

/** The path with the query parameters that decide or explain the answer (a watch, the selectors the Node authorizer checks). */
export function shownPath(path: string): string {
  const [base, query] = path.split('?', 2) as [string, string | undefined];
  if (!query) return base;
  const params = new URLSearchParams(query);
  const kept = ['watch', 'fieldSelector', 'labelSelector'].flatMap((k) => (params.has(k) ? [`${k}=${params.get(k)}`] : []));
  return kept.length ? `${base}?${kept.join('&')}` : base;
}

export function describeRequest(r: RequestEvent, client: string | undefined, count = 1, t: Translate = EN): string {
  const groups = r.groups.filter((g) => g !== 'system:authenticated');
  const who = r.decision === 'unauthenticated' ? t('narrate.notAuthenticated') : t('narrate.as', { user: r.user, groups: groups.length ? ` [${groups.join(', ')}]` : '' });
  const decision = r.decision === 'allow' ? t('narrate.allowed') : r.decision === 'deny' ? t('narrate.denied') : t('narrate.rejected');
  const times = count > 1 ? ` (×${count})` : '';
  return `${client ?? r.peer} → ${r.server}: ${r.method} ${shownPath(r.path)} ${who}: ${decision}, ${r.status}${r.reason && r.decision !== 'allow' ? ` — ${r.reason}` : ''}${times}`;
}

/**
 * A slice of the trace (the events of one step), narrated: the connections it opened, the connections
 * opened earlier that its requests travelled on (kept alive), then its requests, grouped.
 */
export function narrateEvents(events: readonly TraceEvent[], all: readonly TraceEvent[], filter: (client: string, server: string) => boolean = () => true, t: Translate = EN): string[] {
  const lines: string[] = [];
  const fold = (descs: string[]): void => {
    const counts = new Map<string, number>();
    for (const d of descs) counts.set(d, (counts.get(d) ?? 0) + 1);
    for (const [d, n] of counts) lines.push(n > 1 ? d.replace(/\n/, `${t('narrate.connections', { n })}\n`) : d);
  };
  const opened = joinConnections(events).filter((c) => filter(c.client, c.server));
  fold(opened.map((c) => describeConnection(c, t)));
  const openedHere = new Set(opened.map((c) => c.local));
  const byLocal = new Map(joinConnections(all).map((c) => [c.local, c]));
  const earlier = new Map<string, Connection>();
  const grouped = new Map<string, { r: RequestEvent; n: number; client: string | undefined }>();
  for (const e of events) {
    if (e.type !== 'request') continue;
    const conn = byLocal.get(e.peer);
    const client = conn?.client;
    if (!filter(client ?? e.peer, e.server)) continue;
    if (conn && !openedHere.has(e.peer)) earlier.set(`${conn.client}|${conn.server}|${conn.clientCert?.cn ?? ''}`, conn);
    const k = `${client}|${e.server}|${e.method}|${shownPath(e.path)}|${e.user}|${e.status}`;
    const g = grouped.get(k);
    if (g) g.n++; else grouped.set(k, { r: e, n: 1, client });
  }
  for (const c of earlier.values()) lines.push(describeConnection(c, t).replace(/\n/, `${t('narrate.keptAlive')}\n`));
  for (const { r, n, client } of grouped.values()) lines.push(describeRequest(r, client, n, t));
  return lines;
}

/** `ok`, or, when the server answered 401/403 on the connection, `ok, then HTTP 401 (...)`. */
function handshakeOk(c: Connection, t: Translate): string {
  const refused = [...new Set(c.statuses.filter((s) => s === 401 || s === 403))].sort();
  if (refused.length === 0) return t('table.ok');
  const statuses = refused.join('/');
  return c.clientUnverified ? t('table.okThenCert', { statuses, reason: c.clientUnverified }) : t('table.okThen', { statuses });
}

/** The table the tour ends with: identical connections folded into one row with a count. */
export function connectionTable(connections: readonly Connection[], t: Translate = EN): string {
  const rows = new Map<string, { c: Connection; n: number; requests: number }>();
  for (const c of connections) {
    const k = [c.client, c.server, c.clientCert?.cn, c.clientCert?.issuer, c.serverCert?.cn, c.result, c.code, c.result === 'ok' ? handshakeOk(c, t) : ''].join('|');
    const r = rows.get(k);
    if (r) { r.n++; r.requests += c.requests; } else rows.set(k, { c, n: 1, requests: c.requests });
  }
  const header = [t('table.client'), t('table.server'), t('table.clientCert'), t('table.serverCert'), t('table.clientTrusts'), t('table.serverTrusts'), t('table.conns'), t('table.result')];
  const body = [...rows.values()].map(({ c, n }) => [
    c.client, c.server,
    c.clientCert ? `${c.clientCert.cn} (${c.clientCert.issuer})` : '-',
    c.serverCert ? `${c.serverCert.cn} (${c.serverCert.issuer})` : '-',
    c.clientTrusts, c.serverTrusts, String(n),
    c.result === 'ok' ? handshakeOk(c, t) : t(c.refusedBy === 'server' ? 'table.refusedByServer' : 'table.refusedByClient', { reason: c.reason ?? c.code ?? '' }),
  ]);
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((r) => displayWidth(r[i]!))));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : padEndWide(cell, widths[i]! + 2))).join('')).join('\n');
}
