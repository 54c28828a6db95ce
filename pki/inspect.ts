/**
 * Reads a certificate directory, made by this tool, by kubeadm, or by hand with the openssl CLI, and
 * works out its trust wiring: which CA each certificate chains to, what role it plays (by kubeadm file
 * name, else by CN/O/EKU), and every fault: wrong CA, missing EKU or SAN, key not matching, key files
 * readable by others, expired or not yet valid. `pki show` and `pki check` render what this finds.
 */
import { promises as fs } from 'node:fs';
import { createPublicKey, type KeyObject, type X509Certificate } from 'node:crypto';
import path from 'node:path';
import { PkiError } from './errors.js';
import { parseKubeconfig } from './kubeconfig.js';
import { parseCertificates, parsePrivateKeyPem, pemBlocks } from './pem.js';
import { certSpecs, clusterPlan, type CaName, type ClusterPlan, type LeafName, type Use } from './spec.js';
import { notAfter, notBefore } from './issue.js';
import { certificateDetails, type CertificateDetails } from './x509.js';

export interface Fault {
  readonly file: string;
  readonly fault: string;
}

export interface CertInfo {
  /** Path relative to the directory, or `admin.conf (client-certificate-data)` for an embedded one. */
  readonly file: string;
  readonly cert: X509Certificate;
  readonly details: CertificateDetails;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface CaInfo extends CertInfo {
  /** kubeadm's name: ca, etcd-ca, front-proxy-ca (or the file's base name). */
  readonly name: string;
}

export interface LeafInfo extends CertInfo {
  /** kubeadm's name for the certificate (apiserver, admin.conf, etcd/server, ...), when recognised. */
  readonly role: Role | undefined;
  /** The CA it chains to (by signature), if any in the directory. */
  readonly ca: CaInfo | undefined;
  readonly keyFile: string | undefined;
}

export interface Role {
  /** The spec table's name for the certificate. */
  readonly name: LeafName;
  readonly ca: CaName | 'self';
  readonly usages: readonly ('serverAuth' | 'clientAuth')[];
  readonly requiredDns: readonly string[];
  readonly requiredIp: readonly string[];
  readonly o?: readonly string[];
  readonly use: readonly Use[];
}

export interface Inspection {
  readonly dir: string;
  /** Where the pki files are: `pki/` in a cluster directory, `` when DIR is itself a pki directory. */
  readonly pkiPrefix: string;
  readonly cas: readonly CaInfo[];
  readonly leaves: readonly LeafInfo[];
  readonly faults: readonly Fault[];
  readonly now: Date;
}

const CA_FILES: Record<string, string> = { 'ca.crt': 'ca', 'etcd/ca.crt': 'etcd-ca', 'front-proxy-ca.crt': 'front-proxy-ca' };
/** kubeadm's spec name of each CA, as the spec table references them. */
const CA_SPEC: Record<string, string> = { ca: 'ca', 'etcd-ca': 'etcd/ca', 'front-proxy-ca': 'front-proxy-ca' };

async function walk(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(root, r)));
    else if (e.isFile()) out.push(r);
  }
  return out.sort();
}

/** The roles of a kubeadm certificate set, derived from the spec table for the nodes found. */
function rolesFor(plan: ClusterPlan): Role[] {
  return certSpecs(plan).certs.flatMap((s): Role[] => {
    if (s.kind !== 'leaf') return [];
    // Required SANs: what clients dial. The advertise address is site-specific, so only the
    // in-cluster names and the service IP are required of a foreign apiserver certificate.
    const required = s.name === 'apiserver'
      ? { dns: s.sans.dns.filter((d) => d.startsWith('kubernetes')), ip: [plan.serviceIP] }
      : s.name.startsWith('etcd/') && s.usages.includes('serverAuth') ? { dns: ['localhost'], ip: ['127.0.0.1'] }
        : s.node !== undefined && s.usages.includes('serverAuth') ? { dns: [], ip: [] } : { dns: [], ip: [] };
    return [{
      name: s.name, ca: s.ca === 'self' ? 'self' : s.ca, usages: s.usages, requiredDns: required.dns, requiredIp: required.ip,
      ...(s.cn.startsWith('system:node:') ? { o: ['system:nodes'] } : {}), use: s.use,
    }];
  });
}

