/**
 * The cause each TLS trace event carries, computed once in components/client/tls.ts from what TLS
 * reported: one real handshake per situation against servers made with createTlsServer (`require`, as
 * etcd; `request`, as the apiserver and the kubelet) and clients made with createTlsAgent.
 */
import { expect } from 'chai';
import https from 'node:https';
import tls from 'node:tls';
import { closeServer, createTlsAgent, createTlsServer, listen, tlsCause, type Identity, type TlsServer } from '../../components/client/tls.js';
import { CERTIFICATE_CAUSES, Trace, type TlsClientEvent, type TlsServerEvent } from '../../components/client/trace.js';
import { caPem, credential, issuePki, type LeafName, type Pki } from '../../pki/store.js';
import { TraceRecorder } from '../../sim/trace.js';
import { waitFor } from '../../sim/wait.js';
import { adminCertWithValidity } from '../../scenarios/refusals.js';
import { foreignAdmin } from '../../scenarios/tour.js';

const DAY = 24 * 3600_000;

describe('TLS causes in the trace', function () {
  this.timeout(60_000);
  let pki: Pki;
  let host: string;
  let trace: Trace;
  let recorder: TraceRecorder;
  const servers: { require: TlsServer; request: TlsServer; bare: TlsServer; ports: Record<'require' | 'request' | 'bare', number> } = {} as never;

  const identity = (name: LeafName): Identity => { const c = credential(pki, name); return { cert: c.certPem, key: c.keyPem }; };

  before(async function () {
    pki = await issuePki({ nodes: ['node-1'] });
    host = pki.plan.advertiseAddress;
    trace = new Trace();
    recorder = new TraceRecorder(trace);
    const handler = (_req: unknown, res: { end: (s: string) => void }): void => { res.end('ok'); };
    servers.require = createTlsServer({ name: 'etcd-like', identity: identity('apiserver'), clientCa: caPem(pki, 'ca'), mode: 'require' }, handler, trace);
    servers.request = createTlsServer({ name: 'apiserver-like', identity: identity('apiserver'), clientCa: caPem(pki, 'ca'), mode: 'request' }, handler, trace);
    // A kubelet whose serving certificate is not signed yet: no certificate at all.
    servers.bare = createTlsServer({ name: 'kubelet-like', clientCa: caPem(pki, 'ca'), mode: 'request' }, handler, trace);
    servers.ports = {
      require: (await listen(servers.require, host, 0, 'require')).port,
      request: (await listen(servers.request, host, 0, 'request')).port,
      bare: (await listen(servers.bare, host, 0, 'bare')).port,
    };
  });
  after(async function () {
    recorder?.stop();
    for (const s of [servers.require, servers.request, servers.bare]) if (s) await closeServer(s);
  });

  /** One GET through a traced agent; resolves with both halves of the handshake (the server's if it recorded one) and the request's error. */
  async function dial(server: 'require' | 'request' | 'bare', client: Identity | undefined, servername?: string): Promise<{ client: TlsClientEvent; server: TlsServerEvent | undefined; error: NodeJS.ErrnoException | undefined }> {
    const name = `client-${Math.random().toString(36).slice(2)}`;
    const agent = createTlsAgent({ name, target: server, serverCa: caPem(pki, 'ca'), ...(client ? { identity: client } : {}), ...(servername ? { servername } : {}) }, trace);
    try {
      const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        const req = https.request({ host, port: servers.ports[server], path: '/', agent }, (res) => { res.resume(); res.on('end', () => resolve(undefined)); res.on('error', resolve); });
        req.on('error', resolve);
        req.end();
      });
      const c = await waitFor(`the client half of ${name}`, () => recorder.events.find((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === name));
      const serverHalf = (): TlsServerEvent | undefined => recorder.events.find((e): e is TlsServerEvent => e.type === 'tls-server' && e.peer === c.local);
      // A server records a refusal when the socket closes, just after the client saw it.
      const s = c.handshake === 'refused' && CERTIFICATE_CAUSES.has(c.cause) ? undefined : await waitFor(`the server half of ${name}`, serverHalf).catch(() => undefined);
      return { client: c, server: s, error };
    } finally {
      agent.destroy();
    }
  }

  /** A raw handshake with chosen client options; resolves with the client's error and the server's refusal. */
  async function raw(server: 'require' | 'request', options: tls.ConnectionOptions): Promise<{ error: NodeJS.ErrnoException; server: TlsServerEvent }> {
    const { error, local } = await new Promise<{ error: NodeJS.ErrnoException; local: string }>((resolve, reject) => {
      let local = '';
      const socket = tls.connect({ host, port: servers.ports[server], ca: caPem(pki, 'ca'), ...options }, () => { socket.destroy(); reject(new Error('the handshake succeeded')); });
      socket.once('connect', () => { local = `${socket.localAddress}:${socket.localPort}`; });
      socket.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e, local }));
    });
    const s = await waitFor(`the server's refusal of ${local}`, () => recorder.events.find((e): e is TlsServerEvent => e.type === 'tls-server' && e.peer === local && e.handshake === 'refused'));
    return { error, server: s };
  }

  it('none: a verified handshake, on both sides', async function () {
    const r = await dial('require', identity('admin.conf'));
    expect(r.error).to.equal(undefined);
    expect(r.client).to.include({ handshake: 'ok', cause: 'none' });
    expect(r.server).to.include({ handshake: 'ok', verified: true, cause: 'none' });
  });

  it('expired: a client certificate past its notAfter (refused by a require-mode server, recorded by a request-mode one)', async function () {
    const expired = await adminCertWithValidity(pki, new Date(Date.now() - 3 * DAY), new Date(Date.now() - DAY));
    const refused = await dial('require', expired);
    expect(refused.server).to.include({ handshake: 'refused', code: 'CERT_HAS_EXPIRED', cause: 'expired' });
    const taken = await dial('request', expired);
    expect(taken.server).to.include({ handshake: 'ok', verified: false, code: 'CERT_HAS_EXPIRED', cause: 'expired' });
  });

  it('not-yet-valid: a client certificate before its notBefore', async function () {
    const early = await adminCertWithValidity(pki, new Date(Date.now() + DAY), new Date(Date.now() + 3 * DAY));
    const r = await dial('request', early);
    expect(r.server).to.include({ verified: false, code: 'CERT_NOT_YET_VALID', cause: 'not-yet-valid' });
  });

  it('unknown-authority: a client certificate from a CA the server does not trust', async function () {
    const r = await dial('require', await foreignAdmin(pki));
    expect(r.server).to.include({ handshake: 'refused', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', cause: 'unknown-authority' });
  });

  it('wrong-usage: a server certificate (serverAuth only) presented as a client certificate', async function () {
    const r = await dial('request', identity('apiserver'));
    expect(r.server).to.include({ verified: false, code: 'INVALID_PURPOSE', cause: 'wrong-usage' });
  });

  it('no-certificate: no client certificate at a require-mode server (etcd); the client meets the alert', async function () {
    const r = await dial('require', undefined);
    expect(r.server).to.include({ handshake: 'refused', cause: 'no-certificate' });
    // TLS 1.3: the client's handshake is over before the server reads its (empty) certificate; the alert fails the request.
    expect(r.error, 'the request failed').to.not.equal(undefined);
    expect(tlsCause(r.error!.code, r.error!.message)).to.be.oneOf(['peer-required-certificate', 'reset']);
  });

  it('no-certificate at a request-mode server: the handshake completes, the cause is recorded', async function () {
    const r = await dial('request', undefined);
    expect(r.server).to.include({ handshake: 'ok', verified: false, code: 'NO_CLIENT_CERT', cause: 'no-certificate' });
  });

  it('name-mismatch: the client refuses a server certificate whose SANs do not name what it dialled', async function () {
    const r = await dial('request', identity('admin.conf'), 'elsewhere.example');
    expect(r.client).to.include({ handshake: 'refused', code: 'ERR_TLS_CERT_ALTNAME_INVALID', cause: 'name-mismatch' });
    expect(CERTIFICATE_CAUSES.has(r.client.cause)).to.equal(true);
  });

  it('no-server-certificate: a server with nothing to present; the client sees a handshake failure', async function () {
    const r = await dial('bare', identity('admin.conf'));
    expect(r.client).to.include({ handshake: 'refused', cause: 'handshake-failure' });
    expect(r.server).to.include({ handshake: 'refused', cause: 'no-server-certificate' });
  });

  it('protocol-version: a TLS 1.1 client, on both sides', async function () {
    const r = await raw('require', { ...identity('admin.conf'), minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    expect(r.server).to.include({ code: 'ERR_SSL_UNSUPPORTED_PROTOCOL', cause: 'protocol-version' });
    expect(tlsCause(r.error.code, r.error.message)).to.equal('protocol-version');
  });

  it('no-shared-cipher: a client offering only AES128-SHA; the client sees a handshake failure', async function () {
    const r = await raw('request', { ...identity('admin.conf'), ciphers: 'AES128-SHA', maxVersion: 'TLSv1.2' });
    expect(r.server).to.include({ code: 'ERR_SSL_NO_SHARED_CIPHER', cause: 'no-shared-cipher' });
    expect(tlsCause(r.error.code, r.error.message)).to.equal('handshake-failure');
  });

  it('connection-refused: nothing listening', async function () {
    const gone = createTlsServer({ name: 'gone', identity: identity('apiserver'), clientCa: caPem(pki, 'ca'), mode: 'request' }, () => undefined, undefined);
    const port = (await listen(gone, host, 0, 'gone')).port;
    await closeServer(gone);
    const agent = createTlsAgent({ name: 'to-nowhere', target: 'gone', serverCa: caPem(pki, 'ca') }, trace);
    try {
      await new Promise<void>((resolve) => { https.get({ host, port, path: '/', agent }, () => resolve()).on('error', () => resolve()); });
      const c = await waitFor('the client half', () => recorder.events.find((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === 'to-nowhere'));
      expect(c).to.include({ handshake: 'refused', code: 'ECONNREFUSED', cause: 'connection-refused' });
    } finally {
      agent.destroy();
    }
  });

  it('maps each code once: verify codes, alerts, negotiation and socket errors', function () {
    const cases: [string | undefined, string, string][] = [
      [undefined, '', 'none'],
      ['SELF_SIGNED_CERT_IN_CHAIN', '', 'unknown-authority'], ['DEPTH_ZERO_SELF_SIGNED_CERT', '', 'unknown-authority'],
      ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', '', 'peer-refused-certificate'], ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', '', 'peer-refused-certificate'],
      ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', '', 'peer-required-certificate'],
      ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', '', 'protocol-version'],
      ['ERR_SSL_NO_RENEGOTIATION', '', 'renegotiation'], ['EPROTO', 'error:0A000153:SSL routines::no renegotiation', 'renegotiation'],
      ['EPROTO', 'error:0A000410:SSL routines::sslv3 alert handshake failure', 'handshake-failure'],
      ['ECONNRESET', 'socket hang up', 'reset'], ['ERR_TLS_HANDSHAKE_TIMEOUT', '', 'handshake-timeout'], ['EHOSTUNREACH', '', 'other'],
    ];
    for (const [code, message, cause] of cases) expect(tlsCause(code, message), `${code} ${message}`).to.equal(cause);
  });
});
