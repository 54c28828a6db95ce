import { expect } from 'chai';
import {
  portProtoHash, probability, readyEndpointsByPort, renderNatTable, saveString, serviceExternalChainName, servicePortChainName, servicePortEndpointChainName, servicePorts,
} from '../../components/kube-proxy/iptables.js';
import type { EndpointSlice, Service } from '../../components/api/types.js';

const kubernetesSvc: Service = {
  metadata: { namespace: 'default', name: 'kubernetes' },
  spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }] },
};
const kubernetesEp: EndpointSlice = {
  metadata: { namespace: 'default', name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
  addressType: 'IPv4',
  endpoints: [{ addresses: ['127.0.1.1'], conditions: { ready: true } }],
  ports: [{ name: 'https', port: 6443, protocol: 'TCP' }],
};
const slice = (name: string, service: string, ips: string[], ready = true): EndpointSlice => ({
  metadata: { namespace: 'shop', name, labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
  addressType: 'IPv4',
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready, serving: ready, terminating: false } })),
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});
const web = (ips: string[], type?: Service['spec']['type']): { svc: Service; ep: EndpointSlice } => {
  const ep = slice('web-x7k2p', 'web', ips);
  // a pod that is not Ready is in the slice with ready: false
  ep.endpoints!.push({ addresses: ['10.244.9.9'], conditions: { ready: false, serving: false, terminating: false } });
  return {
    svc: { metadata: { namespace: 'shop', name: 'web' }, spec: { clusterIP: '10.96.10.20', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }], ...(type ? { type } : {}) } },
    ep,
  };
};

