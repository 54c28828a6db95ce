/**
 * X.509 v3 certificates and PKCS#10 requests, built and encoded with node-forge's ASN.1 layer and
 * signed with node:crypto. node-forge is loaded on first use.
 *
 * Why not forge's own `pki.createCertificate().sign()`: it signs in pure JavaScript (about 50 ms an
 * RSA-2048 signature on this machine against about 1 ms native; see `npm run bench -- pki`) and it
 * only knows RSA keys, while kubeadm also issues ECDSA. So forge encodes the structures (DER, OIDs,
 * names, extensions) and the signature over the to-be-signed bytes comes from OpenSSL through
 * `crypto.sign`. Only this module imports node-forge; nothing forge-typed leaves `pki/`.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type forge from 'node-forge';
import { PkiError } from './errors.js';

let loaded: typeof forge | undefined;
/**
 * node-forge, loaded on first use (about 70 ms): a warm `pki init` that finds every file present and
 * valid, and the cluster reading its PKI, check certificates with node:crypto and never pay for it.
 */
const lib = (): typeof forge => (loaded ??= createRequire(import.meta.url)('node-forge') as typeof forge);

// ASN.1 tag classes and universal tag numbers (X.680), as forge.asn1.Class and forge.asn1.Type name them.
const U = 0x00 as forge.asn1.Class.UNIVERSAL;
const CTX = 0x80 as forge.asn1.Class.CONTEXT_SPECIFIC;
const T = {
  BOOLEAN: 1, INTEGER: 2, BITSTRING: 3, OCTETSTRING: 4, NULL: 5, OID: 6, UTF8: 12, SEQUENCE: 16, SET: 17,
  PRINTABLESTRING: 19, UTCTIME: 23, GENERALIZEDTIME: 24,
} as const satisfies Record<string, forge.asn1.Type>;

export const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  extensionRequest: '1.2.840.113549.1.9.14',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
} as const;

export type ExtKeyUsage = 'serverAuth' | 'clientAuth';
export type KeyUsage = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign';

/** Bit positions in the keyUsage BIT STRING (RFC 5280 4.2.1.3). */
const KEY_USAGE_BITS: Record<KeyUsage, number> = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5 };

export interface Subject {
  readonly cn: string;
  readonly o: readonly string[];
}

export interface SubjectAltNames {
  readonly dns: readonly string[];
  readonly ip: readonly string[];
}

export interface CertificateFields {
  readonly serial: Buffer;
  readonly issuer: Subject;
  readonly subject: Subject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** DER SubjectPublicKeyInfo of the certified key. */
  readonly spki: Buffer;
  readonly isCA: boolean;
  readonly keyUsage: readonly KeyUsage[];
  readonly extKeyUsage: readonly ExtKeyUsage[];
  readonly sans: SubjectAltNames;
  /** Subject key identifier of the issuer, for the authorityKeyIdentifier extension. */
  readonly authorityKeyId: Buffer | undefined;
}

type Node = forge.asn1.Asn1;

const bin = (b: Buffer): string => b.toString('binary');
const buf = (s: string): Buffer => Buffer.from(s, 'binary');
export const toDer = (n: Node): Buffer => buf(lib().asn1.toDer(n).getBytes());
type DerOptions = { strict: boolean; decodeBitStrings: boolean };
// The typings only know the old boolean argument; forge takes an options object.
const parseDer = (bytes: string, options: DerOptions): Node => (lib().asn1.fromDer as unknown as (b: string, o: DerOptions) => Node)(bytes, options);
export const fromDer = (b: Buffer): Node => parseDer(bin(b), { strict: true, decodeBitStrings: false });

const seq = (children: Node[]): Node => lib().asn1.create(U, T.SEQUENCE, true, children);
const oid = (o: string): Node => lib().asn1.create(U, T.OID, false, lib().asn1.oidToDer(o).getBytes());
const octets = (b: Buffer): Node => lib().asn1.create(U, T.OCTETSTRING, false, bin(b));
const bitString = (b: Buffer, unused = 0): Node =>
  lib().asn1.create(U, T.BITSTRING, false, String.fromCharCode(unused) + bin(b));

/** Strings Go's encoding/asn1 marks PrintableString; everything else is UTF8String, as Go does. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
const nameString = (s: string): Node =>
  lib().asn1.create(U, PRINTABLE.test(s) ? T.PRINTABLESTRING : T.UTF8, false, PRINTABLE.test(s) ? s : lib().util.encodeUtf8(s));

/** A Name in the order Go's pkix.Name writes it: all O values in one RDN, then CN. */
export function encodeName(subject: Subject): Node {
  const rdns: Node[] = [];
  if (subject.o.length > 0) {
    rdns.push(lib().asn1.create(U, T.SET, true, subject.o.map((o) => seq([oid(OID.organization), nameString(o)]))));
  }
  if (subject.cn !== '') rdns.push(lib().asn1.create(U, T.SET, true, [seq([oid(OID.commonName), nameString(subject.cn)])]));
  return seq(rdns);
}

