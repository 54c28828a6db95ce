/**
 * Every certificate and kubeconfig a directory holds, with when it expires and who renews it next, in
 * the columns of `kubeadm certs check-expiration` (CERTIFICATE, EXPIRES, RESIDUAL TIME, CERTIFICATE
 * AUTHORITY, EXTERNALLY MANAGED) plus NEXT ROTATION:
 *
 *   kubeadm's leaves            nobody renews them by themselves: `kubeadm certs renew` (or `kubeadm upgrade apply`) before EXPIRES
 *   a kubelet's client cert     the kubelet's certificate manager rotates it at a random point in 70-90% of its
 *                               life (client-go nextRotationDeadline), when it lives in kubelet-client-current.pem
 *   kubelet.conf with embedded  FLAGGED: `kubeadm certs renew` skips kubelet.conf and the kubelet's rotation
 *   client-certificate-data     writes kubelet-client-current.pem, so nothing renews it (kubeadm#2185)
 *   a kubelet's serving cert    CA-signed: a kubelet-serving CSR at 70-90% (serverTLSBootstrap, approved by hand);
 *                               self-signed: only when the file is deleted and the kubelet restarts
 *   the CAs                     nothing rotates them (10 years); a CA rotation is a manual procedure
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Inspection, LeafInfo } from './inspect.js';
import { kubeadmDate } from './inspect.js';
import { KUBEADM_CERTS, shortHumanDuration, tabwrite } from './renew.js';

export interface ExpiryFact {
  /** kubeadm's name where it has one (etcd-server, admin.conf), else the file. */
  readonly name: string;
  readonly file: string;
  readonly expires: Date;
  readonly residual: string;
  readonly ca: string;
  readonly externallyManaged: boolean;
  /** Who renews it and when, in a few words. */
  readonly nextRotation: string;
  /** The earliest moment it may be renewed by a component (the kubelet's 70% point), if any does. */
  readonly rotatesAfter?: Date;
  /** Why nothing will renew it although something is expected to (kubeadm#2185). */
  readonly flag?: string;
}

const KUBEADM_NAMES = new Map(KUBEADM_CERTS.map((k) => [k.spec, k.name]));
const at = (l: LeafInfo, f: number): Date => new Date(l.notBefore.getTime() + f * (l.notAfter.getTime() - l.notBefore.getTime()));

function rotation(l: LeafInfo): Pick<ExpiryFact, 'nextRotation' | 'rotatesAfter' | 'flag'> {
  const role = l.role?.name ?? '';
  const embedded = l.file.endsWith('(client-certificate-data)');
  const isKubeletClient = /(^|\/)kubelet\.conf$/.test(role) || /^system:node:/.test(l.details.subject.cn) && l.details.extKeyUsage.includes('clientAuth') && !l.details.extKeyUsage.includes('serverAuth');
  if (isKubeletClient) {
    if (embedded) {
      return {
        nextRotation: `nobody: kubeadm certs renew skips kubelet.conf and the kubelet rotates only kubelet-client-current.pem; renew by hand before ${kubeadmDate(l.notAfter)}`,
        flag: `${l.file}: embedded client certificate that \`kubeadm certs renew\` skips (kubeadm#2185): point kubelet.conf at /var/lib/kubelet/pki/kubelet-client-current.pem`,
      };
    }
    return { nextRotation: `the kubelet, between ${kubeadmDate(at(l, 0.7))} and ${kubeadmDate(at(l, 0.9))} (70-90% of its life)`, rotatesAfter: at(l, 0.7) };
  }
  if (role.startsWith('nodes/') && l.details.extKeyUsage.includes('serverAuth')) {
    if (l.cert.checkIssued(l.cert) || !l.ca) return { nextRotation: 'nobody: a self-signed kubelet serving certificate is remade only when deleted and the kubelet restarts' };
    return { nextRotation: `the kubelet's kubelet-serving CSR between ${kubeadmDate(at(l, 0.7))} and ${kubeadmDate(at(l, 0.9))}, if serverTLSBootstrap and someone approves it`, rotatesAfter: at(l, 0.7) };
  }
  if (KUBEADM_NAMES.has(role)) return { nextRotation: `kubeadm certs renew ${KUBEADM_NAMES.get(role)!} (or kubeadm upgrade apply) before ${kubeadmDate(l.notAfter)}; nothing renews it by itself` };
  return { nextRotation: `nobody renews it by itself (not a kubeadm certificate): re-issue before ${kubeadmDate(l.notAfter)}` };
}

/** The facts for every leaf and CA `inspect` found, soonest expiry first. */
export async function expiryFacts(i: Inspection): Promise<{ certificates: ExpiryFact[]; authorities: ExpiryFact[] }> {
  const name = (l: LeafInfo): string => {
    const role = l.role?.name;
    return role && KUBEADM_NAMES.has(role) ? KUBEADM_NAMES.get(role)! : role ?? l.file;
  };
  const certificates = i.leaves.map((l): ExpiryFact => ({
    name: name(l), file: l.file, expires: l.notAfter, residual: shortHumanDuration(l.notAfter.getTime() - i.now.getTime()),
    ca: l.ca?.name ?? (l.cert.checkIssued(l.cert) ? '(self-signed)' : '(unknown)'), externallyManaged: false, ...rotation(l),
  })).sort((a, b) => a.expires.getTime() - b.expires.getTime() || a.name.localeCompare(b.name));
  const authorities = (await Promise.all(i.cas.map(async (c): Promise<ExpiryFact> => ({
    name: c.name, file: c.file, expires: c.notAfter, residual: shortHumanDuration(c.notAfter.getTime() - i.now.getTime()), ca: '',
    // kubeadm's external-CA mode: a CA whose key is not beside it is managed outside kubeadm.
    externallyManaged: !(await fs.access(path.join(i.dir, c.file.replace(/\.crt$/, '.key'))).then(() => true, () => false)),
    nextRotation: 'nobody: a CA is rotated by hand (10 years)',
  })))).sort((a, b) => a.expires.getTime() - b.expires.getTime());
  return { certificates, authorities };
}

/** kubeadm's table layout (tabwriter, padding 3) with NEXT ROTATION, then the flags. */
export function renderExpiryFacts(f: { certificates: readonly ExpiryFact[]; authorities: readonly ExpiryFact[] }): string {
  const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
  const certLines = ['CERTIFICATE\tEXPIRES\tRESIDUAL TIME\tCERTIFICATE AUTHORITY\tEXTERNALLY MANAGED\tNEXT ROTATION',
    ...f.certificates.map((c) => `${c.name}\t${kubeadmDate(c.expires)}\t${c.residual}\t${c.ca}\t${yesNo(c.externallyManaged)}\t${c.nextRotation}`)];
  const caLines = ['CERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\tEXTERNALLY MANAGED\tNEXT ROTATION',
    ...f.authorities.map((c) => `${c.name}\t${kubeadmDate(c.expires)}\t${c.residual}\t${yesNo(c.externallyManaged)}\t${c.nextRotation}`)];
  const flags = f.certificates.filter((c) => c.flag).map((c) => `FLAG ${c.flag!}`);
  return [tabwrite(certLines), '', tabwrite(caLines), ...(flags.length ? ['', ...flags] : [])].join('\n');
}
