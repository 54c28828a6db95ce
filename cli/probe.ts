/**
 * `npm run probe -- --pki-dir DIR --apiserver URL [--etcd URL,...] [--kubelet NODE=URL,...] [--extension URL]`
 *
 * The trust matrix of any cluster laid out as kubeadm lays out /etc/kubernetes: every client identity
 * in DIR against every server given, over real connections (sim/cluster-probe.ts), compared with the
 * expected wiring (kubeadm's: scenarios/matrix.golden.json; or `--golden FILE` saved by `--save-golden
 * FILE`); then every certificate's expiry and next rotation. Exit 0: every cell as expected; 1: a
 * difference; 2: bad input. Read-only: reads, and one SelfSubjectReview per identity as a dry run.
 * Never prints a private key or token: cells carry certificates' names and servers' messages only.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { KubeSimError, PkiError } from '../pki/errors.js';
import { expiryFacts, renderExpiryFacts, type ExpiryFact } from '../pki/expiry-facts.js';
import { identitiesFromDirectory } from '../pki/identities.js';
import { GOLDEN_FILE } from '../scenarios/matrix.js';
import { probeCluster, type ProbeResult, type ProbeTargets } from '../sim/cluster-probe.js';
import { compare, differenceLines, junitXml, toGolden, type Comparison, type ExpectedCell, type Golden } from '../sim/probe-compare.js';
import { tolerateClosedStdout } from './stdio.js';

export const USAGE = `usage: npm run probe -- --pki-dir DIR --apiserver URL [--etcd URL,...] [--kubelet NODE=URL,...] [--extension URL]
  --pki-dir DIR          a kubeadm /etc/kubernetes (pki/, pki/etcd/, *.conf; node kubeconfigs under nodes/<node>/)
  --apiserver URL        https://host:port of the kube-apiserver
  --etcd URL,...         etcd members (https://, --client-cert-auth)
  --kubelet NODE=URL,... kubelets (https://ip:10250)
  --extension URL        an extension apiserver (aggregation layer), probed with GET /apis
  --extension-ca FILE    the CA its serving certificate is checked against (default DIR/pki/ca.crt)
  --endpoints FILE       take --apiserver, --etcd and --kubelet from a cluster.json (npm run cluster writes one)
  --golden FILE          compare with a golden copy saved by --save-golden (default: kubeadm's wiring,
                         scenarios/matrix.golden.json)
  --save-golden FILE     save this probe's verdicts as the golden copy and exit 0
  --junit FILE           also write JUnit XML (one test case a cell)
  --format text|json     text (default) or JSON on stdout
  --no-expiry            leave out the certificate expiry table`;

class UsageError extends KubeSimError<'USAGE'> {
  constructor(message: string) { super('USAGE', message); }
}

const httpsUrl = (what: string, v: string): string => {
  let u: URL | undefined;
  try { u = new URL(v); } catch { u = undefined; }
  if (u?.protocol !== 'https:') throw new UsageError(`${what} "${v}": not an https:// URL`);
  return v;
};

export interface ProbeRun {
  readonly result: ProbeResult;
  readonly comparison: Comparison;
  readonly golden: Golden;
  readonly expiry?: { certificates: ExpiryFact[]; authorities: ExpiryFact[] };
}

async function readGoldenFile(file: string): Promise<Golden> {
  let parsed: { probeGolden?: number; cells?: ExpectedCell[] };
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8')) as typeof parsed;
  } catch (err) {
    throw new UsageError(`--golden ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON (${(err as Error).message})`}`);
  }
  if (!Array.isArray(parsed.cells)) throw new UsageError(`--golden ${file}: no "cells" array (save one with --save-golden)`);
  return { kind: parsed.probeGolden === 1 ? 'saved' : 'kubeadm', source: file, cells: parsed.cells };
}

const MARK: Record<string, string> = { allowed: '✔', 'handshake refused': '✘ TLS', unauthenticated: '✘ 401', forbidden: '✘ 403', failed: '✘ failed' };

/** The matrix (clients down, servers across), a cell marked ≠ where it differs from the golden copy. */
function matrixText(run: ProbeRun): string {
  const { result, comparison } = run;
  const label = (client: string, server: string): string => {
    const r = comparison.results.find((x) => x.cell.client === client && x.cell.server === server && !x.cell.via);
    if (!r) return '';
    const c = r.cell;
    const m = c.decision === 'allowed' ? `✔ ${c.status ?? ''}`.trim() : c.decision === 'handshake refused' ? `✘ TLS (${c.refusedBy ?? 'server'})` : MARK[c.decision]!;
    return `${r.ok ? '' : '≠ '}${m}`;
  };
  const rows = result.clients.map((c) => [c.name, ...result.servers.map((s) => label(c.name, s))]);
  const hops = comparison.results.filter((r) => r.cell.via);
  const header = ['client', ...result.servers];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  if (hops.length > 0) {
    out.push('', "The apiserver's own hop to each kubelet (nodes/<node>/proxy):");
    for (const h of hops) out.push(`  ${h.ok ? '' : '≠ '}${h.cell.client} → ${h.cell.server}: ${h.cell.decision}${h.cell.status ? ` ${h.cell.status}` : ''}${h.cell.decision === 'allowed' ? '' : `: ${h.cell.reason}`}`);
  }
  return out.join('\n');
}

