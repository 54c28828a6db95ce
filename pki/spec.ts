/**
 * The certificate set as data, in kubeadm's names (modelled on kubeadm's
 * cmd/kubeadm/app/phases/certs/certlist.go). A spec is a value; the CA tree comes from `ca` name
 * references. `certSpecs()` returns a fresh table each call; nothing here is mutated.
 */
import { isIP } from 'node:net';
import { PkiError } from './errors.js';
import type { ExtKeyUsage, SubjectAltNames } from './x509.js';

export type KeyAlgorithm = 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ecdsa-p256' | 'ecdsa-p384';
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ecdsa-p256', 'ecdsa-p384'];

/**
 * Who signs a kubelet's serving certificate. `ca` follows the seed and "Kubernetes The Hard Way"
 * (the Kubernetes CA signs it, so the apiserver can verify it with --kubelet-certificate-authority);
 * `self-signed` is kubeadm's default (the kubelet makes its own CA and certificate at start-up).
 */
export type KubeletServingMode = 'ca' | 'self-signed';

export interface NodePlan {
  readonly name: string;
  /** The node's own loopback address: the kubelet binds it, and it is the IP SAN of its serving cert. */
  readonly ip: string;
  /** The node's pod range, from which the kubelet hands out pod IPs. */
  readonly podCIDR: string;
}

export interface ClusterPlan {
  readonly clusterName: string;
  /** Name of the control-plane node (kubeadm's NodeRegistration.Name): the apiserver and etcd SAN. */
  readonly controlPlaneName: string;
  /** The apiserver's advertise address; etcd is stacked on the same host, as kubeadm does. */
  readonly advertiseAddress: string;
  readonly apiserverPort: number;
  /** The first IP of the service CIDR (10.96.0.0/12 → 10.96.0.1), the `kubernetes` Service's ClusterIP. */
  readonly serviceIP: string;
  readonly dnsDomain: string;
  readonly nodes: readonly NodePlan[];
  /** kubeadm's networking.podSubnet (the controller-manager's and kube-proxy's --cluster-cidr). */
  readonly podSubnet: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly kubeletServing: KubeletServingMode;
  /**
   * `aliases`: every component on its own loopback address (127.0.1.1, 127.0.2.k), as Linux allows.
   * `single`: where only 127.0.0.1 exists (macOS), everything shares it on distinct ports.
   */
  readonly loopback: LoopbackMode;
}

export type LoopbackMode = 'aliases' | 'single';

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The most worker nodes a plan holds (loopback has room for 64,516; the pod subnet /10 for 16,383). */
export const MAX_NODES = 10_000;

/**
 * kubeadm's networking.podSubnet for a cluster of `nodeCount` workers, each given a /24 (the
 * controller-manager's --node-cidr-mask-size): kubeadm's usual 10.244.0.0/16 has room for 255 nodes
 * after the first /24; larger clusters get 10.64.0.0/10, as large real clusters widen --cluster-cidr.
 */
export function podSubnetFor(nodeCount: number): string {
  return nodeCount <= 255 ? '10.244.0.0/16' : '10.64.0.0/10';
}

/**
 * The node plan for the node at `index` (node-k is index k-1): its own loopback address, 127.0.2.1 to
 * 127.0.2.254 for the first 254 nodes, then 127.0.3.1 and on (254 to a /24: .0 and .255 are skipped);
 * its pods in the (index+1)-th /24 of the pod subnet (10.244.k.0/24 in the usual /16).
 */
export function nodePlan(name: string, index: number, loopback: LoopbackMode = 'aliases', podSubnet = '10.244.0.0/16'): NodePlan {
  if (!NODE_NAME.test(name) || name.length > 63) {
    throw new PkiError('BAD_ARGUMENT', `node name "${name}" is not a valid DNS label (lower-case letters, digits and '-')`);
  }
  if (!Number.isInteger(index) || index < 0 || index >= MAX_NODES) {
    throw new PkiError('BAD_ARGUMENT', `at most ${MAX_NODES} nodes are supported, got node #${index + 1}`);
  }
  const ip = loopback === 'single' ? '127.0.0.1' : `127.0.${2 + Math.floor(index / 254)}.${(index % 254) + 1}`;
  return { name, ip, podCIDR: nthSlash24(podSubnet, index + 1) };
}

