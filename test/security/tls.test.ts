/**
 * Issue 11, TLS: every server negotiates as Go's crypto/tls does by default (kube-apiserver, etcd and the
 * kubelet are Go programs): TLS 1.2 or 1.3, ECDHE AEAD suites only for TLS 1.2, and no renegotiation.
 * Each server is dialled with a raw `tls.connect` (and `openssl s_client` where present) offering what a
 * Go server refuses; the refusal is asserted on both sides, the server's reason read from the trace.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import { EtcdProcess, findBinary } from '../../components/etcd/process.js';
import { Kubelet } from '../../components/kubelet/index.js';
import { closeServer, createTlsAgent, GO_TLS, goReason, listen, tlsCause } from '../../components/client/tls.js';
import { caPem, credential, issuePki, kubeletClientName, kubeletServingName, type LeafName, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import { Trace, type TlsClientEvent, type TlsServerEvent } from '../../components/client/trace.js';
import { TraceRecorder } from '../../sim/trace.js';
import { waitFor } from '../../sim/wait.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

const identity = (pki: Pki, name: LeafName): { cert: string; key: string } => {
  const c = credential(pki, name);
  return { cert: c.certPem, key: c.keyPem };
};

type Outcome = { ok: true; cipher: string; protocol: string } | { ok: false; code: string; message: string; local: string };

/** One handshake with the given client options; resolves with what was negotiated or how it failed. */
function handshake(host: string, port: number, options: tls.ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    let local = '';
    const socket = tls.connect({ host, port, ...options }, () => {
      resolve({ ok: true, cipher: socket.getCipher().name, protocol: socket.getProtocol() ?? '' });
      socket.end();
    });
    socket.once('connect', () => { local = `${socket.localAddress}:${socket.localPort}`; });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, code: err.code ?? '', message: err.message, local }));
  });
}

/** A TLS 1.2 handshake, then a client-initiated renegotiation: resolves with the renegotiation's error, or null if it succeeded. */
function renegotiate(host: string, port: number, options: tls.ConnectionOptions): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: NodeJS.ErrnoException | null): void => { if (!done) { done = true; socket.destroy(); resolve(err); } };
    const socket = tls.connect({ host, port, ...options, maxVersion: 'TLSv1.2' }, () => {
      const started = socket.renegotiate({ rejectUnauthorized: true }, (err) => finish(err ?? null));
      if (!started) reject(new Error('renegotiate() refused to start'));
      // OpenSSL runs the renegotiation on the next read or write.
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err));
    socket.on('data', () => { /* the server's answer, if any */ });
  });
}

const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;

/** `openssl s_client` with `args`; `stdin` is written and the pipe kept open until it exits (bounded). */
function sClient(host: string, port: number, args: string[], stdin = ''): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-connect', `${host}:${port}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`openssl s_client ${args.join(' ')} did not exit within 10 s:\n${out}`)); }, 10_000);
    child.once('exit', (status) => { clearTimeout(timer); resolve({ status, out }); });
    if (stdin) child.stdin.write(stdin); else child.stdin.end();
    child.once('exit', () => child.stdin.destroy());
  });
}