function time(d: Date): Node {
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return d.getUTCFullYear() < 2050
    ? lib().asn1.create(U, T.UTCTIME, false, lib().asn1.dateToUtcTime(d))
    : lib().asn1.create(U, T.GENERALIZEDTIME, false, lib().asn1.dateToGeneralizedTime(d));
}

function keyUsageBits(usages: readonly KeyUsage[]): Node {
  let byte = 0;
  for (const u of usages) byte |= 0x80 >> KEY_USAGE_BITS[u];
  let unused = 0;
  while (unused < 7 && ((byte >> unused) & 1) === 0) unused++;
  return bitString(Buffer.from([byte]), unused);
}

function ipBytes(ip: string): Buffer {
  const family = isIP(ip);
  if (family === 4) return Buffer.from(ip.split('.').map(Number));
  if (family === 6) {
    const [head = '', tail = ''] = ip.includes('::') ? ip.split('::') : [ip, ''];
    const h = head === '' ? [] : head.split(':');
    const t = tail === '' ? [] : tail.split(':');
    const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
    return out;
  }
  throw new PkiError('BAD_ARGUMENT', `"${ip}" is not an IP address`);
}

function ipString(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  // Compress the longest run of zero groups, as Go and Node print IPv6.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

function extension(id: string, critical: boolean, value: Node): Node {
  const parts = [oid(id)];
  if (critical) parts.push(lib().asn1.create(U, T.BOOLEAN, false, String.fromCharCode(0xff)));
  parts.push(octets(toDer(value)));
  return seq(parts);
}

function sanExtension(sans: SubjectAltNames): Node {
  return extension(OID.subjectAltName, false, seq([
    ...sans.dns.map((d) => lib().asn1.create(CTX, 2, false, d)),
    ...sans.ip.map((ip) => lib().asn1.create(CTX, 7, false, bin(ipBytes(ip)))),
  ]));
}

/** SHA-1 over the subjectPublicKey bits, as Go's x509.CreateCertificate derives a key identifier. */
export function keyIdentifier(spki: Buffer): Buffer {
  const info = fromDer(spki);
  const bits = (info.value as Node[])[1];
  const raw = buf(bits!.value as string).subarray(1);
  return createHash('sha1').update(raw).digest();
}

function signatureAlgorithm(key: KeyObject): { oid: string; hash: string; node: Node } {
  if (key.asymmetricKeyType === 'rsa') {
    return { oid: OID.sha256WithRSAEncryption, hash: 'sha256', node: seq([oid(OID.sha256WithRSAEncryption), lib().asn1.create(U, T.NULL, false, '')]) };
  }
  if (key.asymmetricKeyType === 'ec') {
    const big = key.asymmetricKeyDetails?.namedCurve === 'secp384r1';
    const o = big ? OID.ecdsaWithSHA384 : OID.ecdsaWithSHA256;
    return { oid: o, hash: big ? 'sha384' : 'sha256', node: seq([oid(o)]) };
  }
  throw new PkiError('KEY_TYPE', `cannot sign with a ${key.asymmetricKeyType ?? 'unknown'} key: only RSA and ECDSA are supported`);
}

const hashFor = (algOid: string): string => {
  if (algOid === OID.sha256WithRSAEncryption || algOid === OID.ecdsaWithSHA256) return 'sha256';
  if (algOid === OID.ecdsaWithSHA384) return 'sha384';
  throw new PkiError('CSR_INVALID', `unsupported signature algorithm ${algOid}`);
};

/** Wraps to-be-signed DER in a signed SEQUENCE { tbs, algorithm, signature }. */
function signed(tbs: Node, algorithm: Node, hash: string, signer: KeyObject): Buffer {
  const tbsDer = toDer(tbs);
  const signature = sign(hash, tbsDer, signer);
  return toDer(seq([fromDer(tbsDer), algorithm, bitString(signature)]));
}

/** Encodes and signs an X.509 v3 certificate. */
export function createCertificate(fields: CertificateFields, signer: KeyObject): Buffer {
  const alg = signatureAlgorithm(signer);
  const exts: Node[] = [];
  if (fields.keyUsage.length > 0) exts.push(extension(OID.keyUsage, true, keyUsageBits(fields.keyUsage)));
  if (fields.extKeyUsage.length > 0) {
    exts.push(extension(OID.extKeyUsage, false, seq(fields.extKeyUsage.map((u) => oid(OID[u])))));
  }
  const ca = fields.isCA ? [lib().asn1.create(U, T.BOOLEAN, false, String.fromCharCode(0xff))] : [];
  exts.push(extension(OID.basicConstraints, true, seq(ca)));
  if (fields.isCA) exts.push(extension(OID.subjectKeyIdentifier, false, octets(keyIdentifier(fields.spki))));
  if (fields.authorityKeyId !== undefined) {
    exts.push(extension(OID.authorityKeyIdentifier, false, seq([lib().asn1.create(CTX, 0, false, bin(fields.authorityKeyId))])));
  }
  if (fields.sans.dns.length + fields.sans.ip.length > 0) exts.push(sanExtension(fields.sans));

  const tbs = seq([
    lib().asn1.create(CTX, 0, true, [lib().asn1.create(U, T.INTEGER, false, String.fromCharCode(2))]),
    lib().asn1.create(U, T.INTEGER, false, bin(fields.serial)),
    alg.node,
    encodeName(fields.issuer),
    seq([time(fields.notBefore), time(fields.notAfter)]),
    encodeName(fields.subject),
    fromDer(fields.spki),
    lib().asn1.create(CTX, 3, true, [seq(exts)]),
  ]);
  return signed(tbs, alg.node, alg.hash, signer);
}

/** A PKCS#10 request: the subject, the public key, and the SANs asked for, signed by the key itself. */
export function createCsr(subject: Subject, sans: SubjectAltNames, key: { privateKey: KeyObject; publicKey: KeyObject }): Buffer {
  const alg = signatureAlgorithm(key.privateKey);
  const attributes: Node[] = [];
  if (sans.dns.length + sans.ip.length > 0) {
    attributes.push(seq([oid(OID.extensionRequest), lib().asn1.create(U, T.SET, true, [seq([sanExtension(sans)])])]));
  }
  const info = seq([
    lib().asn1.create(U, T.INTEGER, false, String.fromCharCode(0)),
    encodeName(subject),
    fromDer(key.publicKey.export({ type: 'spki', format: 'der' })),
    lib().asn1.create(CTX, 0, true, attributes),
  ]);
  return signed(info, alg.node, alg.hash, key.privateKey);
}

export interface ParsedCsr {
  readonly subject: Subject;
  readonly sans: SubjectAltNames;
  readonly spki: Buffer;
  readonly publicKey: KeyObject;
}

/** Reads the DER TLV at `offset`: where its content starts and how long the whole element is. */
export function tlv(der: Buffer, offset: number): { tag: number; contentStart: number; end: number } {
  const tag = der[offset];
  let len = der[offset + 1];
  if (tag === undefined || len === undefined) throw new PkiError('PEM_INVALID', 'truncated DER');
  let contentStart = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || offset + 2 + n > der.length) throw new PkiError('PEM_INVALID', 'bad DER length');
    len = der.readUIntBE(offset + 2, n);
    contentStart += n;
  }
  const end = contentStart + len;
  if (end > der.length) throw new PkiError('PEM_INVALID', 'truncated DER');
  return { tag, contentStart, end };
}