function identitiesText(result: ProbeResult): string {
  const lines = ['Identities (who the apiserver says each is: a SelfSubjectReview, dry run):'];
  for (const c of result.clients) {
    const who = c.whoami ? `→ ${c.whoami.user} [${c.whoami.groups.join(', ')}]` : '→ not authenticated by the apiserver';
    const file = c.file?.replace(/ \(client-certificate-data\)$/, '');
    lines.push(`  ${c.name}${file && file !== c.name ? ` (${file})` : ''}: CN=${c.cn}${c.o.length ? `, O=${c.o.join('+')}` : ''}${c.issuer ? `, issuer ${c.issuer}` : ''} ${who}`);
  }
  return lines.join('\n');
}

export function renderText(run: ProbeRun): string {
  const diffs = differenceLines(run.comparison);
  const compared = run.comparison.results.filter((r) => r.expected).length;
  const parts = [identitiesText(run.result), '', matrixText(run), ''];
  parts.push(diffs.length === 0
    ? `All ${compared} compared cells equal the expected wiring (${run.golden.source}).`
    : [`${run.comparison.differences} cell(s) differ from the expected wiring (${run.golden.source}):`, ...diffs].join('\n'));
  const unexpected = run.comparison.results.filter((r) => !r.expected).length;
  if (unexpected > 0) parts.push(`${unexpected} cell(s) had nothing to compare with (not in ${run.golden.source}).`);
  if (run.expiry) parts.push('', 'Certificates:', renderExpiryFacts(run.expiry));
  return parts.join('\n');
}

export function renderJson(run: ProbeRun): string {
  return JSON.stringify({
    golden: run.golden.source, differences: run.comparison.differences, requests: run.result.requests, clients: run.result.clients, servers: run.result.servers,
    cells: run.comparison.results.map((r) => ({ ...r.cell, ...(r.expected ? { expected: r.expected } : {}), ok: r.ok })),
    missing: run.comparison.missing,
    ...(run.expiry ? { expiry: run.expiry } : {}),
  }, null, 2);
}

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<number> {
  const r = await probeCommand(argv);
  if ('help' in r) { out(USAGE); return 0; }
  out(r.format === 'json' ? renderJson(r.run) : r.saved ? `${matrixText(r.run)}\n\nSaved ${r.run.result.cells.length} cells as the golden copy: ${r.saved} (compare later with --golden ${r.saved}).` : renderText(r.run));
  return r.code;
}

