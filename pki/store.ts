/**
 * The PKI in memory and on disk, in kubeadm's layout. A cluster directory mirrors /etc/kubernetes:
 *
 *   DIR/pki/{ca,apiserver,apiserver-kubelet-client,apiserver-etcd-client,front-proxy-ca,front-proxy-client}.{crt,key}
 *   DIR/pki/etcd/{ca,server,peer,healthcheck-client}.{crt,key}    DIR/pki/sa.{key,pub}
 *   DIR/{admin,super-admin,controller-manager,scheduler,kube-proxy}.conf
 *   DIR/nodes/<node>/kubelet.conf          (that node's /etc/kubernetes/kubelet.conf)
 *   DIR/nodes/<node>/pki/kubelet.{crt,key} (that node's /var/lib/kubelet/pki serving pair)
 *   DIR/plan.json                           (the cluster plan: node names, addresses, key algorithm)
 *
 * `initPki` keeps every file that is present and valid, makes what is missing, and refuses (naming both
 * files) a certificate that does not match its key or its CA. All new files are written to temporary
 * names first and renamed only when every one is written, so a failed run leaves nothing half-written.
 */
import { constants, promises as fs } from 'node:fs';
import { createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { PkiError } from './errors.js';
import {
  generateKey, issueLeaf, privateKeyPem, publicKeyPem, selfSignCa, signerFrom, validAt, type KeyPair, type Now, type Signer,
} from './issue.js';
import { parseKubeconfig, renderKubeconfig } from './kubeconfig.js';
import { assertKeyMatches, parseCertificates, parsePrivateKeyPem, pemBlocks } from './pem.js';
import {
  certSpecs, clusterPlan, kubeletClientName, kubeletServingName, validateSpecs,
  type CaName, type CaSpec, type ClusterPlan, type LeafName, type LeafSpec, type PlanOptions, type SpecTable,
} from './spec.js';
import { certificateDetails } from './x509.js';

/** A certificate with its private key, ready for `tls.createSecureContext`. */
export interface Credential {
  readonly name: LeafName;
  /** The certificate (and, for a self-signed kubelet pair, its issuer) as PEM. */
  readonly certPem: string;
  readonly keyPem: string;
  readonly cert: X509Certificate;
  readonly key: KeyObject;
}

export interface Pki {
  readonly plan: ClusterPlan;
  readonly table: SpecTable;
  /** The CAs by spec name (`ca`, `etcd/ca`, `front-proxy-ca`), with their keys. */
  readonly signers: ReadonlyMap<string, Signer>;
  /** Every leaf by spec name (`apiserver`, `admin.conf`, `nodes/node-1/kubelet`, ...). */
  readonly leaves: ReadonlyMap<string, Credential>;
  readonly serviceAccount: { readonly privateKeyPem: string; readonly publicKeyPem: string };
}

export function caPem(pki: Pki, name: CaName): string {
  const s = pki.signers.get(name);
  if (!s) throw new PkiError('FILE_MISSING', `the PKI has no CA "${name}"`);
  return s.cert.toString();
}

export function credential(pki: Pki, name: LeafName): Credential {
  const c = pki.leaves.get(name);
  if (!c) throw new PkiError('FILE_MISSING', `the PKI has no certificate "${name}"`);
  return c;
}

export { kubeletClientName, kubeletServingName };
export type { CaName, CertName, LeafName, NodeCertName } from './spec.js';

export interface InitResult {
  readonly pki: Pki;
  /** Paths (relative to DIR) written by this run. */
  readonly created: readonly string[];
  /** Paths already present and valid, kept as they were. */
  readonly kept: readonly string[];
}

interface PendingWrite {
  readonly rel: string;
  readonly data: string;
  readonly mode: number;
}

type Reader = (rel: string) => Promise<string | undefined>;

const SECRET = 0o600;
const PUBLIC = 0o644;

function dirReader(dir: string): Reader {
  return async (rel) => {
    try {
      return await fs.readFile(path.join(dir, rel), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new PkiError('FILE_MISSING', `${rel}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file: rel, cause: err });
    }
  };
}

/** kubeadm writes the control-plane endpoint into every kubeconfig; every node reaches the apiserver the same way. */
const serverUrl = (plan: ClusterPlan): string => `https://${plan.advertiseAddress}:${plan.apiserverPort}`;

/** Makes or loads every certificate of the plan. With `read` absent, everything is made in memory. */
async function reconcile(plan: ClusterPlan, now: Date, read: Reader | undefined, create: boolean): Promise<{ pki: Pki; writes: PendingWrite[]; kept: string[] }> {
  const table = certSpecs(plan);
  validateSpecs(table);
  const writes: PendingWrite[] = [];
  const kept: string[] = [];
  const get = read ?? (async () => undefined);
  const missing = (rel: string): never => { throw new PkiError('FILE_MISSING', `${rel}: missing (run "npm run pki -- init" to make it)`, { file: rel }); };

  // Start every key pair we might need at once: RSA generation dominates the cost and runs on the pool.
  const keys = new Map<string, Promise<KeyPair>>();
  const keyFor = (name: string): Promise<KeyPair> => {
    let k = keys.get(name);
    if (!k) { k = generateKey(plan.keyAlgorithm); keys.set(name, k); }
    return k;
  };
  const present = new Map<string, string | undefined>();
  await Promise.all(table.certs.flatMap((s) => (s.output.kind === 'files' ? [s.output.cert, s.output.key] : [s.output.file]))
    .concat(['pki/sa.key', 'pki/sa.pub'])
    .map(async (rel) => { present.set(rel, await get(rel)); }));
  for (const s of table.certs) {
    const absent = s.output.kind === 'files' ? present.get(s.output.cert) === undefined && present.get(s.output.key) === undefined : present.get(s.output.file) === undefined;
    if (absent && create) void keyFor(s.name).catch(() => undefined);
  }

  const signers = new Map<string, Signer>();
  for (const spec of table.certs.filter((s): s is CaSpec => s.kind === 'ca')) {
    const { cert: certRel, key: keyRel } = spec.output;
    const certText = present.get(certRel);
    const keyText = present.get(keyRel);
    if (certText === undefined && keyText === undefined) {
      if (!create) missing(certRel);
      const signer = selfSignCa(spec, await keyFor(spec.name), now);
      signers.set(spec.name, signer);
      writes.push({ rel: certRel, data: signer.cert.toString(), mode: PUBLIC }, { rel: keyRel, data: privateKeyPem(signer.key), mode: SECRET });
      continue;
    }
    if (certText === undefined) missing(certRel);
    if (keyText === undefined) throw new PkiError('FILE_MISSING', `${keyRel}: missing while ${certRel} is present (an external CA without its key is not supported)`, { file: keyRel });
    const cert = parseCertificates(certText!, certRel)[0]!;
    const key = parsePrivateKeyPem(keyText!, keyRel);
    assertKeyMatches(cert, certRel, key, keyRel);
    if (!cert.ca) throw new PkiError('CA_MISMATCH', `${certRel}: not a CA certificate (basicConstraints CA:FALSE)`, { file: certRel });
    if (!validAt(cert, now)) {
      throw new PkiError('CA_EXPIRED', `${certRel}: CA "${spec.cn}" is expired or not yet valid (valid ${cert.validFrom} to ${cert.validTo}); nothing can be signed with it`, { file: certRel });
    }
    signers.set(spec.name, signerFrom(spec.name, cert, key, () => certificateDetails(cert.raw).subject));
    kept.push(certRel, keyRel);
  }

  const leaves = new Map<string, Credential>();
  const kubernetesCa = signers.get('ca')!;
  await Promise.all(table.certs.filter((s): s is LeafSpec => s.kind === 'leaf').map(async (spec) => {
    const signer = spec.ca === 'self' ? 'self' : signers.get(spec.ca)!;
    const caRel = spec.ca === 'self' ? '(self-signed)' : (table.certs.find((c) => c.name === spec.ca)!.output as { cert: string }).cert;
    if (spec.output.kind === 'files') {
      const { cert: certRel, key: keyRel } = spec.output;
      const certText = present.get(certRel);
      const keyText = present.get(keyRel);
      if (certText === undefined && keyText === undefined) {
        if (!create) missing(certRel);
        const issued = await issueLeaf(spec, signer, plan.keyAlgorithm, now, keyFor(spec.name));
        const keyPem = privateKeyPem(issued.key.privateKey);
        leaves.set(spec.name, { name: spec.name, certPem: issued.certPem, keyPem, cert: issued.cert, key: issued.key.privateKey });
        writes.push({ rel: certRel, data: issued.certPem, mode: PUBLIC }, { rel: keyRel, data: keyPem, mode: SECRET });
        return;
      }
      if (certText === undefined) missing(certRel);
      if (keyText === undefined) throw new PkiError('FILE_MISSING', `${keyRel}: missing while ${certRel} is present: the certificate's key is elsewhere`, { file: keyRel });
      const chain = parseCertificates(certText!, certRel);
      const cert = chain[0]!;
      const key = parsePrivateKeyPem(keyText!, keyRel);
      assertKeyMatches(cert, certRel, key, keyRel);
      const issuer = signer === 'self' ? chain[1] ?? cert : signer.cert;
      if (!cert.verify(issuer.publicKey)) {
        throw new PkiError('CA_MISMATCH', `${certRel} is not signed by ${caRel}`, { file: certRel });
      }
      leaves.set(spec.name, { name: spec.name, certPem: certText!, keyPem: keyText!, cert, key });
      kept.push(certRel, keyRel);
      return;
    }
    const rel = spec.output.file;
    const text = present.get(rel);
    if (text === undefined) {
      if (!create) missing(rel);
      const issued = await issueLeaf(spec, signer, plan.keyAlgorithm, now, keyFor(spec.name));
      const keyPem = privateKeyPem(issued.key.privateKey);
      leaves.set(spec.name, { name: spec.name, certPem: issued.certPem, keyPem, cert: issued.cert, key: issued.key.privateKey });
      writes.push({
        rel, mode: SECRET,
        data: renderKubeconfig({ server: serverUrl(plan), clusterName: plan.clusterName, user: spec.output.user, caPem: kubernetesCa.cert.toString(), certPem: issued.certPem, keyPem }),
      });
      return;
    }
    const kc = parseKubeconfig(text, rel);
    const kcCa = parseCertificates(kc.caPem, `${rel} certificate-authority-data`)[0]!;
    if (kcCa.fingerprint256 !== kubernetesCa.cert.fingerprint256) {
      throw new PkiError('CA_MISMATCH', `${rel}: certificate-authority-data is not pki/ca.crt (a kubeconfig from another cluster?)`, { file: rel });
    }
    const cert = parseCertificates(kc.certPem, `${rel} client-certificate-data`)[0]!;
    const key = parsePrivateKeyPem(kc.keyPem, `${rel} client-key-data`);
    assertKeyMatches(cert, `${rel} client-certificate-data`, key, `${rel} client-key-data`);
    if (signer === 'self' || !cert.verify(signer.cert.publicKey)) {
      throw new PkiError('CA_MISMATCH', `${rel}: client-certificate-data is not signed by ${caRel}`, { file: rel });
    }
    leaves.set(spec.name, { name: spec.name, certPem: kc.certPem, keyPem: kc.keyPem, cert, key });
    kept.push(rel);
  }));

  const saKey = present.get('pki/sa.key');
  const saPub = present.get('pki/sa.pub');
  let serviceAccount: Pki['serviceAccount'];
  if (saKey === undefined && saPub === undefined) {
    if (!create) missing('pki/sa.key');
    // kubeadm's service-account key is always RSA, whatever the certificates use.
    const pair = await generateKey('rsa-2048');
    serviceAccount = { privateKeyPem: privateKeyPem(pair.privateKey), publicKeyPem: publicKeyPem(pair.publicKey) };
    writes.push({ rel: 'pki/sa.key', data: serviceAccount.privateKeyPem, mode: SECRET }, { rel: 'pki/sa.pub', data: serviceAccount.publicKeyPem, mode: PUBLIC });
  } else {
    if (saKey === undefined) missing('pki/sa.key');
    if (saPub === undefined) missing('pki/sa.pub');
    const priv = parsePrivateKeyPem(saKey!, 'pki/sa.key');
    const pubBlock = pemBlocks(saPub!, 'pki/sa.pub').find((b) => b.label === 'PUBLIC KEY');
    if (!pubBlock) throw new PkiError('PEM_INVALID', 'pki/sa.pub: holds no PUBLIC KEY block', { file: 'pki/sa.pub' });
    const derived = createPublicKey(priv).export({ type: 'spki', format: 'der' });
    if (!derived.equals(pubBlock.der)) {
      throw new PkiError('KEY_MISMATCH', 'pki/sa.pub does not match its key pki/sa.key', { file: 'pki/sa.pub' });
    }
    serviceAccount = { privateKeyPem: saKey!, publicKeyPem: saPub! };
    kept.push('pki/sa.key', 'pki/sa.pub');
  }
  // Keys started for specs that turned out present are not needed; let them finish quietly.
  return { pki: { plan, table, signers, leaves, serviceAccount }, writes, kept };
}

/** The whole PKI in memory, nothing written: what tests and the default tour use. */
export async function issuePki(options: PlanOptions & { now?: Now } = {}): Promise<Pki> {
  const now = (options.now ?? (() => new Date()))();
  return (await reconcile(clusterPlan(options), now, undefined, true)).pki;
}

const PLAN_FILE = 'plan.json';

async function readPlan(dir: string, options: PlanOptions): Promise<ClusterPlan> {
  const text = await dirReader(dir)(PLAN_FILE);
  if (text === undefined) return clusterPlan(options);
  let saved: PlanOptions;
  try {
    const raw = JSON.parse(text) as ClusterPlan;
    saved = { nodes: raw.nodes.map((n) => n.name), keyAlgorithm: raw.keyAlgorithm, kubeletServing: raw.kubeletServing, advertiseAddress: raw.advertiseAddress, loopback: raw.loopback ?? 'aliases' };
  } catch (cause) {
    throw new PkiError('BAD_ARGUMENT', `${PLAN_FILE}: not a cluster plan (${(cause as Error).message})`, { file: PLAN_FILE, cause });
  }
  return clusterPlan({ ...saved, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) });
}

async function statDir(dir: string): Promise<void> {
  let st;
  try {
    st = await fs.stat(dir);
  } catch {
    throw new PkiError('DIR_MISSING', `${dir}: no such directory`, { file: dir });
  }
  if (!st.isDirectory()) throw new PkiError('DIR_MISSING', `${dir}: not a directory`, { file: dir });
}

/** Reads a cluster directory made by `initPki` (nothing is made; a missing file is an error). */
export async function loadPki(dir: string, options: { now?: Now } = {}): Promise<Pki> {
  await statDir(dir);
  const plan = await readPlan(dir, {});
  return (await reconcile(plan, (options.now ?? (() => new Date()))(), dirReader(dir), false)).pki;
}

/** `pki init`: keep what is present and valid, make what is missing, write atomically. */
export async function initPki(dir: string, options: PlanOptions & { now?: Now } = {}): Promise<InitResult> {
  try {
    await fs.mkdir(dir, { recursive: true });
    await fs.access(dir, constants.W_OK);
  } catch (cause) {
    throw new PkiError('DIR_UNWRITABLE', `${dir}: cannot create or write the directory (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { file: dir, cause });
  }
  const plan = await readPlan(dir, options);
  const { pki, writes, kept } = await reconcile(plan, (options.now ?? (() => new Date()))(), dirReader(dir), true);
  writes.push({ rel: PLAN_FILE, data: `${JSON.stringify(plan, null, 2)}\n`, mode: PUBLIC });
  await writeAtomically(dir, writes);
  return { pki, created: writes.map((w) => w.rel), kept };
}

/**
 * Creates `file` with `data`, refusing to follow or reuse anything already at that name: O_CREAT|O_EXCL
 * fails on any existing entry, a symlink (dangling or not) included, and O_NOFOLLOW is kept for the
 * systems where O_EXCL alone would follow one. The mode is given to open(2), so a key is never readable
 * by others, not even for an instant; the fchmod after it only undoes the umask (on the descriptor,
 * never through a path).
 */
export async function writeNewFile(file: string, data: string, mode: number): Promise<void> {
  const handle = await fs.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  let written = false;
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
    written = true;
  } finally {
    await handle.close();
    // The name is ours (the exclusive create made it): removing it cannot remove anyone else's file.
    if (!written) await fs.rm(file, { force: true });
  }
}

/**
 * Writes every file under a temporary name, then renames them all; on any failure removes the
 * temporaries it made. Temporary names are `<file>.tmp-<12 random hex digits>`, created exclusively
 * (writeNewFile): a name planted in advance, a symlink to somewhere else, makes the create fail rather
 * than redirect a new key (the old `<file>.tmp-<pid>` could be guessed and was opened with O_TRUNC).
 */
export async function writeAtomically(dir: string, writes: readonly PendingWrite[]): Promise<void> {
  const temps: { tmp: string; final: string; rel: string }[] = [];
  const removeTemps = (from: number): Promise<unknown> => Promise.all(temps.slice(from).map((t) => fs.rm(t.tmp, { force: true })));
  let current = '';
  try {
    for (const w of writes) {
      current = w.rel;
      const final = path.join(dir, w.rel);
      await fs.mkdir(path.dirname(final), { recursive: true });
      const tmp = `${final}.tmp-${randomBytes(6).toString('hex')}`;
      await writeNewFile(tmp, w.data, w.mode);
      temps.push({ tmp, final, rel: w.rel });
    }
  } catch (cause) {
    await removeTemps(0);
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new PkiError('DIR_UNWRITABLE', `${dir}: cannot write ${current} (${code}); nothing was changed`, { file: dir, cause });
  }
  for (const [i, t] of temps.entries()) {
    try {
      await fs.rename(t.tmp, t.final);
    } catch (cause) {
      await removeTemps(i);
      const code = (cause as NodeJS.ErrnoException).code ?? 'error';
      const done = temps.slice(0, i).map((d) => d.rel);
      throw new PkiError('DIR_UNWRITABLE', `${dir}: cannot rename ${t.rel} into place (${code})${done.length > 0 ? `; already replaced: ${done.join(', ')}` : '; nothing was changed'}`, { file: dir, cause });
    }
  }
}