/** The raw bytes of the first element of a signed SEQUENCE, i.e. what the signature covers. */
function signedPart(der: Buffer): Buffer {
  const outer = tlv(der, 0);
  const inner = tlv(der, outer.contentStart);
  return der.subarray(outer.contentStart, inner.end);
}

function decodeName(name: Node): Subject {
  let cn = '';
  const o: string[] = [];
  for (const rdn of name.value as Node[]) {
    for (const atv of rdn.value as Node[]) {
      const [type, value] = atv.value as Node[];
      const id = lib().asn1.derToOid(type!.value as string);
      const text = value!.type === T.UTF8 ? lib().util.decodeUtf8(value!.value as string) : (value!.value as string);
      if (id === OID.commonName) cn = text;
      if (id === OID.organization) o.push(text);
    }
  }
  return { cn, o };
}

function decodeSans(extValue: Buffer): SubjectAltNames {
  const dns: string[] = [];
  const ip: string[] = [];
  for (const gn of fromDer(extValue).value as Node[]) {
    if (gn.tagClass !== CTX) continue;
    if (gn.type === 2) dns.push(gn.value as string);
    if (gn.type === 7) ip.push(ipString(buf(gn.value as string)));
  }
  return { dns, ip };
}

/** Parses a DER CSR and checks its self-signature. */
export function parseCsr(der: Buffer): ParsedCsr {
  let root: Node;
  try {
    root = fromDer(der);
  } catch (cause) {
    throw new PkiError('CSR_INVALID', 'CSR is not valid DER', { cause });
  }
  const [info, algorithm, signature] = root.value as Node[];
  const [, subjectNode, spkiNode, attrs] = info!.value as Node[];
  const spki = toDer(spkiNode!);
  const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const algOid = lib().asn1.derToOid((algorithm!.value as Node[])[0]!.value as string);
  const sig = buf(signature!.value as string).subarray(1);
  if (!verify(hashFor(algOid), signedPart(der), publicKey, sig)) {
    throw new PkiError('CSR_INVALID', 'CSR signature does not verify with its own public key');
  }
  let sans: SubjectAltNames = { dns: [], ip: [] };
  for (const attr of (attrs?.value as Node[] | undefined) ?? []) {
    const [type, values] = attr.value as Node[];
    if (lib().asn1.derToOid(type!.value as string) !== OID.extensionRequest) continue;
    for (const ext of ((values!.value as Node[])[0]!.value as Node[])) {
      const parts = ext.value as Node[];
      if (lib().asn1.derToOid(parts[0]!.value as string) === OID.subjectAltName) {
        sans = decodeSans(buf(parts[parts.length - 1]!.value as string));
      }
    }
  }
  return { subject: decodeName(subjectNode!), sans, spki, publicKey };
}