describe('TLS settings of every server (Go crypto/tls defaults)', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;
  let kubelet: Kubelet;
  let recorder: TraceRecorder;
  let files: string;
  const servers: { name: string; host: string; port: () => number; ca: () => string; id?: () => { cert: string; key: string }; traceName: string }[] = [];

  before(async function () {
    pki = await issuePki({ nodes: ['node-1'] });
    cp = await startControlPlane(pki);
    recorder = cp.recorder;
    kubelet = new Kubelet({
      nodeName: 'node-1', nodeIP: '127.0.2.1', podCIDR: '10.244.1.0/24', apiserver: cp.url,
      identity: identity(pki, kubeletClientName('node-1')), serverCa: caPem(pki, 'ca'),
      servingIdentity: identity(pki, kubeletServingName('node-1')), clientCa: caPem(pki, 'ca'),
      port: 0, leaseRenewIntervalMs: 1000, statusUpdateIntervalMs: 1000, retryMs: 50,
    }, { logger: silentLogger(), trace: cp.trace });
    const kubeletPort = (await kubelet.start()).port;
    files = mkdtempSync(path.join(os.tmpdir(), 'tls-test-'));
    const healthcheck = identity(pki, 'etcd/healthcheck-client');
    writeFileSync(path.join(files, 'etcd-ca.crt'), caPem(pki, 'etcd/ca'));
    writeFileSync(path.join(files, 'ca.crt'), caPem(pki, 'ca'));
    writeFileSync(path.join(files, 'hc.crt'), healthcheck.cert);
    writeFileSync(path.join(files, 'hc.key'), healthcheck.key, { mode: 0o600 });
    servers.push(
      { name: 'kube-apiserver', traceName: 'kube-apiserver', host: pki.plan.advertiseAddress, port: () => cp.apiserver.address!.port, ca: () => caPem(pki, 'ca') },
      { name: 'etcd', traceName: cp.etcd.name, host: pki.plan.advertiseAddress, port: () => cp.etcd.address!.port, ca: () => caPem(pki, 'etcd/ca'), id: () => healthcheck },
      { name: 'kubelet', traceName: 'kubelet (node-1)', host: '127.0.2.1', port: () => kubeletPort, ca: () => caPem(pki, 'ca') },
    );
  });

  after(async function () {
    await kubelet?.stop();
    await cp?.stop();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  const refusedOnServer = (traceName: string, peer: string): Promise<TlsServerEvent> => waitFor(`${traceName} to record the refused handshake from ${peer}`, () =>
    recorder.events.find((e): e is TlsServerEvent => e.type === 'tls-server' && e.server === traceName && e.handshake === 'refused' && e.peer === peer));

  for (const which of ['kube-apiserver', 'etcd', 'kubelet']) {
    describe(which, function () {
      const s = (): (typeof servers)[number] => servers.find((x) => x.name === which)!;
      const opts = (): tls.ConnectionOptions => ({ ca: s().ca(), ...(s().id ? s().id!() : {}) });

      it('refuses an RSA key-exchange CBC suite (AES128-SHA) and records why', async function () {
        const r = await handshake(s().host, s().port(), { ...opts(), ciphers: 'AES128-SHA', maxVersion: 'TLSv1.2' });
        expect(r.ok, 'handshake with AES128-SHA').to.equal(false);
        if (r.ok) return;
        expect(r.code).to.equal('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
        expect(goReason(r.code)).to.equal('remote error: tls: handshake failure');
        const ev = await refusedOnServer(s().traceName, r.local);
        expect(ev.code).to.equal('ERR_SSL_NO_SHARED_CIPHER');
        expect(ev.reason).to.equal('tls: no cipher suite supported by both client and server');
        expect(ev.cause).to.equal('no-shared-cipher');
        expect(tlsCause(r.code, r.message)).to.equal('handshake-failure');
      });

      it('refuses ECDHE with CBC (ECDHE-RSA-AES128-SHA): only AEAD suites for TLS 1.2', async function () {
        const r = await handshake(s().host, s().port(), { ...opts(), ciphers: 'ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384', maxVersion: 'TLSv1.2' });
        expect(r.ok).to.equal(false);
      });

      it('refuses TLS 1.1 and records why', async function () {
        const r = await handshake(s().host, s().port(), { ...opts(), minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
        expect(r.ok).to.equal(false);
        if (r.ok) return;
        expect(r.code).to.equal('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
        expect(goReason(r.code)).to.equal('remote error: tls: protocol version not supported');
        const ev = await refusedOnServer(s().traceName, r.local);
        expect(ev.reason).to.match(/^tls: client offered only unsupported versions/);
        expect(ev.cause).to.equal('protocol-version');
        expect(tlsCause(r.code, r.message)).to.equal('protocol-version');
      });

      it('accepts ECDHE-RSA-AES128-GCM-SHA256 on TLS 1.2, and TLS 1.3', async function () {
        const gcm = await handshake(s().host, s().port(), { ...opts(), ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' });
        expect(gcm).to.deep.include({ ok: true, cipher: 'ECDHE-RSA-AES128-GCM-SHA256', protocol: 'TLSv1.2' });
        const chacha = await handshake(s().host, s().port(), { ...opts(), ciphers: 'ECDHE-RSA-CHACHA20-POLY1305', maxVersion: 'TLSv1.2' });
        expect(chacha).to.deep.include({ ok: true, cipher: 'ECDHE-RSA-CHACHA20-POLY1305' });
        const v13 = await handshake(s().host, s().port(), opts());
        expect(v13).to.deep.include({ ok: true, protocol: 'TLSv1.3' });
      });

      it('refuses a client-initiated renegotiation', async function () {
        const err = await renegotiate(s().host, s().port(), opts());
        expect(err, 'renegotiation error').to.not.equal(null);
        expect(err!.message).to.match(/no renegotiation/);
        expect(goReason(err!.code, err!.message)).to.equal('remote error: tls: no renegotiation');
        expect(tlsCause(err!.code, err!.message)).to.equal('renegotiation');
      });

      it('says the same to openssl s_client', async function () {
        if (!HAS_OPENSSL) this.skip();
        const dir = files;
        const auth = which === 'etcd' ? ['-CAfile', path.join(dir, 'etcd-ca.crt'), '-cert', path.join(dir, 'hc.crt'), '-key', path.join(dir, 'hc.key')] : ['-CAfile', path.join(dir, 'ca.crt')];
        const cbc = await sClient(s().host, s().port(), [...auth, '-tls1_2', '-cipher', 'AES128-SHA']);
        expect(cbc.status, cbc.out).to.not.equal(0);
        expect(cbc.out).to.match(/alert handshake failure/);
        const old = await sClient(s().host, s().port(), [...auth, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']);
        expect(old.status, old.out).to.not.equal(0);
        expect(old.out).to.match(/alert protocol version/);
        const gcm = await sClient(s().host, s().port(), [...auth, '-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256']);
        expect(gcm.status, gcm.out).to.equal(0);
        expect(gcm.out).to.match(/Cipher is ECDHE-RSA-AES128-GCM-SHA256/);
        expect(gcm.out).to.match(/Verify return code: 0 \(ok\)/);
        // "R" asks s_client to renegotiate; the server's refusal ends the session.
        const reneg = await sClient(s().host, s().port(), [...auth, '-tls1_2'], 'R\n');
        expect(reneg.out).to.match(/RENEGOTIATING/);
        expect(reneg.out).to.match(/no renegotiation/);
        expect(reneg.status).to.not.equal(0);
      });
    });
  }
});

describe('TLS settings of a real etcd (EtcdProcess, when the binary is installed)', function () {
  this.timeout(60_000);

  it('is started with the ECDHE AEAD suites only: AES128-SHA is refused, with etcd\'s reason in the trace', async function () {
    if (!findBinary('etcd')) this.skip();
    const pki = await issuePki({ nodes: ['node-1'] });
    const trace = new Trace();
    const recorder = new TraceRecorder(trace);
    const etcd = new EtcdProcess({
      host: pki.plan.advertiseAddress, clientPort: 0, peerPort: 0, identity: identity(pki, 'etcd/server'), peerIdentity: identity(pki, 'etcd/peer'),
      trustedCa: caPem(pki, 'etcd/ca'), healthcheckIdentity: identity(pki, 'etcd/healthcheck-client'), logger: silentLogger(), trace,
    });
    try {
      const { address, port } = await etcd.start();
      const opts = { ca: caPem(pki, 'etcd/ca'), ...identity(pki, 'etcd/healthcheck-client') };
      const cbc = await handshake(address, port, { ...opts, ciphers: 'AES128-SHA', maxVersion: 'TLSv1.2' });
      expect(cbc.ok).to.equal(false);
      const ev = await waitFor('etcd to log the refusal', () => recorder.events.find((e): e is TlsServerEvent => e.type === 'tls-server' && e.handshake === 'refused'));
      expect(ev.reason).to.equal('tls: no cipher suite supported by both client and server');
      expect(ev.cause).to.equal('no-shared-cipher');
      expect(await handshake(address, port, { ...opts, ciphers: 'ECDHE-RSA-AES128-SHA', maxVersion: 'TLSv1.2' })).to.include({ ok: false });
      expect(await handshake(address, port, { ...opts, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' })).to.include({ ok: true });
      // Go never renegotiates as a server.
      expect(await renegotiate(address, port, opts)).to.not.equal(null);
    } finally {
      await etcd.stop();
      recorder.stop();
    }
  });
});

describe('TLS settings of every client (Go crypto/tls defaults)', function () {
  let pki: Pki;
  before(async function () { pki = await issuePki({ nodes: ['node-1'] }); });

  /** A server offering only `ciphers` (TLS 1.2), as an old or misconfigured peer would. */
  async function weakServer(ciphers: string): Promise<{ port: number; close: () => Promise<void> }> {
    const { cert, key } = identity(pki, 'apiserver');
    const server = https.createServer({ cert, key, ciphers, maxVersion: 'TLSv1.2' }, (_req, res) => { res.end('ok'); });
    const addr = await listen(server, pki.plan.advertiseAddress, 0, 'weak');
    return { port: addr.port, close: () => closeServer(server) };
  }

  function get(port: number, agent: https.Agent): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = https.request({ host: pki.plan.advertiseAddress, port, path: '/', agent }, (res) => { res.resume(); res.on('end', () => resolve(`HTTP ${res.statusCode}`)); });
      req.on('error', reject);
      req.end();
    });
  }

  it('the shared agent offers only ECDHE AEAD suites: a server with only AES128-SHA is refused, with the reason traced', async function () {
    const weak = await weakServer('AES128-SHA');
    const trace = new Trace();
    const recorder = new TraceRecorder(trace);
    const agent = createTlsAgent({ name: 'kubectl', target: 'kube-apiserver', identity: identity(pki, 'admin.conf'), serverCa: caPem(pki, 'ca') }, trace);
    try {
      const err = await get(weak.port, agent).then(() => null, (e: NodeJS.ErrnoException) => e);
      expect(err, 'request through the agent').to.not.equal(null);
      expect(goReason(err!.code, err!.message)).to.equal('remote error: tls: handshake failure');
      const ev = recorder.events.find((e): e is TlsClientEvent => e.type === 'tls-client' && e.handshake === 'refused');
      expect(ev?.reason).to.equal('remote error: tls: handshake failure');
      expect(ev?.cause).to.equal('handshake-failure');
    } finally {
      agent.destroy();
      recorder.stop();
      await weak.close();
    }
  });

  it('the shared agent handshakes with an ECDHE-GCM-only TLS 1.2 server', async function () {
    const ok = await weakServer('ECDHE-RSA-AES256-GCM-SHA384');
    const agent = createTlsAgent({ name: 'kubectl', target: 'kube-apiserver', identity: identity(pki, 'admin.conf'), serverCa: caPem(pki, 'ca') }, undefined);
    try {
      expect(await get(ok.port, agent)).to.equal('HTTP 200');
    } finally {
      agent.destroy();
      await ok.close();
    }
  });

  it('GO_TLS lists Go 1.22+ default TLS 1.2 suites without CBC, and the three TLS 1.3 suites', function () {
    expect(GO_TLS.minVersion).to.equal('TLSv1.2');
    expect(GO_TLS.ciphers.split(':')).to.have.members([
      'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
      'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
    ]);
  });
});
