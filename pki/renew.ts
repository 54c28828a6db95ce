/**
 * `kubeadm certs renew` and `kubeadm certs check-expiration` on a cluster directory.
 *
 * Renewal follows kubeadm's renewal.FileRenewer: each leaf is re-signed by its (local) CA with a NEW
 * key pair (pkiutil.NewCertAndKey), and "extra attributes such as SANs are based on the existing
 * certificate": CN, O, SANs and extended key usages are read from the certificate being renewed, not
 * from the plan. CAs are never touched; a CA that is expired (or not yet valid) refuses every renewal
 * with CA_EXPIRED. A kubeconfig keeps its server, cluster and CA data; only the embedded client
 * certificate and key change. Everything is written at once (writeAtomically) or not at all.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { X509Certificate } from 'node:crypto';
import { PkiError } from './errors.js';
import { kubeadmDate } from './inspect.js';
import { issueLeaf, notAfter, privateKeyPem, validAt, type Signer } from './issue.js';
import { parseKubeconfig, renderKubeconfig } from './kubeconfig.js';
import { parseCertificates } from './pem.js';
import type { LeafSpec } from './spec.js';
import { loadPki, writeAtomically, type Pki } from './store.js';
import { certificateDetails, type ExtKeyUsage } from './x509.js';

/** kubeadm's certificate names, in its order, with the spec they map to and kubeadm's description. */
export const KUBEADM_CERTS: readonly { readonly name: string; readonly spec: string; readonly what: string }[] = [
  { name: 'admin.conf', spec: 'admin.conf', what: 'certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself' },
  { name: 'apiserver', spec: 'apiserver', what: 'certificate for serving the Kubernetes API' },
  { name: 'apiserver-etcd-client', spec: 'apiserver-etcd-client', what: 'certificate the apiserver uses to access etcd' },
  { name: 'apiserver-kubelet-client', spec: 'apiserver-kubelet-client', what: 'certificate for the API server to connect to kubelet' },
  { name: 'controller-manager.conf', spec: 'controller-manager.conf', what: 'certificate embedded in the kubeconfig file for the controller manager to use' },
  { name: 'etcd-healthcheck-client', spec: 'etcd/healthcheck-client', what: 'certificate for liveness probes to healthcheck etcd' },
  { name: 'etcd-peer', spec: 'etcd/peer', what: 'certificate for etcd nodes to communicate with each other' },
  { name: 'etcd-server', spec: 'etcd/server', what: 'certificate for serving etcd' },
  { name: 'front-proxy-client', spec: 'front-proxy-client', what: 'certificate for the front proxy client' },
  { name: 'scheduler.conf', spec: 'scheduler.conf', what: 'certificate embedded in the kubeconfig file for the scheduler manager to use' },
  { name: 'super-admin.conf', spec: 'super-admin.conf', what: 'certificate embedded in the kubeconfig file for the super-admin' },
];

const KUBEADM_CAS: readonly { readonly name: string; readonly spec: string }[] = [
  { name: 'ca', spec: 'ca' }, { name: 'etcd-ca', spec: 'etcd/ca' }, { name: 'front-proxy-ca', spec: 'front-proxy-ca' },
];

/** The names `renew` accepts besides kubeadm's: this tool's extra leaves (kube-proxy.conf, each node's kubelet pair). */
function extraNames(pki: Pki): { name: string; spec: string; what: string }[] {
  const extra = [{ name: 'kube-proxy.conf', spec: 'kube-proxy.conf', what: 'certificate embedded in the kubeconfig file for kube-proxy (not kubeadm: "Kubernetes The Hard Way")' }];
  for (const n of pki.plan.nodes) {
    extra.push({ name: `nodes/${n.name}/kubelet.conf`, spec: `nodes/${n.name}/kubelet.conf`, what: `certificate embedded in ${n.name}'s kubelet.conf (not kubeadm: a real kubelet rotates its own)` });
    extra.push({ name: `nodes/${n.name}/kubelet`, spec: `nodes/${n.name}/kubelet`, what: `${n.name}'s kubelet serving certificate (not kubeadm: a real kubelet makes or requests its own)` });
  }
  return extra;
}

export interface RenewResult {
  /** What was renewed, in order: kubeadm's name and its description. */
  readonly renewed: readonly { readonly name: string; readonly what: string; readonly notAfter: Date }[];
  /** Relative paths written. */
  readonly written: readonly string[];
}

/**
 * Renews `names` (kubeadm's names, `all`, or this tool's extra names) under `dir` at `now`.
 * `all` renews kubeadm's list plus this tool's extra leaves (kube-proxy.conf and each node's kubelet
 * pair), so a directory left a year is whole again; kubeadm itself leaves the kubelet to rotate its own.
 */
