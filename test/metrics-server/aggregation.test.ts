import { expect } from 'chai';
import https from 'node:https';
import { issuePki, type Pki } from '../../pki/store.js';
import { Cluster } from '../../sim/cluster.js';
import { Trace } from '../../components/client/trace.js';
import { silentLogger } from '../../sim/logger.js';
import { ApiError, type KubeClient } from '../../components/client/kube-client.js';
import type { KubeObject } from '../../components/api/types.js';
import { readAuthenticationConfigMap } from '../../components/api/requestheader.js';
import { createTlsAgent } from '../../components/client/tls.js';
import { availability, clientCert, METRICS_APISERVICE, NODE_METRICS, twoScrapes } from '../../scenarios/metrics-server-setup.js';
import { parseMetrics, usageOf } from '../../components/metrics-server/scraper.js';

const apiService = (name: string, group: string, service: string): KubeObject => ({
  apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name },
  spec: { group, version: 'v1', groupPriorityMinimum: 100, versionPriority: 10, insecureSkipTLSVerify: true, service: { namespace: 'default', name: service, port: 443 } },
} as KubeObject);

describe('the aggregation layer', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cluster: Cluster;
  let admin: KubeClient;
  before(async function () {
    pki = await issuePki({ nodes: ['node-1'] });
    cluster = await new Cluster({ pki, trace: new Trace(), logger: silentLogger(), ports: 'ephemeral', metricsServer: { metricResolutionMs: 300 } }).start();
    admin = cluster.client('admin.conf');
  });
  after(async function () { await cluster?.stop(); });

  it('publishes kube-system/extension-apiserver-authentication as the apiserver writes it', async function () {
    const cm = await admin.get<KubeObject & { data: Record<string, string> }>('/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication');
    expect(Object.keys(cm.data).sort()).to.deep.equal(['client-ca-file', 'requestheader-allowed-names', 'requestheader-client-ca-file',
      'requestheader-extra-headers-prefix', 'requestheader-group-headers', 'requestheader-username-headers']);
    const read = readAuthenticationConfigMap(cm);
    expect(read.requestHeader).to.deep.include({ allowedNames: ['front-proxy-client'], usernameHeaders: ['X-Remote-User'], groupHeaders: ['X-Remote-Group'], extraHeadersPrefix: ['X-Remote-Extra-'] });
    expect(read.requestHeader?.clientCa).to.include('BEGIN CERTIFICATE').and.not.equal(read.clientCa);
  });

  it('marks v1beta1.metrics.k8s.io Available and proxies metrics.k8s.io to metrics-server', async function () {
    const c = await availability(admin, METRICS_APISERVICE, (s) => s === 'True');
    expect(c).to.deep.equal({ status: 'True', reason: 'Passed', message: 'all checks passed' });
    await twoScrapes(cluster.metricsServer!);
    const list = await admin.request<{ kind: string; items: { metadata: { name: string }; usage: { cpu: string; memory: string } }[] }>('GET', NODE_METRICS);
    expect(list.kind).to.equal('NodeMetricsList');
    expect(list.items.map((i) => i.metadata.name)).to.deep.equal(['node-1']);
    expect(list.items[0]!.usage.cpu).to.match(/^[1-9]\d*n$/);
    expect(list.items[0]!.usage.memory).to.match(/^\d+Ki$/);
  });

  it('says why an APIService is not available: ServiceNotFound, MissingEndpoints, FailedDiscoveryCheck', async function () {
    await admin.create('/apis/apiregistration.k8s.io/v1/apiservices', apiService('v1.nowhere.example.com', 'nowhere.example.com', 'nowhere'));
    expect(await availability(admin, 'v1.nowhere.example.com', (s) => s === 'False')).to.deep.equal({ status: 'False', reason: 'ServiceNotFound', message: 'service/nowhere in "default" is not present' });

    await admin.create('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'closed' }, spec: { ports: [{ name: 'https', port: 443 }] } } as KubeObject);
    await admin.create('/api/v1/namespaces/default/endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'closed' }, subsets: [{ addresses: [{ ip: '127.0.4.9' }], ports: [{ name: 'other', port: 9 }] }] } as KubeObject);
    await admin.create('/apis/apiregistration.k8s.io/v1/apiservices', apiService('v1.closed.example.com', 'closed.example.com', 'closed'));
    expect(await availability(admin, 'v1.closed.example.com', (s, r) => r === 'MissingEndpoints')).to.deep.include({ status: 'False', message: 'endpoints for service/closed in "default" have no addresses with port name "https"' });

    // A port nothing listens on: the discovery GET is refused.
    await admin.update('/api/v1/namespaces/default/endpoints/closed', { ...(await admin.get('/api/v1/namespaces/default/endpoints/closed')), subsets: [{ addresses: [{ ip: '127.0.4.9' }], ports: [{ name: 'https', port: 9 }] }] } as KubeObject);
    const failed = await availability(admin, 'v1.closed.example.com', (s, r) => r === 'FailedDiscoveryCheck');
    expect(failed.message).to.equal('failing or missing response from https://127.0.4.9:9/apis/closed.example.com/v1: Get "https://127.0.4.9:9/apis/closed.example.com/v1": dial tcp 127.0.4.9:9: connect: connection refused');
    // Not available: the proxy answers 503 without dialling.
    const r = await admin.raw('GET', '/apis/closed.example.com/v1/things');
    expect(r.status).to.equal(503);
    expect(r.body).to.equal('service unavailable\n');
  });

  it('refuses an APIService whose name is not <version>.<group>', async function () {
    const bad = apiService('wrong-name', 'x.example.com', 'x');
    const err = await admin.create('/apis/apiregistration.k8s.io/v1/apiservices', bad).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApiError);
    expect((err as ApiError).httpStatus).to.equal(422);
    expect((err as ApiError).message).to.include('must be `spec.version+"."+spec.group`: "v1.x.example.com"');
  });

  it('metrics-server ignores X-Remote-User from a Kubernetes-CA certificate and believes it from front-proxy-client', async function () {
    const ms = cluster.metricsServer!;
    const get = async (identity: { cert: string; key: string }): Promise<{ status: number; body: string }> => {
      const agent = createTlsAgent({ name: 'test', target: 'metrics-server', identity, serverCa: ms.caBundle, servername: 'metrics-server.kube-system.svc' }, undefined);
      try {
        return await new Promise((resolve, reject) => {
          const req = https.request({ host: ms.address!.address, port: ms.address!.port, path: NODE_METRICS, agent, headers: { 'X-Remote-User': 'system:admin', 'X-Remote-Group': ['system:masters'] } }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => { body += c.toString(); });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on('error', reject);
          req.end();
        });
      } finally { agent.destroy(); }
    };
    const spoof = await get(await clientCert(pki, 'ca', 'mallory'));
    expect(spoof.status).to.equal(403);
    expect(JSON.parse(spoof.body).message).to.equal('nodes.metrics.k8s.io is forbidden: User "mallory" cannot list resource "nodes" in API group "metrics.k8s.io" at the cluster scope');
    const proxy = await get({ cert: (await import('../../sim/wiring.js')).identityOf(pki, 'front-proxy-client').cert, key: (await import('../../sim/wiring.js')).identityOf(pki, 'front-proxy-client').key });
    expect(proxy.status).to.equal(200);
  });
});

describe('metrics-server storage', function () {
  it('reads /metrics/resource and makes a rate from two points', function () {
    const s = parseMetrics('# TYPE node_cpu_usage_seconds_total counter\nnode_cpu_usage_seconds_total 10.5 1000\ncontainer_memory_working_set_bytes{container="a",namespace="n",pod="p"} 1.2e+07 1000\n');
    expect(s).to.deep.equal([
      { name: 'node_cpu_usage_seconds_total', labels: {}, value: 10.5, ts: 1000 },
      { name: 'container_memory_working_set_bytes', labels: { container: 'a', namespace: 'n', pod: 'p' }, value: 12_000_000, ts: 1000 },
    ]);
    expect(usageOf([{ ts: 1000, cpuSeconds: 10, memoryBytes: 1 }])).to.equal(undefined);
    expect(usageOf([{ ts: 1000, cpuSeconds: 10, memoryBytes: 1 }, { ts: 3000, cpuSeconds: 10.2, memoryBytes: 2048 }])).to.deep.equal({ timestamp: 3000, windowMs: 2000, cpuNanocores: 100_000_000, memoryBytes: 2048 });
  });
});
