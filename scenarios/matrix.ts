/**
 * The trust matrix: every client identity of the PKI against every server of the cluster, each cell
 * one real connection and one representative request, decided by the server (or, when the server's
 * certificate does not verify, by the client). `npm run scenario -- matrix [--pki-dir DIR] [--format json]`.
 *
 * Clients: each leaf certificate with the clientAuth usage (the kubelet of every node included), each
 * server-only leaf used as a client, "no certificate", and "foreign CA" (admin.conf's names from a CA
 * nobody here trusts). Servers and their one fixed request:
 *   etcd              POST /v3/kv/range  {key: /registry/, range_end: /registry0, count_only}   what the apiserver reads
 *   kube-apiserver    GET /api/v1/namespaces/default/pods                                        a read every role has an opinion on
 *   kubelet (<node>)  GET /pods                                                                 nodes/proxy on that node
 *   kube-controller-manager, kube-scheduler  GET /metrics   their secure ports (10257, 10259): get on the non-resource URL
 *   metrics-server    GET /apis/metrics.k8s.io/v1beta1/nodes   the extension apiserver dialled directly, not through the aggregator
 * Every client trusts the CA the cluster's own clients trust for that server (etcd CA for etcd, the
 * Kubernetes CA for the apiserver and, as --kubelet-certificate-authority, for kubelets), and for the
 * self-signed secure ports and metrics-server their own CA (what a scraper is given, the APIService's caBundle).
 * metrics-server is installed for the matrix when the cluster has none, and removed after.
 *
 * scenarios/matrix.golden.json holds the matrix for the default PKI (nodes node-1 and node-2, kubelet
 * serving certificates from the Kubernetes CA); the scenario and the tests compare against it, so a
 * change in trust wiring shows up as a diff.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { Identity } from '../components/client/tls.js';
import { Etcd } from '../components/etcd/index.js';
import { EtcdChild } from '../sim/etcd-child.js';
import { caPem, credential, type Pki } from '../pki/store.js';
import type { Cluster } from '../sim/cluster.js';
import { installMetricsServer } from '../sim/metrics-server.js';
import { silentLogger } from '../sim/logger.js';
import { APISERVER_REQUEST, ETCD_REQUEST, KUBELET_REQUEST, probe, type Decision, type Layer, type ProbeOutcome } from '../sim/probe.js';

export { APISERVER_REQUEST, ETCD_REQUEST, KUBELET_REQUEST };

/** The secure ports' request (`get` on the non-resource URL /metrics) and metrics-server's (list nodes.metrics.k8s.io). */
export const METRICS_REQUEST = { method: 'GET', path: '/metrics' };
export const METRICS_SERVER_REQUEST = { method: 'GET', path: '/apis/metrics.k8s.io/v1beta1/nodes' };
import type { Scenario } from '../sim/scenario.js';
import { padEndWide, displayWidth, translator, type Translate } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');
import type { TlsCause, Trace } from '../components/client/trace.js';
import { foreignAdmin } from './tour.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

export interface MatrixClient {
  /** The PKI's name for the certificate (`admin.conf`, `nodes/node-1/kubelet.conf`), `no certificate` or `foreign CA`. */
  readonly name: string;
  /** Why it is in the matrix. */
  readonly kind: 'client certificate' | 'server certificate used as a client' | 'no certificate' | 'foreign CA';
  readonly cn: string;
  readonly o: readonly string[];
  readonly issuer: string;
  readonly usages: readonly ('serverAuth' | 'clientAuth')[];
}

export interface MatrixCell {
  readonly client: string;
  readonly server: string;
  readonly decision: Decision;
  readonly layer: Layer;
  readonly refusedBy?: 'client' | 'server';
  readonly status?: number;
  readonly code?: string;
  /**
   * What failed, as data (trace.ts TlsCause): the cell's label reads it. Not in the golden copy, which
   * records OpenSSL's `code` it is computed from; the comparison leaves it out.
   */
  readonly cause?: TlsCause;
  readonly user?: string;
  readonly reason: string;
}

export interface Matrix {
  readonly requests: Readonly<Record<string, string>>;
  readonly clients: readonly MatrixClient[];
  readonly servers: readonly string[];
  readonly cells: readonly MatrixCell[];
}


const field = (dn: string, k: string): string[] => dn.split('\n').filter((l) => l.startsWith(`${k}=`)).map((l) => l.slice(k.length + 1));

