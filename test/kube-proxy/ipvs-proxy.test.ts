import { expect } from 'chai';
import { KubeProxy, type IpvsView } from '../../components/kube-proxy/index.js';
import type { KubeClient } from '../../components/client/kube-client.js';
import type { EndpointSlice, Service } from '../../components/api/types.js';
import { caPem, credential, issuePki, type Pki } from '../../pki/store.js';
import { silentLogger } from '../../sim/logger.js';
import type { TlsClientEvent } from '../../components/client/trace.js';
import { startControlPlane, type ControlPlane } from '../helpers/control-plane.js';
import { iptablesBackends, ipvsBackends } from '../helpers/proxy-views.js';

const NODE_IP = '127.0.2.1';

describe('KubeProxy in ipvs mode against a real control plane, beside one in iptables mode', function () {
  this.timeout(60_000);
  let pki: Pki;
  let cp: ControlPlane;
  let admin: KubeClient;
  let iptables: KubeProxy;
  let ipvs: KubeProxy;

  before(async () => {
    pki = await issuePki({ nodes: ['node-1'] });
    cp = await startControlPlane(pki);
    admin = cp.client('admin.conf');
    await admin.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    const c = credential(pki, 'kube-proxy.conf');
    const common = { nodeName: 'node-1', nodeIP: NODE_IP, apiserver: cp.url, identity: { cert: c.certPem, key: c.keyPem }, serverCa: caPem(pki, 'ca'), retryMs: 50 };
    iptables = new KubeProxy(common, { logger: silentLogger(), trace: cp.trace });
    ipvs = new KubeProxy({ ...common, mode: 'ipvs' }, { logger: silentLogger(), trace: cp.trace });
    await Promise.all([iptables.start(), ipvs.start()]);
  });

  after(async () => {
    await Promise.all([iptables?.stop(), ipvs?.stop()]);
    await cp?.stop();
  });

  const view = (): IpvsView => ipvs.ipvs()!;
  const agree = (): void => {
    const fromIptables = iptablesBackends(iptables.rules());
    const fromIpvs = ipvsBackends(view().ipvsadm, [NODE_IP]);
    for (const [key, targets] of fromIptables) expect(fromIpvs.get(key), key).to.deep.equal(targets);
    for (const [key, real] of fromIpvs) if (!fromIptables.has(key)) expect(real, `${key}: only ipvs keeps a service without endpoints`).to.deep.equal([]);
  };

  it('reads the same objects over the same mTLS as iptables mode, and programs the kubernetes service as a virtual server', async () => {
    expect(ipvs.mode).to.equal('ipvs');
    expect(iptables.ipvs()).to.equal(undefined);
    await ipvs.waitFor((_, v) => v?.ipvsadm.includes('TCP  10.96.0.1:443 rr') ?? false);
    expect(view().ipvsadm).to.match(/\nTCP {2}10\.96\.0\.1:443 rr\n {2}-> 127\.0\.1\.1:\d+ +Masq {4}1 {6}0 {10}0 {9}\n/);
    expect(view().kubeIpvs0).to.include('    inet 10.96.0.1/32 scope global kube-ipvs0\n');
    const handshakes = cp.recorder.events.filter((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === 'kube-proxy (node-1)' && e.handshake === 'ok');
    expect(handshakes.length, 'both proxies dialled the apiserver with kube-proxy.conf').to.be.at.least(2);
    expect(handshakes.every((e) => e.clientCert?.cn === 'system:kube-proxy')).to.equal(true);
    await iptables.waitFor((r) => r.includes('default/kubernetes:https cluster IP'));
    agree();
  });

  it('follows endpoint changes: real servers come and go with the slices, the ClusterIP leaves kube-ipvs0 with the Service', async () => {
    const svc = await admin.create<Service>('/api/v1/namespaces/shop/services', {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' },
      spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }] },
    });
    const ip = svc.spec.clusterIP!;
    const nodePort = svc.spec.ports![0]!.nodePort!;
    const vs = `TCP ${ip}:80`;
    // A Service without endpoints: a virtual server with no real server, its address already on kube-ipvs0.
    await ipvs.waitFor((_, v) => ipvsBackends(v?.ipvsadm ?? '').has(vs));
    expect(ipvsBackends(view().ipvsadm).get(vs)).to.deep.equal([]);
    expect(view().addresses).to.include(ip);
    expect(view().ipset).to.include(`\n${nodePort}\n`);

    const slices = '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices';
    const ep = (addr: string, ready = true): NonNullable<EndpointSlice['endpoints']>[number] => ({ addresses: [addr], conditions: { ready }, nodeName: 'node-1' });
    const created = await admin.create<EndpointSlice>(slices, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { generateName: 'web-', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', endpoints: [ep('10.244.1.2'), ep('10.244.1.3'), ep('10.244.1.9', false)], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    const backends = (): string[] | undefined => ipvsBackends(view().ipvsadm, [NODE_IP]).get(vs);
    await ipvs.waitFor((_, v) => ipvsBackends(v?.ipvsadm ?? '').get(vs)?.length === 2);
    expect(backends()).to.deep.equal(['10.244.1.2:8080', '10.244.1.3:8080']);
    expect(ipvsBackends(view().ipvsadm, [NODE_IP]).get(`TCP *:${nodePort}`), 'the node port on the node address').to.deep.equal(backends());
    expect(view().ipset, 'local endpoints in KUBE-LOOP-BACK').to.include('10.244.1.2,tcp:8080,10.244.1.2');
    await iptables.waitFor((r) => r.includes('10.244.1.3:8080'));
    agree();

    // One endpoint stops being ready, another appears: the real servers follow.
    const path = `${slices}/${created.metadata.name!}`;
    const current = await admin.get<EndpointSlice>(path);
    await admin.update<EndpointSlice>(path, { ...current, endpoints: [ep('10.244.1.2', false), ep('10.244.1.3'), ep('10.244.1.4')] });
    await ipvs.waitFor((_, v) => ipvsBackends(v?.ipvsadm ?? '').get(vs)?.join() === '10.244.1.3:8080,10.244.1.4:8080');
    expect(view().ipset, 'a local endpoint that is not ready stays in KUBE-LOOP-BACK').to.include('10.244.1.2,tcp:8080,10.244.1.2');
    await iptables.waitFor((r) => r.includes('10.244.1.4:8080') && !r.includes('10.244.1.2:8080'));
    agree();

    // The slice goes: the virtual server stays, empty; the Service goes: so do the virtual servers and the address.
    await admin.delete(path);
    await ipvs.waitFor((_, v) => ipvsBackends(v?.ipvsadm ?? '').get(vs)?.length === 0);
    expect(view().ipset).to.not.include('10.244.1.');
    const before = view().addresses;
    await admin.delete('/api/v1/namespaces/shop/services/web');
    await ipvs.waitFor((_, v) => !(v?.ipvsadm.includes(`${ip}:80`) ?? true));
    expect(view().ipvsadm).to.not.include(`:${nodePort}`);
    expect(view().addresses).to.deep.equal(before.filter((a) => a !== ip));
    expect(view().kubeIpvs0).to.not.include(`inet ${ip}/32`);
  });
});