export async function renewCertificates(dir: string, names: readonly string[], options: { now?: Date } = {}): Promise<RenewResult> {
  const now = options.now ?? new Date();
  if (names.length === 0) throw new PkiError('BAD_ARGUMENT', 'renew: name what to renew (all, or one of the certificate names)');
  // loadPki checks every CA against `now`: an expired CA refuses here with CA_EXPIRED, naming its file.
  const pki = await loadPki(dir, { now: () => now });
  const known = [...KUBEADM_CERTS, ...extraNames(pki)];
  const chosen = names.includes('all') ? known : names.map((n) => known.find((k) => k.name === n)
    ?? (() => { throw new PkiError('BAD_ARGUMENT', `renew: unknown certificate "${n}" (one of all, ${known.map((k) => k.name).join(', ')})`); })());
  // Every check first, then the key pairs made at once (RSA generation dominates and runs on the pool).
  const plans = chosen.map((k) => {
    const spec = pki.table.certs.find((s): s is LeafSpec => s.kind === 'leaf' && s.name === k.spec);
    if (!spec) throw new PkiError('BAD_ARGUMENT', `renew: "${k.name}" is not in this directory's plan`);
    const current = pki.leaves.get(spec.name)!;
    // The existing certificate decides subject, SANs and usages (kubeadm: "based on the existing file").
    const d = certificateDetails(current.cert.raw);
    const ekus = d.extKeyUsage.filter((u): u is ExtKeyUsage => u === 'serverAuth' || u === 'clientAuth');
    const fromCert: LeafSpec = {
      ...spec, cn: spec.ca === 'self' ? spec.cn : d.subject.cn, o: spec.ca === 'self' ? spec.o : d.subject.o,
      sans: d.sans, usages: ekus.length > 0 ? ekus : spec.usages,
    };
    const signer: Signer | 'self' = spec.ca === 'self' ? 'self' : pki.signers.get(spec.ca)!;
    if (signer !== 'self' && !validAt(signer.cert, now)) {
      throw new PkiError('CA_EXPIRED', `${k.name}: its CA "${signer.subject.cn}" is expired (valid to ${signer.cert.validTo}); it cannot sign a renewal`);
    }
    return { k, spec, fromCert, signer };
  });
  const results = await Promise.all(plans.map(async ({ k, spec, fromCert, signer }) => {
    const issued = await issueLeaf(fromCert, signer, pki.plan.keyAlgorithm, now);
    const keyPem = privateKeyPem(issued.key.privateKey);
    const renewed = { name: k.name, what: k.what, notAfter: notAfter(issued.cert) };
    if (spec.output.kind === 'files') {
      return { renewed, writes: [{ rel: spec.output.cert, data: issued.certPem, mode: 0o644 }, { rel: spec.output.key, data: keyPem, mode: 0o600 }] };
    }
    const rel = spec.output.file;
    const kc = parseKubeconfig(await fs.readFile(path.join(dir, rel), 'utf8'), rel);
    return { renewed, writes: [{ rel, mode: 0o600, data: renderKubeconfig({ ...kc, certPem: issued.certPem, keyPem }) }] };
  }));
  const writes = results.flatMap((r) => r.writes);
  const renewed = results.map((r) => r.renewed);
  await writeAtomically(dir, writes);
  return { renewed, written: writes.map((w) => w.rel) };
}

/** kubeadm's renew output (cmd/kubeadm/app/cmd/certs.go), for the CLI. */
export function renderRenew(r: RenewResult): string {
  const lines = [
    '[renew] Reading configuration from the cluster...',
    "[renew] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'",
    '[renew] Error reading configuration from the Cluster. Falling back to default configuration',
    '',
    ...r.renewed.map((x) => `${x.what} renewed`),
    '',
    'Done renewing certificates. You must restart the kube-apiserver, kube-controller-manager, kube-scheduler and etcd, so that they can use the new certificates.',
  ];
  return lines.join('\n');
}

/** apimachinery's duration.ShortHumanDuration, which kubeadm prints as RESIDUAL TIME. */
export function shortHumanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** One row of kubeadm's expiration table. */
export interface ExpirationRow {
  readonly name: string;
  readonly missing: boolean;
  readonly expires?: Date;
  readonly residual?: string;
  readonly ca?: string;
}

export interface Expiration {
  readonly certificates: readonly ExpirationRow[];
  readonly authorities: readonly ExpirationRow[];
}