/** What `node:crypto`'s X509Certificate does not expose: key usage bits and the raw O list. */
export interface CertificateDetails {
  readonly subject: Subject;
  readonly issuer: Subject;
  readonly keyUsage: readonly KeyUsage[];
  readonly extKeyUsage: readonly string[];
  readonly sans: SubjectAltNames;
  readonly isCA: boolean;
  /** basicConstraints' pathLenConstraint: how many intermediates may follow this CA (Go's MaxPathLen); undefined when absent. */
  readonly maxPathLen: number | undefined;
  readonly subjectKeyId: Buffer | undefined;
  readonly authorityKeyId: Buffer | undefined;
}

export function certificateDetails(der: Buffer): CertificateDetails {
  const tbs = (fromDer(der).value as Node[])[0]!.value as Node[];
  const offset = tbs[0]!.tagClass === CTX ? 1 : 0;
  const issuer = decodeName(tbs[offset + 2]!);
  const subject = decodeName(tbs[offset + 4]!);
  let keyUsage: KeyUsage[] = [];
  let extKeyUsage: string[] = [];
  let sans: SubjectAltNames = { dns: [], ip: [] };
  let isCA = false;
  let maxPathLen: number | undefined;
  let subjectKeyId: Buffer | undefined;
  let authorityKeyId: Buffer | undefined;
  const extsWrapper = tbs.find((n) => n.tagClass === CTX && n.type === 3);
  const exts = extsWrapper ? ((extsWrapper.value as Node[])[0]!.value as Node[]) : [];
  for (const ext of exts) {
    const parts = ext.value as Node[];
    const id = lib().asn1.derToOid(parts[0]!.value as string);
    const value = buf(parts[parts.length - 1]!.value as string);
    switch (id) {
      case OID.keyUsage: {
        const bits = buf(fromDer(value).value as string);
        const byte = bits[1] ?? 0;
        keyUsage = (Object.keys(KEY_USAGE_BITS) as KeyUsage[]).filter((u) => byte & (0x80 >> KEY_USAGE_BITS[u]));
        break;
      }
      case OID.extKeyUsage:
        extKeyUsage = (fromDer(value).value as Node[]).map((n) => {
          const o = lib().asn1.derToOid(n.value as string);
          return o === OID.serverAuth ? 'serverAuth' : o === OID.clientAuth ? 'clientAuth' : o;
        });
        break;
      case OID.subjectAltName:
        sans = decodeSans(value);
        break;
      case OID.basicConstraints: {
        const items = fromDer(value).value as Node[];
        const first = items[0];
        isCA = first !== undefined && first.type === T.BOOLEAN && (first.value as string) !== '\x00';
        // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }
        const pathLen = items.find((n) => n.tagClass === U && n.type === T.INTEGER);
        if (pathLen) maxPathLen = [...buf(pathLen.value as string)].reduce((n, b) => n * 256 + b, 0);
        break;
      }
      case OID.subjectKeyIdentifier:
        subjectKeyId = buf(fromDer(value).value as string);
        break;
      case OID.authorityKeyIdentifier: {
        const keyId = (fromDer(value).value as Node[]).find((n) => n.tagClass === CTX && n.type === 0);
        if (keyId) authorityKeyId = buf(keyId.value as string);
        break;
      }
      default:
        break;
    }
  }
  return { subject, issuer, keyUsage, extKeyUsage, sans, isCA, maxPathLen, subjectKeyId, authorityKeyId };
}
