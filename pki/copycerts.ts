/**
 * kubeadm's copycerts phase (cmd/kubeadm/app/phases/copycerts): how the CAs reach a joining
 * control-plane node. `kubeadm init --upload-certs` encrypts ca, front-proxy-ca, sa and etcd/ca
 * (certificate and key each) with a certificate key and stores them in the Secret `kubeadm-certs` in
 * kube-system; `kubeadm join --control-plane --certificate-key KEY` downloads and decrypts them.
 *
 * Format, as kubeadm's cryptoutil.EncryptBytes: the key is 32 random bytes, handed around as 64 hex
 * characters; each value is AES-GCM (AES-256 with a 32-byte key) sealed as nonce(12) || ciphertext ||
 * tag(16); the data key is the file name with "/" replaced by "-" (`etcd/ca.crt` → `etcd-ca.crt`).
 * The Secret is owned by a short-lived bootstrap token (2 h), so it disappears when the token does.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { PkiError } from './errors.js';
import type { Pki } from './store.js';

export const KUBEADM_CERTS_SECRET = 'kubeadm-certs';
/** kubeadm's CertificateKeySize. */
export const CERTIFICATE_KEY_SIZE = 32;
const NONCE_SIZE = 12;
const TAG_SIZE = 16;

/** What certsToTransfer names (stacked etcd), relative to the pki directory. */
export const CERTS_TO_TRANSFER = ['ca.crt', 'ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.pub', 'sa.key', 'etcd/ca.crt', 'etcd/ca.key'] as const;
export type TransferredFile = (typeof CERTS_TO_TRANSFER)[number];

export const secretDataKey = (file: string): string => file.replace(/\//g, '-');

/** kubeadm's CreateCertificateKey: 32 random bytes as lower-case hex. */
export function createCertificateKey(): string {
  return randomBytes(CERTIFICATE_KEY_SIZE).toString('hex');
}

/** Go's hex.DecodeString, with its error words. */
export function decodeHexKey(key: string): Buffer {
  const bad = /[^0-9a-fA-F]/.exec(key);
  if (bad) {
    const ch = bad[0];
    throw new PkiError('CERT_KEY_INVALID', `error decoding certificate key: encoding/hex: invalid byte: U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${ch}'`);
  }
  if (key.length % 2 === 1) throw new PkiError('CERT_KEY_INVALID', 'error decoding certificate key: encoding/hex: odd length hex string');
  return Buffer.from(key, 'hex');
}

function algorithm(key: Buffer): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  switch (key.length) {
    case 16: return 'aes-128-gcm';
    case 24: return 'aes-192-gcm';
    case 32: return 'aes-256-gcm';
    default: throw new PkiError('CERT_KEY_INVALID', `crypto/aes: invalid key size ${key.length}`);
  }
}

