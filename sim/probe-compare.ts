/**
 * A probed matrix against the expected wiring: kubeadm's (the trust matrix's golden copy,
 * scenarios/matrix.golden.json, generalised to any node names) or a golden copy the user saved with
 * `npm run probe -- --save-golden FILE`. A cell matches when the same side decided the same way at the
 * same layer with the same HTTP status; the words may differ (a real apiserver says "Unauthorized",
 * this simulation's trace says why). Rendered as a text table, JSON, or JUnit XML for CI.
 */
import type { Decision, Layer } from './probe.js';
import { HOP_CLIENT, type ProbeCell, type ProbeResult } from './cluster-probe.js';

/** The part of a cell that is compared. */
export interface Verdict {
  readonly decision: Decision;
  readonly layer: Layer;
  readonly refusedBy?: 'client' | 'server';
  readonly status?: number;
}

export interface ExpectedCell extends Verdict {
  readonly client: string;
  readonly server: string;
  readonly reason?: string;
}

export interface Golden {
  /** `kubeadm`: the trust matrix's golden copy, generalised over node names; `saved`: cell for cell. */
  readonly kind: 'kubeadm' | 'saved';
  readonly source: string;
  readonly cells: readonly ExpectedCell[];
}

export interface CellResult {
  readonly cell: ProbeCell;
  /** undefined: nothing to compare with (a server or identity the golden copy does not know). */
  readonly expected?: Verdict & { readonly why: string };
  readonly ok: boolean;
}

export interface Comparison {
  readonly results: readonly CellResult[];
  /** Cells the golden copy expects that the probe did not produce (saved goldens only). */
  readonly missing: readonly ExpectedCell[];
  readonly differences: number;
}

const verdictOf = (c: Verdict): Verdict => ({ decision: c.decision, layer: c.layer, ...(c.refusedBy ? { refusedBy: c.refusedBy } : {}), ...(c.status === undefined ? {} : { status: c.status }) });
const same = (got: Verdict, want: Verdict): boolean => {
  // A refused handshake has no HTTP status of its own (the apiserver's hop reports it in a 5xx of its choosing).
  const g = want.decision === 'handshake refused' ? { ...verdictOf(got), status: undefined } : verdictOf(got);
  return JSON.stringify(g) === JSON.stringify(verdictOf(want));
};

/** `etcd (127.0.3.1:2379)` → `etcd`; `kubelet (n)` → the golden's node for n. */
function kubeadmKey(client: string, server: string): { client: string; server: string } {
  const clientNode = /^nodes\/([^/]+)\//.exec(client)?.[1];
  const serverNode = /^kubelet \((.+)\)$/.exec(server)?.[1];
  const s = server.startsWith('etcd') ? 'etcd' : serverNode === undefined ? server : `kubelet (${clientNode === undefined || clientNode === serverNode ? 'node-1' : 'node-2'})`;
  const c = clientNode === undefined ? client : client.replace(`nodes/${clientNode}/`, 'nodes/node-1/');
  return { client: c, server: s };
}

/** The apiserver's hop to a kubelet must succeed exactly when the kubelet's certificate verifies against pki/ca.crt. */
function hopExpectation(cell: ProbeCell): Verdict & { why: string } {
  if (cell.diagnosis) {
    return { decision: 'handshake refused', layer: 'tls', refusedBy: 'client', why: `${cell.server}'s serving certificate does not verify against pki/ca.crt (${cell.diagnosis.reason}): an apiserver with --kubelet-certificate-authority refuses it` };
  }
  return { decision: 'allowed', layer: 'none', status: 200, why: `${cell.server}'s serving certificate verifies against pki/ca.crt: the apiserver reaches it` };
}

export function compare(result: ProbeResult, golden: Golden): Comparison {
  const index = new Map(golden.cells.map((c) => [`${c.client}\u0000${c.server}`, c]));
  const results: CellResult[] = result.cells.map((cell) => {
    let expected: (Verdict & { why: string }) | undefined;
    if (golden.kind === 'kubeadm' && cell.client === HOP_CLIENT) {
      expected = hopExpectation(cell);
    } else {
      const k = golden.kind === 'kubeadm' ? kubeadmKey(cell.client, cell.server) : { client: cell.client, server: cell.server };
      const g = index.get(`${k.client}\u0000${k.server}`);
      if (g) expected = { ...verdictOf(g), why: g.reason ? `${golden.source}: ${g.reason || '(allowed)'}` : golden.source };
    }
    return { cell, ...(expected ? { expected } : {}), ok: expected === undefined || same(cell, expected) };
  });
  const seen = new Set(result.cells.map((c) => `${c.client}\u0000${c.server}`));
  const missing = golden.kind === 'saved' ? golden.cells.filter((c) => !seen.has(`${c.client}\u0000${c.server}`)) : [];
  return { results, missing, differences: results.filter((r) => !r.ok).length + missing.length };
}

