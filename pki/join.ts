/**
 * What `kubeadm join --control-plane` does with the downloaded CAs: the new control-plane node keeps the
 * cluster's CAs and service-account key, and issues its OWN leaves (kubeadm's certs phase on the
 * joining node): an apiserver certificate for its own name and advertise address, its etcd server and
 * peer certificates, its client certificates, and the control-plane kubeconfigs pointing at its own
 * apiserver. Written under DIR in kubeadm's layout, atomically, keys 0600.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { PkiError } from './errors.js';
import { issueLeaf, privateKeyPem, signerFrom, type Signer } from './issue.js';
import { renderKubeconfig } from './kubeconfig.js';
import { assertKeyMatches, parsePrivateKeyPem } from './pem.js';
import { certSpecs, validateSpecs, type ClusterPlan, type LeafSpec } from './spec.js';
import { writeAtomically, type Credential, type Pki } from './store.js';
import type { TransferredFile } from './copycerts.js';
import { certificateDetails } from './x509.js';

/** The leaves a joining control-plane node makes for itself (kubeadm's join control-plane certs and kubeconfig phases). */
export const CONTROL_PLANE_LEAVES = [
  'apiserver', 'apiserver-kubelet-client', 'apiserver-etcd-client', 'front-proxy-client',
  'etcd/server', 'etcd/peer', 'etcd/healthcheck-client', 'admin.conf', 'controller-manager.conf', 'scheduler.conf',
] as const;

export interface JoinOptions {
  /** The cluster's plan (from the first control-plane node). */
  readonly plan: ClusterPlan;
  /** The joining node's name (apiserver and etcd SAN, etcd member name). */
  readonly nodeName: string;
  /** The joining node's advertise address (IP SAN of its apiserver and etcd certificates). */
  readonly advertiseAddress: string;
  readonly now?: Date;
}

/** Builds the joining node's PKI from the downloaded files and writes it under `dir` (if given). */
export async function joinControlPlanePki(files: Record<TransferredFile, string>, options: JoinOptions, dir?: string): Promise<Pki> {
  if (isIP(options.advertiseAddress) === 0) throw new PkiError('BAD_ARGUMENT', `advertise address "${options.advertiseAddress}" is not an IP`);
  const now = options.now ?? new Date();
  const plan: ClusterPlan = { ...options.plan, controlPlaneName: options.nodeName, advertiseAddress: options.advertiseAddress, nodes: [] };
  const table = certSpecs(plan);
  validateSpecs(table);
  const signers = new Map<string, Signer>();
  for (const [name, base] of [['ca', 'ca'], ['etcd/ca', 'etcd/ca'], ['front-proxy-ca', 'front-proxy-ca']] as const) {
    const cert = new X509Certificate(files[`${base}.crt`]);
    const key = parsePrivateKeyPem(files[`${base}.key`], `${base}.key`);
    assertKeyMatches(cert, `${base}.crt`, key, `${base}.key`);
    signers.set(name, signerFrom(name, cert, key, () => certificateDetails(cert.raw).subject));
  }
  const leaves = new Map<string, Credential>();
  const writes: { rel: string; data: string; mode: number }[] = [];
  for (const f of ['ca', 'etcd/ca', 'front-proxy-ca'] as const) {
    writes.push({ rel: `pki/${f}.crt`, data: files[`${f}.crt`], mode: 0o644 }, { rel: `pki/${f}.key`, data: files[`${f}.key`], mode: 0o600 });
  }
  writes.push({ rel: 'pki/sa.pub', data: files['sa.pub'], mode: 0o644 }, { rel: 'pki/sa.key', data: files['sa.key'], mode: 0o600 });
  const server = `https://${options.advertiseAddress}:${plan.apiserverPort}`;
  await Promise.all(CONTROL_PLANE_LEAVES.map(async (name) => {
    const spec = table.certs.find((s): s is LeafSpec => s.kind === 'leaf' && s.name === name)!;
    const issued = await issueLeaf(spec, signers.get(spec.ca)!, plan.keyAlgorithm, now);
    const keyPem = privateKeyPem(issued.key.privateKey);
    leaves.set(name, { name, certPem: issued.certPem, keyPem, cert: issued.cert, key: issued.key.privateKey });
    if (spec.output.kind === 'files') {
      writes.push({ rel: spec.output.cert, data: issued.certPem, mode: 0o644 }, { rel: spec.output.key, data: keyPem, mode: 0o600 });
    } else {
      writes.push({ rel: spec.output.file, mode: 0o600, data: renderKubeconfig({ server, clusterName: plan.clusterName, user: spec.output.user, caPem: files['ca.crt'], certPem: issued.certPem, keyPem }) });
    }
  }));
  if (dir !== undefined) await writeAtomically(dir, writes);
  return { plan, table, signers, leaves, serviceAccount: { privateKeyPem: files['sa.key'], publicKeyPem: files['sa.pub'] } };
}