/** Which role a certificate plays: by kubeadm path first, then by subject and usage. */
function roleOf(file: string, d: CertificateDetails, roles: Role[], pkiPrefix: string): Role | undefined {
  const rel = file.startsWith(pkiPrefix) ? file.slice(pkiPrefix.length) : file;
  const byPath = rel.replace(/\.crt$/, '').replace(/ \(client-certificate-data\)$/, '');
  const nodeServing = /^nodes\/([^/]+)\/pki\/kubelet$/.exec(byPath);
  const direct = roles.find((r) => r.name === byPath || (nodeServing && r.name === `nodes/${nodeServing[1]}/kubelet`));
  if (direct) return direct;
  const cn = d.subject.cn;
  const server = d.extKeyUsage.includes('serverAuth');
  const node = /^system:node:(.+)$/.exec(cn)?.[1];
  if (node !== undefined) {
    const name = server && !d.extKeyUsage.includes('clientAuth') ? `nodes/${node}/kubelet` : `nodes/${node}/kubelet.conf`;
    return roles.find((r) => r.name === name) ?? roles.find((r) => r.name === (server ? 'nodes/*/kubelet' : 'nodes/*/kubelet.conf'));
  }
  const byCn: Record<string, string> = {
    'kube-apiserver': 'apiserver', 'kube-apiserver-kubelet-client': 'apiserver-kubelet-client', 'kube-apiserver-etcd-client': 'apiserver-etcd-client',
    'front-proxy-client': 'front-proxy-client', 'kube-etcd-healthcheck-client': 'etcd/healthcheck-client', 'kubernetes-admin': 'admin.conf',
    'kubernetes-super-admin': 'super-admin.conf', 'system:kube-controller-manager': 'controller-manager.conf', 'system:kube-scheduler': 'scheduler.conf',
    'system:kube-proxy': 'kube-proxy.conf',
  };
  const name = byCn[cn];
  return name ? roles.find((r) => r.name === name) : undefined;
}

/** A leaf's path to a root: the intermediates (in the leaf's file) and where it ends. */
interface ChainPath {
  readonly leaf: X509Certificate;
  readonly intermediates: readonly X509Certificate[];
  /** The CA of the directory the path reaches, if it does. */
  readonly root: CaInfo | undefined;
  /** A self-signed certificate of the file the path ends in instead (kubeadm's self-signed kubelet pair). */
  readonly selfRoot: X509Certificate | undefined;
}

const issuedBy = (child: X509Certificate, parent: X509Certificate): boolean => child.checkIssued(parent) && child.verify(parent.publicKey);

/**
 * Builds the path Go's crypto/x509 would: from the leaf, through certificates bundled after it (its
 * intermediates, as TLS sends them), up to a CA of the directory (the trust pool) or to a self-signed
 * certificate of the file. A CA of the directory is taken as soon as one signed the current certificate.
 */
function chainOf(leaf: X509Certificate, bundled: readonly X509Certificate[], cas: readonly CaInfo[]): ChainPath {
  const intermediates: X509Certificate[] = [];
  let current = leaf;
  for (;;) {
    const root = cas.find((c) => issuedBy(current, c.cert));
    if (root) return { leaf, intermediates, root, selfRoot: undefined };
    const next = bundled.find((c) => c !== current && !intermediates.includes(c) && issuedBy(current, c));
    if (!next) return { leaf, intermediates, root: undefined, selfRoot: undefined };
    if (issuedBy(next, next)) return { leaf, intermediates, root: undefined, selfRoot: next };
    intermediates.push(next);
    current = next;
  }
}

