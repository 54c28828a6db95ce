import { expect } from 'chai';
import type https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { resourcePath, type KubeClient } from '../../components/client/kube-client.js';
import { closeServer, createTlsServer, listen } from '../../components/client/tls.js';
import type { Node, Pod } from '../../components/api/types.js';
import type { TlsClientEvent } from '../../components/client/trace.js';
import { caPem, credential, issuePki, kubeletServingName, type Pki } from '../../pki/store.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { apiError } from '../helpers/api-error.js';

/**
 * A kubelet stand-in: the node's serving certificate on the node's address, client certificates
 * checked against the Kubernetes CA; /containerLogs answers with the path and query it was asked,
 * and refuses anyone but the apiserver's kubelet client as a kubelet would after its SAR.
 */
async function fakeKubelet(pki: Pki, servingPki: Pki, ip: string): Promise<{ server: https.Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const serving = credential(servingPki, kubeletServingName('node-1'));
  const server = createTlsServer({ name: 'kubelet (node-1)', identity: { cert: serving.certPem, key: serving.keyPem }, clientCa: caPem(pki, 'ca'), mode: 'request' }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const cn = socket.authorized ? String(socket.getPeerCertificate().subject.CN) : '';
    seen.push(`${cn} ${req.url ?? ''}`);
    if (!socket.authorized) { res.writeHead(401, { 'Content-Type': 'text/plain' }); res.end('Unauthorized'); return; }
    if (req.url?.includes('/forbidden/')) {
      res.writeHead(403, { 'Content-Type': 'text/plain' });
      res.end(`Forbidden (user=${cn}, verb=get, resource=nodes, subresource(s)=[log, proxy])`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`log of ${req.url ?? ''}\nline 2\n`);
  }, undefined);
  const addr = await listen(server, ip, 0, 'fake kubelet');
  return { server, port: addr.port, seen };
}

