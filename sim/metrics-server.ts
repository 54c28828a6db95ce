/**
 * `kubectl apply -f components.yaml` for metrics-server, then its pod: the objects its manifest
 * installs (kubernetes-sigs/metrics-server manifests/base), created with admin.conf:
 *   ServiceAccount kube-system/metrics-server
 *   ClusterRole system:aggregated-metrics-reader (metrics.k8s.io pods, nodes: get list watch; aggregated to view/edit/admin)
 *   ClusterRole system:metrics-server (nodes/metrics get; pods, nodes get list watch) + its ClusterRoleBinding
 *   RoleBinding kube-system/metrics-server-auth-reader → Role extension-apiserver-authentication-reader
 *   ClusterRoleBinding metrics-server:system:auth-delegator → ClusterRole system:auth-delegator
 *   Service kube-system/metrics-server (443 → https)
 *   APIService v1beta1.metrics.k8s.io (groupPriorityMinimum 100, versionPriority 100)
 * then the "pod": a TokenRequest for the service account (what the kubelet projects into the pod), the
 * MetricsServer component, and the Endpoints naming its real address.
 *
 * Two differences from the manifest, both said out loud: the Service has no selector and the sim writes
 * its Endpoints (there is no real pod to select), and the APIService carries the caBundle of the
 * serving certificate metrics-server made at start where the manifest says insecureSkipTLSVerify: true
 * (so the aggregator's hop is verified; `insecureSkipTLSVerify` is an option).
 */
import type { Logger } from 'pino';
import type { Trace } from '../components/client/trace.js';
import { ApiError, type KubeClient } from '../components/client/kube-client.js';
import type { KubeObject } from '../components/api/types.js';
import { MetricsServer } from '../components/metrics-server/index.js';

export interface MetricsServerInstall {
  /** Where it listens (a "pod IP" on loopback) and on which port (the manifest's 10250, 0 for any). */
  readonly host: string;
  readonly port: number;
  /** --kubelet-insecure-tls. */
  readonly kubeletInsecureTls?: boolean;
  /** The APIService says insecureSkipTLSVerify instead of carrying a caBundle (the manifest's default). */
  readonly insecureSkipTLSVerify?: boolean;
  /** --metric-resolution (ms); default 15 s. */
  readonly metricResolutionMs?: number;
}

const SA = { kind: 'ServiceAccount', name: 'metrics-server', namespace: 'kube-system' };
const RBAC = 'rbac.authorization.k8s.io';

/** The manifest's RBAC and ServiceAccount, as manifests/base/rbac.yaml has them. */
export function metricsServerManifest(): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'metrics-server', namespace: 'kube-system', labels: { 'k8s-app': 'metrics-server' } } },
    {
      apiVersion: `${RBAC}/v1`, kind: 'ClusterRole',
      metadata: { name: 'system:aggregated-metrics-reader', labels: { 'k8s-app': 'metrics-server', 'rbac.authorization.k8s.io/aggregate-to-admin': 'true', 'rbac.authorization.k8s.io/aggregate-to-edit': 'true', 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
      rules: [{ apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
    } as KubeObject,
    {
      apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name: 'system:metrics-server', labels: { 'k8s-app': 'metrics-server' } },
      rules: [{ apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] }, { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
    } as KubeObject,
    {
      apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'metrics-server-auth-reader', namespace: 'kube-system', labels: { 'k8s-app': 'metrics-server' } },
      roleRef: { apiGroup: RBAC, kind: 'Role', name: 'extension-apiserver-authentication-reader' }, subjects: [SA],
    } as KubeObject,
    {
      apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'metrics-server:system:auth-delegator', labels: { 'k8s-app': 'metrics-server' } },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'system:auth-delegator' }, subjects: [SA],
    } as KubeObject,
    {
      apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'system:metrics-server', labels: { 'k8s-app': 'metrics-server' } },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'system:metrics-server' }, subjects: [SA],
    } as KubeObject,
    {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'metrics-server', namespace: 'kube-system', labels: { 'k8s-app': 'metrics-server' } },
      spec: { ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 'https' }] },
    } as KubeObject,
  ];
}

