import { expect } from 'chai';
import https from 'node:https';
import { createTlsAgent, createTlsServer, closeServer, goReason, listen, type TlsAgent } from '../../components/client/tls.js';
import { rotateKubernetesCa } from '../../pki/rotate.js';
import { caPem, issuePki, type Pki } from '../../pki/store.js';
import { identityOf } from '../../sim/cluster.js';
import { Trace, type TlsServerEvent, type TlsClientEvent } from '../../components/client/trace.js';
import { TraceRecorder } from '../../sim/trace.js';
import { waitFor } from '../../sim/wait.js';

const get = (agent: TlsAgent, port: number): Promise<string> => new Promise((resolve) => {
  const req = https.request({ host: '127.0.1.1', port, path: '/', agent }, (res) => { res.resume(); res.on('end', () => resolve(`HTTP ${res.statusCode}`)); });
  req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  req.end();
});

describe('TLS material reloaded without a restart', function () {
  this.timeout(30_000);
  let pki: Pki;
  let next: Pki;
  let bundle: string;
  before(async () => {
    pki = await issuePki({ nodes: ['node-1'] });
    const r = await rotateKubernetesCa(pki);
    next = r.pki;
    bundle = r.bundle;
  });

  it('a server presents its new certificate and trusts its new bundle on the next handshake, on the same port', async () => {
    const trace = new Trace();
    const rec = new TraceRecorder(trace);
    const server = createTlsServer({ name: 'kube-apiserver', identity: identityOf(pki, 'apiserver'), clientCa: caPem(pki, 'ca'), mode: 'request' },
      (req, res) => { res.end(String((req.socket as import('node:tls').TLSSocket).authorized)); }, trace);
    const addr = await listen(server, '127.0.1.1', 0, 'kube-apiserver');
    const oldClient = createTlsAgent({ name: 'old client', target: 'kube-apiserver', identity: identityOf(pki, 'admin.conf'), serverCa: caPem(pki, 'ca') }, trace);
    const bundleClient = createTlsAgent({ name: 'bundle client', target: 'kube-apiserver', identity: identityOf(next, 'admin.conf'), serverCa: bundle }, trace);
    try {
      expect(await get(oldClient, addr.port)).to.equal('HTTP 200');
      server.reloadTls({ identity: identityOf(next, 'apiserver'), ca: caPem(next, 'ca') });
      expect(server.address()).to.deep.include({ port: addr.port });
      // A client that trusts only the old CA refuses the new certificate: the reload is real.
      oldClient.destroy();
      const fresh = createTlsAgent({ name: 'old client', target: 'kube-apiserver', identity: identityOf(pki, 'admin.conf'), serverCa: caPem(pki, 'ca') }, trace);
      // OpenSSL's code depends on the name match with the old CA (same CN); Go's words are the same.
      expect(goReason(await get(fresh, addr.port))).to.equal('x509: certificate signed by unknown authority');
      fresh.destroy();
      expect(await get(bundleClient, addr.port)).to.equal('HTTP 200');
      const seen = rec.events.filter((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === 'bundle client' && e.handshake === 'ok');
      expect(seen.at(-1)?.serverCert?.serial).to.equal(next.leaves.get('apiserver')!.cert.serialNumber.toUpperCase());
      expect(seen.at(-1)?.trusts).to.equal('kubernetes + kubernetes');
      // The server now trusts only the new CA: an old-CA client certificate no longer verifies.
      const oldCert = createTlsAgent({ name: 'old cert', target: 'kube-apiserver', identity: identityOf(pki, 'admin.conf'), serverCa: bundle }, trace);
      expect(await get(oldCert, addr.port)).to.equal('HTTP 200');
      oldCert.destroy();
      const verdict = rec.events.filter((e): e is TlsServerEvent => e.type === 'tls-server' && e.clientCert?.serial === pki.leaves.get('admin.conf')!.cert.serialNumber.toUpperCase()).at(-1);
      expect(verdict?.verified).to.equal(false);
      expect(verdict?.reason).to.equal('x509: certificate signed by unknown authority');
    } finally {
      bundleClient.destroy();
      rec.stop();
      await closeServer(server);
    }
  });

  it('an agent presents its new client certificate on the next connection, without resuming the old session', async () => {
    const trace = new Trace();
    const rec = new TraceRecorder(trace);
    const server = createTlsServer({ name: 'etcd', identity: identityOf(pki, 'etcd/server'), clientCa: caPem(pki, 'etcd/ca'), mode: 'require' }, (_q, res) => { res.end('ok'); }, trace);
    const addr = await listen(server, '127.0.1.1', 0, 'etcd');
    const agent = createTlsAgent({ name: 'kube-apiserver', target: 'etcd', identity: identityOf(pki, 'apiserver-etcd-client'), serverCa: caPem(pki, 'etcd/ca') }, trace);
    try {
      expect(await get(agent, addr.port)).to.equal('HTTP 200');
      // A certificate from the wrong CA: etcd must refuse the next handshake, which proves it was presented.
      agent.reloadTls({ identity: identityOf(pki, 'apiserver-kubelet-client') });
      expect(await get(agent, addr.port)).to.not.equal('HTTP 200');
      const refused = rec.events.find((e): e is TlsServerEvent => e.type === 'tls-server' && e.handshake === 'refused');
      expect(refused?.reason).to.equal('x509: certificate signed by unknown authority');
      agent.reloadTls({ identity: identityOf(pki, 'apiserver-etcd-client') });
      expect(await get(agent, addr.port)).to.equal('HTTP 200');
    } finally {
      agent.destroy();
      rec.stop();
      await closeServer(server);
    }
  });

  it('a connection busy with a request when the certificate changes is not kept alive after it: the next request presents the new one', async () => {
    const trace = new Trace();
    const rec = new TraceRecorder(trace);
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    let first = true;
    const server = createTlsServer({ name: 'kube-apiserver', identity: identityOf(pki, 'apiserver'), clientCa: caPem(pki, 'ca'), mode: 'request' }, (_q, res) => {
      if (first) { first = false; void held.then(() => res.end('late')); return; }
      res.end('ok');
    }, trace);
    const addr = await listen(server, '127.0.1.1', 0, 'kube-apiserver');
    const agent = createTlsAgent({ name: 'kubelet (node-1)', target: 'kube-apiserver', identity: identityOf(pki, 'nodes/node-1/kubelet.conf'), serverCa: caPem(pki, 'ca') }, trace);
    try {
      const inFlight = get(agent, addr.port);
      await waitFor('the first request to reach the server', () => (first ? undefined : true), 5000);
      agent.reloadTls({ identity: identityOf(pki, 'admin.conf') });
      release!();
      expect(await inFlight).to.equal('HTTP 200');
      expect(await get(agent, addr.port)).to.equal('HTTP 200');
      const presented = rec.events.filter((e): e is TlsServerEvent => e.type === 'tls-server').map((e) => e.clientCert?.cn);
      expect(presented).to.deep.equal(['system:node:node-1', 'kubernetes-admin']);
    } finally {
      agent.destroy();
      rec.stop();
      await closeServer(server);
    }
  });
});
