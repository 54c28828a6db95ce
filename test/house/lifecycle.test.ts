import https from 'node:https';
import { expect } from 'chai';
import { ComponentError } from '../../components/client/common.js';
import { KubeClient } from '../../components/client/kube-client.js';
import { KubeApiserver } from '../../components/kube-apiserver/index.js';
import { Kubelet } from '../../components/kubelet/index.js';
import type { Pod } from '../../components/api/types.js';
import { caPem, credential, issuePki, kubeletClientName, kubeletServingName, type LeafName, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import { waitFor } from '../../sim/wait.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

const identity = (pki: Pki, name: LeafName): { cert: string; key: string } => {
  const c = credential(pki, name);
  return { cert: c.certPem, key: c.keyPem };
};

interface Answer { status: number; body: string }

/**
 * A request held in flight: headers and the first bytes of the body go now, the rest on `finish()`.
 * `answer` resolves with the response, or rejects when the connection is dropped.
 */
function held(url: string, path: string, body: string, ca: string, id: { cert: string; key: string }): { answer: Promise<Answer>; finish: () => void } {
  const u = new URL(url);
  let finish!: () => void;
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = https.request({
      host: u.hostname, port: u.port, path, method: 'POST', ca, cert: id.cert, key: id.key, agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.write(body.slice(0, 10));
    finish = () => req.end(body.slice(10));
  });
  return { answer, finish };
}

/** `GET .../containerLogs/...?follow=true` on the kubelet: resolves with the stream's text once it ends, rejects if it is cut. */
function follow(port: number, path: string, ca: string, id: { cert: string; key: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.2.1', port, path, method: 'GET', ca, cert: id.cert, key: id.key, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('aborted', () => reject(new Error('aborted')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const configMap = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' } });
const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';

async function closedError(p: Promise<unknown>): Promise<ComponentError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).to.be.instanceOf(ComponentError);
  return err as ComponentError;
}