const pathOf = (o: KubeObject): string => {
  const ns = o.metadata.namespace ? `/namespaces/${o.metadata.namespace}` : '';
  switch (o.kind) {
    case 'ServiceAccount': return `/api/v1${ns}/serviceaccounts`;
    case 'Service': return `/api/v1${ns}/services`;
    case 'Endpoints': return `/api/v1${ns}/endpoints`;
    case 'APIService': return '/apis/apiregistration.k8s.io/v1/apiservices';
    default: return `/apis/${RBAC}/v1${ns}/${o.kind!.toLowerCase()}s`;
  }
};

/**
 * Creates, or replaces when present (kubectl apply's effect for these objects). A replace that meets a
 * 409 Conflict (a controller wrote the object between the read and the write: the APIService's status,
 * on a restart) reads again and retries, as client-go's RetryOnConflict does.
 */
async function apply(client: KubeClient, o: KubeObject): Promise<void> {
  try {
    await client.create(pathOf(o), o);
    return;
  } catch (err) {
    if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
  }
  const path = `${pathOf(o)}/${o.metadata.name ?? ''}`;
  for (let attempt = 1; ; attempt++) {
    const current = await client.get(path);
    try {
      await client.update(path, { ...o, metadata: { ...o.metadata, resourceVersion: current.metadata.resourceVersion } } as KubeObject);
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.httpStatus === 409) || attempt === 5) throw err;
    }
  }
}

/**
 * Installs and starts metrics-server with `admin` (admin.conf). The caller stops the returned
 * component. `serverCa` is the cluster CA (the service account's ca.crt).
 */
export async function installMetricsServer(admin: KubeClient, apiserver: string, serverCa: string, install: MetricsServerInstall, deps: { logger: Logger; trace: Trace }): Promise<MetricsServer> {
  for (const o of metricsServerManifest()) await apply(admin, o);
  const tr = await admin.create<KubeObject & { status?: { token?: string } }>('/api/v1/namespaces/kube-system/serviceaccounts/metrics-server/token', {
    apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec: { audiences: [], expirationSeconds: 86400 },
  } as KubeObject);
  const token = tr.status?.token;
  if (!token) throw new Error('metrics-server: the TokenRequest returned no token');
  const ms = new MetricsServer({
    host: install.host, port: install.port, apiserver, serverCa, token,
    selfSignedAlternateNames: { dns: ['metrics-server.kube-system.svc'], ip: [install.host] },
    ...(install.kubeletInsecureTls ? { kubeletInsecureTls: true } : {}),
    ...(install.metricResolutionMs ? { metricResolutionMs: install.metricResolutionMs } : {}),
    logger: deps.logger, trace: deps.trace,
  });
  const addr = await ms.start();
  try {
    await apply(admin, {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'metrics-server', namespace: 'kube-system', labels: { 'k8s-app': 'metrics-server' } },
      subsets: [{ addresses: [{ ip: addr.address }], ports: [{ name: 'https', port: addr.port, protocol: 'TCP' }] }],
    } as KubeObject);
    await apply(admin, {
      apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1beta1.metrics.k8s.io', labels: { 'k8s-app': 'metrics-server' } },
      spec: {
        group: 'metrics.k8s.io', version: 'v1beta1', groupPriorityMinimum: 100, versionPriority: 100,
        service: { name: 'metrics-server', namespace: 'kube-system', port: 443 },
        ...(install.insecureSkipTLSVerify ? { insecureSkipTLSVerify: true } : { caBundle: Buffer.from(ms.caBundle).toString('base64') }),
      },
    } as KubeObject);
  } catch (err) {
    await ms.destroy();
    throw err;
  }
  return ms;
}
