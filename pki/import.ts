/**
 * A PKI read from a directory in any layout `inspect` understands (a kubeadm /etc/kubernetes, its pki/,
 * or the flat set `openssl-pki.sh` makes), without writing anything: each certificate is placed by the
 * role inspect recognises (kubeadm path, else CN and usage), with its key. The plan (nodes, addresses)
 * is read off the certificates: the nodes from the kubelet client certificates, the advertise address
 * from the apiserver certificate's IP SANs. For running a cluster on a user's own certificates (the
 * trust matrix of `npm run scenario -- matrix --pki-dir DIR`).
 */
import { promises as fs } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import path from 'node:path';
import { PkiError } from './errors.js';
import { signerFrom, type Signer } from './issue.js';
import { inspect } from './inspect.js';
import { parseKubeconfig } from './kubeconfig.js';
import { parsePrivateKeyPem } from './pem.js';
import { certSpecs, clusterPlan, type KeyAlgorithm } from './spec.js';
import type { Credential, Pki } from './store.js';

const CA_SPEC: Record<string, string> = { ca: 'ca', 'etcd-ca': 'etcd/ca', 'front-proxy-ca': 'front-proxy-ca' };

function keyAlgorithmOf(pem: string): KeyAlgorithm {
  const k = createPublicKey(pem);
  if (k.asymmetricKeyType === 'ec') return k.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ecdsa-p384' : 'ecdsa-p256';
  const bits = k.asymmetricKeyDetails?.modulusLength ?? 2048;
  return bits >= 4096 ? 'rsa-4096' : bits >= 3072 ? 'rsa-3072' : 'rsa-2048';
}

/** The private key of a PEM key file, or of a kubeconfig's client-key-data. */
async function keyPemOf(dir: string, rel: string): Promise<string> {
  const text = await fs.readFile(path.join(dir, rel), 'utf8');
  return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) ? text : parseKubeconfig(text, rel).keyPem;
}

/** Reads the certificates under `dir` by role; a role needed to run the cluster that is missing is an error naming it. */
export async function pkiFromDirectory(dir: string, now: Date = new Date()): Promise<Pki> {
  const seen = await inspect(dir, now);
  const signers = new Map<string, Signer>();
  for (const ca of seen.cas) {
    const spec = CA_SPEC[ca.name];
    if (!spec) continue;
    const keyRel = ca.file.replace(/\.crt$/, '.key');
    let keyText: string;
    try {
      keyText = await fs.readFile(path.join(dir, keyRel), 'utf8');
    } catch {
      throw new PkiError('FILE_MISSING', `${keyRel}: missing while ${ca.file} is present (the matrix makes test certificates with the CA keys)`, { file: keyRel });
    }
    signers.set(spec, signerFrom(spec, ca.cert, parsePrivateKeyPem(keyText, keyRel), ca.details.subject));
  }
  if (!signers.has('ca') || !signers.has('etcd/ca')) throw new PkiError('FILE_MISSING', `${dir}: needs both the Kubernetes CA and the etcd CA`, { file: dir });
  const leaves = new Map<string, Credential>();
  for (const leaf of seen.leaves) {
    if (!leaf.role || !leaf.keyFile || leaves.has(leaf.role.name)) continue;
    const keyPem = await keyPemOf(dir, leaf.keyFile);
    const certText = leaf.file.endsWith('.crt') ? await fs.readFile(path.join(dir, leaf.file), 'utf8') : leaf.cert.toString();
    leaves.set(leaf.role.name, { name: leaf.role.name, certPem: certText, keyPem, cert: leaf.cert, key: parsePrivateKeyPem(keyPem, leaf.keyFile) });
  }
  const nodes = [...leaves.keys()].map((n) => /^nodes\/([^/]+)\/kubelet\.conf$/.exec(n)?.[1]).filter((n): n is string => n !== undefined).sort();
  const apiserver = leaves.get('apiserver');
  if (!apiserver) throw new PkiError('FILE_MISSING', `${dir}: no apiserver serving certificate (CN=kube-apiserver, serverAuth) found`, { file: dir });
  const ips = [...(apiserver.cert.subjectAltName ?? '').matchAll(/IP Address:([0-9.]+)/g)].map((m) => m[1]!).filter((ip) => ip.startsWith('127.'));
  const advertiseAddress = ips.find((ip) => ip !== '127.0.0.1') ?? ips[0];
  if (!advertiseAddress) throw new PkiError('FILE_MISSING', `${seen.pkiPrefix}apiserver.crt: names no loopback IP, so no address here can be dialled`, { file: dir });
  const servingIps = nodes.map((n) => leaves.get(`nodes/${n}/kubelet`)?.cert.subjectAltName ?? '');
  const loopback = advertiseAddress === '127.0.0.1' || servingIps.some((s) => s.includes('IP Address:127.0.0.1')) ? 'single' : 'aliases';
  const plan = clusterPlan({ nodes, advertiseAddress, loopback, keyAlgorithm: keyAlgorithmOf(apiserver.certPem) });
  const saRel = `${seen.pkiPrefix}sa.key`;
  const saPubRel = `${seen.pkiPrefix}sa.pub`;
  let serviceAccount: Pki['serviceAccount'];
  try {
    serviceAccount = { privateKeyPem: await fs.readFile(path.join(dir, saRel), 'utf8'), publicKeyPem: await fs.readFile(path.join(dir, saPubRel), 'utf8') };
  } catch {
    throw new PkiError('FILE_MISSING', `${saRel} or ${saPubRel}: missing (the apiserver signs and verifies service-account tokens with them)`, { file: saRel });
  }
  return { plan, table: certSpecs(plan), signers, leaves, serviceAccount };
}
