/**
 * The control-plane side of node join, as `kubeadm init` and `kubeadm token create` do it:
 *
 * - the discovery hash of a CA (`--discovery-token-ca-cert-hash sha256:<hex>`: SHA-256 over the CA
 *   certificate's DER SubjectPublicKeyInfo, pubkeypin.Hash);
 * - `kube-public/cluster-info`: a kubeconfig naming the apiserver and embedding the CA, readable by
 *   system:anonymous through Role/RoleBinding `kubeadm:bootstrap-signer-clusterinfo`
 *   (phases/bootstraptoken/clusterinfo);
 * - a bootstrap token Secret (`kubeadm token create`, 24 h by default).
 */
import { createHash, X509Certificate } from 'node:crypto';
import YAML from 'yaml';
import { bootstrapTokenSecret, CLUSTER_INFO, type CreateTokenOptions } from '../components/api/bootstrap-token.js';
import { ApiError, type KubeClient, resourcePath } from '../components/client/kube-client.js';
import type { KubeObject } from '../components/api/types.js';
import type { Logger } from 'pino';
import { discover, tlsBootstrap, type Bootstrapped, type DiscoveredCluster } from '../components/kubelet/bootstrap.js';
import { Kubelet, type KubeletOptions } from '../components/kubelet/index.js';
import type { Identity } from '../components/client/tls.js';
import { generateKey, privateKeyPem, selfSignCa, signCsr } from '../pki/issue.js';
import { createCsr } from '../pki/x509.js';
import type { Trace } from '../components/client/trace.js';

/** pubkeypin.Hash: `sha256:` + hex of SHA-256 over the certificate's DER SubjectPublicKeyInfo. */
export function caCertHash(caPem: string): string {
  const spki = new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** The kubeconfig in cluster-info: one cluster with an empty name, no user (kubeconfigutil.CreateBasic, then stripped). */
export function clusterInfoKubeconfig(server: string, caPem: string): string {
  return YAML.stringify({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': Buffer.from(caPem).toString('base64'), server }, name: '' }],
    contexts: null,
    'current-context': '',
    kind: 'Config',
    preferences: {},
    users: null,
  }, { lineWidth: 0 });
}

/** The objects `kubeadm init` writes for discovery: cluster-info and the anonymous read of it. */
export function clusterInfoObjects(server: string, caPem: string): KubeObject[] {
  const name = 'kubeadm:bootstrap-signer-clusterinfo';
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CLUSTER_INFO, namespace: 'kube-public' }, data: { kubeconfig: clusterInfoKubeconfig(server, caPem) } } as KubeObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: 'kube-public' },
      rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: [CLUSTER_INFO] }],
    } as KubeObject,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace: 'kube-public' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'User', name: 'system:anonymous' }],
    } as KubeObject,
  ];
}

const PATHS: Readonly<Record<string, (ns: string) => string>> = {
  ConfigMap: (ns) => resourcePath({ resource: 'configmaps', namespace: ns }),
  Role: (ns) => resourcePath({ group: 'rbac.authorization.k8s.io', resource: 'roles', namespace: ns }),
  RoleBinding: (ns) => resourcePath({ group: 'rbac.authorization.k8s.io', resource: 'rolebindings', namespace: ns }),
};

/** `kubeadm init phase bootstrap-token` (the cluster-info part), with a system:masters client. */
export async function uploadClusterInfo(client: KubeClient, server: string, caPem: string): Promise<void> {
  for (const obj of clusterInfoObjects(server, caPem)) {
    try {
      await client.create(PATHS[obj.kind ?? '']!(obj.metadata.namespace ?? ''), obj);
    } catch (err) {
      if (!(err instanceof ApiError && err.httpStatus === 409)) throw err;
    }
  }
}

/** `kubeadm token create`: the token (`<id>.<secret>`) and the Secret it stored. */
export async function createBootstrapToken(client: KubeClient, options: CreateTokenOptions): Promise<{ token: string; secret: KubeObject }> {
  const { token, secret } = bootstrapTokenSecret(options);
  const stored = await client.create<KubeObject>(resourcePath({ resource: 'secrets', namespace: 'kube-system' }), secret);
  return { token, secret: stored };
}

export interface JoinNodeOptions {
  /** The apiserver endpoint given to `kubeadm join` (`https://host:port`). */
  readonly apiserver: string;
  readonly token: string;
  readonly caCertHashes: readonly string[];
  readonly nodeName: string;
  /** The node's address and pod range. */
  readonly node: { readonly ip: string; readonly podCIDR: string };
  readonly trace: Trace;
  readonly logger: Logger;
  /** Where kubelet.conf and the kubelet's pki/ go; absent: nothing is written. */
  readonly dir?: string;
  readonly discovery?: { readonly timeoutMs?: number; readonly intervalMs?: number };
  readonly waitTimeoutMs?: number;
  /** Kubelet options (rotateCertificates, serverTLSBootstrap, rotationRandom, ...). */
  readonly kubelet?: Partial<KubeletOptions>;
}

export interface JoinedNode {
  readonly kubelet: Kubelet;
  readonly discovered: DiscoveredCluster;
  readonly bootstrapped: Bootstrapped;
}

/**
 * `kubeadm join` of a worker: discovery, the kubelet's TLS bootstrap, then the kubelet runs with the
 * certificate it got. Without serverTLSBootstrap the kubelet serves with a self-signed pair
 * (kubeadm's default: `<node>-ca@<time>` signs `<node>@<time>`).
 */
export async function joinNode(o: JoinNodeOptions): Promise<JoinedNode> {
  const discovered = await discover({ apiserver: o.apiserver, token: o.token, caCertHashes: o.caCertHashes, trace: o.trace, logger: o.logger, ...o.discovery });
  const bootstrapped = await tlsBootstrap({
    nodeName: o.nodeName, server: discovered.server, caPem: discovered.caPem, token: o.token, trace: o.trace, logger: o.logger,
    ...(o.dir ? { dir: o.dir } : {}), ...(o.waitTimeoutMs !== undefined ? { waitTimeoutMs: o.waitTimeoutMs } : {}),
  });
  let servingIdentity: Identity | undefined;
  if (!o.kubelet?.serverTLSBootstrap && !o.kubelet?.servingIdentity) {
    const now = new Date();
    const stamp = Math.floor(now.getTime() / 1000);
    const [caKey, key] = await Promise.all([generateKey('ecdsa-p256'), generateKey('ecdsa-p256')]);
    const own = selfSignCa({ name: `${o.nodeName}-ca`, cn: `${o.nodeName}-ca@${stamp}` }, caKey, now);
    const cert = signCsr(createCsr({ cn: `${o.nodeName}@${stamp}`, o: [] }, { dns: [o.nodeName], ip: [o.node.ip] }, key), own, { usages: ['serverAuth'], now });
    servingIdentity = { cert: cert.toString() + own.cert.toString(), key: privateKeyPem(key.privateKey) };
  }
  const kubelet = new Kubelet({
    nodeName: o.nodeName, nodeIP: o.node.ip, podCIDR: o.node.podCIDR, apiserver: discovered.server, identity: bootstrapped.identity,
    serverCa: discovered.caPem, clientCa: discovered.caPem, port: 0,
    ...(servingIdentity ? { servingIdentity } : {}), ...(o.dir ? { certificateDir: o.dir } : {}),
    ...o.kubelet,
  }, { logger: o.logger, trace: o.trace });
  await kubelet.start();
  return { kubelet, discovered, bootstrapped };
}
