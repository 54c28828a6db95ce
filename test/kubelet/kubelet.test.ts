import { waitFor } from '../../sim/wait.js';
import https from 'node:https';
import { expect } from 'chai';
import { Kubelet } from '../../components/kubelet/index.js';
import type { KubeClient } from '../../components/client/kube-client.js';
import type { Lease, Node, Pod } from '../../components/api/types.js';
import { caPem, credential, issuePki, kubeletClientName, kubeletServingName, type LeafName, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import type { RequestEvent } from '../../components/client/trace.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { clientCert, CN, name, O, UTF8 } from '../helpers/x509-names.js';

const identity = (pki: Pki, name: LeafName): { cert: string; key: string } => {
  const c = credential(pki, name);
  return { cert: c.certPem, key: c.keyPem };
};


interface Answer { status: number; body: string; contentType: string | undefined }

/** One request to the kubelet API, verifying its serving certificate against the Kubernetes CA. */
function kubeletGet(port: number, path: string, ca: string, id?: { cert: string; key: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.2.1', port, path, method: 'GET', ca, ...(id ? { cert: id.cert, key: id.key } : {}), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), contentType: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

const podSpec = (name: string, node: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'web' } },
  spec: { nodeName: node, containers: [{ name: 'web', image: 'nginx:1.25', command: ['nginx', '-g', 'daemon off;'], ports: [{ containerPort: 80 }] }] },
});

