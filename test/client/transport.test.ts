import { expect } from 'chai';
import type { Socket } from 'node:net';
import { KubeClient } from '../../components/client/kube-client.js';
import { MAX_IN_FLIGHT, Slots } from '../../components/client/common.js';
import { createTlsServer, IDLE_TIMEOUT_MS, listen } from '../../components/client/tls.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';

describe('the clients\' transport', function () {
  this.timeout(30_000);
  let pki: Pki;
  before(async () => { pki = await issuePki(); });

  it('Slots runs at most its limit at once and starts the queued tasks in order as others finish', async () => {
    const slots = new Slots(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const gates: (() => void)[] = [];
    const tasks = [0, 1, 2, 3, 4].map((i) => slots.run(() => new Promise<number>((resolve) => {
      running++;
      most = Math.max(most, running);
      order.push(i);
      gates.push(() => { running--; resolve(i); });
    })));
    expect(order).to.deep.equal([0, 1]);
    while (gates.length > 0) { gates.shift()!(); await new Promise((r) => setImmediate(r)); }
    expect(await Promise.all(tasks)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(order).to.deep.equal([0, 1, 2, 3, 4]);
    expect(most).to.equal(2);
    expect(MAX_IN_FLIGHT).to.be.at.least(8);
  });

  it('keeps idle connections 90 s as Go\'s servers do, and sends a request again once when its kept-alive connection was closed before any answer', async () => {
    const served = new WeakMap<Socket, number>();
    let dropped = 0;
    const apiserver = credential(pki, 'apiserver');
    const server = createTlsServer({ name: 'flaky', identity: { cert: apiserver.certPem, key: apiserver.keyPem }, clientCa: caPem(pki, 'ca'), mode: 'require' }, (req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      // The second request on a connection finds it closed, as when the server timed it out as idle.
      if (n === 2) { dropped++; req.socket.destroy(); return; }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    }, undefined);
    expect(server.keepAliveTimeout).to.equal(IDLE_TIMEOUT_MS);
    const address = await listen(server, '127.0.1.1', 0, 'flaky');
    const admin = credential(pki, 'admin.conf');
    const client = new KubeClient({ name: 'test', server: `https://127.0.1.1:${address.port}`, identity: { cert: admin.certPem, key: admin.keyPem }, serverCa: caPem(pki, 'ca') });
    try {
      expect((await client.raw('GET', '/a')).status).to.equal(200);
      expect((await client.raw('POST', '/b', {})).status).to.equal(200);
      expect(dropped).to.equal(1);
    } finally {
      client.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
