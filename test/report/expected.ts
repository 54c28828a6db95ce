/**
 * What a report must show, counted straight from a run's trace and PKI, independently of report/model.ts:
 * the CAs, the certificates, the arrows (client, server, client certificate, outcome) and the timeline
 * entries (per section, alike handshakes and alike requests folded).
 */
import type { CertSummary, TraceEvent } from '../../components/client/trace.js';
import { shownPath } from '../../sim/narrate.js';
import type { RunResult } from '../../sim/scenario.js';

export interface Counts { cas: number; certs: number; arrows: number; entries: number }

const serialOf = (c: CertSummary): string => c.serial ?? `${c.issuer}|${c.cn}|${c.o.join('+')}`;

export function expectedCounts(r: RunResult): Counts {
  const caSerials = new Set(r.pkis.flatMap((p) => [...p.signers.values()].map((s) => s.cert.serialNumber.toUpperCase())));
  const caNames = new Set(r.pkis.flatMap((p) => [...p.signers.values()].map((s) => /CN=([^\n]*)/.exec(s.cert.subject)?.[1] ?? '')));
  const wire: CertSummary[] = r.events.flatMap((e) => (e.type === 'request' ? [] : [e.clientCert, e.serverCert].filter((c): c is CertSummary => c !== null)));
  const certs = new Set([...r.pkis.flatMap((p) => [...p.leaves.values()].map((l) => l.cert.serialNumber.toUpperCase())), ...wire.map(serialOf)]);
  const foreignIssuers = new Set(wire.map((c) => c.issuer).filter((i) => !caNames.has(i)));

  // Connections in event order; each request goes to the connection its client address opened last.
  interface Conn { client: string; server: string; cert: string; refused: boolean; at: number; outcomes: string[] }
  const conns: Conn[] = [];
  const byLocal = new Map<string, Conn>();
  const servers = new Map<string, Extract<TraceEvent, { type: 'tls-server' }>>();
  for (const e of r.events) if (e.type === 'tls-server') servers.set(`${e.peer}>${e.local}`, e);
  const joined = new Set<unknown>();
  const reqs: { conn: Conn; key: string; at: number; outcome: string }[] = [];
  r.events.forEach((e, at) => {
    if (e.type === 'tls-client') {
      const s = servers.get(`${e.local}>${e.peer}`);
      joined.add(s);
      const c: Conn = { client: e.client, server: e.server, cert: e.clientCert ? serialOf(e.clientCert) : '-', refused: e.handshake === 'refused' || s?.handshake === 'refused', at, outcomes: [] };
      conns.push(c);
      byLocal.set(e.local, c);
    } else if (e.type === 'request') {
      let c = byLocal.get(e.peer);
      if (!c) { c = { client: `client at ${e.peer}`, server: e.server, cert: '-', refused: false, at, outcomes: [] }; conns.push(c); byLocal.set(e.peer, c); }
      const outcome = e.decision === 'allow' ? 'allowed' : e.decision;
      c.outcomes.push(outcome);
      reqs.push({ conn: c, key: `${c.client}|${e.server}|${e.method}|${shownPath(e.path)}|${e.user}|${e.status}`, at, outcome });
    }
  });
  // Server halves no client half joined (a client outside the sim).
  r.events.forEach((e, at) => {
    if (e.type === 'tls-server' && !joined.has(servers.get(`${e.peer}>${e.local}`)) && servers.get(`${e.peer}>${e.local}`) === e) {
      conns.push({ client: `external client ${e.peer}`, server: e.server, cert: e.clientCert ? serialOf(e.clientCert) : '-', refused: e.handshake === 'refused', at, outcomes: [] });
    }
  });
  const arrows = new Set<string>();
  for (const c of conns) {
    const base = `${c.client}|${c.server}|${c.cert}`;
    if (c.refused) arrows.add(`${base}|refused`);
    else if (c.outcomes.length === 0) arrows.add(`${base}|allowed`);
    else for (const o of c.outcomes) arrows.add(`${base}|${o}`);
  }
  // Sections: start-up, each step to the next one's start, and what followed the last.
  const cuts = [0, ...r.steps.map((s) => s.start), ...(r.steps.length ? [r.steps.at(-1)!.end] : []), r.events.length];
  let entries = 0;
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [from, to] = [cuts[i]!, cuts[i + 1]!];
    const keys = new Set<string>();
    for (const c of conns) if (c.at >= from && c.at < to && !c.client.startsWith('client at ')) keys.add(`tls|${c.client}|${c.server}|${c.cert}|${c.refused}`);
    for (const q of reqs) if (q.at >= from && q.at < to) keys.add(q.key);
    entries += keys.size;
  }
  return { cas: caSerials.size + foreignIssuers.size, certs: certs.size, arrows: arrows.size, entries };
}