describe('Kubelet against a real control plane', function () {
  this.timeout(60_000);
  let pki: Pki;
  let foreign: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  let kubelet: Kubelet;
  let port: number;

  before(async () => {
    [pki, foreign] = await Promise.all([issuePki({ nodes: ['node-1'] }), issuePki({ nodes: ['node-1'] })]);
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    kubelet = new Kubelet({
      nodeName: 'node-1', nodeIP: '127.0.2.1', podCIDR: '10.244.1.0/24', apiserver: cp.url,
      identity: identity(pki, kubeletClientName('node-1')), serverCa: caPem(pki, 'ca'),
      servingIdentity: identity(pki, kubeletServingName('node-1')), clientCa: caPem(pki, 'ca'),
      port: 0, leaseRenewIntervalMs: 100, statusUpdateIntervalMs: 200, retryMs: 50,
    }, { logger: silentLogger(), trace: cp.trace });
    port = (await kubelet.start()).port;
  });

  after(async () => {
    await kubelet?.stop();
    await cp?.stop();
  });

  it('registers its Node as Ready, with its real kubelet port, labels and pod CIDR', async () => {
    const node = await admin.get<Node>('/api/v1/nodes/node-1');
    expect(node.metadata.labels).to.include({ 'kubernetes.io/hostname': 'node-1', 'kubernetes.io/os': 'linux' });
    expect(node.spec.podCIDR).to.equal('10.244.1.0/24');
    expect(node.status?.daemonEndpoints?.kubeletEndpoint.Port).to.equal(port);
    expect(node.status?.addresses).to.deep.include({ type: 'InternalIP', address: '127.0.2.1' });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')).to.include({ status: 'True', reason: 'KubeletReady' });
  });

  it('holds and renews its Lease in kube-node-lease', async () => {
    const path = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1';
    const first = await admin.get<Lease>(path);
    expect(first.spec).to.include({ holderIdentity: 'node-1', leaseDurationSeconds: 40 });
    expect(first.metadata.ownerReferences?.[0]).to.include({ kind: 'Node', name: 'node-1' });
    const renewed = await waitFor('a renewed lease', async () => {
      const l = await admin.get<Lease>(path);
      return l.spec.renewTime !== first.spec.renewTime ? l : undefined;
    });
    expect(Date.parse(renewed.spec.renewTime!)).to.be.greaterThan(Date.parse(first.spec.renewTime!));
  });

  it('runs a pod bound to it: Running, a pod IP from its CIDR, ready containers', async () => {
    await admin.create('/api/v1/namespaces/default/pods', podSpec('web-1', 'node-1'));
    const pod = await waitFor('web-1 Running', async () => {
      const p = await admin.get<Pod>('/api/v1/namespaces/default/pods/web-1');
      return p.status?.phase === 'Running' ? p : undefined;
    });
    expect(pod.status?.podIP).to.match(/^10\.244\.1\.\d+$/);
    expect(pod.status?.hostIP).to.equal('127.0.2.1');
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).to.equal('True');
    expect(pod.status?.containerStatuses?.[0]).to.include({ name: 'web', ready: true });
    expect(pod.status?.containerStatuses?.[0]?.containerID).to.match(/^containerd:\/\/[0-9a-f]{64}$/);
  });

  it('serves container logs to the apiserver: GET pods/x/log goes apiserver → kubelet', async () => {
    const res = await admin.raw('GET', '/api/v1/namespaces/default/pods/web-1/log?container=web', undefined, undefined, '*/*');
    expect(res.status, res.body).to.equal(200);
    expect(res.body).to.include('Starting web (image docker.io/library/nginx:1.25)');
    expect(res.body).to.include("Command: nginx -g 'daemon off;'");
    const tail = await admin.raw('GET', '/api/v1/namespaces/default/pods/web-1/log?tailLines=1', undefined, undefined, '*/*');
    expect(tail.body).to.equal('web is ready\n');
    const hop = cp.recorder.events.find((e): e is RequestEvent => e.type === 'request' && e.server === 'kubelet (node-1)' && e.path.startsWith('/containerLogs/default/web-1/web'));
    expect(hop, 'the kubelet saw the apiserver\'s request').to.include({ user: 'kube-apiserver-kubelet-client', decision: 'allow', status: 200, verb: 'get', resource: 'nodes/proxy' });
  });

  it('authorizes its API by SubjectAccessReview: admin and apiserver-kubelet-client allowed', async () => {
    const ca = caPem(pki, 'ca');
    const asAdmin = await kubeletGet(port, '/pods', ca, identity(pki, 'admin.conf'));
    expect(asAdmin.status).to.equal(200);
    const list = JSON.parse(asAdmin.body) as { kind: string; items: Pod[] };
    expect(list.kind).to.equal('PodList');
    expect(list.items.map((p) => p.metadata.name)).to.include('web-1');
    const asApiserver = await kubeletGet(port, '/healthz', ca, identity(pki, 'apiserver-kubelet-client'));
    expect(asApiserver).to.deep.include({ status: 200, body: 'ok' });
    const logs = await kubeletGet(port, '/containerLogs/default/web-1/nope', ca, identity(pki, 'apiserver-kubelet-client'));
    expect(logs).to.deep.include({ status: 404, body: 'container "nope" not found in pod "web-1"' });
  });

  it('reads a client certificate\'s name as Go does (attacker\'s cases): the last CN, every O of a multi-valued RDN, 401 for a name Go cannot parse', async () => {
    const ca = caPem(pki, 'ca');
    const signer = pki.signers.get('ca')!;
    // Two CNs: Go's pkix.Name keeps the last one; the first (the apiserver's kubelet-client name) is no identity.
    const two = clientCert(signer, name([[CN, UTF8, 'kube-apiserver-kubelet-client']], [[CN, UTF8, 'mallory']]));
    expect(await kubeletGet(port, '/pods', ca, two)).to.deep.include({ status: 403, body: 'Forbidden (user=mallory, verb=get, resource=nodes, subresource=proxy)' });
    // One RDN holding CN and O: the O is a group (here one that may read nodes/proxy), not part of the user name.
    const multi = clientCert(signer, name([[CN, UTF8, 'carol'], [O, UTF8, 'kubeadm:cluster-admins']]));
    const answer = await kubeletGet(port, '/pods', ca, multi);
    expect(answer.status, answer.body).to.equal(200);
    // A UniversalString, which OpenSSL accepts and Go refuses: no identity, 401 even with anonymous auth off or on.
    const universal = clientCert(signer, name([[CN, 0x1c, Buffer.from([0, 0, 0, 0x61])]]));
    expect(await kubeletGet(port, '/pods', ca, universal)).to.deep.include({ status: 401, body: 'Unauthorized' });
  });

  it('answers 401 to a certificate from another CA and to no certificate, 403 to a user without nodes/proxy', async () => {
    const ca = caPem(pki, 'ca');
    const alien = await kubeletGet(port, '/pods', ca, identity(foreign, 'admin.conf'));
    expect(alien).to.deep.include({ status: 401, body: 'Unauthorized' });
    const none = await kubeletGet(port, '/pods', ca);
    expect(none).to.deep.include({ status: 401, body: 'Unauthorized' });
    const scheduler = await kubeletGet(port, '/pods', ca, identity(pki, 'scheduler.conf'));
    expect(scheduler).to.deep.include({ status: 403, body: 'Forbidden (user=system:kube-scheduler, verb=get, resource=nodes, subresource=proxy)' });
    const stats = await kubeletGet(port, '/stats/summary', ca, identity(pki, 'scheduler.conf'));
    expect(stats.body).to.equal('Forbidden (user=system:kube-scheduler, verb=get, resource=nodes, subresource=stats)');
    const events = cp.recorder.events.filter((e): e is RequestEvent => e.type === 'request' && e.server === 'kubelet (node-1)');
    expect(events.find((e) => e.status === 401 && e.reason === 'x509: certificate signed by unknown authority'), 'the foreign CA is named in the trace').to.not.equal(undefined);
    expect(events.find((e) => e.user === 'system:kube-scheduler')).to.include({ decision: 'deny', status: 403 });
  });

  it('stops a deleted pod and frees its IP', async () => {
    await admin.create('/api/v1/namespaces/default/pods', podSpec('web-2', 'node-1'));
    await waitFor('web-2 running', async () => (kubelet.runningPods().some((p) => p.name === 'web-2') ? true : undefined));
    expect(kubelet.podIPsInUse).to.equal(2);
    await admin.delete('/api/v1/namespaces/default/pods/web-2');
    await waitFor('web-2 gone from the kubelet', async () => (kubelet.runningPods().some((p) => p.name === 'web-2') ? undefined : true));
    expect(kubelet.runningPods().map((p) => p.name)).to.deep.equal(['web-1']);
    expect(kubelet.podIPsInUse).to.equal(1);
  });

  it('makes all its own API calls as system:node:node-1, and the Node authorizer allows each one', () => {
    const mine = cp.recorder.events.filter((e): e is RequestEvent => e.type === 'request' && e.server !== 'kubelet (node-1)' && e.user === 'system:node:node-1');
    const kinds = new Set(mine.map((e) => `${e.verb} ${e.resource}`));
    expect([...kinds]).to.include.members(['create nodes', 'create leases', 'update leases', 'list pods', 'watch pods', 'patch pods/status', 'create subjectaccessreviews']);
    expect(mine.filter((e) => e.decision !== 'allow').map((e) => `${e.method} ${e.path} ${e.status}`)).to.deep.equal([]);
  });

  it('stop() leaves the Node in place, and is idempotent', async () => {
    await kubelet.stop();
    await kubelet.stop();
    const node = await admin.get<Node>('/api/v1/nodes/node-1');
    expect(node.metadata.name).to.equal('node-1');
    await new Promise<void>((resolve) => {
      const req = https.request({ host: '127.0.2.1', port, path: '/healthz', ca: caPem(pki, 'ca'), agent: false });
      req.on('error', (err: NodeJS.ErrnoException) => { expect(err.code).to.equal('ECONNREFUSED'); resolve(); });
      req.end();
    });
  });

  it('re-registers over an existing Node (AlreadyExists → get + update status) and re-runs the pods bound to it', async () => {
    const again = new Kubelet({
      nodeName: 'node-1', nodeIP: '127.0.2.1', podCIDR: '10.244.1.0/24', apiserver: cp.url,
      identity: identity(pki, kubeletClientName('node-1')), serverCa: caPem(pki, 'ca'),
      servingIdentity: identity(pki, kubeletServingName('node-1')), clientCa: caPem(pki, 'ca'), port: 0, retryMs: 50,
    }, { logger: silentLogger(), trace: cp.trace });
    try {
      const addr = await again.start();
      expect(addr.port).to.not.equal(port);
      const node = await admin.get<Node>('/api/v1/nodes/node-1');
      expect(node.status?.daemonEndpoints?.kubeletEndpoint.Port, 'the Node now points at the new kubelet').to.equal(addr.port);
      expect(again.runningPods().map((p) => p.name)).to.deep.equal(['web-1']);
    } finally {
      await again.stop();
    }
  });
});
