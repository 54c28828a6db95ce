/**
 * What the kubelet does with its kubeconfigs at start-up when client rotation is on
 * (pkg/kubelet/certificate/bootstrap LoadClientConfig, called from cmd/kubelet/app/server.go):
 *
 *   1. kubelet.conf whose certificates are all within their validity → use it;
 *   2. otherwise ("part of the existing bootstrap client certificate is expired: <notAfter>") → the
 *      bootstrap kubeconfig, and a new TLS bootstrap with the token in it;
 *   3. no bootstrap kubeconfig (kubeadm join deletes bootstrap-kubelet.conf once the node has joined) →
 *      the kubelet exits: "failed to run Kubelet: unable to load bootstrap kubeconfig: stat <path>: no
 *      such file or directory" (kubeadm#2054).
 *
 * kubelet.conf may embed its certificate (client-certificate-data, as kubeadm init and join write it)
 * or name files (client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem, as the recovery
 * documented by kubeadm leaves it). Nothing is logged but the decision; never a key.
 */
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { KubeSimError } from '../../pki/errors.js';
import type { Identity } from '../client/tls.js';

export type KubeletStartErrorCode = 'KUBECONFIG_UNREADABLE' | 'BOOTSTRAP_KUBECONFIG_MISSING';
export class KubeletStartError extends KubeSimError<KubeletStartErrorCode> {}

export interface LoadedClientConfig {
  readonly source: 'kubeconfig' | 'bootstrap';
  /** From kubelet.conf (source kubeconfig). */
  readonly identity?: Identity;
  /** From the bootstrap kubeconfig (source bootstrap): the token to bootstrap with. */
  readonly token?: string;
  readonly server: string;
  readonly caPem: string;
  /** What the kubelet logged on the way (its words). */
  readonly log: readonly string[];
}

interface RawKubeconfig {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster?: string; user?: string } }[];
  clusters?: { name: string; cluster: Record<string, string> }[];
  users?: { name: string; user: Record<string, string> }[];
}

/** Go's time.Time.String() in UTC: `2006-01-02 15:04:05 +0000 UTC`. */
export const goTime = (d: Date): string => `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;

async function readKubeconfig(file: string): Promise<{ server: string; caPem: string; user: Record<string, string> }> {
  const raw = YAML.parse(await fs.readFile(file, 'utf8')) as RawKubeconfig;
  const ctx = raw.contexts?.find((c) => c.name === raw['current-context'])?.context;
  const cluster = raw.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  const user = raw.users?.find((u) => u.name === ctx?.user)?.user;
  if (!ctx || !cluster || !user || !cluster['server']) throw new KubeletStartError('KUBECONFIG_UNREADABLE', `invalid configuration: ${file}: no context, cluster or user`);
  const ca = cluster['certificate-authority-data'] ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString()
    : cluster['certificate-authority'] ? await fs.readFile(path.resolve(path.dirname(file), cluster['certificate-authority']), 'utf8') : '';
  return { server: cluster['server'], caPem: ca, user };
}

async function material(file: string, user: Record<string, string>, data: string, ref: string): Promise<string | undefined> {
  if (user[data]) return Buffer.from(user[data], 'base64').toString();
  if (user[ref]) return fs.readFile(path.resolve(path.dirname(file), user[ref]), 'utf8');
  return undefined;
}

/** LoadClientConfig for `--kubeconfig` and `--bootstrap-kubeconfig` at `now`. */
export async function loadClientConfig(kubeconfigPath: string, bootstrapPath: string, now: Date = new Date()): Promise<LoadedClientConfig> {
  const log: string[] = [];
  // isClientConfigStillValid: a missing kubelet.conf is not an error, bootstrapping follows.
  const exists = await fs.stat(kubeconfigPath).then(() => true, () => false);
  if (exists) {
    const k = await readKubeconfig(kubeconfigPath);
    const certPem = await material(kubeconfigPath, k.user, 'client-certificate-data', 'client-certificate');
    const keyPem = await material(kubeconfigPath, k.user, 'client-key-data', 'client-key');
    let valid = certPem !== undefined && keyPem !== undefined;
    if (certPem !== undefined) {
      for (const block of certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
        const c = new X509Certificate(block);
        const notAfter = new Date(c.validTo);
        if (now > notAfter) { log.push(`part of the existing bootstrap client certificate is expired: ${goTime(notAfter)}`); valid = false; break; }
        const notBefore = new Date(c.validFrom);
        if (now < notBefore) { log.push(`part of the existing bootstrap client certificate is not yet valid: ${goTime(notBefore)}`); valid = false; break; }
      }
    }
    if (valid) return { source: 'kubeconfig', identity: { cert: certPem!, key: keyPem! }, server: k.server, caPem: k.caPem, log };
  }
  const bootstrapExists = await fs.stat(bootstrapPath).then(() => true, () => false);
  if (!bootstrapExists) {
    throw new KubeletStartError('BOOTSTRAP_KUBECONFIG_MISSING', `failed to run Kubelet: unable to load bootstrap kubeconfig: stat ${bootstrapPath}: no such file or directory`);
  }
  const b = await readKubeconfig(bootstrapPath);
  return { source: 'bootstrap', ...(b.user['token'] ? { token: b.user['token'] } : {}), server: b.server, caPem: b.caPem, log };
}
