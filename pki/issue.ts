/**
 * Issuing, the way the seed tells it: each component gets its own key pair and a CSR, and its CA signs
 * the CSR. Key pairs come from node:crypto (native and asynchronous, so many are made at once on the
 * thread pool); X.509 and PKCS#10 structures come from `x509.ts`.
 */
import { generateKeyPair, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { PkiError } from './errors.js';
import type { KeyAlgorithm, LeafSpec } from './spec.js';
import { createCertificate, createCsr, keyIdentifier, parseCsr, type ExtKeyUsage, type KeyUsage, type Subject } from './x509.js';

const generate = promisify(generateKeyPair);

export const CA_VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000; // kubeadm CACertificateValidityPeriod
export const LEAF_VALIDITY_MS = 365 * 24 * 3600 * 1000; // kubeadm CertificateValidityPeriod
export const BACKDATE_MS = 5 * 60 * 1000; // kubeadm CertificateBackdate

/** The source of "now": the sim's clock, or the wall clock. */
export type Now = () => Date;

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export async function generateKey(algorithm: KeyAlgorithm): Promise<KeyPair> {
  switch (algorithm) {
    case 'rsa-2048': return generate('rsa', { modulusLength: 2048 });
    case 'rsa-3072': return generate('rsa', { modulusLength: 3072 });
    case 'rsa-4096': return generate('rsa', { modulusLength: 4096 });
    case 'ecdsa-p256': return generate('ec', { namedCurve: 'prime256v1' });
    case 'ecdsa-p384': return generate('ec', { namedCurve: 'secp384r1' });
  }
}

/** Private keys in kubeadm's encodings: PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY". */
export function privateKeyPem(key: KeyObject): string {
  const type = key.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'sec1';
  return key.export({ type, format: 'pem' }).toString();
}

export const publicKeyPem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();

/** A positive, non-zero 63-bit serial from the CSPRNG, as kubeadm's pkiutil draws one. */
export function randomSerial(): Buffer {
  const serial = randomBytes(8);
  serial[0] = serial[0]! & 0x7f;
  if (serial[0] === 0) serial[0] = 1;
  return serial;
}

export function derToPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** A CA able to sign: its certificate and its private key. */
export interface Signer {
  readonly name: string;
  readonly cert: X509Certificate;
  readonly key: KeyObject;
  readonly subject: Subject;
  readonly keyId: Buffer;
}

/**
 * A Signer from a CA read from disk. Its subject (as the issuer of what it signs) and its key identifier
 * are worked out on the first signature: a run that finds every leaf present never parses the ASN.1.
 */
export function signerFrom(name: string, cert: X509Certificate, key: KeyObject, subject: Subject | (() => Subject)): Signer {
  let resolved = typeof subject === 'function' ? undefined : subject;
  let keyId: Buffer | undefined;
  return {
    name, cert, key,
    get subject(): Subject { return (resolved ??= (subject as () => Subject)()); },
    get keyId(): Buffer { return (keyId ??= keyIdentifier(cert.publicKey.export({ type: 'spki', format: 'der' }))); },
  };
}

/** Node 20's X509Certificate has only the string forms of validFrom/validTo. */
export const notBefore = (cert: X509Certificate): Date => new Date(cert.validFrom);
export const notAfter = (cert: X509Certificate): Date => new Date(cert.validTo);
export const validAt = (cert: X509Certificate, at: Date): boolean =>
  notBefore(cert).getTime() <= at.getTime() && at.getTime() <= notAfter(cert).getTime();

const caKeyUsage: KeyUsage[] = ['digitalSignature', 'keyEncipherment', 'keyCertSign'];

/** A self-signed CA certificate: CA:TRUE, 10 years, notBefore backdated 5 minutes. */
export function selfSignCa(spec: { readonly name: string; readonly cn: string }, key: KeyPair, now: Date): Signer {
  const spki = key.publicKey.export({ type: 'spki', format: 'der' });
  const subject: Subject = { cn: spec.cn, o: [] };
  const der = createCertificate({
    serial: randomSerial(), issuer: subject, subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(now.getTime() + CA_VALIDITY_MS),
    spki, isCA: true, keyUsage: caKeyUsage, extKeyUsage: [], sans: { dns: [], ip: [] }, authorityKeyId: undefined,
  }, key.privateKey);
  return signerFrom(spec.name, new X509Certificate(der), key.privateKey, subject);
}

export interface SignOptions {
  readonly usages: readonly ExtKeyUsage[];
  readonly now: Date;
  readonly validityMs?: number;
  /** Override of notBefore, for making not-yet-valid and expired certificates on purpose. */
  readonly notBefore?: Date;
}

/**
 * Signs a CSR: subject and SANs come from the request (after its self-signature is checked), key usage
 * and validity from the signer's policy, as kubeadm's pkiutil.NewSignedCert does.
 */
export function signCsr(csrDer: Buffer, ca: Signer, options: SignOptions): X509Certificate {
  const csr = parseCsr(csrDer);
  if (csr.subject.cn === '') throw new PkiError('CSR_INVALID', 'CSR has an empty common name');
  if (!validAt(ca.cert, options.now)) {
    throw new PkiError('CA_EXPIRED', `CA "${ca.subject.cn}" is not valid now (valid ${ca.cert.validFrom} to ${ca.cert.validTo})`);
  }
  const keyUsage: KeyUsage[] = csr.publicKey.asymmetricKeyType === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
  const notBefore = options.notBefore ?? new Date(options.now.getTime() - BACKDATE_MS);
  const der = createCertificate({
    serial: randomSerial(), issuer: ca.subject, subject: csr.subject,
    notBefore, notAfter: new Date(options.now.getTime() + (options.validityMs ?? LEAF_VALIDITY_MS)),
    spki: csr.spki, isCA: false, keyUsage, extKeyUsage: options.usages, sans: csr.sans, authorityKeyId: ca.keyId,
  }, ca.key);
  return new X509Certificate(der);
}

export interface IssuedLeaf {
  readonly cert: X509Certificate;
  /** PEM of the certificate, followed by the issuing CA's for a self-signed kubelet pair. */
  readonly certPem: string;
  readonly key: KeyPair;
}

/** The seed's path for one leaf: key pair, CSR, signature by the CA. */
export async function issueLeaf(spec: LeafSpec, ca: Signer | 'self', algorithm: KeyAlgorithm, now: Date, keyPromise?: Promise<KeyPair>): Promise<IssuedLeaf> {
  const key = await (keyPromise ?? generateKey(algorithm));
  if (ca === 'self') {
    // kubeadm's default kubelet serving pair: the kubelet makes a throw-away CA "<host>-ca@<unix>" and a
    // certificate "<host>@<unix>" signed by it, and writes both into kubelet.crt (client-go certutil).
    const stamp = Math.floor(now.getTime() / 1000);
    const own = selfSignCa({ name: `${spec.name}-ca`, cn: `${spec.node ?? spec.cn}-ca@${stamp}` }, await generateKey(algorithm), now);
    const csr = createCsr({ cn: `${spec.node ?? spec.cn}@${stamp}`, o: [] }, spec.sans, key);
    const cert = signCsr(csr, own, { usages: spec.usages, now });
    return { cert, certPem: cert.toString() + own.cert.toString(), key };
  }
  const csr = createCsr({ cn: spec.cn, o: spec.o }, spec.sans, key);
  const cert = signCsr(csr, ca, { usages: spec.usages, now });
  return { cert, certPem: cert.toString(), key };
}

/** A self-signed serving pair: the chain (leaf then its own CA), the leaf's key, the CA, and the leaf's CN (`host@<unix>`). */
export interface SelfSignedServingPair { certPem: string; keyPem: string; caPem: string; cn: string }

/**
 * A self-signed serving pair as client-go's certutil.GenerateSelfSignedCertKeyWithFixtures makes it
 * for a server started without --tls-cert-file (metrics-server's default, in --cert-dir): a throw-away
 * CA `<host>-ca@<unix>` and a serverAuth certificate `<host>@<unix>` for host, alternateDNS and
 * alternateIPs, signed by it. `certPem` holds the certificate then the CA, as the server sends them.
 */
export async function selfSignedServingPair(host: string, alternate: { dns: readonly string[]; ip: readonly string[] }, algorithm: KeyAlgorithm, now: Date):
  Promise<SelfSignedServingPair> {
  const stamp = Math.floor(now.getTime() / 1000);
  const [caKey, key] = await Promise.all([generateKey(algorithm), generateKey(algorithm)]);
  const own = selfSignCa({ name: `${host}-ca`, cn: `${host}-ca@${stamp}` }, caKey, now);
  const isIp = /^[0-9.]+$|:/.test(host);
  const sans = { dns: [...(isIp ? [] : [host]), ...alternate.dns], ip: [...(isIp ? [host] : []), ...alternate.ip] };
  const cert = signCsr(createCsr({ cn: `${host}@${stamp}`, o: [] }, sans, key), own, { usages: ['serverAuth'], now });
  return { certPem: cert.toString() + own.cert.toString(), keyPem: privateKeyPem(key.privateKey), caPem: own.cert.toString(), cn: `${host}@${stamp}` };
}
