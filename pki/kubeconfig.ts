/**
 * Kubeconfig files in kubeadm's format (cmd/kubeadm/app/phases/kubeconfig): one cluster, one user with
 * embedded client certificate and key, one context named `<user>@<cluster>`.
 */
import YAML from 'yaml';
import { PkiError } from './errors.js';

export interface KubeconfigData {
  readonly server: string;
  readonly clusterName: string;
  readonly user: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

const b64 = (pem: string): string => Buffer.from(pem).toString('base64');

export function renderKubeconfig(k: KubeconfigData): string {
  const context = `${k.user}@${k.clusterName}`;
  return YAML.stringify({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(k.caPem), server: k.server }, name: k.clusterName }],
    contexts: [{ context: { cluster: k.clusterName, user: k.user }, name: context }],
    'current-context': context,
    kind: 'Config',
    preferences: {},
    users: [{ name: k.user, user: { 'client-certificate-data': b64(k.certPem), 'client-key-data': b64(k.keyPem) } }],
  }, { lineWidth: 0 });
}

interface RawConfig {
  clusters?: { name?: string; cluster?: Record<string, string> }[];
  contexts?: { name?: string; context?: { cluster?: string; user?: string } }[];
  users?: { name?: string; user?: Record<string, string> }[];
  'current-context'?: string;
}

/** Reads the current context's cluster and user; the file name goes into every error. */
export function parseKubeconfig(text: string, file: string): KubeconfigData {
  const bad = (what: string): never => { throw new PkiError('KUBECONFIG_INVALID', `${file}: ${what}`, { file }); };
  let raw: RawConfig;
  try {
    raw = YAML.parse(text) as RawConfig;
  } catch (cause) {
    throw new PkiError('KUBECONFIG_INVALID', `${file}: not valid YAML (${(cause as Error).message.split('\n')[0]})`, { file, cause });
  }
  if (raw === null || typeof raw !== 'object') bad('not a kubeconfig (expected a YAML mapping)');
  const ctxName = raw['current-context'];
  const ctx = raw.contexts?.find((c) => c.name === ctxName)?.context ?? bad(`current-context "${ctxName ?? ''}" is not defined`);
  const cluster = raw.clusters?.find((c) => c.name === ctx.cluster)?.cluster ?? bad(`cluster "${ctx.cluster ?? ''}" is not defined`);
  const user = raw.users?.find((u) => u.name === ctx.user)?.user ?? bad(`user "${ctx.user ?? ''}" is not defined`);
  const data = (m: Record<string, string>, key: string): string =>
    typeof m[key] === 'string' ? Buffer.from(m[key], 'base64').toString() : bad(`has no ${key} (only embedded data is supported)`);
  return {
    server: cluster.server ?? bad('cluster has no server'),
    clusterName: ctx.cluster ?? '',
    user: ctx.user ?? '',
    caPem: data(cluster, 'certificate-authority-data'),
    certPem: data(user, 'client-certificate-data'),
    keyPem: data(user, 'client-key-data'),
  };
}
