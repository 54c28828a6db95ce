import { expect } from 'chai';
import { waitFor } from '../../sim/wait.js';
import { KubeProxy, KubeProxyError } from '../../components/kube-proxy/index.js';
import { servicePortChainName, servicePortEndpointChainName } from '../../components/kube-proxy/iptables.js';
import type { KubeClient } from '../../components/client/kube-client.js';
import type { EndpointSlice, Service } from '../../components/api/types.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import type { RequestEvent } from '../../components/client/trace.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';

const dnat = (ep: string): string => `-m comment --comment "shop/web:http" -m tcp -j DNAT --to-destination ${ep}`;

describe('KubeProxy against a real control plane', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  let proxy: KubeProxy;

  before(async () => {
    pki = await issuePki({ nodes: ['node-1'] });
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    await admin.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    const c = credential(pki, 'kube-proxy.conf');
    proxy = new KubeProxy({ nodeName: 'node-1', apiserver: cp.url, identity: { cert: c.certPem, key: c.keyPem }, serverCa: caPem(pki, 'ca'), retryMs: 50 }, { logger: silentLogger(), trace: cp.trace });
    await proxy.start();
  });

  after(async () => {
    await proxy?.stop();
    await cp?.stop();
  });

  it('programs the kubernetes service from the apiserver\'s own Service and EndpointSlice, as system:kube-proxy', async () => {
    const rules = await proxy.waitFor((r) => r.includes('KUBE-SVC-NPX46M4PTMTKRN6Y'));
    expect(rules).to.include('-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(rules).to.match(/-A KUBE-SEP-[A-Z2-7]{16} -p tcp -m comment --comment "default\/kubernetes:https" -m tcp -j DNAT --to-destination 127\.0\.1\.1:\d+\n/);
    const proxyRequests = (): RequestEvent[] => cp.recorder.events.filter((e): e is RequestEvent => e.type === 'request' && e.user === 'system:kube-proxy');
    // The rules come from the informers' lists; their watches may still be starting (the watch cache's first list).
    await waitFor('the informers\' watches', () => (['watch services', 'watch endpointslices'].every((w) => proxyRequests().some((e) => `${e.verb} ${e.resource}` === w)) ? true : undefined));
    const reqs = proxyRequests();
    expect(reqs.map((e) => `${e.verb} ${e.resource}`)).to.include.members(['list services', 'list endpointslices', 'watch services', 'watch endpointslices']);
    expect(reqs.map((e) => e.resource), 'kube-proxy no longer reads the core Endpoints').to.not.include('endpoints');
    expect(reqs.every((e) => e.decision === 'allow')).to.equal(true);
    const lists = reqs.filter((e) => e.verb === 'list' && e.resource === 'endpointslices');
    expect(decodeURIComponent(lists[0]!.path), 'with the informers\' label selector').to.include('labelSelector=!service.kubernetes.io/headless,!service.kubernetes.io/service-proxy-name');
  });

  it('follows a Service and its EndpointSlices as endpoints come and go', async () => {
    const svc = await admin.create<Service>('/api/v1/namespaces/shop/services', {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] },
    });
    const clusterIP = svc.spec.clusterIP!;
    expect(clusterIP).to.match(/^10\.(9[6-9]|1[01]\d)\.\d+\.\d+$/);
    const chain = servicePortChainName('shop/web:http', 'tcp');
    // a Service without endpoints has no nat chain
    expect(proxy.rules()).to.not.include(chain);

    const slices = '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices';
    const ep = (ip: string, ready = true): NonNullable<EndpointSlice['endpoints']>[number] => ({ addresses: [ip], conditions: { ready } });
    const created = await admin.create<EndpointSlice>(slices, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { generateName: 'web-', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', endpoints: [ep('10.244.1.2'), ep('10.244.1.9', false)], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    const path = `${slices}/${created.metadata.name!}`;
    let rules = await proxy.waitFor((r) => r.includes(dnat('10.244.1.2:8080')));
    expect(rules).to.include(`-A KUBE-SERVICES -d ${clusterIP}/32 -p tcp -m comment --comment "shop/web:http cluster IP" -m tcp --dport 80 -j ${chain}`);
    expect(rules).to.include(`-A ${chain} -m comment --comment "shop/web:http -> 10.244.1.2:8080" -j ${servicePortEndpointChainName('shop/web:http', 'tcp', '10.244.1.2:8080')}`);
    expect(rules, 'an endpoint that is not ready gets no rule').to.not.include('10.244.1.9');

    // a second slice of the same service adds its endpoints
    const second = await admin.create<EndpointSlice>(slices, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { generateName: 'web-', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', endpoints: [ep('10.244.2.2')], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    rules = await proxy.waitFor((r) => r.includes(dnat('10.244.2.2:8080')));
    expect(rules).to.include(`-A ${chain} -m comment --comment "shop/web:http -> 10.244.1.2:8080" -m statistic --mode random --probability 0.50000000000 -j`);

    const current = await admin.get<EndpointSlice>(path);
    await admin.update<EndpointSlice>(path, { ...current, endpoints: [ep('10.244.1.2', false)] });
    rules = await proxy.waitFor((r) => !r.includes('10.244.1.2'));
    expect(rules).to.include(dnat('10.244.2.2:8080'));
    expect(rules).to.not.include('--probability');

    await admin.delete(`${slices}/${second.metadata.name!}`);
    rules = await proxy.waitFor((r) => !r.includes(chain));
    expect(rules, 'no ready endpoint left: no chain').to.not.include('shop/web');
    await admin.delete('/api/v1/namespaces/shop/services/web');
  });

  it('ignores the slices of a headless service (the informers\' label selector)', async () => {
    await admin.create<Service>('/api/v1/namespaces/shop/services', {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'shop' },
      spec: { selector: { app: 'db' }, ports: [{ name: 'sql', protocol: 'TCP', port: 5432 }] },
    });
    const mk = (name: string, labels: Record<string, string>, ip: string): Promise<EndpointSlice> => admin.create<EndpointSlice>('/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices', {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db', ...labels } },
      addressType: 'IPv4', endpoints: [{ addresses: [ip] }], ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }],
    });
    await mk('db-headless', { 'service.kubernetes.io/headless': '' }, '10.244.1.50');
    await mk('db-other-proxy', { 'service.kubernetes.io/service-proxy-name': 'someone-else' }, '10.244.1.51');
    await mk('db-plain', {}, '10.244.1.52');
    const rules = await proxy.waitFor((r) => r.includes('10.244.1.52:5432'));
    expect(rules).to.not.include('10.244.1.50');
    expect(rules).to.not.include('10.244.1.51');
  });

  it('waitFor times out with the current rules, and is rejected by stop()', async () => {
    const err = await proxy.waitFor(() => false, 50).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(KubeProxyError).with.property('code', 'TIMEOUT');
    const pending = proxy.waitFor(() => false, 30_000).catch((e: unknown) => e);
    await proxy.stop();
    expect(await pending).to.be.instanceOf(KubeProxyError).with.property('code', 'STOPPED');
  });
});