function describeCert(pem: string): Pick<MatrixClient, 'cn' | 'o' | 'issuer' | 'usages'> {
  const x = new X509Certificate(pem);
  const eku = x.keyUsage ?? [];
  const usages = [...(eku.includes(SERVER_AUTH) ? ['serverAuth' as const] : []), ...(eku.includes(CLIENT_AUTH) ? ['clientAuth' as const] : [])];
  return { cn: field(x.subject, 'CN')[0] ?? '', o: field(x.subject, 'O'), issuer: field(x.issuer, 'CN')[0] ?? '', usages };
}

/** Every client identity of the PKI, in the spec table's order, plus "no certificate" and "foreign CA". */
export async function matrixClients(pki: Pki): Promise<{ client: MatrixClient; identity?: Identity }[]> {
  const out: { client: MatrixClient; identity?: Identity }[] = [];
  const serverOnly: { client: MatrixClient; identity?: Identity }[] = [];
  const names = [...pki.table.certs.filter((s) => s.kind === 'leaf').map((s) => s.name), ...[...pki.leaves.keys()].sort()];
  for (const name of [...new Set(names)]) {
    const c = pki.leaves.get(name);
    if (!c) continue;
    const d = describeCert(c.certPem);
    const identity = { cert: c.certPem, key: c.keyPem };
    if (d.usages.includes('clientAuth')) out.push({ client: { name, kind: 'client certificate', ...d }, identity });
    else if (d.usages.includes('serverAuth')) serverOnly.push({ client: { name, kind: 'server certificate used as a client', ...d }, identity });
  }
  const foreign = await foreignAdmin(pki);
  return [
    ...out, ...serverOnly,
    { client: { name: 'no certificate', kind: 'no certificate', cn: '', o: [], issuer: '', usages: [] } },
    { client: { name: 'foreign CA', kind: 'foreign CA', ...describeCert(foreign.cert) }, identity: foreign },
  ];
}

/** Builds the matrix over real connections to a running cluster. */
export async function buildMatrix(pki: Pki, cluster: Cluster, trace: Trace): Promise<Matrix> {
  const ep = cluster.endpoints;
  // A real etcd traces only the handshakes it refuses; members the user runs, nothing.
  const etcdRecords = cluster.etcd instanceof Etcd || cluster.etcd instanceof EtcdChild ? 'all' : cluster.etcd ? 'refusals' : 'none';
  let ms = cluster.metricsServer;
  let installed: { close(): Promise<void> } | undefined;
  if (!ms) {
    const admin = cluster.client('admin.conf', 'kubectl apply (metrics-server)');
    ms = await installMetricsServer(admin, cluster.apiserverUrl, caPem(pki, 'ca'), { host: '127.0.1.4', port: 0 }, { logger: silentLogger(), trace });
    installed = ms;
  }
  const secure = (name: string, info: { address: { port: number }; servingCa: string } | undefined): { name: string; url: string; ca: string; request: typeof METRICS_REQUEST }[] =>
    info ? [{ name, url: `https://127.0.0.1:${info.address.port}`, ca: info.servingCa, request: METRICS_REQUEST }] : [];
  const msAddress = ms.address;
  const servers: { name: string; url: string; ca: string; request: { method: string; path: string; body?: string }; records?: 'all' | 'refusals' | 'none' }[] = [
    { name: 'etcd', url: ep.etcd, ca: caPem(pki, 'etcd/ca'), request: ETCD_REQUEST, records: etcdRecords },
    { name: 'kube-apiserver', url: ep.apiserver, ca: caPem(pki, 'ca'), request: APISERVER_REQUEST },
    ...Object.keys(ep.kubelets).sort().map((n) => ({ name: `kubelet (${n})`, url: ep.kubelets[n]!, ca: caPem(pki, 'ca'), request: KUBELET_REQUEST })),
    ...secure('kube-controller-manager', cluster.controllerManager?.secureServing),
    ...secure('kube-scheduler', cluster.scheduler?.secureServing),
    ...(msAddress ? [{ name: 'metrics-server', url: `https://${msAddress.address}:${msAddress.port}`, ca: ms.caBundle, request: METRICS_SERVER_REQUEST }] : []),
  ];
  const clients = await matrixClients(pki);
  const cells: MatrixCell[] = [];
  try {
    for (const { client, identity } of clients) {
      for (const s of servers) {
        const o: ProbeOutcome = await probe(trace, {
          client: `matrix: ${client.name}`, server: s.name, url: s.url, serverCa: s.ca, method: s.request.method, path: s.request.path,
          ...(s.request.body === undefined ? {} : { body: s.request.body }), ...(identity ? { identity } : {}),
          ...(s.records ? { serverRecords: s.records } : {}),
        });
        cells.push({
          client: client.name, server: s.name, decision: o.decision, layer: o.layer,
          ...(o.refusedBy ? { refusedBy: o.refusedBy } : {}), ...(o.status === undefined ? {} : { status: o.status }),
          ...(o.code ? { code: o.code } : {}), ...(o.cause ? { cause: o.cause } : {}), ...(o.user ? { user: o.user } : {}), reason: o.reason,
        });
      }
    }
  } finally {
    await installed?.close();
  }
  const requests: Record<string, string> = {
    etcd: `${ETCD_REQUEST.method} ${ETCD_REQUEST.path} ${ETCD_REQUEST.body}`,
    'kube-apiserver': `${APISERVER_REQUEST.method} ${APISERVER_REQUEST.path}`,
    kubelet: `${KUBELET_REQUEST.method} ${KUBELET_REQUEST.path}`,
    'kube-controller-manager': `${METRICS_REQUEST.method} ${METRICS_REQUEST.path}`,
    'kube-scheduler': `${METRICS_REQUEST.method} ${METRICS_REQUEST.path}`,
    'metrics-server': `${METRICS_SERVER_REQUEST.method} ${METRICS_SERVER_REQUEST.path}`,
  };
  return { requests, clients: clients.map((c) => c.client), servers: servers.map((s) => s.name), cells };
}