/**
 * What Go's Certificate.Verify refuses in a path that does reach a root: an intermediate that is no CA
 * or may not sign certificates, and a CA whose pathLenConstraint is smaller than the number of
 * intermediates below it (crypto/x509 isValid: "too many intermediates for path length constraint";
 * OpenSSL: "path length constraint exceeded"). The directory's own CAs are checked the same way.
 */
function chainFaults(file: string, chain: ChainPath): string[] {
  const faults: string[] = [];
  const signers: { cert: X509Certificate; name: string; details: CertificateDetails }[] = [
    ...chain.intermediates.map((c) => { const details = certificateDetails(c.raw); return { cert: c, name: `CN=${details.subject.cn}`, details }; }),
    ...(chain.root ? [{ cert: chain.root.cert, name: chain.root.file, details: chain.root.details }] : []),
  ];
  signers.forEach((s, i) => {
    if (i < chain.intermediates.length) {
      if (!s.details.isCA) faults.push(`its intermediate ${s.name} is not a CA (basicConstraints CA:FALSE): x509: certificate is not authorized to sign other certificates`);
      else if (s.details.keyUsage.length > 0 && !s.details.keyUsage.includes('keyCertSign')) {
        faults.push(`its intermediate ${s.name} lacks the keyCertSign key usage: x509: invalid signature: parent certificate cannot sign this kind of certificate`);
      }
    }
    // Below signers[i] are the leaf and i intermediates: i intermediates is what its pathLenConstraint bounds.
    if (s.details.maxPathLen !== undefined && i > s.details.maxPathLen) {
      const names = [file, ...signers.map((x) => x.name)].join(' → ');
      faults.push(`its chain ${names} exceeds the path length ${s.name} allows (pathlen:${s.details.maxPathLen}): x509: too many intermediates for path length constraint`);
    }
  });
  return faults;
}

async function mode(file: string): Promise<number> {
  return (await fs.stat(file)).mode & 0o777;
}