/** The n-th /24 inside `subnet` (an IPv4 CIDR of /24 or wider). */
function nthSlash24(subnet: string, n: number): string {
  const [base, bits] = subnet.split('/');
  const octets = (base ?? '').split('.').map(Number);
  const prefix = Number(bits);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255) || !(prefix >= 8 && prefix <= 24)) {
    throw new PkiError('BAD_ARGUMENT', `pod subnet "${subnet}" is not an IPv4 CIDR from /8 to /24`);
  }
  if (n >= 2 ** (24 - prefix)) throw new PkiError('BAD_ARGUMENT', `pod subnet ${subnet} has no room for a /24 number ${n}`);
  const start = ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8);
  const net = start + n * 256;
  return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.0/24`;
}

export interface PlanOptions {
  readonly nodes?: readonly string[];
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly kubeletServing?: KubeletServingMode;
  readonly advertiseAddress?: string;
  readonly loopback?: LoopbackMode;
}

/** The default cluster: control plane `cp-1` on 127.0.1.1, worker nodes node-1 and node-2. */
export function clusterPlan(options: PlanOptions = {}): ClusterPlan {
  const names = options.nodes ?? ['node-1', 'node-2'];
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new PkiError('BAD_ARGUMENT', `node "${n}" is named twice`);
    seen.add(n);
  }
  if (names.length > MAX_NODES) throw new PkiError('BAD_ARGUMENT', `at most ${MAX_NODES} nodes are supported, got ${names.length}`);
  const podSubnet = podSubnetFor(names.length);
  if (seen.has('cp-1')) throw new PkiError('BAD_ARGUMENT', 'node name "cp-1" is taken by the control-plane node');
  const loopback = options.loopback ?? 'aliases';
  const advertiseAddress = options.advertiseAddress ?? (loopback === 'single' ? '127.0.0.1' : '127.0.1.1');
  if (isIP(advertiseAddress) === 0) throw new PkiError('BAD_ARGUMENT', `advertise address "${advertiseAddress}" is not an IP`);
  const keyAlgorithm = options.keyAlgorithm ?? 'rsa-2048';
  if (!KEY_ALGORITHMS.includes(keyAlgorithm)) {
    throw new PkiError('BAD_ARGUMENT', `unknown key algorithm "${keyAlgorithm}" (one of ${KEY_ALGORITHMS.join(', ')})`);
  }
  return {
    clusterName: 'kubernetes',
    controlPlaneName: 'cp-1',
    advertiseAddress,
    apiserverPort: 6443,
    serviceIP: '10.96.0.1',
    dnsDomain: 'cluster.local',
    nodes: names.map((n, i) => nodePlan(n, i, loopback, podSubnet)),
    podSubnet,
    keyAlgorithm,
    kubeletServing: options.kubeletServing ?? 'ca',
    loopback,
  };
}

/** Which component holds a certificate, and what for. Shown by `pki show`. */
export interface Use {
  readonly component: string;
  readonly as: 'server' | 'client' | 'signer';
  readonly towards: string;
}

/** Where a certificate and its key live, relative to the cluster directory (kubeadm's /etc/kubernetes). */
export type Output =
  | { readonly kind: 'files'; readonly cert: string; readonly key: string }
  | { readonly kind: 'kubeconfig'; readonly file: string; readonly user: string };

export interface CaSpec {
  readonly kind: 'ca';
  readonly name: CaName;
  readonly cn: string;
  readonly output: Output & { kind: 'files' };
  readonly use: readonly Use[];
}

export interface LeafSpec {
  readonly kind: 'leaf';
  readonly name: LeafName;
  /** The CA's spec name, or `self` for a self-signed serving certificate (kubeadm's kubelet default). */
  readonly ca: CaName | 'self';
  readonly cn: string;
  readonly o: readonly string[];
  readonly usages: readonly ExtKeyUsage[];
  readonly sans: SubjectAltNames;
  readonly output: Output;
  readonly use: readonly Use[];
  /** The node a per-node certificate belongs to. */
  readonly node?: string;
}

export type CertSpec = CaSpec | LeafSpec;

/** A bare key pair (the service-account signing key). */
export interface KeyPairSpec {
  readonly kind: 'keypair';
  readonly name: string;
  readonly privateKey: string;
  readonly publicKey: string;
}

export interface SpecTable {
  readonly certs: readonly CertSpec[];
  readonly keyPairs: readonly KeyPairSpec[];
}

const files = (base: string): Output & { kind: 'files' } => ({ kind: 'files', cert: `pki/${base}.crt`, key: `pki/${base}.key` });
const kubeconfig = (file: string, user: string): Output => ({ kind: 'kubeconfig', file, user });
const noSans: SubjectAltNames = { dns: [], ip: [] };

/** Per-node files live under `nodes/<name>/`, as that node's /etc/kubernetes and /var/lib/kubelet/pki would. */
export const nodeDir = (node: string): `nodes/${string}` => `nodes/${node}`;

/** A node's kubelet.conf (its client certificate towards the apiserver). */
export const kubeletClientName = (node: string): `nodes/${string}/kubelet.conf` => `${nodeDir(node)}/kubelet.conf`;
/** A node's kubelet serving pair (pki/kubelet.{crt,key}). */
export const kubeletServingName = (node: string): `nodes/${string}/kubelet` => `${nodeDir(node)}/kubelet`;

export function apiserverSans(plan: ClusterPlan): SubjectAltNames {
  return {
    dns: [plan.controlPlaneName, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${plan.dnsDomain}`],
    ip: [plan.serviceIP, plan.advertiseAddress],
  };
}

