/**
 * kube-proxy's ipvs mode, as data: what `syncProxyRules` in pkg/proxy/ipvs/proxier.go programs for a
 * set of Services and their ready endpoints, and how the node's tools print it back:
 *
 * - IPVS virtual servers, one per ClusterIP:port and, when a Service has a node port, one per node
 *   address and node port; each with the scheduler (`rr` by default) and one real server per ready
 *   endpoint, masquerading (`Masq`), weight 1, as `ipvsadm -Ln` lists them (sorted, as ipvsadm sorts);
 * - the dummy interface `kube-ipvs0` holding every ClusterIP as a /32, as `ip addr show kube-ipvs0`
 *   prints it (addresses in the order they were bound: `bindAddresses` keeps that order across syncs);
 * - the ipsets of ipset.go (`ipsetInfo`, all created, most empty here) as `ipset list` prints them;
 * - the few iptables rules the mode still writes: ipvs-iptables.ts.
 *
 * Pure functions only: the KubeProxy component feeds them what its informers hold. Nothing is written
 * to the host's kernel.
 */
import { createHash } from 'node:crypto';
import type { EndpointSlice } from '../api/types.js';
import { slicePorts, type ServicePortInfo } from './iptables.js';

/** proxier.go `defaultScheduler`. */
export const DEFAULT_SCHEDULER = 'rr';
/** proxier.go `defaultDummyDevice`. */
export const DUMMY_DEVICE = 'kube-ipvs0';

export type IpvsProtocol = 'TCP' | 'UDP' | 'SCTP';

/** One IPVS destination (utilipvs.RealServer): kube-proxy always adds them with weight 1, masquerading. */
export interface RealServer {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
}

/** One IPVS service (utilipvs.VirtualServer) with its destinations. */
export interface VirtualServer {
  readonly protocol: IpvsProtocol;
  readonly address: string;
  readonly port: number;
  readonly scheduler: string;
  /** `ns/svc:port`, the service port it was made for (not something ipvsadm shows). */
  readonly servicePort: string;
  /** `cluster-ip` or `node-port`: what the virtual server stands for (not shown by ipvsadm either). */
  readonly kind: 'cluster-ip' | 'node-port';
  readonly realServers: readonly RealServer[];
}

/** An ipset as kube-proxy creates it (ipset.go `ipsetInfo`), with its entries as ipset prints them. */
export interface IpSet {
  readonly name: string;
  readonly type: 'hash:ip,port,ip' | 'hash:ip,port' | 'hash:ip,port,net' | 'bitmap:port' | 'hash:ip';
  readonly comment: string;
  readonly entries: readonly string[];
}

