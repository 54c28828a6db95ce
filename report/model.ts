/**
 * A run of a scenario (sim/scenario.ts RunResult: its trace events, its steps and the PKI it ran on)
 * turned into what the report draws: the trust tree (each CA and the certificates it signed), the
 * connections with the requests each carried, the arrows of the component graph and the entries of
 * the timeline. Everything is computed here, in Node; the page only shows it.
 */
import type { CertSummary, RequestEvent, TlsCause, TraceEvent } from '../components/client/trace.js';
import type { Pki } from '../pki/store.js';
import type { CertSpec } from '../pki/spec.js';
import { shownPath } from '../sim/narrate.js';
import type { RunResult } from '../sim/scenario.js';
import type { Lang, Translate } from '../sim/i18n/index.js';
import { joinConnections, type Connection } from '../sim/trace.js';
import { certView, type CaView, type CertView } from './certs.js';

export type { CaView, CertView } from './certs.js';

/** What a connection, or one request on it, came to: the four colours of the graph. */
export type Outcome = 'refused' | 'unauthenticated' | 'forbidden' | 'allowed';
export const OUTCOMES: readonly Outcome[] = ['refused', 'unauthenticated', 'forbidden', 'allowed'];
export const OUTCOME_WORDS: Readonly<Record<Outcome, string>> = {
  refused: 'handshake refused',
  unauthenticated: '401 Unauthorized (not authenticated)',
  forbidden: '403 Forbidden (authenticated, not allowed)',
  allowed: 'allowed',
};
/** An outcome in the page's language (OUTCOME_WORDS is the English, which the Mermaid text keeps). */
export const outcomeWord = (t: Translate, o: Outcome): string => t(`report.outcome.${o}`);

export interface RequestView {
  /** The index of its event in the run's trace. */
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly user: string;
  readonly groups: readonly string[];
  readonly decision: RequestEvent['decision'];
  readonly layer: string;
  readonly status: number;
  readonly reason?: string;
  readonly outcome: Outcome;
}

export interface ConnectionView {
  readonly id: string;
  /** The index of the event that opened it (its client half, or its server half for a client outside the sim). */
  readonly at: number;
  readonly client: string;
  readonly server: string;
  readonly clientCert: string | null;
  readonly serverCert: string | null;
  readonly clientTrusts: string;
  readonly serverTrusts: string;
  readonly result: 'ok' | 'refused';
  readonly refusedBy?: 'client' | 'server';
  readonly code?: string;
  /** Go's words for a refused handshake, or for a client certificate the server did not verify. */
  readonly reason?: string;
  readonly cause?: TlsCause;
  readonly clientUnverified?: string;
  readonly requests: RequestView[];
  /** Made up for requests whose connection the trace did not see open: no handshake to show. */
  readonly unseen?: true;
}

export interface Arrow {
  readonly id: string;
  /** The user its requests were authenticated as when no client certificate was shown (a bearer token), else undefined. */
  user?: string;
  readonly client: string;
  readonly server: string;
  readonly clientCert: string | null;
  readonly outcome: Outcome;
  /** The connections that make it up (one shown in the details), and how many requests of this outcome. */
  readonly connections: string[];
  requests: number;
}

export interface TimelineEntry {
  readonly id: string;
  readonly kind: 'handshake' | 'request';
  readonly client: string;
  readonly server: string;
  readonly label: string;
  readonly outcome: Outcome;
  readonly connection: string;
  /** For a request entry, the index of its first request in the connection's list, and how many it folds. */
  readonly request?: number;
  count: number;
}

export interface Section {
  readonly id: string;
  readonly title: string;
  readonly lesson: string;
  readonly said: readonly string[];
  readonly expectations: readonly { what: string; ok: boolean; detail?: string }[];
  readonly entries: TimelineEntry[];
}

export type Group = 'control plane' | `node ${string}` | 'users and tools';

export interface ReportModel {
  readonly scenario: string;
  /** The run's language: the page's labels and `<html lang>`. */
  readonly lang: Lang;
  readonly title: string;
  readonly summary: string;
  readonly ok: boolean;
  readonly cas: readonly CaView[];
  readonly certs: readonly CertView[];
  readonly connections: readonly ConnectionView[];
  readonly components: readonly { name: string; group: Group }[];
  /** The cluster's nodes, by name (the PKI's plan). */
  readonly nodes: readonly string[];
  readonly arrows: readonly Arrow[];
  readonly sections: readonly Section[];
  readonly report?: unknown;
}