/** A cause in a few characters, for a cell; the others show OpenSSL's code. */
const SHORT: Partial<Record<TlsCause, string>> = {
  'unknown-authority': 'unknown CA', expired: 'expired', 'not-yet-valid': 'not yet valid', 'wrong-usage': 'key usage',
  'name-mismatch': 'SAN mismatch', 'no-certificate': 'no cert',
};

/** One cell in a few characters: `200`, `403`, `401 unknown CA`, `TLS✗ unknown CA`. */
export function cellLabel(c: MatrixCell): string {
  const why = (c.cause ? SHORT[c.cause] : undefined) ?? c.code ?? '';
  switch (c.decision) {
    case 'allowed': return `✔ ${c.status ?? ''}`.trim();
    case 'forbidden': return `✘ 403${c.layer === 'admission' ? ' admission' : ''}`;
    // No fault in the handshake: the certificate verified at TLS (front-proxy-client, whose CA an extension's TLS
    // bundle holds for the request-header authenticator) but no authenticator took it; the Why list says why.
    case 'unauthenticated': return `✘ 401${why ? ` ${why}` : ''}`;
    case 'handshake refused': return `✘ TLS ${why || c.reason}${c.refusedBy === 'client' ? ' (client)' : ''}`;
    case 'failed': return `✘ ${c.reason}`;
  }
}

/** The matrix as a text table (clients down, servers across), then every distinct refusal reason. */
export function matrixTable(m: Matrix, t: Translate = EN): string {
  const header = [t('matrix.table.client'), ...m.servers];
  const rows = m.clients.map((c) => {
    const who = c.kind === 'no certificate' ? t('matrix.table.noCertificate')
      : c.kind === 'foreign CA' ? t('matrix.table.foreignCa', { name: c.name, cn: c.cn })
      : c.kind === 'server certificate used as a client' ? t('matrix.table.serverAuthOnly', { name: c.name }) : c.name;
    return [who, ...m.servers.map((s) => { const cell = m.cells.find((x) => x.client === c.name && x.server === s); return cell ? cellLabel(cell) : '?'; })];
  });
  const widths = header.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i]!))));
  const line = (r: readonly string[]): string => r.map((v, i) => padEndWide(v, widths[i]!)).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const reasons = new Map<string, string[]>();
  for (const c of m.cells) {
    if (c.decision === 'allowed') continue;
    const key = `${c.server}: ${c.decision === 'handshake refused' ? t('matrix.table.refusedBy', { side: t(c.refusedBy === 'client' ? 'verdict.client' : 'verdict.server') }) : `${c.status ?? ''} ${c.layer}`}: ${c.reason}`;
    reasons.set(key, [...(reasons.get(key) ?? []), c.client]);
  }
  out.push('', t('matrix.table.why'));
  for (const [k, who] of reasons) out.push(`  ${k}`, `      ${who.join(', ')}`);
  out.push('', t('matrix.table.requests'), ...Object.entries(m.requests).map(([s, r]) => `  ${s}: ${r}`));
  return out.join('\n');
}