export function etcdSans(plan: ClusterPlan): SubjectAltNames {
  return { dns: [plan.controlPlaneName, 'localhost'], ip: [plan.advertiseAddress, '127.0.0.1', '::1'] };
}

/**
 * The certificates every cluster has, whatever its nodes. Written `as const` so the names stay
 * literal: `CertName` below is derived from this list, and `certSpecs` checks it against `CertSpec`
 * (a leaf naming a CA that is not here does not compile).
 */
function fixedSpecs(plan: ClusterPlan) {
  const apiserver = 'kube-apiserver';
  return [
    { kind: 'ca', name: 'ca', cn: 'kubernetes', output: files('ca'), use: [
      { component: 'kube-apiserver', as: 'signer', towards: 'trusted for client certificates (--client-ca-file)' },
      { component: 'kube-controller-manager', as: 'signer', towards: 'signs approved CSRs (--cluster-signing-cert-file)' },
    ] },
    { kind: 'ca', name: 'etcd/ca', cn: 'etcd-ca', output: files('etcd/ca'), use: [
      { component: 'etcd', as: 'signer', towards: 'trusted for clients and peers (--trusted-ca-file)' },
    ] },
    { kind: 'ca', name: 'front-proxy-ca', cn: 'front-proxy-ca', output: files('front-proxy-ca'), use: [
      { component: 'kube-apiserver', as: 'signer', towards: 'trusted for aggregated API proxies (--requestheader-client-ca-file)' },
    ] },
    { kind: 'leaf', name: 'apiserver', ca: 'ca', cn: apiserver, o: [], usages: ['serverAuth'], sans: apiserverSans(plan),
      output: files('apiserver'), use: [{ component: apiserver, as: 'server', towards: 'every client of the API (port 6443)' }] },
    { kind: 'leaf', name: 'apiserver-kubelet-client', ca: 'ca', cn: 'kube-apiserver-kubelet-client', o: ['kubeadm:cluster-admins'],
      usages: ['clientAuth'], sans: noSans, output: files('apiserver-kubelet-client'),
      use: [{ component: apiserver, as: 'client', towards: 'kubelets (logs, exec, port 10250)' }] },
    { kind: 'leaf', name: 'apiserver-etcd-client', ca: 'etcd/ca', cn: 'kube-apiserver-etcd-client', o: [], usages: ['clientAuth'],
      sans: noSans, output: files('apiserver-etcd-client'), use: [{ component: apiserver, as: 'client', towards: 'etcd (port 2379)' }] },
    { kind: 'leaf', name: 'front-proxy-client', ca: 'front-proxy-ca', cn: 'front-proxy-client', o: [], usages: ['clientAuth'],
      sans: noSans, output: files('front-proxy-client'), use: [{ component: apiserver, as: 'client', towards: 'aggregated API servers' }] },
    { kind: 'leaf', name: 'etcd/server', ca: 'etcd/ca', cn: plan.controlPlaneName, o: [], usages: ['serverAuth', 'clientAuth'],
      sans: etcdSans(plan), output: files('etcd/server'), use: [{ component: 'etcd', as: 'server', towards: 'the apiserver and etcdctl (port 2379)' }] },
    { kind: 'leaf', name: 'etcd/peer', ca: 'etcd/ca', cn: plan.controlPlaneName, o: [], usages: ['serverAuth', 'clientAuth'],
      sans: etcdSans(plan), output: files('etcd/peer'), use: [{ component: 'etcd', as: 'server', towards: 'other etcd members (port 2380), and as their client' }] },
    { kind: 'leaf', name: 'etcd/healthcheck-client', ca: 'etcd/ca', cn: 'kube-etcd-healthcheck-client', o: [], usages: ['clientAuth'],
      sans: noSans, output: files('etcd/healthcheck-client'), use: [{ component: 'etcdctl', as: 'client', towards: 'etcd health checks' }] },
    { kind: 'leaf', name: 'admin.conf', ca: 'ca', cn: 'kubernetes-admin', o: ['kubeadm:cluster-admins'], usages: ['clientAuth'],
      sans: noSans, output: kubeconfig('admin.conf', 'kubernetes-admin'), use: [{ component: 'kubectl', as: 'client', towards: 'kube-apiserver' }] },
    { kind: 'leaf', name: 'super-admin.conf', ca: 'ca', cn: 'kubernetes-super-admin', o: ['system:masters'], usages: ['clientAuth'],
      sans: noSans, output: kubeconfig('super-admin.conf', 'kubernetes-super-admin'),
      use: [{ component: 'kubectl', as: 'client', towards: 'kube-apiserver (break-glass, bypasses RBAC)' }] },
    { kind: 'leaf', name: 'controller-manager.conf', ca: 'ca', cn: 'system:kube-controller-manager', o: [], usages: ['clientAuth'],
      sans: noSans, output: kubeconfig('controller-manager.conf', 'system:kube-controller-manager'),
      use: [{ component: 'kube-controller-manager', as: 'client', towards: 'kube-apiserver' }] },
    { kind: 'leaf', name: 'scheduler.conf', ca: 'ca', cn: 'system:kube-scheduler', o: [], usages: ['clientAuth'],
      sans: noSans, output: kubeconfig('scheduler.conf', 'system:kube-scheduler'),
      use: [{ component: 'kube-scheduler', as: 'client', towards: 'kube-apiserver' }] },
    { kind: 'leaf', name: 'kube-proxy.conf', ca: 'ca', cn: 'system:kube-proxy', o: ['system:node-proxier'], usages: ['clientAuth'],
      sans: noSans, output: kubeconfig('kube-proxy.conf', 'system:kube-proxy'),
      use: [{ component: 'kube-proxy', as: 'client', towards: 'kube-apiserver (every node)' }] },
  ] as const;
}

