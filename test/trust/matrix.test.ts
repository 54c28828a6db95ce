import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { initPki, issuePki, type Pki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { runScenario } from '../../sim/scenario.js';
import { Trace } from '../../components/client/trace.js';
import { displayWidth, translator } from '../../sim/i18n/index.js';
import { buildMatrix, cellLabel, diffMatrix, hasDefaultShape, matrix, matrixClients, matrixTable, readGolden, type Matrix, type MatrixCell } from '../../scenarios/matrix.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

describe('the trust matrix', function () {
  this.timeout(120_000);
  let pki: Pki;
  before(async function () { pki = await issuePki({ nodes: ['node-1', 'node-2'] }); });

  it('lists every clientAuth leaf (a kubelet per node), the serverAuth-only leaves, no certificate and a foreign CA', async function () {
    const clients = (await matrixClients(pki)).map((c) => c.client);
    const names = clients.map((c) => c.name);
    expect(names).to.include.members(['admin.conf', 'super-admin.conf', 'scheduler.conf', 'controller-manager.conf', 'kube-proxy.conf',
      'nodes/node-1/kubelet.conf', 'nodes/node-2/kubelet.conf', 'apiserver-kubelet-client', 'apiserver-etcd-client', 'etcd/healthcheck-client',
      'front-proxy-client', 'etcd/server', 'etcd/peer', 'no certificate', 'foreign CA']);
    expect(clients.filter((c) => c.kind === 'server certificate used as a client').map((c) => c.name)).to.have.members(['apiserver', 'nodes/node-1/kubelet', 'nodes/node-2/kubelet']);
    expect(clients.find((c) => c.name === 'foreign CA')).to.include({ cn: 'kubernetes-admin', issuer: 'kubernetes' });
    expect(names).to.not.include('front-proxy-ca');
  });

  it('equals the golden copy for the default PKI (over real connections to a fresh cluster)', async function () {
    expect(hasDefaultShape(pki)).to.equal(true);
    const trace = new Trace();
    const cluster = await new Cluster({ pki, trace, logger: silentLogger(), ports: 'ephemeral' }).start();
    let m: Matrix;
    const seen: string[] = [];
    const off = trace.on((e) => { if (e.type === 'tls-server' && e.server === 'etcd' && e.handshake === 'refused') seen.push(e.code ?? ''); });
    try {
      m = await buildMatrix(pki, cluster, trace);
    } finally {
      off();
      await cluster.stop();
    }
    const diff = diffMatrix(readGolden(), m);
    expect(diff, `the matrix differs from scenarios/matrix.golden.json:\n${diff.join('\n')}`).to.deep.equal([]);
    // The refusals really were etcd's handshakes: one per client etcd refused.
    expect(seen.length).to.equal(m.cells.filter((c) => c.server === 'etcd' && c.decision === 'handshake refused').length);
    expect(JSON.stringify(m)).to.not.match(/:\d{4,5}\b|\d{4}-\d\d-\d\dT/); // no ports, no timestamps
  });

  it('as a scenario: narrates the table, reports the matrix and passes', async function () {
    const lines: string[] = [];
    const result = await runScenario(matrix, {
      pki, write: (l) => lines.push(l), startCluster: (p, trace) => new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral' }).start(),
    });
    const text = lines.join('\n');
    expect(result.ok, text).to.equal(true);
    expect(text).to.include('the matrix equals the golden copy');
    expect(text).to.match(/admin\.conf\s+✘ TLS unknown CA\s+✔ 200\s+✔ 200\s+✔ 200/);
    expect((result.report as Matrix).cells.length).to.equal(18 * 7);
    // The secure ports and metrics-server: admin.conf reads /metrics and node metrics; no certificate is system:anonymous, refused by authorization.
    expect(text).to.match(/admin\.conf\s+✘ TLS unknown CA(\s+✔ 200){6}/);
    expect(text).to.match(/no certificate\s+✘ TLS no cert\s+✘ 403\s+✘ 401 no cert\s+✘ 401 no cert\s+✘ 403\s+✘ 403\s+✘ 403/);
    expect(text).to.include('kube-scheduler: 403 authorization: forbidden: User "system:anonymous" cannot get path "/metrics"');
    // front-proxy-client verifies at TLS (the request-header CA is trusted) but, without X-Remote-User, no authenticator takes it.
    expect(text).to.match(/front-proxy-client\s+✘ TLS unknown CA(\s+✘ 401 unknown CA){3}(\s+✘ 401){3}$/m);
  });

  it('shows a change in trust wiring as a diff, one pair of lines per changed cell', function () {
    const golden = readGolden();
    const changed: Matrix = { ...golden, cells: golden.cells.map((c): MatrixCell => (c.client === 'kube-proxy.conf' && c.server === 'kube-apiserver' ? { client: c.client, server: c.server, decision: 'allowed', layer: 'none', status: 200, user: 'system:kube-proxy', reason: 'RBAC: allowed by ClusterRoleBinding "oops"' } : c)) };
    const diff = diffMatrix(golden, changed);
    expect(diff).to.have.length(2);
    expect(diff[0]).to.match(/^- \{"client":"kube-proxy.conf","server":"kube-apiserver","decision":"forbidden"/);
    expect(diff[1]).to.match(/^\+ \{"client":"kube-proxy.conf","server":"kube-apiserver","decision":"allowed"/);
    const dropped: Matrix = { ...golden, cells: golden.cells.slice(1) };
    expect(diffMatrix(golden, dropped)).to.deep.equal([`- ${JSON.stringify(golden.cells[0])}`, `+ (no cell for ${golden.cells[0]!.client} → ${golden.cells[0]!.server})`]);
    expect(diffMatrix(golden, golden)).to.deep.equal([]);
    // The cause is computed from the code the golden copy holds: a live cell carries it, the comparison leaves it out.
    const withCauses: Matrix = { ...golden, cells: golden.cells.map((c): MatrixCell => (c.code === 'INVALID_PURPOSE' ? { ...c, cause: 'wrong-usage' } : c)) };
    expect(diffMatrix(golden, withCauses)).to.deep.equal([]);
  });

  it('labels cells by decision and cause (OpenSSL\'s code when the cause has no short name), and the table lists every distinct refusal with its clients', function () {
    const base = { client: 'x', server: 'etcd', reason: 'r' } as const;
    expect(cellLabel({ ...base, decision: 'allowed', layer: 'none', status: 200 })).to.equal('✔ 200');
    expect(cellLabel({ ...base, decision: 'handshake refused', layer: 'tls', refusedBy: 'server', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', cause: 'unknown-authority' })).to.equal('✘ TLS unknown CA');
    expect(cellLabel({ ...base, decision: 'handshake refused', layer: 'tls', refusedBy: 'client', code: 'ERR_TLS_CERT_ALTNAME_INVALID', cause: 'name-mismatch' })).to.equal('✘ TLS SAN mismatch (client)');
    expect(cellLabel({ ...base, decision: 'handshake refused', layer: 'tls', refusedBy: 'server', code: 'ERR_SSL_NO_SHARED_CIPHER', cause: 'no-shared-cipher' })).to.equal('✘ TLS ERR_SSL_NO_SHARED_CIPHER');
    expect(cellLabel({ ...base, decision: 'unauthenticated', layer: 'authentication', status: 401, code: 'INVALID_PURPOSE', cause: 'wrong-usage' })).to.equal('✘ 401 key usage');
    expect(cellLabel({ ...base, decision: 'unauthenticated', layer: 'authentication', status: 401, cause: 'no-certificate' })).to.equal('✘ 401 no cert');
    expect(cellLabel({ ...base, decision: 'unauthenticated', layer: 'authentication', status: 401 })).to.equal('✘ 401');
    expect(cellLabel({ ...base, decision: 'forbidden', layer: 'admission', status: 403 })).to.equal('✘ 403 admission');
    const table = matrixTable(readGolden());
    expect(table).to.include('etcd: handshake refused by the server: x509: certificate signed by unknown authority');
    expect(table).to.include('kube-apiserver: 401 authentication: x509: certificate specifies an incompatible key usage\n      apiserver, nodes/node-1/kubelet, nodes/node-2/kubelet');
  });

  it('the table in Korean: headings and refusal lines translated, cells and Go\'s reasons untouched, columns aligned by display width', () => {
    const golden = readGolden();
    const ko = matrixTable(golden, translator('ko')).split('\n');
    expect(ko[0]).to.match(/^클라이언트 \(CN \/ O \/ 발급자\) +etcd +kube-apiserver/);
    expect(ko).to.include('  etcd: 서버가 핸드셰이크를 거부: x509: certificate signed by unknown authority');
    expect(ko.some((l) => l.startsWith('인증서 없음 '))).to.equal(true);
    // The kube-apiserver column starts at the same terminal column in the (Korean) heading and in every row.
    const col = (line: string, cell: string): number => displayWidth(line.slice(0, line.indexOf(cell)));
    const row = ko.find((l) => l.startsWith('apiserver-kubelet-client '))!;
    expect(col(row, '✔ 200'), row).to.equal(col(ko[0]!, 'kube-apiserver'));
    // English stays the default and has no Hangul.
    expect(matrixTable(golden)).to.equal(matrixTable(golden, translator('en'))).and.not.match(/[\uac00-\ud7a3]/);
  });

  it('npm run scenario -- matrix --format json prints the matrix on stdout for a PKI directory; a bad --format is one line and exit 2', async function () {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'matrix-'));
    try {
      await initPki(dir, { nodes: ['node-1'] });
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'scenario', 'matrix', '--format', 'json', '--pki-dir', dir], { cwd: ROOT });
      const m = JSON.parse(stdout) as Matrix;
      expect(m.servers).to.deep.equal(['etcd', 'kube-apiserver', 'kubelet (node-1)', 'kube-controller-manager', 'kube-scheduler', 'metrics-server']);
      expect(m.clients.map((c) => c.name)).to.include('nodes/node-1/kubelet.conf').and.not.include('nodes/node-2/kubelet.conf');
      expect(stderr).to.include('no golden copy to compare with');
      expect(stderr).to.match(/^PASS matrix: /m);
      const bad = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'scenario', 'matrix', '--format', 'yaml'], { cwd: ROOT }).then(() => undefined, (e: { code: number; stderr: string }) => e);
      expect(bad?.code).to.equal(2);
      expect(bad?.stderr.trim()).to.equal('sim: --format "yaml": text or json');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