async function readCert(dir: string, rel: string, kubeconfig: boolean): Promise<X509Certificate | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, rel), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PkiError('FILE_MISSING', `${rel}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file: rel, cause: err });
  }
  if (kubeconfig) return parseCertificates(parseKubeconfig(text, rel).certPem, `${rel} client-certificate-data`)[0];
  return parseCertificates(text, rel)[0];
}

/** What `kubeadm certs check-expiration` reads: kubeadm's certificates and CAs under DIR (or DIR/pki). */
export async function checkExpiration(dir: string, now: Date = new Date()): Promise<Expiration> {
  let st;
  try { st = await fs.stat(dir); } catch { throw new PkiError('DIR_MISSING', `${dir}: no such directory`, { file: dir }); }
  if (!st.isDirectory()) throw new PkiError('DIR_MISSING', `${dir}: not a directory`, { file: dir });
  const pkiPrefix = await fs.stat(path.join(dir, 'pki/ca.crt')).then(() => 'pki/', () => '');
  if (pkiPrefix === '' && !(await fs.stat(path.join(dir, 'ca.crt')).then(() => true, () => false))) {
    throw new PkiError('FILE_MISSING', `${dir}: no Kubernetes CA found (expected ${dir}/pki/ca.crt or ${dir}/ca.crt)`, { file: dir });
  }
  // kubeconfigs live beside pki/ (DIR = /etc/kubernetes); given a bare pki dir, look one level up too.
  const confDir = pkiPrefix === 'pki/' ? dir : path.dirname(dir);
  const caOf: Record<string, string> = { 'apiserver-etcd-client': 'etcd-ca', 'etcd-healthcheck-client': 'etcd-ca', 'etcd-peer': 'etcd-ca', 'etcd-server': 'etcd-ca', 'front-proxy-client': 'front-proxy-ca' };
  const row = (name: string, cert: X509Certificate | undefined, ca?: string): ExpirationRow => (cert === undefined
    ? { name, missing: true }
    : { name, missing: false, expires: notAfter(cert), residual: shortHumanDuration(notAfter(cert).getTime() - now.getTime()), ...(ca === undefined ? {} : { ca }) });
  const certificates = await Promise.all(KUBEADM_CERTS.map(async (k) => {
    const kubeconfig = k.name.endsWith('.conf');
    const cert = kubeconfig ? await readCert(confDir, k.name, true) : await readCert(dir, `${pkiPrefix}${k.spec}.crt`, false);
    return row(k.name, cert, caOf[k.name] ?? 'ca');
  }));
  const authorities = await Promise.all(KUBEADM_CAS.map(async (c) => row(c.name, await readCert(dir, `${pkiPrefix}${c.spec}.crt`, false))));
  return { certificates, authorities };
}

/**
 * Go's text/tabwriter as kubeadm configures it (minwidth 10, tabwidth 4, padding 3, pad with spaces):
 * each tab-terminated cell is padded to its column's width; the text after the last tab is not.
 */
export function tabwrite(lines: readonly string[]): string {
  const rows = lines.map((l) => l.split('\t'));
  const cols = Math.max(...rows.map((r) => r.length - 1));
  const widths: number[] = [];
  for (let c = 0; c < cols; c++) {
    widths.push(Math.max(10, ...rows.filter((r) => r.length - 1 > c).map((r) => r[c]!.length + 3)));
  }
  return rows.map((r) => r.map((cell, c) => (c < r.length - 1 ? cell.padEnd(widths[c]!) : cell)).join('')).join('\n');
}

/** kubeadm's text printer (cmd/kubeadm/app/cmd/certs.go certTextPrinter), byte for byte. */
export function renderExpiration(e: Expiration): string {
  const yesNo = 'no'.padEnd(8); // fmt "%-8v" of yesNo(ExternallyManaged): this tool manages every CA
  const certLines = ['CERTIFICATE\tEXPIRES\tRESIDUAL TIME\tCERTIFICATE AUTHORITY\tEXTERNALLY MANAGED',
    ...e.certificates.map((c) => (c.missing ? `!MISSING! ${c.name}\t\t\t\t` : `${c.name}\t${kubeadmDate(c.expires!)}\t${c.residual!}\t${c.ca ?? ''}\t${yesNo}`))];
  const caLines = ['CERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\tEXTERNALLY MANAGED',
    ...e.authorities.map((c) => (c.missing ? `!MISSING! ${c.name}\t\t\t` : `${c.name}\t${kubeadmDate(c.expires!)}\t${c.residual!}\t${yesNo}`))];
  return [
    '[check-expiration] Reading configuration from the cluster...',
    "[check-expiration] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'",
    '[check-expiration] Error reading configuration from the Cluster. Falling back to default configuration',
    '',
    tabwrite(certLines),
    '',
    tabwrite(caLines),
  ].join('\n');
}
