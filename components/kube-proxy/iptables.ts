/**
 * kube-proxy's iptables mode, as data: the nat-table rules that `syncProxyRules` in
 * pkg/proxy/iptables/proxier.go writes for a set of Services and their ready endpoints, printed the
 * way `iptables-save -t nat` prints them back (canonical option order: -s/-d, -p, then matches in
 * order, then the target; comments quoted as xtables_save_string quotes them; `--or-mark` shown as
 * `--set-xmark`; probabilities with 11 decimals).
 *
 * Pure functions only: the KubeProxy component feeds them what its informers hold.
 */
import { createHash } from 'node:crypto';
import type { EndpointSlice, Service } from '../api/types.js';

/** RFC 4648 base32 (Go's base32.StdEncoding), padding omitted: only the first 16 characters are used. */
function base32(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** proxier.go `portProtoHash`: base32(sha256(servicePortName + protocol))[:16]. */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return base32(createHash('sha256').update(servicePortName + protocol).digest()).slice(0, 16);
}

/** `KUBE-SVC-…` (proxier.go `servicePortPolicyClusterChain`); protocol in lower case (`tcp`). */
export const servicePortChainName = (servicePortName: string, protocol: string): string => `KUBE-SVC-${portProtoHash(servicePortName, protocol)}`;

/** `KUBE-EXT-…`, the chain NodePort traffic enters. */
export const serviceExternalChainName = (servicePortName: string, protocol: string): string => `KUBE-EXT-${portProtoHash(servicePortName, protocol)}`;

/** `KUBE-SEP-…` (proxier.go `servicePortEndpointChainName`): the endpoint is `ip:port`. */
export function servicePortEndpointChainName(servicePortName: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${base32(createHash('sha256').update(servicePortName + protocol + endpoint).digest()).slice(0, 16)}`;
}

/** `ServicePortName.String()`: `ns/name:port`, or `ns/name` for an unnamed port. */
export const servicePortName = (namespace: string, name: string, port: string | undefined): string => `${namespace}/${name}${port ? `:${port}` : ''}`;

/** One service port with the endpoints kube-proxy would program for it. */
export interface ServicePortInfo {
  /** `ns/svc:port`. */
  readonly name: string;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly clusterIP: string;
  readonly port: number;
  readonly nodePort?: number;
  /** Ready endpoints, `ip:port`, sorted as kube-proxy's endpoints cache sorts them. */
  readonly endpoints: readonly string[];
}

const protocolOf = (p: string | undefined): ServicePortInfo['protocol'] => (p === 'UDP' ? 'udp' : p === 'SCTP' ? 'sctp' : 'tcp');

/** discovery.LabelServiceName: the label that ties a slice to its Service. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';

/**
 * What endpointslicecache.go makes of the slices: for each `ns/svc:port` and protocol, the ready
 * endpoints (`ip:port`) of every IPv4 slice labelled with that service, de-duplicated. A slice without
 * the service-name label, a port without a number, an endpoint without an address, and an endpoint
 * whose `ready` condition is false are skipped (an unset `ready` counts as ready, as the API says).
 */
export function readyEndpointsByPort(slices: readonly EndpointSlice[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const { key, port, endpoints } of slicePorts(slices)) {
    let set = out.get(key);
    if (!set) { set = new Set(); out.set(key, set); }
    for (const e of endpoints) {
      const ip = e.addresses[0];
      if (!ip || e.conditions?.ready === false) continue;
      set.add(`${ip}:${port}`);
    }
  }
  return out;
}

/**
 * Each numbered port of each IPv4 slice labelled with its Service, as endpointslicecache.go reads them:
 * the `ns/svc:port|proto` key, the port number and the slice's endpoints.
 */
export function* slicePorts(slices: readonly EndpointSlice[]): Generator<{ key: string; port: number; endpoints: NonNullable<EndpointSlice['endpoints']> }> {
  for (const slice of slices) {
    const svc = slice.metadata.labels?.[LABEL_SERVICE_NAME];
    if (!svc || slice.addressType !== 'IPv4') continue;
    const ns = slice.metadata.namespace ?? 'default';
    for (const port of slice.ports ?? []) {
      if (port.port === undefined || port.port <= 0) continue;
      yield { key: `${servicePortName(ns, svc, port.name)}|${protocolOf(port.protocol)}`, port: port.port, endpoints: slice.endpoints ?? [] };
    }
  }
}

/**
 * Joins Services with their EndpointSlices as kube-proxy's service and endpoint-slice change trackers
 * do: headless and IP-less Services are skipped; a service port takes the ready endpoints of the
 * slice port with the same name and protocol, across all the service's slices; endpoints are sorted.
 */
export function servicePorts(services: readonly Service[], slices: readonly EndpointSlice[]): ServicePortInfo[] {
  const ready = readyEndpointsByPort(slices);
  const out: ServicePortInfo[] = [];
  for (const svc of services) {
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    const clusterIP = svc.spec.clusterIP;
    // ExternalName Services are DNS aliases: no ClusterIP, nothing for kube-proxy to program.
    if (!clusterIP || clusterIP === 'None' || svc.spec.type === 'ExternalName') continue;
    for (const port of svc.spec.ports ?? []) {
      const protocol = protocolOf(port.protocol);
      const spn = servicePortName(ns, name, port.name);
      out.push({
        name: spn, protocol, clusterIP, port: port.port,
        ...(port.nodePort && (svc.spec.type === 'NodePort' || svc.spec.type === 'LoadBalancer') ? { nodePort: port.nodePort } : {}),
        endpoints: [...(ready.get(`${spn}|${protocol}`) ?? [])].sort(),
      });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.protocol < b.protocol ? -1 : 1));
}

export interface RenderOptions {
  /** kube-proxy's --cluster-cidr (kubeadm: the pod subnet); traffic to a ClusterIP from outside it is masqueraded. */
  readonly clusterCIDR?: string;
  /** Printed in the `# Generated by` / `# Completed on` lines; absent = no such lines. */
  readonly savedAt?: Date;
}

