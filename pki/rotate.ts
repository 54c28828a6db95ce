/**
 * A new Kubernetes CA and the leaves it re-issues, for a CA rotation (kubernetes.io "Manual Rotation
 * of CA Certificates"): the new CA has the same name as the old (CN "kubernetes", 10 years, a new key);
 * every leaf the old CA signed is re-issued by the new one with a new key and the same subject, SANs
 * and usages. The etcd and front-proxy trees and the service-account key are kept. The caller rolls the
 * result out in phases: trust old+new everywhere, switch the leaves, then drop the old CA.
 */
import { generateKey, issueLeaf, privateKeyPem, selfSignCa, type Signer } from './issue.js';
import type { CaSpec, LeafSpec } from './spec.js';
import type { Credential, Pki } from './store.js';

export interface Rotation {
  readonly oldCa: Signer;
  readonly newCa: Signer;
  /** The PKI after rotation: the new CA and the re-issued leaves, everything else as before. */
  readonly pki: Pki;
  /** Old and new CA in one PEM bundle, as --client-ca-file and certificate-authority-data carry it mid-rotation. */
  readonly bundle: string;
  /** Spec names of the re-issued leaves. */
  readonly reissued: readonly string[];
}

export async function rotateKubernetesCa(pki: Pki, now: Date = new Date()): Promise<Rotation> {
  const oldCa = pki.signers.get('ca')!;
  const spec = pki.table.certs.find((s): s is CaSpec => s.kind === 'ca' && s.name === 'ca')!;
  const newCa = selfSignCa(spec, await generateKey(pki.plan.keyAlgorithm), now);
  const leaves = new Map<string, Credential>(pki.leaves);
  const reissued: string[] = [];
  await Promise.all(pki.table.certs.filter((s): s is LeafSpec => s.kind === 'leaf' && s.ca === 'ca').map(async (s) => {
    const issued = await issueLeaf(s, newCa, pki.plan.keyAlgorithm, now);
    leaves.set(s.name, { name: s.name, certPem: issued.certPem, keyPem: privateKeyPem(issued.key.privateKey), cert: issued.cert, key: issued.key.privateKey });
    reissued.push(s.name);
  }));
  const signers = new Map(pki.signers);
  signers.set('ca', newCa);
  return { oldCa, newCa, pki: { ...pki, signers, leaves }, bundle: oldCa.cert.toString() + newCa.cert.toString(), reissued: reissued.sort() };
}
