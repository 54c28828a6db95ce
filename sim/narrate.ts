/**
 * Turns trace events into text a learner can follow: for each connection, who dialled whom, which
 * certificate each side showed, which CA each side checked it against, and the verdict with its
 * reason; for each request, who was authenticated as whom and what the authorizer decided.
 */
import type { CertSummary, RequestEvent, TraceEvent } from '../components/client/trace.js';
import type { Connection } from './trace.js';
import { joinConnections } from './trace.js';

export const cert = (c: CertSummary | null): string =>
  c === null ? 'no certificate' : `CN=${c.cn}${c.o.length ? `, O=${c.o.join('+')}` : ''} (issuer ${c.issuer})`;

/** One connection in two or three lines. */
export function describeConnection(c: Connection): string {
  const verdict = c.result === 'ok' ? 'handshake ok' : `REFUSED by the ${c.refusedBy === 'server' ? c.server : c.client}: ${c.reason ?? c.code ?? ''}${c.code && c.reason !== c.code ? ` [${c.code}]` : ''}`;
  const clientCheck = c.clientTrusts === 'none' ? `${c.client} does not verify it (no CA configured)` : `${c.client} checks it against the "${c.clientTrusts}" CA`;
  if (c.refusedBy === 'client' && c.serverTrusts === '?') {
    // The client refused the server's certificate and closed: the server never got to check the client's.
    return [
      `${c.client} → ${c.server}: ${verdict}`,
      `    server presents ${cert(c.serverCert)}; ${clientCheck}`,
      `    client holds ${cert(c.clientCert)}; not checked: the client gave up before ${c.server} could`,
    ].join('\n');
  }
  const serverCheck = c.clientCert === null ? `${c.server} asks for one (trusts "${c.serverTrusts}")`
    : c.clientUnverified ? `${c.server} checks it against the "${c.serverTrusts}" CA: it does not verify (${c.clientUnverified}); the handshake goes on and the authenticator decides`
    : `${c.server} checks it against the "${c.serverTrusts}" CA`;
  return [
    `${c.client} → ${c.server}: ${verdict}`,
    `    server presents ${cert(c.serverCert)}; ${clientCheck}`,
    `    client presents ${cert(c.clientCert)}; ${serverCheck}`,
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

export function describeRequest(r: RequestEvent, client: string | undefined, count = 1): string {
  const groups = r.groups.filter((g) => g !== 'system:authenticated');
  const who = r.decision === 'unauthenticated' ? 'not authenticated' : `as ${r.user}${groups.length ? ` [${groups.join(', ')}]` : ''}`;
  const decision = r.decision === 'allow' ? 'allowed' : r.decision === 'deny' ? 'DENIED' : 'REJECTED';
  const times = count > 1 ? ` (×${count})` : '';
  return `${client ?? r.peer} → ${r.server}: ${r.method} ${shownPath(r.path)} ${who}: ${decision}, ${r.status}${r.reason && r.decision !== 'allow' ? ` — ${r.reason}` : ''}${times}`;
}

/**
 * A slice of the trace (the events of one step), narrated: the connections it opened, the connections
 * opened earlier that its requests travelled on (kept alive), then its requests, grouped.
 */
export function narrateEvents(events: readonly TraceEvent[], all: readonly TraceEvent[], filter: (client: string, server: string) => boolean = () => true): string[] {
  const lines: string[] = [];
  const fold = (descs: string[]): void => {
    const counts = new Map<string, number>();
    for (const d of descs) counts.set(d, (counts.get(d) ?? 0) + 1);
    for (const [d, n] of counts) lines.push(n > 1 ? d.replace(/\n/, ` (${n} connections)\n`) : d);
  };
  const opened = joinConnections(events).filter((c) => filter(c.client, c.server));
  fold(opened.map(describeConnection));
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
  for (const c of earlier.values()) lines.push(describeConnection(c).replace(/\n/, ' (a connection opened earlier and kept alive)\n'));
  for (const { r, n, client } of grouped.values()) lines.push(describeRequest(r, client, n));
  return lines;
}

/** `ok`, or, when the server answered 401/403 on the connection, `ok, then HTTP 401 (...)`. */
function handshakeOk(c: Connection): string {
  const refused = [...new Set(c.statuses.filter((s) => s === 401 || s === 403))].sort();
  if (refused.length === 0) return 'ok';
  return `ok, then HTTP ${refused.join('/')}${c.clientUnverified ? ` (client cert: ${c.clientUnverified})` : ''}`;
}

/** The table the tour ends with: identical connections folded into one row with a count. */
export function connectionTable(connections: readonly Connection[]): string {
  const rows = new Map<string, { c: Connection; n: number; requests: number }>();
  for (const c of connections) {
    const k = [c.client, c.server, c.clientCert?.cn, c.clientCert?.issuer, c.serverCert?.cn, c.result, c.code, c.result === 'ok' ? handshakeOk(c) : ''].join('|');
    const r = rows.get(k);
    if (r) { r.n++; r.requests += c.requests; } else rows.set(k, { c, n: 1, requests: c.requests });
  }
  const header = ['CLIENT', 'SERVER', 'CLIENT CERT (ISSUER)', 'SERVER CERT (ISSUER)', 'CLIENT TRUSTS', 'SERVER TRUSTS', 'CONNS', 'RESULT'];
  const body = [...rows.values()].map(({ c, n }) => [
    c.client, c.server,
    c.clientCert ? `${c.clientCert.cn} (${c.clientCert.issuer})` : '-',
    c.serverCert ? `${c.serverCert.cn} (${c.serverCert.issuer})` : '-',
    c.clientTrusts, c.serverTrusts, String(n),
    c.result === 'ok' ? handshakeOk(c) : `refused by ${c.refusedBy === 'server' ? 'server' : 'client'}: ${c.reason ?? c.code ?? ''}`,
  ]);
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 2))).join('')).join('\n');
}