/** Go's `fmt.Sprintf("%0.10f", 1/n)` as iptables-save prints it back (`%.11f`). */
export const probability = (n: number): string => (1 / n).toFixed(11);

const SAVE_PLAIN = /^[A-Za-z0-9_-]+$/;

/** xtables_save_string: bare when only [A-Za-z0-9_-], else double-quoted with " \ ' escaped. */
export function saveString(value: string): string {
  return SAVE_PLAIN.test(value) ? value : `"${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

/** A rule in canonical `iptables-save` order. */
export interface Rule {
  readonly chain: string;
  readonly src?: string;
  readonly notSrc?: boolean;
  readonly dst?: string;
  readonly proto?: string;
  /** Match modules after -p, each already printed (`-m comment --comment "..."`). */
  readonly matches: readonly string[];
  readonly target: string;
}

export const comment = (c: string): string => `-m comment --comment ${saveString(c)}`;
const cidr = (ip: string): string => (ip.includes('/') ? ip : `${ip}/32`);

export function printRule(r: Rule): string {
  const parts = ['-A', r.chain];
  if (r.src) parts.push(...(r.notSrc ? ['!', '-s', cidr(r.src)] : ['-s', cidr(r.src)]));
  if (r.dst) parts.push('-d', cidr(r.dst));
  if (r.proto) parts.push('-p', r.proto);
  parts.push(...r.matches, '-j', r.target);
  return parts.join(' ');
}

/** `Mon Jan  2 15:04:05 2006`, as iptables-save stamps its output. */
export function ctime(d: Date): string {
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${day} ${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

export const MASQ_MARK = '0x4000';

/**
 * The nat table after kube-proxy's sync, as `iptables-save -t nat` prints it: built-in chains, then
 * kube-proxy's chains in name order, each followed by its rules in the order they were written.
 */
export function renderNatTable(ports: readonly ServicePortInfo[], options: RenderOptions = {}): string {
  const chains = new Set<string>(['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', 'KUBE-PROXY-CANARY']);
  const rules: Rule[] = [
    // The jump rules kube-proxy ensures (iptablesJumpChains), and its fixed chains.
    { chain: 'PREROUTING', matches: [comment('kubernetes service portals')], target: 'KUBE-SERVICES' },
    { chain: 'OUTPUT', matches: [comment('kubernetes service portals')], target: 'KUBE-SERVICES' },
    { chain: 'POSTROUTING', matches: [comment('kubernetes postrouting rules')], target: 'KUBE-POSTROUTING' },
    { chain: 'KUBE-POSTROUTING', matches: [`-m mark ! --mark ${MASQ_MARK}/${MASQ_MARK}`], target: 'RETURN' },
    { chain: 'KUBE-POSTROUTING', matches: [], target: `MARK --set-xmark ${MASQ_MARK}/0x0` },
    { chain: 'KUBE-POSTROUTING', matches: [comment('kubernetes service traffic requiring SNAT')], target: 'MASQUERADE --random-fully' },
    { chain: 'KUBE-MARK-MASQ', matches: [], target: `MARK --set-xmark ${MASQ_MARK}/${MASQ_MARK}` },
  ];
  for (const sp of ports) {
    if (sp.endpoints.length === 0) continue; // no endpoints: only a REJECT in the filter table
    const svcChain = servicePortChainName(sp.name, sp.protocol);
    const proto = sp.protocol;
    const clusterIPComment = comment(`${sp.name} cluster IP`);
    rules.push({ chain: 'KUBE-SERVICES', dst: sp.clusterIP, proto, matches: [clusterIPComment, `-m ${proto} --dport ${sp.port}`], target: svcChain });
    if (sp.nodePort) {
      const extChain = serviceExternalChainName(sp.name, sp.protocol);
      chains.add(extChain);
      rules.push({ chain: 'KUBE-NODEPORTS', proto, matches: [comment(sp.name), `-m ${proto} --dport ${sp.nodePort}`], target: extChain });
      rules.push({ chain: extChain, matches: [comment(`masquerade traffic for ${sp.name} external destinations`)], target: 'KUBE-MARK-MASQ' });
      rules.push({ chain: extChain, matches: [], target: svcChain });
    }
    chains.add(svcChain);
    if (options.clusterCIDR) {
      rules.push({ chain: svcChain, src: options.clusterCIDR, notSrc: true, dst: sp.clusterIP, proto, matches: [clusterIPComment, `-m ${proto} --dport ${sp.port}`], target: 'KUBE-MARK-MASQ' });
    }
    const n = sp.endpoints.length;
    sp.endpoints.forEach((ep, i) => {
      const sep = servicePortEndpointChainName(sp.name, sp.protocol, ep);
      rules.push({
        chain: svcChain,
        matches: [comment(`${sp.name} -> ${ep}`), ...(i < n - 1 ? [`-m statistic --mode random --probability ${probability(n - i)}`] : [])],
        target: sep,
      });
    });
    for (const ep of sp.endpoints) {
      const sep = servicePortEndpointChainName(sp.name, sp.protocol, ep);
      chains.add(sep);
      const ip = ep.slice(0, ep.lastIndexOf(':'));
      rules.push({ chain: sep, src: ip, matches: [comment(sp.name)], target: 'KUBE-MARK-MASQ' });
      rules.push({ chain: sep, proto, matches: [comment(sp.name), `-m ${proto}`], target: `DNAT --to-destination ${ep}` });
    }
  }
  rules.push({
    chain: 'KUBE-SERVICES',
    matches: [comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain'), '-m addrtype --dst-type LOCAL'],
    target: 'KUBE-NODEPORTS',
  });

  const builtin = ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'];
  const own = [...chains].sort();
  const lines: string[] = [];
  if (options.savedAt) lines.push(`# Generated by iptables-save v1.8.9 (nf_tables) on ${ctime(options.savedAt)}`);
  lines.push('*nat');
  for (const c of builtin) lines.push(`:${c} ACCEPT [0:0]`);
  for (const c of own) lines.push(`:${c} - [0:0]`);
  for (const c of [...builtin, ...own]) for (const r of rules) if (r.chain === c) lines.push(printRule(r));
  lines.push('COMMIT');
  if (options.savedAt) lines.push(`# Completed on ${ctime(options.savedAt)}`);
  return `${lines.join('\n')}\n`;
}
