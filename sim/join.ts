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
import { bootstrapTokenSecret, CLUSTER_INFO, type CreateTokenOptions } from '../components/bootstrap-token.js';
import { ApiError, type KubeClient, resourcePath } from '../components/kube-client.js';
import type { KubeObject } from '../components/types.js';

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
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  }
}

/** `kubeadm token create`: the token (`<id>.<secret>`) and the Secret it stored. */
export async function createBootstrapToken(client: KubeClient, options: CreateTokenOptions): Promise<{ token: string; secret: KubeObject }> {
  const { token, secret } = bootstrapTokenSecret(options);
  const stored = await client.create<KubeObject>(resourcePath({ resource: 'secrets', namespace: 'kube-system' }), secret);
  return { token, secret: stored };
}
