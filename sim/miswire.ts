/**
 * Four real mis-wirings a cluster can be started with (`npm run cluster -- --miswire NAME`), each one
 * that `npm run probe` must catch with the right cell and reason:
 *
 *   etcd-trusts-kubernetes-ca         etcd's --trusted-ca-file is etcd/ca.crt + ca.crt (as when one CA is
 *                                     used for all, "Kubernetes The Hard Way"): a kubelet's certificate reaches etcd
 *   no-kubelet-certificate-authority  the apiserver without --kubelet-certificate-authority (kubeadm's
 *                                     default, CIS 1.2.5) and node-1 with a self-signed serving certificate
 *                                     (kubeadm's default too): the apiserver talks to a kubelet nobody can verify
 *   kube-proxy-masters                kube-proxy.conf re-issued with O=system:masters: kube-proxy is cluster-admin
 *   kubelet-serving-no-ip-sans        node-1's serving certificate re-issued with DNS SANs only: clients that
 *                                     dial its IP refuse it (x509: cannot validate certificate for <ip> because
 *                                     it doesn't contain any IP SANs)
 *
 * Certificates are re-issued by the real CA (or self-signed) and written into the cluster directory in
 * kubeadm's layout (keys 0600), so the probe reads them as it reads any /etc/kubernetes.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { generateKey, issueLeaf, privateKeyPem } from '../pki/issue.js';
import { renderKubeconfig } from '../pki/kubeconfig.js';
import type { LeafSpec } from '../pki/spec.js';
import { caPem, kubeletServingName, type Credential, type Pki } from '../pki/store.js';
import type { ClusterOptions } from './cluster.js';

export const MISWIRINGS = ['etcd-trusts-kubernetes-ca', 'no-kubelet-certificate-authority', 'kube-proxy-masters', 'kubelet-serving-no-ip-sans'] as const;
export type Miswiring = (typeof MISWIRINGS)[number];

export interface Miswired {
  readonly pki: Pki;
  /** Options for the Cluster. */
  readonly options: Pick<ClusterOptions, 'etcdTrustedCa' | 'kubeletCertificateAuthority'>;
  /** One line: what is wrong. */
  readonly what: string;
}

async function reissue(dir: string, pki: Pki, name: string, change: (s: LeafSpec) => LeafSpec, self = false): Promise<Pki> {
  const spec = pki.table.certs.find((c) => c.name === name) as LeafSpec | undefined;
  if (!spec) throw new Error(`${name}: not in this PKI (nodes: ${pki.plan.nodes.map((n) => n.name).join(', ') || 'none'})`);
  const wanted = change(spec);
  const signer = pki.signers.get(wanted.ca === 'self' ? 'ca' : wanted.ca);
  if (!signer) throw new Error(`${name}: its CA ${wanted.ca} has no key here`);
  const issued = await issueLeaf(wanted, self ? 'self' : signer, pki.plan.keyAlgorithm, new Date(), generateKey(pki.plan.keyAlgorithm));
  const keyPem = privateKeyPem(issued.key.privateKey);
  const out = wanted.output;
  if (out.kind === 'files') {
    await fs.mkdir(path.dirname(path.join(dir, out.cert)), { recursive: true });
    await fs.writeFile(path.join(dir, out.key), keyPem, { mode: 0o600 });
    await fs.chmod(path.join(dir, out.key), 0o600);
    await fs.writeFile(path.join(dir, out.cert), issued.certPem, { mode: 0o644 });
  } else {
    const server = `https://${pki.plan.advertiseAddress}:${pki.plan.apiserverPort}`;
    await fs.writeFile(path.join(dir, out.file), renderKubeconfig({ server, clusterName: pki.plan.clusterName, user: out.user, caPem: caPem(pki, 'ca'), certPem: issued.certPem, keyPem }), { mode: 0o600 });
    await fs.chmod(path.join(dir, out.file), 0o600);
  }
  const leaves = new Map(pki.leaves);
  leaves.set(name, { name: wanted.name, certPem: issued.certPem, keyPem, cert: issued.cert, key: issued.key.privateKey } satisfies Credential);
  return { ...pki, leaves };
}

/** Applies one mis-wiring to the PKI in `dir` (re-issuing into it) and says how to start the cluster. */
export async function miswire(dir: string, pki: Pki, m: Miswiring): Promise<Miswired> {
  const node = pki.plan.nodes[0]?.name;
  switch (m) {
    case 'etcd-trusts-kubernetes-ca':
      return { pki, options: { etcdTrustedCa: caPem(pki, 'etcd/ca') + caPem(pki, 'ca') }, what: "etcd's --trusted-ca-file holds the Kubernetes CA beside the etcd CA" };
    case 'no-kubelet-certificate-authority': {
      if (!node) throw new Error(`${m}: the PKI has no node`);
      const p = await reissue(dir, pki, kubeletServingName(node), (s) => ({ ...s, ca: 'self' }), true);
      return { pki: p, options: { kubeletCertificateAuthority: false }, what: `the apiserver has no --kubelet-certificate-authority and ${node} serves a self-signed certificate (kubeadm's defaults)` };
    }
    case 'kube-proxy-masters': {
      const p = await reissue(dir, pki, 'kube-proxy.conf', (s) => ({ ...s, o: ['system:masters'] }));
      return { pki: p, options: {}, what: 'kube-proxy.conf is re-issued with O=system:masters' };
    }
    case 'kubelet-serving-no-ip-sans': {
      if (!node) throw new Error(`${m}: the PKI has no node`);
      const p = await reissue(dir, pki, kubeletServingName(node), (s) => ({ ...s, sans: { ...s.sans, ip: [] } }));
      return { pki: p, options: {}, what: `${node}'s kubelet serving certificate is re-issued with DNS SANs only (no IP SANs)` };
    }
  }
}