/** ipset.go's sets, in `ipsetInfo` order: [name, type, comment]. */
const IPSET_INFO: readonly (readonly [string, IpSet['type'], string])[] = [
  ['KUBE-LOOP-BACK', 'hash:ip,port,ip', 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose'],
  ['KUBE-CLUSTER-IP', 'hash:ip,port', 'Kubernetes service cluster ip + port for masquerade purpose'],
  ['KUBE-EXTERNAL-IP', 'hash:ip,port', 'Kubernetes service external ip + port for masquerade and filter purpose'],
  ['KUBE-EXTERNAL-IP-LOCAL', 'hash:ip,port', 'Kubernetes service external ip + port with externalTrafficPolicy=local'],
  ['KUBE-LOAD-BALANCER', 'hash:ip,port', 'Kubernetes service lb portal'],
  ['KUBE-LOAD-BALANCER-FW', 'hash:ip,port', 'Kubernetes service load balancer ip + port for load balancer with sourceRange'],
  ['KUBE-LOAD-BALANCER-LOCAL', 'hash:ip,port', 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local'],
  ['KUBE-LOAD-BALANCER-SOURCE-IP', 'hash:ip,port,ip', 'Kubernetes service load balancer ip + port + source IP for packet filter purpose'],
  ['KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net', 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose'],
  ['KUBE-NODE-PORT-TCP', 'bitmap:port', 'Kubernetes nodeport TCP port for masquerade purpose'],
  ['KUBE-NODE-PORT-LOCAL-TCP', 'bitmap:port', 'Kubernetes nodeport TCP port with externalTrafficPolicy=local'],
  ['KUBE-NODE-PORT-UDP', 'bitmap:port', 'Kubernetes nodeport UDP port for masquerade purpose'],
  ['KUBE-NODE-PORT-LOCAL-UDP', 'bitmap:port', 'Kubernetes nodeport UDP port with externalTrafficPolicy=local'],
  ['KUBE-NODE-PORT-SCTP-HASH', 'hash:ip,port', "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'"],
  ['KUBE-NODE-PORT-LOCAL-SCTP-HASH', 'hash:ip,port', "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'"],
  ['KUBE-HEALTH-CHECK-NODE-PORT', 'bitmap:port', 'Kubernetes health check node port'],
  ['KUBE-IPVS-IPS', 'hash:ip', 'Addresses on the ipvs interface'],
];

export const IPSET_COMMENTS: Readonly<Record<string, string>> = Object.fromEntries(IPSET_INFO.map(([n, , c]) => [n, c]));

/** What one sync programs: the virtual servers, the ipsets and the addresses wanted on kube-ipvs0. */
export interface IpvsState {
  readonly virtualServers: readonly VirtualServer[];
  readonly ipsets: readonly IpSet[];
  /** activeBindAddrs: the ClusterIPs kube-ipvs0 must hold. */
  readonly bindAddrs: readonly string[];
}

export interface IpvsOptions {
  /** --ipvs-scheduler; '' or absent: `rr`. */
  readonly scheduler?: string;
  /**
   * The node's addresses a NodePort is served on (kube-proxy: every local address except kube-ipvs0's
   * and loopback; here the node's own IP, which in the sim is its loopback alias).
   */
  readonly nodeIPs?: readonly string[];
  /** The endpoints (`ns/svc:port|proto|ip:port`) that run on this node: KUBE-LOOP-BACK's entries. */
  readonly localEndpoints?: ReadonlySet<string>;
}

const PROTOCOL_NUMBER: Record<IpvsProtocol, number> = { TCP: 6, UDP: 17, SCTP: 132 };
const ipNumber = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const splitHostPort = (ep: string): [string, number] => [ep.slice(0, ep.lastIndexOf(':')), Number(ep.slice(ep.lastIndexOf(':') + 1))];

/** ipvsadm's ipvs_cmp_services: protocol number, then address, then port. */
function compareServices(a: VirtualServer, b: VirtualServer): number {
  return PROTOCOL_NUMBER[a.protocol] - PROTOCOL_NUMBER[b.protocol] || ipNumber(a.address) - ipNumber(b.address) || a.port - b.port;
}

/**
 * The endpoints of each service port that run on `nodeName` (endpoint.nodeName), as
 * `ns/svc:port|proto|ip:port`: BaseEndpointInfo.IsLocal() for KUBE-LOOP-BACK. Ready or not: the
 * endpoints map keeps every endpoint with its conditions (endpointslicecache.go addEndpoints), and
 * syncProxyRules adds each local one to the set.
 */
export function localEndpoints(slices: readonly EndpointSlice[], nodeName: string): Set<string> {
  const out = new Set<string>();
  for (const { key, port, endpoints } of slicePorts(slices)) {
    for (const e of endpoints) {
      const ip = e.addresses[0];
      if (ip && e.nodeName === nodeName) out.add(`${key}|${ip}:${port}`);
    }
  }
  return out;
}

/**
 * syncProxyRules' IPVS half: for each service port a virtual server on its ClusterIP (bound to
 * kube-ipvs0, put in KUBE-CLUSTER-IP) with its ready endpoints as real servers, even when it has none
 * (unlike iptables mode, which then writes no nat rule); for a node port, a virtual server per node
 * address and the port in KUBE-NODE-PORT-TCP/UDP (SCTP: ip,port pairs in KUBE-NODE-PORT-SCTP-HASH).
 */
export function ipvsState(ports: readonly ServicePortInfo[], options: IpvsOptions = {}): IpvsState {
  const scheduler = options.scheduler || DEFAULT_SCHEDULER;
  const nodeIPs = options.nodeIPs ?? [];
  const entries = new Map<string, Set<string>>(IPSET_INFO.map(([n]) => [n, new Set<string>()]));
  const add = (set: string, entry: string): void => { entries.get(set)!.add(entry); };
  const servers: VirtualServer[] = [];
  const bind = new Set<string>();
  for (const sp of ports) {
    const protocol = sp.protocol.toUpperCase() as IpvsProtocol;
    const realServers = sp.endpoints.map((ep) => { const [address, port] = splitHostPort(ep); return { address, port, weight: 1 }; })
      .sort((a, b) => ipNumber(a.address) - ipNumber(b.address) || a.port - b.port);
    for (const local of options.localEndpoints ?? []) {
      const [name, protocol, ep] = local.split('|') as [string, string, string];
      if (name !== sp.name || protocol !== sp.protocol) continue;
      const [ip, port] = splitHostPort(ep);
      add('KUBE-LOOP-BACK', `${ip},${sp.protocol}:${port},${ip}`);
    }
    add('KUBE-CLUSTER-IP', `${sp.clusterIP},${sp.protocol}:${sp.port}`);
    servers.push({ protocol, address: sp.clusterIP, port: sp.port, scheduler, servicePort: sp.name, kind: 'cluster-ip', realServers });
    bind.add(sp.clusterIP);
    if (sp.nodePort && nodeIPs.length > 0) {
      if (sp.protocol === 'sctp') for (const ip of nodeIPs) add('KUBE-NODE-PORT-SCTP-HASH', `${ip},sctp:${sp.nodePort}`);
      else add(sp.protocol === 'udp' ? 'KUBE-NODE-PORT-UDP' : 'KUBE-NODE-PORT-TCP', String(sp.nodePort));
      for (const ip of nodeIPs) servers.push({ protocol, address: ip, port: sp.nodePort, scheduler, servicePort: sp.name, kind: 'node-port', realServers });
    }
  }
  for (const ip of bind) add('KUBE-IPVS-IPS', ip);
  return {
    virtualServers: servers.sort(compareServices),
    ipsets: IPSET_INFO.map(([name, type, comment]) => ({ name, type, comment, entries: [...entries.get(name)!] })),
    bindAddrs: [...bind],
  };
}

/**
 * The addresses on kube-ipvs0 after a sync: those already bound and still wanted keep their place,
 * new ones are appended (EnsureAddressBind), superfluous ones removed (UnbindAddress).
 */
export function bindAddresses(bound: readonly string[], wanted: readonly string[]): string[] {
  const keep = new Set(wanted);
  const next = bound.filter((a) => keep.has(a));
  for (const a of wanted) if (!next.includes(a)) next.push(a);
  return next;
}

/** `ipvsadm -Ln`: the version line, the two title lines, each service and its destinations. */
export function renderIpvsadm(servers: readonly VirtualServer[]): string {
  const lines = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ];
  for (const vs of [...servers].sort(compareServices)) {
    lines.push(`${vs.protocol}  ${vs.address}:${vs.port} ${vs.scheduler}`);
    // ipvsadm.c print_service_entry: "  -> %-28s %-7s %-6d %-10u %-10u"
    for (const rs of vs.realServers) lines.push(`  -> ${`${rs.address}:${rs.port}`.padEnd(28)} ${'Masq'.padEnd(7)} ${String(rs.weight).padEnd(6)} ${'0'.padEnd(10)} ${'0'.padEnd(10)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The dummy device's made-up identity: a locally administered MAC derived from the node's name, and its ifindex. */
export interface DeviceIdentity {
  readonly ifindex: number;
  readonly mac: string;
}

export function dummyDeviceIdentity(nodeName: string, ifindex = 3): DeviceIdentity {
  const h = createHash('sha256').update(`${DUMMY_DEVICE}/${nodeName}`).digest();
  // Linux gives a dummy device a random address: unicast, locally administered.
  const bytes = [((h[0] ?? 0) & 0xfc) | 0x02, ...h.subarray(1, 6)];
  return { ifindex, mac: bytes.map((b) => b.toString(16).padStart(2, '0')).join(':') };
}

/** `ip addr show kube-ipvs0`: down (kube-proxy never brings it up), NOARP, each address a /32. */
export function renderKubeIpvs0(addresses: readonly string[], id: DeviceIdentity): string {
  const lines = [
    `${id.ifindex}: ${DUMMY_DEVICE}: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default `,
    `    link/ether ${id.mac} brd ff:ff:ff:ff:ff:ff`,
  ];
  for (const a of addresses) lines.push(`    inet ${a}/32 scope global ${DUMMY_DEVICE}`, '       valid_lft forever preferred_lft forever');
  return `${lines.join('\n')}\n`;
}

/** The set-type revisions a 5.4 kernel reports, which the published `ipset list` outputs of kube-proxy nodes show. */
const REVISION: Record<IpSet['type'], number> = { 'hash:ip,port,ip': 5, 'hash:ip,port': 5, 'hash:ip,port,net': 7, 'bitmap:port': 3, 'hash:ip': 4 };

/** An estimate of the kernel's "Size in memory" (its real figure depends on the hash table's layout). */
function sizeInMemory(set: IpSet): number {
  if (set.type === 'bitmap:port') return 8268; // 0-65535: an 8 KiB bitmap and its header
  return set.entries.length === 0 ? 88 : 200 + 56 * set.entries.length;
}

/** Members as the kernel lists a hash: no fixed order; shown sorted here (addresses numerically). */
function sortMembers(set: IpSet): string[] {
  const key = (e: string): [number, string] => {
    const ip = /^(\d+\.\d+\.\d+\.\d+)/.exec(e)?.[1];
    return [ip ? ipNumber(ip) : Number(e), e];
  };
  return [...set.entries].sort((a, b) => { const [x, s] = key(a); const [y, t] = key(b); return x - y || (s < t ? -1 : s > t ? 1 : 0); });
}

/**
 * `ipset list`: every set kube-proxy created, in creation order, separated by blank lines. References
 * counts the iptables rules that name the set (`--match-set NAME`), as the kernel counts them.
 */
export function renderIpsetList(sets: readonly IpSet[], iptablesSave: string): string {
  const refs = (name: string): number => (iptablesSave.match(new RegExp(`--match-set ${name} `, 'g')) ?? []).length;
  return `${sets.map((set) => [
    `Name: ${set.name}`,
    `Type: ${set.type}`,
    `Revision: ${REVISION[set.type]}`,
    `Header: ${set.type === 'bitmap:port' ? 'range 0-65535' : 'family inet hashsize 1024 maxelem 65536'}`,
    `Size in memory: ${sizeInMemory(set)}`,
    `References: ${refs(set.name)}`,
    `Number of entries: ${set.entries.length}`,
    'Members:',
    ...sortMembers(set),
  ].join('\n')).join('\n\n')}\n`;
}