/** Parses the arguments, probes, compares, writes --junit or --save-golden; the caller prints. */
export async function probeCommand(argv: string[]): Promise<{ help: true } | { code: number; format: 'text' | 'json'; run: ProbeRun; saved?: string }> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      'pki-dir': { type: 'string' }, apiserver: { type: 'string' }, etcd: { type: 'string' }, kubelet: { type: 'string' },
      extension: { type: 'string' }, 'extension-ca': { type: 'string' }, endpoints: { type: 'string' }, golden: { type: 'string' },
      'save-golden': { type: 'string' }, junit: { type: 'string' }, format: { type: 'string' }, 'no-expiry': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return { help: true };
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n${USAGE}`);
  const dir = values['pki-dir'];
  if (!dir) throw new UsageError(`--pki-dir DIR is required\n${USAGE}`);
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`--format "${format}": text or json`);
  let fromFile: { apiserver?: string; etcd?: string; kubelets?: Record<string, string> } = {};
  if (values.endpoints) {
    try { fromFile = JSON.parse(await fs.readFile(values.endpoints, 'utf8')) as typeof fromFile; } catch (err) {
      throw new UsageError(`--endpoints ${values.endpoints}: ${(err as Error).message}`);
    }
  }
  const apiserver = values.apiserver ?? fromFile.apiserver;
  if (!apiserver) throw new UsageError(`--apiserver URL is required\n${USAGE}`);
  const etcd = values.etcd !== undefined ? values.etcd.split(',').map((e) => e.trim()).filter(Boolean) : fromFile.etcd ? [fromFile.etcd] : [];
  let kubelets: Record<string, string> = fromFile.kubelets ?? {};
  if (values.kubelet !== undefined) {
    kubelets = {};
    for (const pair of values.kubelet.split(',').map((p) => p.trim()).filter(Boolean)) {
      const m = /^([^=]+)=(.+)$/.exec(pair);
      if (!m) throw new UsageError(`--kubelet "${pair}": expected NODE=https://ip:port`);
      kubelets[m[1]!] = httpsUrl(`--kubelet ${m[1]!}`, m[2]!);
    }
  }
  let extensionCa: string | undefined;
  if (values['extension-ca']) {
    if (!values.extension) throw new UsageError('--extension-ca needs --extension URL');
    try { extensionCa = await fs.readFile(values['extension-ca'], 'utf8'); } catch { throw new UsageError(`--extension-ca ${values['extension-ca']}: cannot read`); }
  }
  const targets: ProbeTargets = {
    apiserver: httpsUrl('--apiserver', apiserver), etcd: etcd.map((e) => httpsUrl('--etcd', e)), kubelets,
    ...(values.extension ? { extension: httpsUrl('--extension', values.extension) } : {}), ...(extensionCa ? { extensionCa } : {}),
  };
  const golden = values.golden ? await readGoldenFile(values.golden) : { ...(await readGoldenFile(GOLDEN_FILE)), kind: 'kubeadm' as const, source: "kubeadm's wiring (scenarios/matrix.golden.json)" };

  const started = Date.now();
  const found = await identitiesFromDirectory(dir);
  if (found.identities.length === 0) throw new UsageError(`${dir}: no certificate with its private key found (expected kubeadm's pki/*.crt + .key or *.conf)`);
  const result = await probeCluster(found, targets);
  if (values['save-golden']) {
    await fs.writeFile(values['save-golden'], `${JSON.stringify({ probeGolden: 1, ...toGolden(result) }, null, 2)}\n`);
    const saved: Golden = { kind: 'saved', source: values['save-golden'], cells: toGolden(result).cells };
    return { code: 0, format, run: { result, golden: saved, comparison: compare(result, saved) }, saved: values['save-golden'] };
  }
  const comparison = compare(result, golden);
  const run: ProbeRun = { result, comparison, golden, ...(values['no-expiry'] ? {} : { expiry: await expiryFacts(found.inspection) }) };
  if (values.junit) {
    await fs.writeFile(values.junit, junitXml(comparison, { timestamp: new Date(started), durationSeconds: (Date.now() - started) / 1000, hostname: os.hostname() }));
  }
  return { code: comparison.differences > 0 ? 1 : 0, format, run };
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '');
if (isMain) {
  tolerateClosedStdout();
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    if (err instanceof KubeSimError || err instanceof PkiError) process.stderr.write(`probe: ${err.message}\n`);
    else if (err instanceof Error && 'code' in err && String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) process.stderr.write(`probe: ${err.message}\n${USAGE}\n`);
    else process.stderr.write(`probe: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  });
}

