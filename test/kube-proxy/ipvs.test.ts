import { expect } from 'chai';
import { renderNatTable, servicePorts } from '../../components/kube-proxy/iptables.js';
import {
  bindAddresses, dummyDeviceIdentity, ipvsState, localEndpoints, renderIpsetList, renderIpvsadm, renderKubeIpvs0,
} from '../../components/kube-proxy/ipvs.js';
import { renderIpvsIptables } from '../../components/kube-proxy/ipvs-iptables.js';
import { KubeProxyError, parseProxyMode } from '../../components/kube-proxy/index.js';
import type { EndpointSlice, Service } from '../../components/api/types.js';
import { iptablesBackends, ipvsBackends } from '../helpers/proxy-views.js';

const svc = (ns: string, name: string, clusterIP: string, ports: NonNullable<Service['spec']['ports']>, type?: Service['spec']['type']): Service =>
  ({ metadata: { namespace: ns, name }, spec: { clusterIP, ports, ...(type ? { type } : {}) } });
type Ep = { ip: string; node?: string; ready?: boolean };
const slice = (ns: string, name: string, service: string, eps: Ep[], ports: NonNullable<EndpointSlice['ports']>): EndpointSlice => ({
  metadata: { namespace: ns, name, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints: eps.map((e) => ({ addresses: [e.ip], ...(e.node ? { nodeName: e.node } : {}), ...(e.ready === undefined ? {} : { conditions: { ready: e.ready } }) })),
  ports,
});

// One set of Services and EndpointSlices, fed to both modes.
const services: Service[] = [
  svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }]),
  svc('kube-system', 'kube-dns', '10.96.0.10', [{ name: 'dns', protocol: 'UDP', port: 53 }, { name: 'dns-tcp', protocol: 'TCP', port: 53 }, { name: 'metrics', protocol: 'TCP', port: 9153 }]),
  svc('shop', 'web', '10.96.10.20', [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }], 'NodePort'),
  svc('shop', 'idle', '10.96.10.30', [{ name: 'http', protocol: 'TCP', port: 80 }]),
  svc('shop', 'db', 'None', [{ name: 'sql', protocol: 'TCP', port: 5432 }]),
];
const slices: EndpointSlice[] = [
  slice('default', 'kubernetes', 'kubernetes', [{ ip: '127.0.1.1' }], [{ name: 'https', port: 6443, protocol: 'TCP' }]),
  slice('kube-system', 'kube-dns-abcde', 'kube-dns', [{ ip: '10.244.1.5', node: 'node-1' }, { ip: '10.244.2.7', node: 'node-2' }],
    [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'metrics', port: 9153, protocol: 'TCP' }]),
  slice('shop', 'web-aaaaa', 'web', [{ ip: '10.244.2.3', node: 'node-2' }, { ip: '10.244.1.2', node: 'node-1' }, { ip: '10.244.1.9', node: 'node-1', ready: false }],
    [{ name: 'http', port: 8080, protocol: 'TCP' }]),
  slice('shop', 'web-bbbbb', 'web', [{ ip: '10.244.1.12', node: 'node-1' }], [{ name: 'http', port: 8080, protocol: 'TCP' }]),
  slice('shop', 'idle-ccccc', 'idle', [{ ip: '10.244.2.8', node: 'node-2', ready: false }], [{ name: 'http', port: 80, protocol: 'TCP' }]),
];
const NODE_IP = '127.0.2.1';
const both = (s: readonly Service[] = services, e: readonly EndpointSlice[] = slices): { nat: string; ipvsadm: string; ipvsRules: string; ipset: string; state: ReturnType<typeof ipvsState> } => {
  const ports = servicePorts(s, e);
  const state = ipvsState(ports, { nodeIPs: [NODE_IP], localEndpoints: localEndpoints(e, 'node-1') });
  const ipvsRules = renderIpvsIptables(state.ipsets, { clusterCIDR: '10.244.0.0/16' });
  return { nat: renderNatTable(ports, { clusterCIDR: '10.244.0.0/16' }), ipvsadm: renderIpvsadm(state.virtualServers), ipvsRules, ipset: renderIpsetList(state.ipsets, ipvsRules), state };
};

