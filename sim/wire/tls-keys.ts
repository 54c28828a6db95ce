/**
 * Record protection keys from the NSS key log, and record decryption, with node:crypto.
 *
 * TLS 1.3 (RFC 8446 §7): each direction's traffic secret (CLIENT/SERVER_HANDSHAKE_TRAFFIC_SECRET, then
 * CLIENT/SERVER_TRAFFIC_SECRET_0) gives key = HKDF-Expand-Label(secret, "key", "", key length) and
 * iv = HKDF-Expand-Label(secret, "iv", "", 12); the nonce is iv XOR the record's sequence number, the
 * additional data the 5-byte record header, and the plaintext ends with the real content type.
 * TLS 1.2 (RFC 5246 §6.3, RFC 5288, RFC 7905): the master secret (CLIENT_RANDOM) expands with the PRF
 * into write keys and IVs; AES-GCM records carry an 8-byte explicit nonce.
 */
import { createDecipheriv, createHmac, type CipherGCMTypes } from 'node:crypto';

export interface Suite {
  readonly name: string;
  readonly cipher: CipherGCMTypes | 'chacha20-poly1305';
  readonly keyLength: number;
  readonly hash: 'sha256' | 'sha384';
}

/** The suites GO_TLS allows (components/client/tls.ts), by their code point. */
export const SUITES: ReadonlyMap<number, Suite> = new Map<number, Suite>([
  [0x1301, { name: 'TLS_AES_128_GCM_SHA256', cipher: 'aes-128-gcm', keyLength: 16, hash: 'sha256' }],
  [0x1302, { name: 'TLS_AES_256_GCM_SHA384', cipher: 'aes-256-gcm', keyLength: 32, hash: 'sha384' }],
  [0x1303, { name: 'TLS_CHACHA20_POLY1305_SHA256', cipher: 'chacha20-poly1305', keyLength: 32, hash: 'sha256' }],
  [0xc02b, { name: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', cipher: 'aes-128-gcm', keyLength: 16, hash: 'sha256' }],
  [0xc02f, { name: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', cipher: 'aes-128-gcm', keyLength: 16, hash: 'sha256' }],
  [0xc02c, { name: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', cipher: 'aes-256-gcm', keyLength: 32, hash: 'sha384' }],
  [0xc030, { name: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', cipher: 'aes-256-gcm', keyLength: 32, hash: 'sha384' }],
  [0xcca9, { name: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', cipher: 'chacha20-poly1305', keyLength: 32, hash: 'sha256' }],
  [0xcca8, { name: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', cipher: 'chacha20-poly1305', keyLength: 32, hash: 'sha256' }],
]);

/** The key log as label → client random (hex) → secret. */
export type KeyLog = ReadonlyMap<string, ReadonlyMap<string, Buffer>>;

export function parseKeyLog(lines: readonly string[]): KeyLog {
  const out = new Map<string, Map<string, Buffer>>();
  for (const line of lines) {
    const [label, random, secret] = line.trim().split(/\s+/);
    if (!label || !random || !secret || label.startsWith('#')) continue;
    let m = out.get(label);
    if (!m) { m = new Map(); out.set(label, m); }
    m.set(random.toLowerCase(), Buffer.from(secret, 'hex'));
  }
  return out;
}

function hkdfExpand(hash: Suite['hash'], prk: Buffer, info: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  let prev = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(out).length < length; i++) {
    prev = createHmac(hash, prk).update(Buffer.concat([prev, info, Buffer.from([i])])).digest();
    out.push(prev);
  }
  return Buffer.concat(out).subarray(0, length);
}

/** RFC 8446 §7.1 HKDF-Expand-Label. */
export function hkdfExpandLabel(hash: Suite['hash'], secret: Buffer, label: string, context: Buffer, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`);
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([context.length]), context]);
  return hkdfExpand(hash, secret, info, length);
}

/** RFC 5246 §5 PRF (P_hash). */
function prf(hash: Suite['hash'], secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const s = Buffer.concat([Buffer.from(label), seed]);
  const out: Buffer[] = [];
  let a = s;
  let total = 0;
  while (total < length) {
    a = createHmac(hash, secret).update(a).digest();
    const p = createHmac(hash, secret).update(Buffer.concat([a, s])).digest();
    out.push(p);
    total += p.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** One direction's record protection: decrypts records in order (its own sequence numbers). */
export class RecordDecrypter {
  private seq = 0n;
  constructor(private readonly suite: Suite, private readonly key: Buffer, private readonly iv: Buffer, private readonly version: 'TLSv1.2' | 'TLSv1.3') {}

  static tls13(suite: Suite, secret: Buffer): RecordDecrypter {
    return new RecordDecrypter(suite, hkdfExpandLabel(suite.hash, secret, 'key', Buffer.alloc(0), suite.keyLength), hkdfExpandLabel(suite.hash, secret, 'iv', Buffer.alloc(0), 12), 'TLSv1.3');
  }

  /** The client's and the server's TLS 1.2 decrypters from the master secret. */
  static tls12(suite: Suite, master: Buffer, clientRandom: Buffer, serverRandom: Buffer): { client: RecordDecrypter; server: RecordDecrypter } {
    const ivLength = suite.cipher === 'chacha20-poly1305' ? 12 : 4;
    const block = prf(suite.hash, master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * (suite.keyLength + ivLength));
    const k = suite.keyLength;
    return {
      client: new RecordDecrypter(suite, block.subarray(0, k), block.subarray(2 * k, 2 * k + ivLength), 'TLSv1.2'),
      server: new RecordDecrypter(suite, block.subarray(k, 2 * k), block.subarray(2 * k + ivLength, 2 * k + 2 * ivLength), 'TLSv1.2'),
    };
  }

  /** The plaintext and its content type, or undefined if the record does not decrypt with this key. */
  decrypt(header: Buffer, fragment: Buffer): { type: number; plaintext: Buffer } | undefined {
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(this.seq);
    let nonce: Buffer;
    let body = fragment;
    if (this.version === 'TLSv1.2' && this.suite.cipher !== 'chacha20-poly1305') {
      nonce = Buffer.concat([this.iv, fragment.subarray(0, 8)]);
      body = fragment.subarray(8);
    } else {
      nonce = Buffer.from(this.iv);
      for (let i = 0; i < 8; i++) nonce[4 + i] = nonce[4 + i]! ^ seq[i]!;
    }
    if (body.length < 16) return undefined;
    const tag = body.subarray(body.length - 16);
    const ciphertext = body.subarray(0, body.length - 16);
    const aad = this.version === 'TLSv1.3' ? header
      : Buffer.concat([seq, header.subarray(0, 3), Buffer.from([ciphertext.length >> 8, ciphertext.length & 0xff])]);
    try {
      const d = createDecipheriv(this.suite.cipher as CipherGCMTypes, this.key, nonce, { authTagLength: 16 });
      d.setAAD(aad, { plaintextLength: ciphertext.length });
      d.setAuthTag(tag);
      const plain = Buffer.concat([d.update(ciphertext), d.final()]);
      this.seq++;
      if (this.version === 'TLSv1.2') return { type: header[0]!, plaintext: plain };
      let end = plain.length;
      while (end > 0 && plain[end - 1] === 0) end--;
      if (end === 0) return undefined;
      return { type: plain[end - 1]!, plaintext: plain.subarray(0, end - 1) };
    } catch {
      return undefined;
    }
  }
}