export function outcomeOf(r: Pick<RequestEvent, 'decision'>): Outcome {
  return r.decision === 'allow' ? 'allowed' : r.decision === 'unauthenticated' ? 'unauthenticated' : 'forbidden';
}

const CONTROL_PLANE = /^(etcd|kube-apiserver|kube-scheduler|kube-controller-manager|kubeadm init)\b/;

function groupOf(name: string, nodes: ReadonlySet<string>): Group {
  const node = /\(([^)]+)\)$/.exec(name)?.[1];
  if (node && nodes.has(node)) return `node ${node}`;
  if (CONTROL_PLANE.test(name)) return 'control plane';
  return 'users and tools';
}

/** The CAs and certificates: every PKI snapshot's, then every certificate seen on the wire (by serial). */
function trustTree(pkis: readonly Pki[], seen: readonly CertSummary[]): { cas: CaView[]; certs: CertView[]; bySerial: Map<string, CertView>; idOf: (c: CertSummary | null) => string | null } {
  const cas: CaView[] = [];
  const caBySerial = new Map<string, CaView>();
  const certs: CertView[] = [];
  const bySerial = new Map<string, CertView>();
  const specOf = (pki: Pki, name: string): CertSpec | undefined => pki.table.certs.find((s) => s.name === name);
  for (const pki of pkis) {
    for (const [name, signer] of pki.signers) {
      const serial = signer.cert.serialNumber.toUpperCase();
      if (caBySerial.has(serial)) continue;
      const spec = specOf(pki, name);
      const ca: CaView = {
        ...certView(`ca-${cas.length}`, signer.cert, null),
        name, branch: name === 'etcd/ca' ? 'etcd' : name === 'front-proxy-ca' ? 'front-proxy' : name === 'ca' ? 'kubernetes' : 'other',
        inPki: true, uses: spec?.use.map((u) => `${u.component}: ${u.towards}`) ?? [], rotatedOut: false,
      };
      cas.push(ca);
      caBySerial.set(serial, ca);
    }
  }
  // Two CAs with one name (a rotation: both CN=kubernetes): the first is the one rotated out.
  for (const ca of cas) ca.rotatedOut = cas.some((o) => o !== ca && o.cn === ca.cn && o.serial !== undefined && cas.indexOf(o) > cas.indexOf(ca));
  for (const pki of pkis) {
    const cas0 = [...pki.signers.values()];
    for (const [name, cred] of pki.leaves) {
      const serial = cred.cert.serialNumber.toUpperCase();
      if (bySerial.has(serial)) continue;
      const signer = cas0.find((s) => cred.cert.checkIssued(s.cert) && cred.cert.verify(s.cert.publicKey));
      const ca = signer ? caBySerial.get(signer.cert.serialNumber.toUpperCase()) ?? null : null;
      const spec = specOf(pki, name);
      const v: CertView = { ...certView(`cert-${certs.length}`, cred.cert, ca?.id ?? null), name, uses: spec?.use.map((u) => `${u.component} (${u.as}): ${u.towards}`) ?? [] };
      certs.push(v);
      bySerial.set(serial, v);
    }
  }
  // Certificates seen only on the wire: issued during the run (CSRs), a foreign CA's, a self-signed kubelet's.
  const caFor = (issuer: string, notBefore: string | undefined): CaView => {
    const named = cas.filter((c) => c.cn === issuer);
    // Of two CAs with the name (a rotation), the newest one made before the certificate.
    const t = notBefore ? Date.parse(notBefore) : Infinity;
    const pick = named.filter((c) => !c.notBefore || Date.parse(c.notBefore) <= t + 10 * 60_000).at(-1) ?? named[0];
    if (pick) return pick;
    const ca: CaView = { id: `ca-${cas.length}`, cn: issuer, o: [], sans: [], eku: [], caId: null, name: undefined, branch: 'other', inPki: false, uses: [], rotatedOut: false, held: [] };
    cas.push(ca);
    return ca;
  };
  for (const c of seen) {
    const key = c.serial ?? `${c.issuer}|${c.cn}|${c.o.join('+')}`;
    if (bySerial.has(key)) continue;
    const v: CertView = {
      id: `cert-${certs.length}`, cn: c.cn, o: c.o, caId: caFor(c.issuer, c.notBefore).id, sans: c.sans ?? [], eku: c.eku ?? [],
      ...(c.serial ? { serial: c.serial } : {}), ...(c.notBefore ? { notBefore: c.notBefore } : {}), ...(c.notAfter ? { notAfter: c.notAfter } : {}),
      ...(c.key ? { key: c.key } : {}), uses: [], held: [],
    };
    certs.push(v);
    bySerial.set(key, v);
  }
  const idOf = (c: CertSummary | null): string | null => (c === null ? null : bySerial.get(c.serial ?? `${c.issuer}|${c.cn}|${c.o.join('+')}`)?.id ?? null);
  return { cas, certs, bySerial, idOf };
}