/** The cells that differ between two matrices, one line each (`-` expected, `+` got). */
export function diffMatrix(expected: Matrix, actual: Matrix): string[] {
  const key = (c: MatrixCell): string => `${c.client} → ${c.server}`;
  // The cause is computed from the code, which the golden copy holds.
  const show = ({ cause: _, ...c }: MatrixCell): string => JSON.stringify(c);
  const want = new Map(expected.cells.map((c) => [key(c), c]));
  const got = new Map(actual.cells.map((c) => [key(c), c]));
  const out: string[] = [];
  for (const [k, c] of want) {
    const g = got.get(k);
    if (!g) out.push(`- ${show(c)}`, `+ (no cell for ${k})`);
    else if (show(g) !== show(c)) out.push(`- ${show(c)}`, `+ ${show(g)}`);
  }
  for (const [k, g] of got) if (!want.has(k)) out.push(`- (no cell for ${k})`, `+ ${show(g)}`);
  if (JSON.stringify(expected.clients) !== JSON.stringify(actual.clients)) out.push(`- clients ${JSON.stringify(expected.clients)}`, `+ clients ${JSON.stringify(actual.clients)}`);
  if (JSON.stringify(expected.requests) !== JSON.stringify(actual.requests)) out.push(`- requests ${JSON.stringify(expected.requests)}`, `+ requests ${JSON.stringify(actual.requests)}`);
  return out;
}

export const GOLDEN_FILE = path.join(import.meta.dirname, 'matrix.golden.json');

/** Whether a PKI has the default shape the golden copy was made for. */
export function hasDefaultShape(pki: Pki): boolean {
  return pki.plan.nodes.map((n) => n.name).join() === 'node-1,node-2' && pki.plan.kubeletServing === 'ca' && pki.plan.loopback === 'aliases';
}

export function readGolden(file = GOLDEN_FILE): Matrix {
  return JSON.parse(readFileSync(file, 'utf8')) as Matrix;
}

export const matrix: Scenario = {
  name: 'matrix',
  title: EN('scenario.matrix.title'),
  summary: EN('scenario.matrix.summary'),
  needsCluster: true,
  async run(ctx) {
    const m = await ctx.step(ctx.t('scenario.matrix.build.title'),
      ctx.t('scenario.matrix.build.lesson'),
      () => buildMatrix(ctx.pki, ctx.cluster, ctx.trace), { show: () => false });
    ctx.say(matrixTable(m, ctx.t));
    ctx.report(m);
    ctx.expect(ctx.t('scenario.matrix.expectDecided', { cells: `${m.clients.length}×${m.servers.length}` }),
      m.cells.length === m.clients.length * m.servers.length && m.cells.every((c) => c.decision !== 'failed'),
      m.cells.filter((c) => c.decision === 'failed').map((c) => `${c.client} → ${c.server}: ${c.reason}`).join('; '));
    const admin = m.cells.find((c) => c.client === 'apiserver-etcd-client' && c.server === 'etcd');
    ctx.expect(ctx.t('scenario.matrix.expectEtcd'),
      admin?.decision === 'allowed' && m.cells.filter((c) => c.server === 'etcd' && m.clients.find((x) => x.name === c.client)?.issuer === 'kubernetes').every((c) => c.decision === 'handshake refused'));
    if (hasDefaultShape(ctx.pki)) {
      let golden: Matrix;
      try {
        golden = readGolden();
      } catch (err) {
        ctx.expect(ctx.t('scenario.matrix.expectReadable'), false, (err as Error).message);
        return;
      }
      const diff = diffMatrix(golden, m);
      if (diff.length > 0) ctx.say([ctx.t('scenario.matrix.differs'), ...diff].join('\n'));
      ctx.expect(ctx.t('scenario.matrix.expectGolden'), diff.length === 0, ctx.t('scenario.matrix.cellsDiffer', { n: diff.length / 2 }));
    } else {
      ctx.say(ctx.t('scenario.matrix.notDefault'));
    }
  },
};