type FixedSpec = ReturnType<typeof fixedSpecs>[number];
/** The CAs: `ca`, `etcd/ca`, `front-proxy-ca`. */
export type CaName = Extract<FixedSpec, { kind: 'ca' }>['name'];
/** Per-node leaves: `nodes/<node>/kubelet.conf` (client) and `nodes/<node>/kubelet` (serving). */
export type NodeCertName = ReturnType<typeof kubeletClientName> | ReturnType<typeof kubeletServingName>;
/** Every leaf: `apiserver`, `admin.conf`, `etcd/server`, ..., and the per-node ones. */
export type LeafName = Extract<FixedSpec, { kind: 'leaf' }>['name'] | NodeCertName;
/** Every certificate of the spec table, by its kubeadm name. */
export type CertName = CaName | LeafName;

/** The whole table for a cluster plan. A fresh copy every call. */
export function certSpecs(plan: ClusterPlan): SpecTable {
  const certs: CertSpec[] = [...fixedSpecs(plan)];
  for (const node of plan.nodes) {
    const user = `system:node:${node.name}`;
    certs.push({
      kind: 'leaf', name: kubeletClientName(node.name), ca: 'ca', cn: user, o: ['system:nodes'], usages: ['clientAuth'],
      sans: noSans, output: kubeconfig(`${nodeDir(node.name)}/kubelet.conf`, user), node: node.name,
      use: [{ component: `kubelet (${node.name})`, as: 'client', towards: 'kube-apiserver' }],
    });
    certs.push({
      kind: 'leaf', name: kubeletServingName(node.name), ca: plan.kubeletServing === 'ca' ? 'ca' : 'self', cn: user,
      o: ['system:nodes'], usages: ['serverAuth'], sans: { dns: [node.name], ip: [node.ip] },
      output: { kind: 'files', cert: `${nodeDir(node.name)}/pki/kubelet.crt`, key: `${nodeDir(node.name)}/pki/kubelet.key` },
      node: node.name, use: [{ component: `kubelet (${node.name})`, as: 'server', towards: 'the apiserver (port 10250)' }],
    });
  }
  return {
    certs,
    keyPairs: [{ kind: 'keypair', name: 'sa', privateKey: 'pki/sa.key', publicKey: 'pki/sa.pub' }],
  };
}

