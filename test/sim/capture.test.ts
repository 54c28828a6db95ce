import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { caPem, issuePki, type Pki } from '../../pki/store.js';
import { closeServer, createTlsAgent, createTlsServer, listen } from '../../components/client/tls.js';
import { Trace } from '../../components/client/trace.js';
import { identityOf } from '../../sim/wiring.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { runScenario, type RunResult } from '../../sim/scenario.js';
import { SCENARIOS } from '../../scenarios/index.js';
import { Wire, type TlsMax, type WireConnection } from '../../components/client/wire.js';
import { writeCapture } from '../../sim/wire/files.js';
import { parseKeyLog } from '../../sim/wire/tls-keys.js';
import { readConversation, type TlsConversation } from '../../sim/wire/tls-parse.js';
import { tshark, tsharkConnections, tsharkMissing, type SideView } from '../helpers/tshark.js';

interface Played { result: RunResult; wire: Wire; lines: string[]; pcapng: string; keys: string }

async function play(pki: Pki, name: string, dir: string, tlsMax: TlsMax = 'TLSv1.3'): Promise<Played> {
  const wire = new Wire({ recording: true, tlsMax });
  const lines: string[] = [];
  const result = await runScenario(SCENARIOS.find((s) => s.name === name)!, {
    pki, write: (l) => lines.push(l), wire,
    startCluster: (p, trace) => new Cluster({ pki: p, trace, logger: silentLogger(), ports: 'ephemeral' }).start(),
  });
  const files = await writeCapture(dir, name, wire, result.connections);
  return { result, wire, lines, pcapng: files.pcapng, keys: files.keys };
}

/** What our parser read, in tshark's terms. */
function ours(conv: TlsConversation): { client: SideView; server: SideView } {
  const side = (from: 'client' | 'server'): SideView => ({
    handshakeTypes: conv.messages.flatMap((m) => (m.kind === 'handshake' && m.from === from ? [m.type] : [])),
    certificates: conv.messages.flatMap((m) => (m.kind === 'handshake' && m.from === from ? (m.detail.certificates ?? []).map((c) => `${c.subject} (issuer ${c.issuer})`) : [])),
    acceptableCas: conv.messages.flatMap((m) => (m.kind === 'handshake' && m.from === from ? (m.detail.acceptableCas ?? []).map((dn) => dn.split(', ').map((a) => a.slice(a.indexOf('=') + 1)).join(',')) : [])),
    alerts: conv.messages.flatMap((m) => (m.kind === 'alert' && m.from === from ? [ALERT_CODES[m.description] ?? -1] : [])),
  });
  return { client: side('client'), server: side('server') };
}
const ALERT_CODES: Record<string, number> = { close_notify: 0, bad_certificate: 42, certificate_expired: 45, unknown_ca: 48, decrypt_error: 51, certificate_required: 116, handshake_failure: 40 };

const connOf = (p: Played, client: string, server: string): WireConnection => {
  const t = p.result.connections.find((c) => c.client === client && c.server === server);
  const w = p.wire.connections.find((c) => `${c.client.address}:${c.client.port}` === t?.local);
  if (!w) throw new Error(`no recorded connection ${client} → ${server}`);
  return w;
};