describe('kube-proxy ipvs rendering', () => {
  it('agrees with iptables mode on which endpoints back which service: DNAT targets = real servers, ClusterIPs and node ports', () => {
    const { nat, ipvsadm } = both();
    const fromIptables = iptablesBackends(nat);
    const fromIpvs = ipvsBackends(ipvsadm, [NODE_IP]);
    expect(fromIptables.size, 'iptables mode programs every service port with a ready endpoint').to.equal(6);
    for (const [key, targets] of fromIptables) expect(fromIpvs.get(key), key).to.deep.equal(targets);
    expect(fromIpvs.get('TCP 10.96.10.20:80')).to.deep.equal(['10.244.1.12:8080', '10.244.1.2:8080', '10.244.2.3:8080']);
    expect(fromIpvs.get('TCP *:30080'), 'the node port: a virtual server on the node address').to.deep.equal(fromIpvs.get('TCP 10.96.10.20:80'));
    expect(fromIpvs.get('UDP 10.96.0.10:53')).to.deep.equal(['10.244.1.5:53', '10.244.2.7:53']);
    // Where they differ: ipvs makes the virtual server of a service without a ready endpoint (no real server); iptables writes nothing for it.
    expect(fromIptables.has('TCP 10.96.10.30:80')).to.equal(false);
    expect(fromIpvs.get('TCP 10.96.10.30:80')).to.deep.equal([]);
    expect([...fromIpvs.keys()].filter((k) => !fromIptables.has(k))).to.deep.equal(['TCP 10.96.10.30:80']);
    expect(ipvsadm, 'a headless service gets nothing in either mode').to.not.include('5432');
  });

  it('prints ipvsadm -Ln as ipvsadm does: sorted by protocol, address, port; real servers Masq, weight 1, padded columns', () => {
    const { ipvsadm } = both();
    const lines = ipvsadm.split('\n');
    expect(lines.slice(0, 3)).to.deep.equal([
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    ]);
    expect(lines.filter((l) => /^(TCP|UDP)/.test(l))).to.deep.equal([
      'TCP  10.96.0.1:443 rr', 'TCP  10.96.0.10:53 rr', 'TCP  10.96.0.10:9153 rr', 'TCP  10.96.10.20:80 rr', 'TCP  10.96.10.30:80 rr', 'TCP  127.0.2.1:30080 rr', 'UDP  10.96.0.10:53 rr',
    ]);
    expect(lines[4]).to.equal('  -> 127.0.1.1:6443               Masq    1      0          0         ');
    // real servers in address order (10.244.1.2 before 10.244.1.12), not string order
    const web = lines.slice(lines.indexOf('TCP  10.96.10.20:80 rr') + 1, lines.indexOf('TCP  10.96.10.30:80 rr'));
    expect(web.map((l) => l.split(/\s+/)[2])).to.deep.equal(['10.244.1.2:8080', '10.244.1.12:8080', '10.244.2.3:8080']);
    expect(renderIpvsadm(ipvsState(servicePorts(services, slices), { scheduler: 'lc' }).virtualServers)).to.include('TCP  10.96.0.1:443 lc\n');
    expect(renderIpvsadm(ipvsState(servicePorts(services, slices)).virtualServers), 'no node address: no node-port virtual server').to.not.include(':30080');
  });

  it('binds each ClusterIP to kube-ipvs0 once, keeping the order they were bound in across syncs', () => {
    const { state } = both();
    expect(state.bindAddrs).to.deep.equal(['10.96.0.1', '10.96.0.10', '10.96.10.30', '10.96.10.20']);
    expect(bindAddresses(['10.96.0.10', '10.96.0.99', '10.96.0.1'], state.bindAddrs)).to.deep.equal(['10.96.0.10', '10.96.0.1', '10.96.10.30', '10.96.10.20']);
    const id = dummyDeviceIdentity('node-1');
    expect(id.mac).to.match(/^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/);
    expect(dummyDeviceIdentity('node-2').mac).to.not.equal(id.mac);
    const shown = renderKubeIpvs0(['10.96.0.1', '10.96.0.10'], id).split('\n');
    expect(shown[0]).to.equal('3: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default ');
    expect(shown[1]).to.equal(`    link/ether ${id.mac} brd ff:ff:ff:ff:ff:ff`);
    expect(shown.slice(2, 6)).to.deep.equal([
      '    inet 10.96.0.1/32 scope global kube-ipvs0', '       valid_lft forever preferred_lft forever',
      '    inet 10.96.0.10/32 scope global kube-ipvs0', '       valid_lft forever preferred_lft forever',
    ]);
  });

  it('fills the ipsets as proxier.go does and lists them as ipset list prints them, References counted from the rules', () => {
    const { ipset, state } = both();
    const set = (name: string): string[] => [...(state.ipsets.find((s) => s.name === name)?.entries ?? [])].sort();
    expect(set('KUBE-CLUSTER-IP')).to.deep.equal(['10.96.0.1,tcp:443', '10.96.0.10,tcp:53', '10.96.0.10,tcp:9153', '10.96.0.10,udp:53', '10.96.10.20,tcp:80', '10.96.10.30,tcp:80']);
    expect(set('KUBE-LOOP-BACK'), "this node's endpoints, ready or not (the endpoints map keeps them all)").to.deep.equal(
      ['10.244.1.12,tcp:8080,10.244.1.12', '10.244.1.2,tcp:8080,10.244.1.2', '10.244.1.5,tcp:53,10.244.1.5', '10.244.1.5,tcp:9153,10.244.1.5', '10.244.1.5,udp:53,10.244.1.5', '10.244.1.9,tcp:8080,10.244.1.9']);
    expect(set('KUBE-NODE-PORT-TCP')).to.deep.equal(['30080']);
    expect(set('KUBE-NODE-PORT-UDP')).to.deep.equal([]);
    expect(set('KUBE-IPVS-IPS')).to.deep.equal(['10.96.0.1', '10.96.0.10', '10.96.10.20', '10.96.10.30']);
    const block = (name: string): string => ipset.split('\n\n').find((b) => b.startsWith(`Name: ${name}\n`)) ?? '';
    expect(ipset.split('\n\n')).to.have.length(17);
    expect(block('KUBE-CLUSTER-IP').split('\n').slice(0, 8)).to.deep.equal([
      'Name: KUBE-CLUSTER-IP', 'Type: hash:ip,port', 'Revision: 5', 'Header: family inet hashsize 1024 maxelem 65536',
      block('KUBE-CLUSTER-IP').split('\n')[4]!, 'References: 3', 'Number of entries: 6', 'Members:',
    ]);
    expect(block('KUBE-CLUSTER-IP').split('\n')[8], 'members in address order').to.equal('10.96.0.1,tcp:443');
    expect(block('KUBE-NODE-PORT-TCP')).to.include('Type: bitmap:port\nRevision: 3\nHeader: range 0-65535\n').and.include('References: 1\nNumber of entries: 1\nMembers:\n30080');
    expect(block('KUBE-LOAD-BALANCER-FW')).to.include('References: 0\nNumber of entries: 0\nMembers:');
  });

  it('writes only the iptables rules ipvs mode needs, matching the sets; set rules only while a set has entries', () => {
    const { ipvsRules } = both();
    expect(ipvsRules).to.not.match(/KUBE-SVC-|KUBE-SEP-|DNAT/);
    expect(ipvsRules.indexOf('*filter')).to.be.lessThan(ipvsRules.indexOf('*nat'));
    const nat = ipvsRules.slice(ipvsRules.indexOf('*nat'));
    const services = nat.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES '));
    expect(services).to.deep.equal([
      '-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN',
      '-A KUBE-SERVICES ! -s 10.244.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ',
      '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT',
      '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT',
    ]);
    expect(nat).to.include('-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ\n');
    expect(nat).to.include('-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE\n');
    expect(nat).to.include('-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n');
    expect(ipvsRules).to.include('-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT\n');
    expect(ipvsRules).to.include('-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable\n');
    // No services at all: the chains stay, the set-matching nat rules go.
    const empty = renderIpvsIptables(ipvsState([]).ipsets, { clusterCIDR: '10.244.0.0/16' });
    expect(empty).to.include(':KUBE-SERVICES - [0:0]').and.not.include('KUBE-CLUSTER-IP dst,dst -j ACCEPT').and.not.include('KUBE-NODE-PORT-TCP');
    // Without a cluster CIDR, traffic from a VIP is what gets masqueraded (src,dst).
    expect(renderIpvsIptables(both().state.ipsets)).to.include('-m set --match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ');
    expect(renderIpvsIptables(both().state.ipsets, { savedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) }).match(/# Generated by iptables-save v1\.8\.9 \(nf_tables\) on Fri Jan {2}2 03:04:05 2026/g)).to.have.length(2);
  });

  it('takes KubeProxyConfiguration mode as kube-proxy does: blank is iptables, anything else is refused with its message', () => {
    expect(parseProxyMode(undefined)).to.equal('iptables');
    expect(parseProxyMode('')).to.equal('iptables');
    expect(parseProxyMode('ipvs')).to.equal('ipvs');
    expect(() => parseProxyMode('userspace')).to.throw(KubeProxyError, 'KubeProxyConfiguration.ProxyMode: Invalid value: "userspace": must be iptables, ipvs or blank');
  });
});
