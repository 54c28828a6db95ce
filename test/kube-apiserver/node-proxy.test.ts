import { expect } from 'chai';
import { caPem, issuePki, type Pki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { silentLogger } from '../../sim/logger.js';
import { Trace, type RequestEvent } from '../../components/client/trace.js';
import { TraceRecorder } from '../../sim/trace.js';
import { KubeClient } from '../../components/client/kube-client.js';

/** nodes/<name>/proxy/<path>: the apiserver calls the node's kubelet, which decides on its own. */
describe('kube-apiserver: nodes/<name>/proxy', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cluster: Cluster;
  let recorder: TraceRecorder;
  before(async () => {
    pki = await issuePki({ nodes: ['node-1'] });
    const trace = new Trace();
    recorder = new TraceRecorder(trace);
    cluster = await new Cluster({ pki, trace, logger: silentLogger(), ports: 'ephemeral', kubeletCertificateAuthority: true }).start();
  });
  after(async () => {
    recorder.stop();
    await cluster.stop();
  });

  it('GET /proxy/healthz and /proxy/pods reach the kubelet with apiserver-kubelet-client, which checks it and asks a SubjectAccessReview', async () => {
    const admin = cluster.client('admin.conf');
    const health = await admin.raw('GET', '/api/v1/nodes/node-1/proxy/healthz', undefined, 'application/json', '*/*');
    expect(health.status).to.equal(200);
    expect(health.body).to.equal('ok');
    const pods = await admin.raw('GET', '/api/v1/nodes/node-1/proxy/pods');
    expect(pods.status).to.equal(200);
    expect(JSON.parse(pods.body)).to.include({ kind: 'PodList', apiVersion: 'v1' });
    const atKubelet = recorder.events.filter((e): e is RequestEvent => e.type === 'request' && e.server === 'kubelet (node-1)');
    expect(atKubelet.map((e) => `${e.user} ${e.verb} ${e.path} ${e.resource} ${e.decision} ${e.status}`)).to.deep.equal([
      'kube-apiserver-kubelet-client get /healthz nodes/proxy allow 200',
      'kube-apiserver-kubelet-client get /pods nodes/proxy allow 200',
    ]);
  });

  it('is authorized at the apiserver as nodes/proxy: the scheduler gets the 403 with Kubernetes\' message', async () => {
    const r = await cluster.client('scheduler.conf').raw('GET', '/api/v1/nodes/node-1/proxy/pods');
    expect(r.status).to.equal(403);
    expect(JSON.parse(r.body).message).to.equal('nodes "node-1" is forbidden: User "system:kube-scheduler" cannot get resource "nodes/proxy" in API group "" at the cluster scope');
  });

  it('an unknown node is 404 from the apiserver, before any kubelet is dialled', async () => {
    const r = await cluster.client('admin.conf').raw('GET', '/api/v1/nodes/node-9/proxy/pods');
    expect(r.status).to.equal(404);
    expect(JSON.parse(r.body).message).to.equal('nodes "node-9" not found');
  });

  it('a kubelet the apiserver cannot reach is a 503: error trying to reach service', async () => {
    const admin = cluster.client('admin.conf');
    await admin.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'gone' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.2.250' }], daemonEndpoints: { kubeletEndpoint: { Port: 1 } } } });
    const r = await admin.raw('GET', '/api/v1/nodes/gone/proxy/pods');
    expect(r.status).to.equal(503);
    expect(JSON.parse(r.body)).to.include({ reason: 'ServiceUnavailable', message: 'error trying to reach service: dial tcp 127.0.2.250:1: connect: connection refused' });
  });

  it('the kubelet\'s own refusal comes back as it is: no client certificate at the kubelet is its 401', async () => {
    // A client straight to the kubelet, for comparison with what the proxy passes through.
    const direct = new KubeClient({ name: 'curl', server: cluster.endpoints.kubelets['node-1']!, serverCa: caPem(pki, 'ca') });
    try {
      const r = await direct.raw('GET', '/pods');
      expect(r.status).to.equal(401);
    } finally { direct.close(); }
  });
});
