/**
 * Certificates with names pki/x509.ts (Go's encoder) would never write, really signed by a CA of the
 * PKI: for the attacker's cases of every x509 authenticator (apiserver, kubelet, delegated servers).
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import type { Identity } from '../../components/client/tls.js';
import type { Signer } from '../../pki/issue.js';
import { createCertificate, tlv } from '../../pki/x509.js';

// ---- a little DER, to write names that pki/x509.ts (Go's encoder) would never write ----
const len = (n: number): Buffer => (n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]));
export const der = (tag: number, ...parts: Buffer[]): Buffer => { const body = Buffer.concat(parts); return Buffer.concat([Buffer.from([tag]), len(body.length), body]); };
export const CN = Buffer.from([0x55, 0x04, 0x03]);
export const O = Buffer.from([0x55, 0x04, 0x0a]);
export const OU = Buffer.from([0x55, 0x04, 0x0b]);
export const UTF8 = 0x0c;
export const PRINTABLE = 0x13;
export type Atv = readonly [oid: Buffer, tag: number, value: Buffer | string];
export const atv = ([oid, tag, value]: Atv): Buffer => der(0x30, der(0x06, oid), der(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value));
/** A Name: one SET per RDN, each RDN one or more attributes. */
export const name = (...rdns: readonly (readonly Atv[])[]): Buffer => der(0x30, ...rdns.map((rdn) => der(0x31, ...rdn.map(atv))));

/** The children of a DER SEQUENCE, as raw elements. */
function children(seq: Buffer): Buffer[] {
  const outer = tlv(seq, 0);
  const out: Buffer[] = [];
  for (let at = outer.contentStart; at < outer.end;) { const t = tlv(seq, at); out.push(seq.subarray(at, t.end)); at = t.end; }
  return out;
}

/** A client certificate signed by `signer` whose subject is exactly `subject` (DER). */
export function clientCert(signer: Signer, subject: Buffer): Identity {
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = Date.now();
  const made = createCertificate({
    serial: Buffer.from([0x01, ...Array.from({ length: 8 }, (_, i) => (now >> i) & 0xff)]), issuer: signer.subject, subject: { cn: 'placeholder', o: [] },
    notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000), spki: key.publicKey.export({ type: 'spki', format: 'der' }),
    isCA: false, keyUsage: ['digitalSignature'], extKeyUsage: ['clientAuth'], sans: { dns: [], ip: [] }, authorityKeyId: signer.keyId,
  }, signer.key);
  const [tbs, algorithm] = children(made) as [Buffer, Buffer];
  const parts = children(tbs);
  parts[5] = subject; // version, serial, signature, issuer, validity, subject
  const newTbs = der(0x30, ...parts);
  const signature = sign('sha256', newTbs, signer.key);
  const cert = der(0x30, newTbs, algorithm, der(0x03, Buffer.from([0]), signature));
  const pem = `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
  return { cert: pem, key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

