/**
 * README "How the code is laid out", recipe "A new component", followed once: a tiny component built
 * only from the floors below the components (components/client/ for the Component contract, the TLS
 * server and the trace; pki/ for its certificate), the way the seven real ones are.
 */
import { expect } from 'chai';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { hostPort, Lifecycle, ServerDrain, type Component, type ComponentDeps } from '../../components/client/common.js';
import { createTlsAgent, createTlsServer, listen, summarizePeer, type Identity, type TlsServer } from '../../components/client/tls.js';
import { Trace, type RequestEvent, type TlsServerEvent, type TraceEvent } from '../../components/client/trace.js';
import { generateKey, privateKeyPem, signCsr } from '../../pki/issue.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import { createCsr } from '../../pki/x509.js';
import { silentLogger } from '../../sim/logger.js';

/** Step 1: typed options. Its TLS material comes in; it reads no file. */
interface HealthzOptions {
  readonly host: string;
  /** 0: any free port; `start()` resolves with the real one. */
  readonly port: number;
  /** Its serving certificate and key. */
  readonly identity: Identity;
  /** The CA bundle it checks client certificates against. */
  readonly clientCa: string;
}

/**
 * Step 2: the class. No I/O in the constructor; `start()` listens; `close()` drains and `destroy()` aborts
 * (both idempotent, through Lifecycle and ServerDrain), `stop()` is close(); after either, start() fails CLOSED.
 */
class Healthz implements Component {
  readonly name = 'healthz';
  private readonly options: HealthzOptions;
  private readonly logger: Logger;
  private readonly trace: Trace | undefined;
  private server: TlsServer | undefined;
  private drain: ServerDrain | undefined;
  private readonly lifecycle = new Lifecycle('healthz');

  constructor(options: HealthzOptions, deps: ComponentDeps) {
    this.options = options;
    this.logger = deps.logger.child({ component: this.name });
    this.trace = deps.trace;
  }

  async start(): Promise<AddressInfo> {
    this.lifecycle.check('start');
    // `request`: every handshake completes and the handler decides from the verified certificate, as the
    // apiserver and the kubelet do; createTlsServer traces each handshake (tls-server events).
    const server = createTlsServer({ name: this.name, identity: this.options.identity, clientCa: this.options.clientCa, mode: 'request' }, (req, res) => this.handle(req, res), this.trace);
    this.server = server;
    this.drain = new ServerDrain(server);
    const address = await listen(server, this.options.host, this.options.port, this.name);
    this.logger.info({ address: hostPort(address) }, 'serving');
    return address;
  }

  close(): Promise<void> {
    return this.lifecycle.end(async () => { await this.drain?.close(); });
  }

  destroy(): Promise<void> {
    return this.lifecycle.end(async () => { await this.drain?.destroy(); });
  }

  stop(): Promise<void> {
    return this.close();
  }

  /** Step 3: each request decided and traced (a request event), as the components' handlers do. */
  private handle(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket as TLSSocket;
    const cert = socket.authorized ? summarizePeer(socket.getPeerCertificate()) : null;
    const status = cert ? 200 : 401;
    res.writeHead(status, { 'Content-Type': 'text/plain' }).end(cert ? 'ok' : 'Unauthorized');
    this.trace?.emit({
      type: 'request', server: this.name, peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, method: req.method ?? '?', path: req.url ?? '/',
      user: cert?.cn ?? 'system:anonymous', groups: cert?.o ?? [], verb: 'get', resource: 'healthz',
      decision: cert ? 'allow' : 'unauthenticated', status, layer: cert ? 'none' : 'authentication',
    });
  }
}

/** A serving certificate for 127.0.0.1 signed by the PKI's Kubernetes CA (what a spec entry in pki/spec.ts would give). */
async function servingIdentity(pki: Pki): Promise<Identity> {
  const ca = pki.signers.get('ca');
  if (!ca) throw new Error('no Kubernetes CA');
  const key = await generateKey('ecdsa-p256');
  const cert = signCsr(createCsr({ cn: 'healthz', o: [] }, { dns: ['localhost'], ip: ['127.0.0.1'] }, key), ca, { usages: ['serverAuth'], now: new Date() });
  return { cert: cert.toString(), key: privateKeyPem(key.privateKey) };
}

function get(url: string, agent: https.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https.get(`${url}/healthz`, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('README recipe "A new component"', function () {
  this.timeout(30_000);
  let pki: Pki;
  before(async () => { pki = await issuePki({ nodes: [] }); });

  it('a component made by the recipe starts on a real TLS port, is seen in the trace, and stops', async () => {
    const trace = new Trace();
    const events: TraceEvent[] = [];
    const off = trace.on((e) => events.push(e));
    const healthz = new Healthz({ host: '127.0.0.1', port: 0, identity: await servingIdentity(pki), clientCa: caPem(pki, 'ca') }, { logger: silentLogger(), trace });
    expect(events, 'no I/O before start()').to.deep.equal([]);
    const address = await healthz.start();
    expect(address.port).to.be.greaterThan(0);
    const url = `https://${hostPort(address)}`;
    const admin = credential(pki, 'admin.conf');
    const agent = createTlsAgent({ name: 'kubectl', target: healthz.name, identity: { cert: admin.certPem, key: admin.keyPem }, serverCa: caPem(pki, 'ca') }, trace);
    try {
      expect(await get(url, agent)).to.deep.equal({ status: 200, body: 'ok' });
      const served = events.find((e): e is TlsServerEvent => e.type === 'tls-server' && e.server === 'healthz');
      expect(served).to.include({ handshake: 'ok', verified: true, trusts: 'kubernetes' });
      expect(served?.serverCert).to.include({ cn: 'healthz', issuer: 'kubernetes' });
      expect(served?.clientCert).to.include({ cn: 'kubernetes-admin' });
      const decided = events.find((e): e is RequestEvent => e.type === 'request' && e.server === 'healthz');
      expect(decided).to.include({ method: 'GET', path: '/healthz', user: 'kubernetes-admin', decision: 'allow', status: 200 });
      expect(events.some((e) => e.type === 'tls-client' && e.client === 'kubectl' && e.server === 'healthz' && e.handshake === 'ok')).to.equal(true);
    } finally {
      agent.destroy();
      await healthz.stop();
      off();
    }
    await healthz.stop();
    const after = createTlsAgent({ name: 'kubectl', target: healthz.name, serverCa: caPem(pki, 'ca') }, undefined);
    try {
      const err = await get(url, after).then(() => undefined, (e: NodeJS.ErrnoException) => e);
      expect(err?.code, 'nothing listens after stop()').to.equal('ECONNREFUSED');
    } finally {
      after.destroy();
    }
    const restart = await healthz.start().then(() => undefined, (e: unknown) => e);
    expect(restart).to.include({ code: 'CLOSED', component: 'healthz' });
    await healthz.destroy();
  });
});
