/**
 * Reading PEM with errors that name the file and the fault (missing, not PEM, truncated, wrong block,
 * wrong key type, key not matching its certificate). No message ever carries the input: not a line of
 * it, not its base64, not even a PEM header of a key (key blocks are named by their format), so an error
 * printed to a terminal or a log cannot leak key material.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { PkiError } from './errors.js';

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

/** How an error names a PEM block: its label, except that key blocks are named by format, never by their PEM header. */
export function blockName(label: string): string {
  switch (label) {
    case 'RSA PRIVATE KEY': return 'PKCS#1 RSA private key';
    case 'EC PRIVATE KEY': return 'SEC 1 EC private key';
    case 'PRIVATE KEY': return 'PKCS#8 private key';
    case 'ENCRYPTED PRIVATE KEY': return 'encrypted PKCS#8 private key';
    default: return /PRIVATE KEY/.test(label) ? `${label.replace(/ ?PRIVATE KEY/, '').trim() || 'unknown'} private key` : label;
  }
}

export function pemBlocks(text: string, file: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = m[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) {
      throw new PkiError('PEM_INVALID', `${file}: ${blockName(m[1]!)} block is not valid base64`, { file });
    }
    blocks.push({ label: m[1]!, der: Buffer.from(body, 'base64') });
  }
  if (blocks.length === 0) {
    const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
    const what = begin ? `truncated PEM (${blockName(begin[1]!)} block has no END line)` : text.length === 0 ? 'empty file' : 'not PEM (no -----BEGIN block)';
    throw new PkiError('PEM_INVALID', `${file}: ${what}`, { file });
  }
  return blocks;
}

/** The first certificate of a PEM text (a bundle may follow it: leaf first, as TLS sends it). */
export function parseCertificatePem(text: string, file: string): X509Certificate {
  return parseCertificates(text, file)[0]!;
}

export function parseCertificates(text: string, file: string): X509Certificate[] {
  const certs = pemBlocks(text, file).filter((b) => b.label === 'CERTIFICATE');
  if (certs.length === 0) throw new PkiError('PEM_INVALID', `${file}: holds no CERTIFICATE block`, { file });
  return certs.map((b) => {
    try {
      return new X509Certificate(b.der);
    } catch (cause) {
      throw new PkiError('PEM_INVALID', `${file}: CERTIFICATE block is not a valid X.509 certificate (truncated or corrupt)`, { file, cause });
    }
  });
}

const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);

/** A private key, RSA or ECDSA, in PKCS#1, SEC1 or PKCS#8. */
export function parsePrivateKeyPem(text: string, file: string): KeyObject {
  const blocks = pemBlocks(text, file);
  const block = blocks.find((b) => KEY_LABELS.has(b.label));
  if (!block) {
    const labels = blocks.map((b) => blockName(b.label)).join(', ');
    const code = blocks.some((b) => b.label.includes('KEY')) ? 'KEY_TYPE' : 'PEM_INVALID';
    throw new PkiError(code, `${file}: holds ${labels}, not a private key`, { file });
  }
  let key: KeyObject;
  try {
    const type = block.label === 'RSA PRIVATE KEY' ? 'pkcs1' : block.label === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs8';
    key = createPrivateKey({ key: block.der, format: 'der', type });
  } catch (cause) {
    // The cause (OpenSSL's decoder error) names no input, but it is dropped anyway: a message is all a user sees.
    void cause;
    throw new PkiError('PEM_INVALID', `${file}: ${blockName(block.label)} block is not a valid key (truncated or corrupt)`, { file });
  }
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec') {
    throw new PkiError('KEY_TYPE', `${file}: ${key.asymmetricKeyType ?? 'unknown'} key; Kubernetes certificates use RSA or ECDSA keys`, { file });
  }
  return key;
}

/** Checks that `key` is the private half of `cert`'s public key. */
export function assertKeyMatches(cert: X509Certificate, certFile: string, key: KeyObject, keyFile: string): void {
  const certType = cert.publicKey.asymmetricKeyType;
  if (certType !== key.asymmetricKeyType) {
    throw new PkiError('KEY_TYPE', `${keyFile} is an ${key.asymmetricKeyType?.toUpperCase() ?? '?'} key but ${certFile} certifies an ${certType?.toUpperCase() ?? '?'} key`, { file: keyFile });
  }
  if (!cert.checkPrivateKey(key)) {
    throw new PkiError('KEY_MISMATCH', `${certFile} does not match its key ${keyFile} (the certificate's public key is not this key's)`, { file: certFile });
  }
}