describe('component lifecycle: close() drains, destroy() aborts', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;

  before(async () => {
    pki = await issuePki({ nodes: ['node-1'] });
    cp = await startControlPlane(pki);
  });

  after(async () => {
    await cp?.stop();
  });

  const apiserver = (): KubeApiserver => new KubeApiserver({
    host: '127.0.1.1', port: 0, identity: identity(pki, 'apiserver'), clientCa: caPem(pki, 'ca'),
    etcd: { endpoints: [cp.etcd.clientUrl], identity: identity(pki, 'apiserver-etcd-client'), ca: caPem(pki, 'etcd/ca') },
    kubeletClient: {}, serviceAccount: pki.serviceAccount, advertiseAddress: '127.0.1.1', logger: silentLogger(),
  });

  describe('kube-apiserver', () => {
    it('close(): a request in flight is answered, then start() and requests fail (CLOSED, connection refused)', async () => {
      const api = apiserver();
      await api.start();
      const url = api.url;
      const { answer, finish } = held(url, CONFIGMAPS, configMap('drained'), caPem(pki, 'ca'), identity(pki, 'admin.conf'));
      await waitFor('the request to be in flight', () => (api.requestsInFlight > 0 ? true : undefined));
      const closing = api.close();
      finish();
      expect(await answer).to.include({ status: 201 });
      await closing;
      expect(await api.close()).to.equal(undefined, 'close() is idempotent');
      await api.destroy();
      const err = await closedError(api.start());
      expect(err).to.include({ code: 'CLOSED', component: 'kube-apiserver' });
      expect(() => api.reloadTls({ clientCa: caPem(pki, 'ca') })).to.throw(ComponentError).with.property('code', 'CLOSED');
      const refused = await held(url, CONFIGMAPS, configMap('late'), caPem(pki, 'ca'), identity(pki, 'admin.conf')).answer.then(() => '', (e: NodeJS.ErrnoException) => e.code);
      expect(refused).to.equal('ECONNREFUSED');
      // The drained request was stored.
      expect((await cp.client('admin.conf').raw('GET', `${CONFIGMAPS}/drained`)).status).to.equal(200);
    });

    it('destroy(): a request in flight is cut, and start() fails with CLOSED', async () => {
      const api = apiserver();
      await api.start();
      const { answer, finish } = held(api.url, CONFIGMAPS, configMap('aborted'), caPem(pki, 'ca'), identity(pki, 'admin.conf'));
      const outcome = answer.then((a) => `HTTP ${a.status}`, (e: NodeJS.ErrnoException) => e.code ?? e.message);
      await waitFor('the request to be in flight', () => (api.requestsInFlight > 0 ? true : undefined));
      await api.destroy();
      finish();
      expect(await outcome).to.be.oneOf(['ECONNRESET', 'EPIPE']);
      await api.destroy();
      await api.close();
      expect(await closedError(api.start())).to.include({ code: 'CLOSED' });
      expect((await cp.client('admin.conf').raw('GET', `${CONFIGMAPS}/aborted`)).status).to.equal(404);
    });
  });

  describe('kubelet', () => {
    const pod: Pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'logger', namespace: 'default' },
      spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'nginx:1.25' }] },
    };
    const kubelet = (): Kubelet => new Kubelet({
      nodeName: 'node-1', nodeIP: '127.0.2.1', podCIDR: '10.244.1.0/24', apiserver: cp.url,
      identity: identity(pki, kubeletClientName('node-1')), serverCa: caPem(pki, 'ca'),
      servingIdentity: identity(pki, kubeletServingName('node-1')), clientCa: caPem(pki, 'ca'), port: 0, retryMs: 50,
    }, { logger: silentLogger(), trace: cp.trace });

    before(async () => {
      await cp.client('admin.conf').create('/api/v1/namespaces/default/pods', pod);
    });

    const seen = new Set<unknown>();

    async function followed(k: Kubelet): Promise<{ port: number; stream: Promise<Answer> }> {
      const { port } = await k.start();
      await waitFor('the pod to run', () => (k.runningPods().some((p) => p.name === 'logger') ? true : undefined));
      const stream = follow(port, '/containerLogs/default/logger/app?follow=true', caPem(pki, 'ca'), identity(pki, 'apiserver-kubelet-client'));
      await waitFor('the log stream to be open', () => (cp.recorder.events.some((e) => e.type === 'request' && e.server === k.name && e.path.startsWith('/containerLogs/default/logger/app') && e.status === 200 && !seen.has(e)) ? true : undefined));
      for (const e of cp.recorder.events) seen.add(e);
      expect(k.requestsInFlight).to.equal(1);
      return { port, stream };
    }

    it('close(): an open `logs -f` stream ends cleanly with what it had, then start() fails with CLOSED', async () => {
      const k = kubelet();
      const { stream } = await followed(k);
      await k.close();
      const a = await stream;
      expect(a.status).to.equal(200);
      await k.close();
      expect(await closedError(k.start())).to.include({ code: 'CLOSED', component: 'kubelet (node-1)' });
    });

    it('destroy(): an open `logs -f` stream is cut, then start() fails with CLOSED', async () => {
      const k = kubelet();
      const { stream } = await followed(k);
      const outcome = stream.then(() => 'ended', (e: Error) => e.message);
      await k.destroy();
      expect(await outcome).to.not.equal('ended');
      await k.destroy();
      expect(await closedError(k.start())).to.include({ code: 'CLOSED' });
    });
  });

  describe('KubeClient', () => {
    it('a request after close() rejects with CLOSED, naming the client', async () => {
      const c = new KubeClient({ name: 'late', server: cp.url, identity: identity(pki, 'admin.conf'), serverCa: caPem(pki, 'ca') });
      expect((await c.raw('GET', '/version')).status).to.equal(200);
      c.close();
      expect(await closedError(c.get('/api/v1/namespaces/default'))).to.include({ code: 'CLOSED', component: 'late' });
    });
  });
});