/** A verdict in a few words: `allowed 200`, `403 authorization`, `handshake refused by the server`. */
export function verdictText(v: Verdict): string {
  switch (v.decision) {
    case 'allowed': return `allowed${v.status === undefined ? '' : ` ${v.status}`}`;
    case 'handshake refused': return `handshake refused by the ${v.refusedBy ?? 'server'}`;
    case 'unauthenticated': return `${v.status ?? 401} authentication`;
    case 'forbidden': return `${v.status ?? 403} ${v.layer}`;
    case 'failed': return `failed${v.status === undefined ? '' : ` ${v.status}`}`;
  }
}

/** One line a differing cell: what was expected and what the server did, with both reasons. */
export function differenceLines(c: Comparison): string[] {
  const out: string[] = [];
  for (const r of c.results) {
    if (r.ok || !r.expected) continue;
    const why = r.cell.diagnosis ? ` [${r.cell.diagnosis.code}: ${r.cell.diagnosis.reason}, checked against ${r.cell.diagnosis.against}]` : '';
    out.push(`✘ ${r.cell.client} → ${r.cell.server}${r.cell.via ? ` (${r.cell.via})` : ''}: expected ${verdictText(r.expected)}, got ${verdictText(r.cell)}: ${r.cell.reason || (r.cell.user ? `as ${r.cell.user}` : '(no message)')}${why}`,
      `    expected because ${r.expected.why}`);
  }
  for (const m of c.missing) out.push(`✘ ${m.client} → ${m.server}: expected ${verdictText(m)}, but the probe made no such cell (identity or server missing)`);
  return out;
}

/** The comparable part of a probe, as a golden copy to save. */
export function toGolden(result: ProbeResult): { requests: ProbeResult['requests']; cells: ExpectedCell[] } {
  return { requests: result.requests, cells: result.cells.map((c) => ({ client: c.client, server: c.server, ...verdictOf(c), reason: c.reason })) };
}

const xmlEscape = (s: string): string => s
  // XML 1.0 forbids most control characters even as references.
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
  .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/**
 * JUnit XML as Jenkins' junit plugin and GitLab's test reports read it: <testsuites> holding one
 * <testsuite> per server, one <testcase classname="probe.<server>" name="<client> → <server>"> per cell,
 * a <failure message type> on a difference (the message the one-line difference, the body both
 * reasons), <skipped> where nothing is expected.
 */
export function junitXml(c: Comparison, options: { timestamp: Date; durationSeconds: number; hostname?: string }): string {
  const byServer = new Map<string, CellResult[]>();
  for (const r of c.results) byServer.set(r.cell.server, [...(byServer.get(r.cell.server) ?? []), r]);
  const attr = (o: Record<string, string | number>): string => Object.entries(o).map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`).join('');
  const total = c.results.length + c.missing.length;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attr({ name: 'k8s-mtls-sim probe', tests: total, failures: c.differences, errors: 0, time: options.durationSeconds.toFixed(3) })}>`];
  const suite = (name: string, cases: string[], tests: number, failures: number, skipped: number): void => {
    lines.push(`  <testsuite${attr({ name, tests, failures, errors: 0, skipped, time: '0', timestamp: options.timestamp.toISOString().replace(/\.\d+Z$/, ''), hostname: options.hostname ?? 'localhost' })}>`, ...cases, '  </testsuite>');
  };
  for (const [server, rs] of byServer) {
    const cases = rs.map((r) => {
      const name = `${r.cell.client} → ${r.cell.server}`;
      const head = `    <testcase${attr({ classname: `probe.${server}`, name, time: '0' })}`;
      if (!r.expected) return `${head}>\n      <skipped${attr({ message: `no expected verdict for ${name}` })}/>\n    </testcase>`;
      if (r.ok) return `${head}/>`;
      const message = `expected ${verdictText(r.expected)}, got ${verdictText(r.cell)}`;
      const body = [`${message}: ${r.cell.reason}`, r.cell.diagnosis ? `diagnosis: ${r.cell.diagnosis.code}: ${r.cell.diagnosis.reason} (against ${r.cell.diagnosis.against})` : '', `expected because ${r.expected.why}`].filter(Boolean).join('\n');
      return `${head}>\n      <failure${attr({ message, type: 'TrustWiringDifference' })}>${xmlEscape(body)}</failure>\n    </testcase>`;
    });
    suite(server, cases, rs.length, rs.filter((r) => !r.ok).length, rs.filter((r) => !r.expected).length);
  }
  if (c.missing.length > 0) {
    suite('missing cells', c.missing.map((m) => `    <testcase${attr({ classname: `probe.${m.server}`, name: `${m.client} → ${m.server}`, time: '0' })}>\n      <failure${attr({ message: 'the probe made no such cell', type: 'MissingCell' })}/>\n    </testcase>`), c.missing.length, c.missing.length, 0);
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