/** Checks the table before anything is issued: names unique, every CA reference known, every leaf usable. */
export function validateSpecs(table: SpecTable): void {
  const names = new Set<string>();
  const paths = new Set<string>();
  const fault = (m: string): never => { throw new PkiError('SPEC_INVALID', `certificate spec table: ${m}`); };
  for (const s of [...table.certs, ...table.keyPairs]) {
    if (names.has(s.name)) fault(`duplicate name "${s.name}"`);
    names.add(s.name);
    const outs = s.kind === 'keypair' ? [s.privateKey, s.publicKey]
      : s.output.kind === 'files' ? [s.output.cert, s.output.key] : [s.output.file];
    for (const p of outs) {
      if (paths.has(p)) fault(`"${s.name}" writes ${p}, which another spec writes too`);
      paths.add(p);
    }
  }
  const cas = new Set(table.certs.filter((c) => c.kind === 'ca').map((c) => c.name));
  for (const s of table.certs) {
    if (s.kind !== 'leaf') continue;
    if (s.ca !== 'self' && !cas.has(s.ca)) fault(`"${s.name}" names CA "${s.ca}", which is not in the table`);
    if (s.usages.length === 0) fault(`leaf "${s.name}" has no extended key usage (serverAuth or clientAuth)`);
    if (s.cn === '') fault(`leaf "${s.name}" has an empty common name`);
    if (s.usages.includes('serverAuth') && s.sans.dns.length + s.sans.ip.length === 0) {
      fault(`server certificate "${s.name}" has no subject alternative names`);
    }
    if (s.output.kind === 'kubeconfig' && !s.usages.includes('clientAuth')) {
      fault(`kubeconfig "${s.name}" holds a certificate without clientAuth`);
    }
    for (const ip of s.sans.ip) if (isIP(ip) === 0) fault(`"${s.name}" has IP SAN "${ip}", which is not an IP`);
  }
}