async function setup(admin: KubeClient, port: number, ns: string): Promise<void> {
  const node: Node = {
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, spec: {},
    status: { addresses: [{ type: 'InternalIP', address: '127.0.2.1' }, { type: 'Hostname', address: 'node-1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
  };
  await admin.create(resourcePath({ resource: 'nodes' }), node);
  await admin.create(resourcePath({ resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const name of ['web', 'forbidden']) {
    await admin.create(resourcePath({ resource: 'pods', namespace: ns }), {
      apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'nginx' }, { name: 'sidecar', image: 'busybox' }] },
    } as Pod);
  }
}

describe('kube-apiserver pods/log through the kubelet', () => {
  let pki: Pki;
  let foreign: Pki;

  before(async () => {
    [pki, foreign] = await Promise.all([issuePki(), issuePki()]);
  });

  describe('without --kubelet-certificate-authority (kubeadm default)', () => {
    let cp: ControlPlane;
    let kubelet: Awaited<ReturnType<typeof fakeKubelet>>;
    let admin: KubeClient;

    before(async () => {
      // A serving certificate the Kubernetes CA never signed: accepted, because nothing verifies it.
      kubelet = await fakeKubelet(pki, foreign, '127.0.2.1');
      cp = await startControlPlane(pki);
      admin = cp.client('admin.conf');
      await setup(admin, kubelet.port, 'logs');
    });
    after(async () => {
      await cp?.stop();
      if (kubelet) await closeServer(kubelet.server);
    });

    it('asks the node\'s kubelet over mTLS as kube-apiserver-kubelet-client and streams its answer', async () => {
      const res = await admin.raw('GET', `${resourcePath({ resource: 'pods', namespace: 'logs', name: 'web', subresource: 'log' })}?container=sidecar&tailLines=5&follow=false&bogus=1`);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal('text/plain');
      expect(res.body).to.equal('log of /containerLogs/logs/web/sidecar?follow=false&tailLines=5\nline 2\n');
      expect(kubelet.seen.at(-1)).to.equal('kube-apiserver-kubelet-client /containerLogs/logs/web/sidecar?follow=false&tailLines=5');
      const hs = cp.recorder.events.filter((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === 'kube-apiserver' && e.server === 'kubelet (node-1)');
      expect(hs.at(-1)).to.deep.include({ handshake: 'ok', trusts: 'none' });
      expect(hs.at(-1)?.clientCert?.cn).to.equal('kube-apiserver-kubelet-client');
    });

    it('asks for a container name when the pod has several', async () => {
      const err = await apiError(admin.request('GET', resourcePath({ resource: 'pods', namespace: 'logs', name: 'web', subresource: 'log' })));
      expect(err.status).to.deep.include({ code: 400, reason: 'BadRequest', message: 'a container name must be specified for pod web, choose one of: [app sidecar]' });
    });

    it('passes the kubelet\'s refusal through as the real apiserver does', async () => {
      const err = await apiError(admin.request('GET', `${resourcePath({ resource: 'pods', namespace: 'logs', name: 'forbidden', subresource: 'log' })}?container=app`));
      expect(err.httpStatus).to.equal(403);
      expect(err.status?.reason).to.equal('Forbidden');
      expect(err.message).to.equal('Forbidden (user=kube-apiserver-kubelet-client, verb=get, resource=nodes, subresource(s)=[log, proxy]) ( pods/log forbidden)');
    });

    it('forbids pods/log to a user without the right, before dialling the kubelet', async () => {
      const before = kubelet.seen.length;
      const scheduler = cp.client('scheduler.conf');
      const err = await apiError(scheduler.request('GET', `${resourcePath({ resource: 'pods', namespace: 'logs', name: 'web', subresource: 'log' })}?container=app`));
      expect(err.message).to.equal('pods "web" is forbidden: User "system:kube-scheduler" cannot get resource "pods/log" in API group "" in the namespace "logs"');
      expect(kubelet.seen.length).to.equal(before);
    });
  });

  describe('with --kubelet-certificate-authority', () => {
    let cp: ControlPlane;
    let good: Awaited<ReturnType<typeof fakeKubelet>>;
    let bad: Awaited<ReturnType<typeof fakeKubelet>>;
    let admin: KubeClient;

    before(async () => {
      good = await fakeKubelet(pki, pki, '127.0.2.1');
      bad = await fakeKubelet(pki, foreign, '127.0.2.1');
      cp = await startControlPlane(pki, { kubeletCertificateAuthority: true });
      admin = cp.client('admin.conf');
      await setup(admin, good.port, 'logs');
    });
    after(async () => {
      await cp?.stop();
      if (good) await closeServer(good.server);
      if (bad) await closeServer(bad.server);
    });

    it('verifies a kubelet serving certificate signed by the Kubernetes CA', async () => {
      const res = await admin.raw('GET', `${resourcePath({ resource: 'pods', namespace: 'logs', name: 'web', subresource: 'log' })}?container=app`);
      expect(res.status).to.equal(200);
      expect(res.body).to.equal('log of /containerLogs/logs/web/app\nline 2\n');
      const hs = cp.recorder.events.filter((e): e is TlsClientEvent => e.type === 'tls-client' && e.server === 'kubelet (node-1)');
      expect(hs.at(-1)).to.deep.include({ handshake: 'ok', trusts: 'kubernetes' });
    });

    it('refuses a kubelet whose serving certificate another CA signed, with Go\'s error', async () => {
      await admin.patch(resourcePath({ resource: 'nodes', name: 'node-1', subresource: 'status' }), { status: { daemonEndpoints: { kubeletEndpoint: { Port: bad.port } } } });
      const err = await apiError(admin.request('GET', `${resourcePath({ resource: 'pods', namespace: 'logs', name: 'web', subresource: 'log' })}?container=app`));
      expect(err.httpStatus).to.equal(500);
      expect(err.message).to.equal(`Get "https://127.0.2.1:${bad.port}/containerLogs/logs/web/app": tls: failed to verify certificate: x509: certificate signed by unknown authority`);
      expect(bad.seen).to.deep.equal([]);
      const hs = cp.recorder.events.filter((e): e is TlsClientEvent => e.type === 'tls-client' && e.server === 'kubelet (node-1)');
      expect(hs.at(-1)).to.deep.include({ handshake: 'refused', reason: 'x509: certificate signed by unknown authority' });
    });
  });
});