/** The connections of a run in the order they opened, each with the requests it carried. */
function connectionsOf(events: readonly TraceEvent[], idOf: (c: CertSummary | null) => string | null): ConnectionView[] {
  const joined = joinConnections(events);
  const clientAt = events.flatMap((e, i) => (e.type === 'tls-client' ? [i] : []));
  const anchored = joined.map((c: Connection, k) => {
    const at = k < clientAt.length ? clientAt[k]! : events.findIndex((e) => e.type === 'tls-server' && e.peer === c.local && e.server === c.server);
    return { c, at };
  }).sort((a, b) => a.at - b.at);
  const views: ConnectionView[] = anchored.map(({ c, at }, i) => ({
    id: `conn-${i}`, at, client: c.client, server: c.server, clientCert: idOf(c.clientCert), serverCert: idOf(c.serverCert),
    clientTrusts: c.clientTrusts, serverTrusts: c.serverTrusts, result: c.result,
    ...(c.refusedBy ? { refusedBy: c.refusedBy } : {}), ...(c.code ? { code: c.code } : {}), ...(c.reason ? { reason: c.reason } : {}),
    ...(c.cause ? { cause: c.cause } : {}), ...(c.clientUnverified ? { clientUnverified: c.clientUnverified } : {}), requests: [],
  }));
  // A request belongs to the connection its client's address last opened (ports are reused over a long run).
  const open = new Map<string, ConnectionView>();
  let next = 0;
  events.forEach((e, i) => {
    while (next < views.length && views[next]!.at <= i) {
      open.set(anchored[next]!.c.local, views[next]!);
      next++;
    }
    if (e.type !== 'request') return;
    let v = open.get(e.peer);
    if (!v) {
      // A request on a connection the trace did not see open (a real etcd records only refusals).
      v = { id: `conn-${views.length}`, at: i, client: `client at ${e.peer}`, server: e.server, clientCert: null, serverCert: null, clientTrusts: '?', serverTrusts: '?', result: 'ok', requests: [], unseen: true };
      views.push(v);
      anchored.push({ c: { local: e.peer } as Connection, at: i });
      open.set(e.peer, v);
    }
    v.requests.push({
      at: i, method: e.method, path: e.path, user: e.user, groups: e.groups, decision: e.decision, layer: e.layer, status: e.status,
      ...(e.reason ? { reason: e.reason } : {}), outcome: outcomeOf(e),
    });
  });
  return views;
}

/** One arrow per client, server, client certificate and outcome. */
function arrowsOf(conns: readonly ConnectionView[]): Arrow[] {
  const arrows = new Map<string, Arrow>();
  const add = (c: ConnectionView, outcome: Outcome, requests: number): void => {
    const k = `${c.client}|${c.server}|${c.clientCert ?? '-'}|${outcome}`;
    let a = arrows.get(k);
    if (!a) { a = { id: `arrow-${arrows.size}`, client: c.client, server: c.server, clientCert: c.clientCert, outcome, connections: [], requests: 0 }; arrows.set(k, a); }
    if (!a.connections.includes(c.id)) a.connections.push(c.id);
    a.requests += requests;
    const user = c.requests.find((r) => r.outcome === outcome && r.user)?.user;
    if (c.clientCert === null && user && a.user === undefined) a.user = user;
  };
  for (const c of conns) {
    if (c.result === 'refused') { add(c, 'refused', 0); continue; }
    if (c.requests.length === 0) { add(c, 'allowed', 0); continue; }
    for (const r of c.requests) add(c, r.outcome, 1);
  }
  return [...arrows.values()];
}