/** Reads and checks everything under `dir`. Faults are collected, not thrown; a missing directory throws. */
export async function inspect(dir: string, now: Date = new Date()): Promise<Inspection> {
  let st;
  try {
    st = await fs.stat(dir);
  } catch {
    throw new PkiError('DIR_MISSING', `${dir}: no such directory`, { file: dir });
  }
  if (!st.isDirectory()) throw new PkiError('DIR_MISSING', `${dir}: not a directory`, { file: dir });
  const files = await walk(dir);
  const pkiPrefix = files.includes('pki/ca.crt') ? 'pki/' : files.includes('ca.crt') ? '' : undefined;
  if (pkiPrefix === undefined) {
    throw new PkiError('FILE_MISSING', `${dir}: no Kubernetes CA found (expected ${dir}/pki/ca.crt or ${dir}/ca.crt)`, { file: dir });
  }
  const faults: Fault[] = [];
  const fault = (file: string, f: string): void => { faults.push({ file, fault: f }); };
  const abs = (rel: string): string => path.join(dir, rel);

  // Nodes seen in the directory decide which per-node roles exist.
  const nodeNames = new Set<string>();
  for (const f of files) {
    const m = /^nodes\/([^/]+)\//.exec(f) ?? /kubelet-([a-z0-9-]+?)(?:-serving)?\.crt$/.exec(f);
    if (m) nodeNames.add(m[1]!);
  }
  const planText = files.includes('plan.json') ? await fs.readFile(abs('plan.json'), 'utf8') : undefined;
  let plan = clusterPlan({ nodes: [...nodeNames].filter((n) => n !== 'cp-1') });
  if (planText) {
    try {
      const saved = JSON.parse(planText) as ClusterPlan;
      plan = clusterPlan({ nodes: saved.nodes.map((n) => n.name), advertiseAddress: saved.advertiseAddress, kubeletServing: saved.kubeletServing, loopback: saved.loopback ?? 'aliases' });
    } catch { fault('plan.json', 'not a cluster plan (ignored)'); }
  }
  const roles = rolesFor(plan);

  // Certificates: *.crt files, combined *.pem files, and client certificates embedded in kubeconfigs.
  type Found = { file: string; chain: X509Certificate[]; key?: KeyObject; keyFile?: string; kubeconfigCa?: X509Certificate; server?: string };
  const found: Found[] = [];
  const keyTexts = new Map<string, string>();
  for (const f of files) {
    const text = (): Promise<string> => fs.readFile(abs(f), 'utf8');
    try {
      if (f.endsWith('.crt')) {
        found.push({ file: f, chain: parseCertificates(await text(), f) });
      } else if (f.endsWith('.pem')) {
        const t = await text();
        const blocks = pemBlocks(t, f);
        if (blocks.some((b) => b.label === 'CERTIFICATE')) {
          const hasKey = blocks.some((b) => b.label.endsWith('PRIVATE KEY'));
          found.push({ file: f, chain: parseCertificates(t, f), ...(hasKey ? { key: parsePrivateKeyPem(t, f), keyFile: f } : {}) });
        }
      } else if (f.endsWith('.key')) {
        keyTexts.set(f, await text());
      } else if (f.endsWith('.conf') || f.endsWith('.kubeconfig')) {
        const kc = parseKubeconfig(await text(), f);
        const label = `${f} (client-certificate-data)`;
        found.push({
          file: label, chain: parseCertificates(kc.certPem, label), key: parsePrivateKeyPem(kc.keyPem, `${f} (client-key-data)`), keyFile: f,
          kubeconfigCa: parseCertificates(kc.caPem, `${f} (certificate-authority-data)`)[0]!, server: kc.server,
        });
      }
    } catch (err) {
      if (err instanceof PkiError) fault(err.file ?? f, err.message.startsWith(`${err.file ?? f}: `) ? err.message.slice((err.file ?? f).length + 2) : err.message);
      else throw err;
    }
  }

  const info = (file: string, cert: X509Certificate): CertInfo => ({ file, cert, details: certificateDetails(cert.raw), notBefore: notBefore(cert), notAfter: notAfter(cert) });
  const cas: CaInfo[] = [];
  const leavesFound: Found[] = [];
  for (const f of found) {
    const c = f.chain[0]!;
    const rel = f.file.startsWith(pkiPrefix) ? f.file.slice(pkiPrefix.length) : f.file;
    if (c.ca && c.checkIssued(c) && c.verify(c.publicKey)) {
      cas.push({ ...info(f.file, c), name: CA_FILES[rel] ?? rel.replace(/\.crt$/, '') });
    } else {
      leavesFound.push(f);
    }
  }
  const caBySpec = (spec: string): CaInfo | undefined => cas.find((c) => CA_SPEC[c.name] === spec);

  const checkValidity = (i: CertInfo, what: string): void => {
    if (now < i.notBefore) fault(i.file, `${what} is not yet valid (valid from ${i.notBefore.toISOString()}): x509: certificate has expired or is not yet valid`);
    else if (now > i.notAfter) fault(i.file, `${what} expired on ${i.notAfter.toISOString()}: x509: certificate has expired or is not yet valid`);
  };

  for (const ca of cas) {
    checkValidity(ca, 'CA certificate');
    if (!ca.details.keyUsage.includes('keyCertSign')) fault(ca.file, 'CA certificate lacks the keyCertSign key usage');
    const keyRel = ca.file.replace(/\.crt$/, '.key');
    if (!keyTexts.has(keyRel)) continue; // kubeadm's external-CA mode: the CA key may live elsewhere
    try {
      const key = parsePrivateKeyPem(keyTexts.get(keyRel)!, keyRel);
      if (!ca.cert.checkPrivateKey(key)) fault(ca.file, `does not match its key ${keyRel}`);
      if ((await mode(abs(keyRel))) & 0o077) fault(keyRel, `private key is mode ${(await mode(abs(keyRel))).toString(8).padStart(4, '0')}; it must be 0600`);
    } catch (err) {
      if (err instanceof PkiError) fault(keyRel, err.message.replace(`${keyRel}: `, '')); else throw err;
    }
  }

  const leaves: LeafInfo[] = [];
  for (const f of leavesFound) {
    const cert = f.chain[0]!;
    const base = info(f.file, cert);
    const role = roleOf(f.file, base.details, roles, pkiPrefix);
    // Which CA it chains to: one in the directory, directly or through intermediates bundled after it in
    // the file, or (kubeadm's self-signed kubelet pair) a self-signed CA in the file.
    const chain = chainOf(cert, f.chain.slice(1), cas);
    const signer = chain.root;
    const selfSigned = chain.selfRoot !== undefined;
    const wantCa = role?.ca === 'self' ? undefined : role ? caBySpec(role.ca) : undefined;
    // Only a kubelet's serving pair may be self-signed (kubeadm's default); any other role must reach its CA.
    const selfSignedAllowed = selfSigned && role !== undefined && role.name.startsWith('nodes/') && role.usages.includes('serverAuth');
    if (role && role.ca !== 'self' && !selfSignedAllowed) {
      if (!wantCa) fault(f.file, `its CA ${role.ca} is not in the directory`);
      else if (signer !== wantCa) {
        fault(f.file, `not signed by ${wantCa.file}${signer ? ` (signed by ${signer.file})` : ''}: x509: certificate signed by unknown authority`);
      }
    } else if (!signer && !selfSigned) {
      const top = chain.intermediates.at(-1);
      const issuer = top ? certificateDetails(top.raw).issuer.cn : base.details.issuer.cn;
      fault(f.file, `signed by "${issuer}", which is no CA in the directory: x509: certificate signed by unknown authority`);
    }
    for (const problem of chainFaults(f.file, chain)) fault(f.file, problem);
    for (const x of chain.intermediates) checkValidity(info(f.file, x), `intermediate CA "${certificateDetails(x.raw).subject.cn}"`);
    checkValidity(base, 'certificate');
    if (!base.details.keyUsage.includes('digitalSignature')) fault(f.file, 'key usage lacks digitalSignature');
    for (const u of role?.usages ?? []) {
      if (!base.details.extKeyUsage.includes(u)) {
        fault(f.file, `extended key usage lacks ${u}, which its role (${role!.name}) needs: x509: certificate specifies an incompatible key usage`);
      }
    }
    for (const dns of role?.requiredDns ?? []) if (!base.details.sans.dns.includes(dns)) fault(f.file, `SANs lack DNS:${dns}`);
    for (const ip of role?.requiredIp ?? []) if (!base.details.sans.ip.includes(ip)) fault(f.file, `SANs lack IP:${ip}`);
    if (role?.o) for (const o of role.o) if (!base.details.subject.o.includes(o)) fault(f.file, `subject lacks O=${o}, the group its authorizer needs`);
    if (role?.usages.includes('serverAuth') && role.name.startsWith('nodes/')) {
      const node = /^nodes\/([^/]+)\//.exec(role.name)?.[1] ?? '';
      if (!base.details.sans.dns.includes(node) && base.details.sans.ip.length === 0) fault(f.file, `SANs name neither the node ${node} nor an IP`);
    }

    // The key: beside it (.key), inside it (.pem / kubeconfig).
    let keyFile = f.keyFile;
    let key = f.key;
    if (!key && f.file.endsWith('.crt')) {
      const k = f.file.replace(/\.crt$/, '.key');
      if (keyTexts.has(k)) {
        try { key = parsePrivateKeyPem(keyTexts.get(k)!, k); keyFile = k; } catch (err) {
          if (err instanceof PkiError) fault(k, err.message.replace(`${k}: `, '')); else throw err;
        }
      } else {
        fault(f.file, `no private key beside it (expected ${k})`);
      }
    }
    if (key && keyFile) {
      if (cert.publicKey.asymmetricKeyType !== key.asymmetricKeyType) fault(keyFile, `is an ${key.asymmetricKeyType?.toUpperCase() ?? '?'} key but ${f.file} certifies an ${cert.publicKey.asymmetricKeyType?.toUpperCase() ?? '?'} key`);
      else if (!cert.checkPrivateKey(key)) fault(f.file, `does not match its key ${keyFile}`);
      const m = await mode(abs(keyFile));
      if (m & 0o077) fault(keyFile, `${keyFile.endsWith('.conf') ? 'kubeconfig holding a private key' : 'private key'} is mode ${m.toString(8).padStart(4, '0')}; it must be 0600`);
    }
    if (f.kubeconfigCa) {
      const kc = caBySpec('ca');
      const conf = f.file.replace(/ \(client-certificate-data\)$/, '');
      if (kc && f.kubeconfigCa.fingerprint256 !== kc.cert.fingerprint256) fault(conf, `certificate-authority-data is not ${kc.file}: the apiserver's certificate will not verify (x509: certificate signed by unknown authority)`);
      const apiserver = leavesFound.find((l) => roleOf(l.file, certificateDetails(l.chain[0]!.raw), roles, pkiPrefix)?.name === 'apiserver');
      if (apiserver && f.server) {
        const host = new URL(f.server).hostname.replace(/^\[|\]$/g, '');
        const ok = /^[\d.]+$|:/.test(host) ? apiserver.chain[0]!.checkIP(host) !== undefined : apiserver.chain[0]!.checkHost(host) !== undefined;
        if (!ok) {
          const sans = certificateDetails(apiserver.chain[0]!.raw).sans;
          fault(conf, `server ${f.server} is not in ${apiserver.file}'s SANs: x509: certificate is valid for ${[...sans.dns, ...sans.ip].join(', ')}, not ${host}`);
        }
      }
    }
    leaves.push({ ...base, role, ca: signer, keyFile });
  }

  // The service-account key pair.
  const saKey = `${pkiPrefix}sa.key`;
  const saPub = `${pkiPrefix}sa.pub`;
  if (keyTexts.has(saKey)) {
    try {
      const priv = parsePrivateKeyPem(keyTexts.get(saKey)!, saKey);
      const m = await mode(abs(saKey));
      if (m & 0o077) fault(saKey, `private key is mode ${m.toString(8).padStart(4, '0')}; it must be 0600`);
      if (files.includes(saPub)) {
        const pub = pemBlocks(await fs.readFile(abs(saPub), 'utf8'), saPub).find((b) => b.label === 'PUBLIC KEY');
        if (!pub) fault(saPub, 'holds no PUBLIC KEY block');
        else if (!createPublicKey(priv).export({ type: 'spki', format: 'der' }).equals(pub.der)) fault(saPub, `does not match its key ${saKey}`);
      } else {
        fault(saPub, `missing while ${saKey} is present`);
      }
    } catch (err) {
      if (err instanceof PkiError) fault(err.file ?? saKey, err.message.replace(`${err.file ?? saKey}: `, '')); else throw err;
    }
  }
  return { dir, pkiPrefix, cas, leaves, faults, now };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** kubeadm's expiry format: `Nov 28, 2027 15:15 UTC`. */
export function kubeadmDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())}, ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())} UTC`;
}

/** kubeadm's residual time: `364d`, `9y`, `23h`, `<invalid>` once expired. */
export function residual(until: Date, now: Date): string {
  const ms = until.getTime() - now.getTime();
  if (ms <= 0) return '<invalid>';
  const h = ms / 3_600_000;
  const d = h / 24;
  if (d >= 365 * 2) return `${Math.floor(d / 365)}y`;
  if (d >= 1) return `${Math.floor(d)}d`;
  if (h >= 1) return `${Math.floor(h)}h`;
  return `${Math.floor(ms / 60000)}m`;
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n');
}