describe('the capture (--capture): every connection as pcapng, read back by our parser and by tshark', function () {
  this.timeout(240_000);
  let pki: Pki;
  let dir: string;
  let tour: Played;
  let missing: string | undefined;
  before(async function () {
    missing = tsharkMissing();
    if (missing) process.stderr.write(`      ${missing}\n`);
    pki = await issuePki({ nodes: ['node-1', 'node-2'] });
    dir = await mkdtemp(path.join(tmpdir(), 'capture-'));
    tour = await play(pki, 'tour', dir);
  });
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('records the tour with every expectation still holding, and every connection the trace saw', function () {
    expect(tour.result.ok, tour.lines.join('\n')).to.equal(true);
    const recorded = new Set(tour.wire.connections.map((c) => `${c.client.address}:${c.client.port}`));
    const missed = tour.result.connections.filter((c) => !recorded.has(c.local)).map((c) => `${c.client} → ${c.server} ${c.local}`);
    expect(missed).to.deep.equal([]);
    expect(tour.wire.keylog.length).to.be.greaterThan(0);
  });

  it('tells the kubelet → etcd refusal from the bytes: etcd lists the etcd CA, the kubelet sends its Kubernetes-CA certificate, etcd closes', function () {
    const conv = readConversation(connOf(tour, 'kubelet (node-1)', 'etcd'), parseKeyLog(tour.wire.keylog));
    expect(conv.version).to.equal('TLS 1.3');
    const v = ours(conv);
    expect(v.server.acceptableCas).to.deep.equal(['etcd-ca']);
    expect(v.client.certificates[0]).to.equal('O=system:nodes, CN=system:node:node-1 (issuer CN=kubernetes)');
    expect(v.client.handshakeTypes).to.deep.equal([1, 11, 15, 20]);
    expect(v.server.alerts, 'the embedded etcd (Node) sends no alert').to.deep.equal([]);
    const narration = tour.lines.join('\n');
    expect(narration).to.match(/etcd → CertificateRequest \[decrypted\]: acceptable CAs "CN=etcd-ca"/);
    expect(narration).to.match(/no alert was sent: etcd ended the connection/);
  });

  it('opens in tshark with no malformed packet', function () {
    if (missing) this.skip();
    expect(tshark(['-r', tour.pcapng, '-o', `tls.keylog_file:${tour.keys}`, '-Y', '_ws.malformed || _ws.expert.severity >= "warning"']).trim()).to.equal('');
  });

  it("tshark decrypts every connection with the key log and reads the same handshake messages, certificates, CA lists and alerts as the trace's parser", function () {
    if (missing) this.skip();
    const theirs = tsharkConnections(tour.pcapng, tour.keys);
    const keys = parseKeyLog(tour.wire.keylog);
    expect(theirs.size).to.equal(tour.wire.connections.length);
    for (const c of tour.wire.connections) {
      const t = theirs.get(`${c.client.address}:${c.client.port}`);
      expect(t, `tshark sees ${c.client.port}`).to.not.equal(undefined);
      const o = ours(readConversation(c, keys));
      expect({ client: t!.client, server: t!.server }, `connection from port ${c.client.port}`).to.deep.equal(o);
      // Decrypted: the server's Finished (20) is read inside the encrypted part.
      expect(t!.server.handshakeTypes, `port ${c.client.port}`).to.include(20);
    }
  });

  it('tshark sees at etcd the same refusal: the kubelet\'s certificate, and no alert from etcd', function () {
    if (missing) this.skip();
    const c = connOf(tour, 'kubelet (node-1)', 'etcd');
    const t = tsharkConnections(tour.pcapng, tour.keys).get(`${c.client.address}:${c.client.port}`)!;
    expect(t.server.acceptableCas).to.deep.equal(['etcd-ca']);
    expect(t.client.certificates[0]).to.match(/CN=system:node:node-1 \(issuer CN=kubernetes\)/);
    expect(t.server.alerts).to.deep.equal(ours(readConversation(c, parseKeyLog(tour.wire.keylog))).server.alerts);
  });

  it('a refusal with an alert: a client with no certificate at an etcd-mode server gets certificate_required, from the server, as tshark reads it', async function () {
    const wire = new Wire({ recording: true });
    const trace = new Trace(undefined, wire);
    const srv = createTlsServer({ name: 'etcd', identity: identityOf(pki, 'etcd/server'), clientCa: caPem(pki, 'etcd/ca'), mode: 'require' }, (_q, r) => { r.end('ok'); }, trace);
    const a = await listen(srv, '127.0.0.1', 0, 'etcd');
    const agent = createTlsAgent({ name: 'curl', target: 'etcd', serverCa: caPem(pki, 'etcd/ca') }, trace);
    const outcome = await new Promise<string>((resolve) => {
      const req = https.request({ host: '127.0.0.1', port: a.port, path: '/health', agent }, (res) => { res.resume(); resolve(`HTTP ${res.statusCode}`); });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end();
    });
    agent.destroy();
    await closeServer(srv);
    expect(outcome).to.equal('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    expect(wire.connections).to.have.length(1);
    const conv = readConversation(wire.connections[0]!, parseKeyLog(wire.keylog));
    const o = ours(conv);
    expect(o.server.alerts).to.deep.equal([116]);
    expect(o.client.certificates).to.deep.equal([]);
    if (missing) this.skip();
    const files = await writeCapture(dir, 'alert', wire, []);
    const t = tsharkConnections(files.pcapng, files.keys).get(`${wire.connections[0]!.client.address}:${wire.connections[0]!.client.port}`);
    expect(t).to.deep.include(o);
  });

  it('under --tls-max 1.2 the certificates cross in clear text: tshark reads them with no key log', async function () {
    if (missing) this.skip();
    const p = await play(pki, 'refuse-kubelet-to-etcd', dir, 'TLSv1.2');
    expect(p.result.ok, p.lines.join('\n')).to.equal(true);
    const c = connOf(p, 'kubelet (node-1)', 'etcd');
    const t = tsharkConnections(p.pcapng).get(`${c.client.address}:${c.client.port}`)!;
    const o = ours(readConversation(c, parseKeyLog(p.wire.keylog)));
    expect(t.client.certificates).to.deep.equal(o.client.certificates);
    expect(t.client.certificates[0]).to.match(/CN=system:node:node-1 \(issuer CN=kubernetes\)/);
    expect(t.server.acceptableCas).to.deep.equal(['etcd-ca']);
    expect(readConversation(c, parseKeyLog(p.wire.keylog)).version).to.equal('TLS 1.2');
    // With the key log, tshark and our parser agree on the whole of it, Finished included.
    expect(tsharkConnections(p.pcapng, p.keys).get(`${c.client.address}:${c.client.port}`)).to.deep.include(o);
    expect(tshark(['-r', p.pcapng, '-Y', '_ws.malformed']).trim()).to.equal('');
  });
});