/** The timeline: start-up, each step, and what followed the last, each with its handshakes and (folded) requests. */
function sectionsOf(result: RunResult, conns: readonly ConnectionView[], certCn: (id: string | null) => string): Section[] {
  const total = result.events.length;
  const bounds: { title: string; lesson: string; said: readonly string[]; expectations: Section['expectations']; from: number; to: number }[] = [];
  const steps = result.steps;
  const first = steps[0]?.start ?? total;
  if (first > 0 || steps.length === 0) bounds.push({ title: 'Start-up', lesson: 'The cluster starts: each component dials the ones it needs.', said: [], expectations: [], from: 0, to: first });
  steps.forEach((s, i) => bounds.push({ title: `${s.number}. ${s.title}`, lesson: s.lesson, said: s.said, expectations: s.expectations, from: s.start, to: steps[i + 1]?.start ?? s.end }));
  const last = steps.at(-1);
  if (last && last.end < total) bounds.push({ title: 'Afterwards', lesson: 'Traffic after the last step, until the cluster stopped.', said: [], expectations: [], from: last.end, to: total });
  const reqAt = conns.flatMap((conn) => conn.requests.map((r, k) => ({ conn, k, at: r.at }))).sort((x, y) => x.at - y.at);
  let n = 0;
  return bounds.map((b, si) => {
    const entries: TimelineEntry[] = [];
    const folded = new Map<string, TimelineEntry>();
    for (const c of conns) {
      if (c.at < b.from || c.at >= b.to || c.unseen) continue;
      const outcome: Outcome = c.result === 'refused' ? 'refused' : 'allowed';
      const label = `TLS handshake: ${certCn(c.clientCert)}${c.result === 'refused' ? ` · refused by the ${c.refusedBy ?? 'server'}` : ''}`;
      const key = `tls|${c.client}|${c.server}|${c.clientCert ?? '-'}|${c.result}|${c.refusedBy ?? ''}`;
      const f = folded.get(key);
      if (f) { f.count++; continue; }
      const e: TimelineEntry = { id: `entry-${n++}`, kind: 'handshake', client: c.client, server: c.server, label, outcome, connection: c.id, count: 1 };
      folded.set(key, e);
      entries.push(e);
    }
    for (const { conn, k, at } of reqAt) {
      if (at < b.from || at >= b.to) continue;
      const r = conn.requests[k]!;
      const key = `${conn.client}|${conn.server}|${r.method}|${shownPath(r.path)}|${r.user}|${r.status}`;
      const f = folded.get(key);
      if (f) { f.count++; continue; }
      const e: TimelineEntry = { id: `entry-${n++}`, kind: 'request', client: conn.client, server: conn.server, label: `${r.method} ${shownPath(r.path)} → ${r.status}`, outcome: r.outcome, connection: conn.id, request: k, count: 1 };
      folded.set(key, e);
      entries.push(e);
    }
    return { id: `section-${si}`, title: b.title, lesson: b.lesson, said: b.said, expectations: b.expectations, entries };
  });
}

export function buildModel(result: RunResult): ReportModel {
  const seen: CertSummary[] = [];
  for (const e of result.events) {
    if (e.type === 'request') continue;
    if (e.clientCert) seen.push(e.clientCert);
    if (e.serverCert) seen.push(e.serverCert);
  }
  const { cas, certs, idOf } = trustTree(result.pkis, seen);
  const connections = connectionsOf(result.events, idOf);
  const byId = new Map([...certs, ...cas].map((c) => [c.id, c]));
  for (const c of connections) {
    const hold = (id: string | null, who: string, as: string): void => {
      const v = id ? byId.get(id) : undefined;
      if (v && !v.held.includes(`${who} (${as})`)) v.held.push(`${who} (${as})`);
    };
    hold(c.clientCert, c.client, 'client');
    hold(c.serverCert, c.server, 'server');
  }
  const nodes = new Set(result.pkis.flatMap((p) => p.plan.nodes.map((n) => n.name)));
  const names = [...new Set(connections.flatMap((c) => [c.client, c.server]))];
  const certCn = (id: string | null): string => (id === null ? 'no client certificate' : `CN=${byId.get(id)?.cn ?? '?'}`);
  return {
    scenario: result.scenario, lang: result.lang, title: result.title, summary: result.summary, ok: result.ok,
    cas, certs, connections, components: names.map((name) => ({ name, group: groupOf(name, nodes) })), nodes: [...nodes],
    arrows: arrowsOf(connections), sections: sectionsOf(result, connections, certCn),
    ...(result.report === undefined ? {} : { report: result.report }),
  };
}