/** cryptoutil.EncryptBytes: nonce || ciphertext || tag. */
export function encryptBytes(data: Buffer, key: Buffer): Buffer {
  const nonce = randomBytes(NONCE_SIZE);
  const cipher = createCipheriv(algorithm(key), key, nonce);
  return Buffer.concat([nonce, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
}

/** cryptoutil.DecryptBytes; a wrong key fails as Go's GCM does: "cipher: message authentication failed". */
export function decryptBytes(data: Buffer, key: Buffer): Buffer {
  const alg = algorithm(key);
  if (data.length < NONCE_SIZE) throw new PkiError('CERT_KEY_INVALID', 'size of data is less than the nonce size');
  if (data.length < NONCE_SIZE + TAG_SIZE) throw new PkiError('CERT_KEY_INVALID', 'cipher: message authentication failed');
  const decipher = createDecipheriv(alg, key, data.subarray(0, NONCE_SIZE));
  decipher.setAuthTag(data.subarray(data.length - TAG_SIZE));
  try {
    return Buffer.concat([decipher.update(data.subarray(NONCE_SIZE, data.length - TAG_SIZE)), decipher.final()]);
  } catch {
    throw new PkiError('CERT_KEY_INVALID', 'cipher: message authentication failed');
  }
}

/** The PEM of each transferred file, from a PKI in memory. */
export function transferredFiles(pki: Pki): Record<TransferredFile, string> {
  const ca = (name: string): { crt: string; key: string } => {
    const s = pki.signers.get(name);
    if (!s) throw new PkiError('FILE_MISSING', `the PKI has no CA "${name}"`);
    return { crt: s.cert.toString(), key: s.key.export({ type: s.key.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'sec1', format: 'pem' }).toString() };
  };
  const k8s = ca('ca');
  const fp = ca('front-proxy-ca');
  const etcd = ca('etcd/ca');
  return {
    'ca.crt': k8s.crt, 'ca.key': k8s.key, 'front-proxy-ca.crt': fp.crt, 'front-proxy-ca.key': fp.key,
    'sa.pub': pki.serviceAccount.publicKeyPem, 'sa.key': pki.serviceAccount.privateKeyPem, 'etcd/ca.crt': etcd.crt, 'etcd/ca.key': etcd.key,
  };
}

export interface KubeadmCertsSecret {
  readonly apiVersion: 'v1';
  readonly kind: 'Secret';
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly ownerReferences?: readonly { apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean }[];
  };
  readonly type: 'Opaque';
  /** base64 of each encrypted value, as the API carries Secret data. */
  readonly data: Readonly<Record<string, string>>;
}

/** kubeadm's DefaultCertTokenDuration: the life of the token that owns kubeadm-certs. */
export const DEFAULT_CERT_TOKEN_DURATION_MS = 2 * 3600_000;
/** The description kubeadm gives that token. */
export const CERT_TOKEN_DESCRIPTION = 'Proxy for managing TTL for the kubeadm-certs secret';

/** UploadCerts' Secret: every transferred file encrypted with the certificate key. */
export function kubeadmCertsSecret(pki: Pki, certificateKey: string, owner?: { name: string; uid: string }): KubeadmCertsSecret {
  const key = decodeHexKey(certificateKey);
  const files = transferredFiles(pki);
  const data: Record<string, string> = {};
  for (const f of CERTS_TO_TRANSFER) data[secretDataKey(f)] = encryptBytes(Buffer.from(files[f]), key).toString('base64');
  return {
    apiVersion: 'v1', kind: 'Secret',
    metadata: {
      name: KUBEADM_CERTS_SECRET, namespace: 'kube-system',
      ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }] } : {}),
    },
    type: 'Opaque', data,
  };
}

/** How `kubeadm join` prints a failure of the download-certs phase (the runner's prefix and runDownloadCerts' wrap). */
export const DOWNLOAD_CERTS_PHASE = 'error execution phase control-plane-prepare/download-certs: error downloading certs';

/**
 * DownloadCerts when getSecret gets NotFound: the Secret expired with its bootstrap token (or was never
 * uploaded). kubeadm's words, wrapped "error downloading the secret".
 */
export function kubeadmCertsNotFound(cause?: unknown): PkiError {
  return new PkiError('CERTS_SECRET_MISSING',
    `${DOWNLOAD_CERTS_PHASE}: error downloading the secret: Secret "${KUBEADM_CERTS_SECRET}" was not found in the "kube-system" Namespace. ` +
    'This Secret might have expired. Please, run `kubeadm init phase upload-certs --upload-certs` on a control plane to generate a new one',
    cause === undefined ? {} : { cause });
}

/**
 * DownloadCerts: decrypts every value (all or nothing, as getDataFromSecret) and returns the files by
 * their pki-relative path. Errors carry kubeadm's words, prefixed as `kubeadm join` prints them.
 */
export function downloadCerts(secret: { data?: Readonly<Record<string, string>> }, certificateKey: string): Record<TransferredFile, string> {
  const phase = DOWNLOAD_CERTS_PHASE;
  let key: Buffer;
  try {
    key = decodeHexKey(certificateKey);
  } catch (err) {
    throw new PkiError('CERT_KEY_INVALID', `${phase}: ${(err as Error).message}`);
  }
  const plain: Record<string, string> = {};
  for (const [name, value] of Object.entries(secret.data ?? {})) {
    const enc = Buffer.from(value, 'base64');
    if (enc.length === 0) { plain[name] = ''; continue; }
    try {
      plain[name] = decryptBytes(enc, key).toString();
    } catch (err) {
      throw new PkiError('CERT_KEY_INVALID', `${phase}: error decoding secret data with provided key: ${(err as Error).message}`);
    }
  }
  const out = {} as Record<TransferredFile, string>;
  for (const f of CERTS_TO_TRANSFER) {
    const v = plain[secretDataKey(f)];
    if (v === undefined) throw new PkiError('FILE_MISSING', `${phase}: the Secret does not include the required certificate or key - name: ${f}, path: /etc/kubernetes/pki/${f}`);
    out[f] = v;
  }
  return out;
}