describe('kube-proxy iptables rendering', () => {
  it('names chains as proxier.go does: KUBE-SVC-NPX46M4PTMTKRN6Y for default/kubernetes:https over tcp', () => {
    expect(servicePortChainName('default/kubernetes:https', 'tcp')).to.equal('KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(portProtoHash('default/kubernetes:https', 'tcp')).to.have.length(16);
    // the protocol is part of the hash: the same port over udp is another chain
    expect(servicePortChainName('default/kubernetes:https', 'udp')).to.not.equal('KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(serviceExternalChainName('default/kubernetes:https', 'tcp')).to.equal('KUBE-EXT-NPX46M4PTMTKRN6Y');
    const sep = servicePortEndpointChainName('default/kubernetes:https', 'tcp', '127.0.1.1:6443');
    expect(sep).to.match(/^KUBE-SEP-[A-Z2-7]{16}$/);
    expect(sep).to.not.equal(servicePortEndpointChainName('default/kubernetes:https', 'tcp', '127.0.1.2:6443'));
    // well-known kube-dns chains from real clusters
    expect(servicePortChainName('kube-system/kube-dns:dns', 'udp')).to.equal('KUBE-SVC-TCOU7JCQXEZGVUNU');
    expect(servicePortChainName('kube-system/kube-dns:dns-tcp', 'tcp')).to.equal('KUBE-SVC-ERIFXISQEP7F7OF4');
    expect(servicePortChainName('kube-system/kube-dns:metrics', 'tcp')).to.equal('KUBE-SVC-JD5MR3NA4I4DYORP');
  });

  it('quotes comments as xtables_save_string does and prints probabilities with 11 decimals', () => {
    expect(saveString('abc_D-9')).to.equal('abc_D-9');
    expect(saveString('default/kubernetes:https')).to.equal('"default/kubernetes:https"');
    expect(saveString('say "hi"')).to.equal('"say \\"hi\\""');
    expect(probability(2)).to.equal('0.50000000000');
    expect(probability(3)).to.equal('0.33333333333');
  });

  it('joins services with the ready endpoints of the slice port of the same name, sorted; headless and ExternalName services get no rules', () => {
    const { svc, ep } = web(['10.244.2.3', '10.244.1.2']);
    const ports = servicePorts([svc, { metadata: { namespace: 'x', name: 'headless' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
      { metadata: { namespace: 'x', name: 'alias' }, spec: { type: 'ExternalName', externalName: 'example.com' } }], [ep]);
    expect(ports).to.have.length(1);
    expect(ports[0]).to.include({ name: 'shop/web:http', protocol: 'tcp', clusterIP: '10.96.10.20', port: 80 });
    expect(ports[0]!.endpoints).to.deep.equal(['10.244.1.2:8080', '10.244.2.3:8080']);
    expect(ports[0]!.nodePort, 'a ClusterIP service has no node port rules').to.equal(undefined);
  });

  it('gathers a service\'s endpoints from all its slices by the kubernetes.io/service-name label, ready ones only', () => {
    const { svc } = web([]);
    const a = slice('web-aaaaa', 'web', ['10.244.2.3', '10.244.1.2']);
    const b = slice('web-bbbbb', 'web', ['10.244.1.7', '10.244.1.2']);
    const notReady = slice('web-ccccc', 'web', ['10.244.3.3'], false);
    const other = slice('api-ddddd', 'api', ['10.244.4.4']);
    const unlabelled: EndpointSlice = { ...slice('web-eeeee', 'web', ['10.244.5.5']), metadata: { namespace: 'shop', name: 'web-eeeee' } };
    const ipv6: EndpointSlice = { ...slice('web-fffff', 'web', ['fd00::1']), addressType: 'IPv6' };
    const unset: EndpointSlice = { ...slice('web-ggggg', 'web', []), endpoints: [{ addresses: ['10.244.6.6'] }] };
    const ports = servicePorts([svc], [a, b, notReady, other, unlabelled, ipv6, unset]);
    expect(ports).to.have.length(1);
    expect(ports[0]!.endpoints, 'de-duplicated, sorted; not-ready, unlabelled, other-service and IPv6 slices left out; unset ready counts as ready')
      .to.deep.equal(['10.244.1.2:8080', '10.244.1.7:8080', '10.244.2.3:8080', '10.244.6.6:8080']);
    // a slice port of another name or protocol does not serve this service port
    const udp: EndpointSlice = { ...slice('web-hhhhh', 'web', ['10.244.7.7']), ports: [{ name: 'http', port: 8080, protocol: 'UDP' }] };
    const named: EndpointSlice = { ...slice('web-iiiii', 'web', ['10.244.8.8']), ports: [{ name: 'metrics', port: 9090, protocol: 'TCP' }] };
    expect(servicePorts([svc], [udp, named])[0]!.endpoints).to.deep.equal([]);
    expect([...readyEndpointsByPort([udp, named]).keys()]).to.deep.equal(['shop/web:http|udp', 'shop/web:metrics|tcp']);
  });

  it('renders the nat table in iptables-save shape for the kubernetes service', () => {
    const text = renderNatTable(servicePorts([kubernetesSvc], [kubernetesEp]), { clusterCIDR: '10.244.0.0/16' });
    const sep = servicePortEndpointChainName('default/kubernetes:https', 'tcp', '127.0.1.1:6443');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).to.equal('*nat');
    expect(lines.at(-1)).to.equal('COMMIT');
    expect(lines).to.include.members([
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SERVICES - [0:0]', ':KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]', `:${sep} - [0:0]`, ':KUBE-POSTROUTING - [0:0]', ':KUBE-MARK-MASQ - [0:0]',
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
      '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y',
      '-A KUBE-SVC-NPX46M4PTMTKRN6Y ! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j KUBE-MARK-MASQ',
      `-A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment "default/kubernetes:https -> 127.0.1.1:6443" -j ${sep}`,
      `-A ${sep} -s 127.0.1.1/32 -m comment --comment "default/kubernetes:https" -j KUBE-MARK-MASQ`,
      `-A ${sep} -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination 127.0.1.1:6443`,
    ]);
    // chain declarations come first (built-ins, then kube-proxy's in name order), then rules chain by chain
    const declared = lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1, l.indexOf(' ')));
    expect(declared.slice(0, 4)).to.deep.equal(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']);
    expect(declared.slice(4)).to.deep.equal([...declared.slice(4)].sort());
    const ruleChains = lines.filter((l) => l.startsWith('-A ')).map((l) => l.split(' ')[1]!);
    expect(ruleChains.map((c) => declared.indexOf(c))).to.deep.equal(ruleChains.map((c) => declared.indexOf(c)).sort((a, b) => a - b));
    // the node-ports jump is the last KUBE-SERVICES rule
    const services = lines.filter((l) => l.startsWith('-A KUBE-SERVICES '));
    expect(services.at(-1)).to.equal('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  });

  it('spreads traffic over endpoints with random-mode probabilities 1/n, 1/(n-1), ..., the last rule unconditional', () => {
    const { svc, ep } = web(['10.244.1.2', '10.244.1.3', '10.244.2.2']);
    const text = renderNatTable(servicePorts([svc], [ep]));
    const chain = servicePortChainName('shop/web:http', 'tcp');
    const jumps = text.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
    expect(jumps).to.deep.equal([
      `-A ${chain} -m comment --comment "shop/web:http -> 10.244.1.2:8080" -m statistic --mode random --probability 0.33333333333 -j ${servicePortEndpointChainName('shop/web:http', 'tcp', '10.244.1.2:8080')}`,
      `-A ${chain} -m comment --comment "shop/web:http -> 10.244.1.3:8080" -m statistic --mode random --probability 0.50000000000 -j ${servicePortEndpointChainName('shop/web:http', 'tcp', '10.244.1.3:8080')}`,
      `-A ${chain} -m comment --comment "shop/web:http -> 10.244.2.2:8080" -j ${servicePortEndpointChainName('shop/web:http', 'tcp', '10.244.2.2:8080')}`,
    ]);
    expect(text, 'not-ready addresses get no chain').to.not.include('10.244.9.9');
  });

  it('writes no nat chains for a service without endpoints, and node-port rules through KUBE-EXT for a NodePort service', () => {
    const empty = web([]);
    const none = renderNatTable(servicePorts([empty.svc], [empty.ep]));
    expect(none).to.not.include('shop/web');
    expect(none).to.not.include('KUBE-SVC-');

    const np = web(['10.244.1.2'], 'NodePort');
    const text = renderNatTable(servicePorts([np.svc], [np.ep]));
    const ext = serviceExternalChainName('shop/web:http', 'tcp');
    expect(text).to.include(`-A KUBE-NODEPORTS -p tcp -m comment --comment "shop/web:http" -m tcp --dport 30080 -j ${ext}`);
    expect(text).to.include(`-A ${ext} -m comment --comment "masquerade traffic for shop/web:http external destinations" -j KUBE-MARK-MASQ`);
    expect(text).to.include(`-A ${ext} -j ${servicePortChainName('shop/web:http', 'tcp')}`);
  });

  it('stamps iptables-save header and footer lines when asked', () => {
    const text = renderNatTable([], { savedAt: new Date('2024-03-05T07:08:09Z') });
    expect(text.split('\n')[0]).to.equal('# Generated by iptables-save v1.8.9 (nf_tables) on Tue Mar  5 07:08:09 2024');
    expect(text.trimEnd().split('\n').at(-1)).to.equal('# Completed on Tue Mar  5 07:08:09 2024');
  });
});
