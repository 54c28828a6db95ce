/**
 * kubeadm's kube-proxy addon ConfigMap (cmd/kubeadm/app/phases/addons/proxy/manifests.go):
 * `kube-system/kube-proxy` with `config.conf`, the KubeProxyConfiguration every kube-proxy of the
 * cluster runs with (its `mode` is the cluster's proxy mode), and `kubeconfig.conf`. Here the
 * kube-proxies get their mode from the cluster's options, the same value this ConfigMap records, so
 * `kubectl -n kube-system get cm kube-proxy -o yaml` shows what they run with.
 */
import { stringify } from 'yaml';
import { ApiError, type KubeClient } from '../components/client/kube-client.js';
import type { KubeObject } from '../components/api/types.js';
import type { ProxyMode } from '../components/kube-proxy/index.js';

export interface KubeProxyConfigOptions {
  /** The cluster's choice; undefined is kubeadm's default, `mode: ""` (iptables on Linux). */
  readonly mode: ProxyMode | undefined;
  readonly clusterCIDR: string;
  /** The control-plane endpoint kubeconfig.conf names. */
  readonly server: string;
}

/** The KubeProxyConfiguration as kubeadm marshals it (the fields that matter here, with kubeadm's values). */
export function kubeProxyConfiguration(o: KubeProxyConfigOptions): Record<string, unknown> {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    bindAddress: '0.0.0.0',
    clientConnection: { kubeconfig: '/var/lib/kube-proxy/kubeconfig.conf' },
    clusterCIDR: o.clusterCIDR,
    iptables: { masqueradeAll: false, masqueradeBit: null, minSyncPeriod: '0s', syncPeriod: '0s' },
    ipvs: { excludeCIDRs: null, minSyncPeriod: '0s', scheduler: '', strictARP: false, syncPeriod: '0s', tcpFinTimeout: '0s', tcpTimeout: '0s', udpTimeout: '0s' },
    mode: o.mode ?? '',
  };
}

export function kubeProxyConfigMap(o: KubeProxyConfigOptions): KubeObject & { data: Record<string, string> } {
  const kubeconfig = {
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ cluster: { 'certificate-authority': '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', server: o.server }, name: 'default' }],
    contexts: [{ context: { cluster: 'default', namespace: 'default', user: 'default' }, name: 'default' }],
    'current-context': 'default',
    users: [{ name: 'default', user: { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' } }],
  };
  return {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', labels: { app: 'kube-proxy' } },
    data: { 'config.conf': stringify(kubeProxyConfiguration(o)).trimEnd(), 'kubeconfig.conf': stringify(kubeconfig).trimEnd() },
  };
}

/** Creates the ConfigMap, or updates it when a kept cluster restarts with another mode. */
export async function uploadKubeProxyConfig(client: KubeClient, o: KubeProxyConfigOptions): Promise<void> {
  const cm = kubeProxyConfigMap(o);
  const path = '/api/v1/namespaces/kube-system/configmaps';
  try {
    await client.create(path, cm);
  } catch (err) {
    if (!(err instanceof ApiError && err.httpStatus === 409)) throw err;
    const current = await client.get<KubeObject & { data?: Record<string, string> }>(`${path}/kube-proxy`);
    if (current.data?.['config.conf'] === cm.data['config.conf']) return;
    await client.update(`${path}/kube-proxy`, { ...current, data: { ...current.data, ...cm.data } });
  }
}
