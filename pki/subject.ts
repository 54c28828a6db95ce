/**
 * The subject of a DER certificate as Go's crypto/x509 reads it (parser.go parseName and
 * parseASN1String, then pkix.Name.FillFromRDNSequence), without node-forge and without Node's
 * `getPeerCertificate()` object, which computes three digests and every field for each connection.
 *
 * This is what the apiserver's x509 authenticator trusts (CN = user, O = groups), so it follows Go
 * exactly where Go accepts a name and refuses where Go would refuse the certificate:
 * - every attribute of every RDN counts, multi-valued RDNs (`O=a+CN=b`) included, in DER order;
 * - CommonName is the LAST CN value (FillFromRDNSequence overwrites), Organization every O value;
 * - values are PrintableString, UTF8String, IA5String, NumericString, BMPString or T61String, each
 *   checked as Go checks it; any other type, or a malformed encoding, is an error (Go fails to parse the
 *   certificate, and its TLS server refuses the handshake: "tls: failed to parse client certificate").
 * The reader is strict DER (definite, minimal lengths; low tag numbers): anything else is refused, never
 * guessed at. One difference: Go keeps a T61String's bytes as they are; here they must be UTF-8.
 */
import { PkiError } from './errors.js';

export interface NameIdentity {
  /** The subject's CommonName ('' when it has none). */
  readonly cn: string;
  /** The subject's Organization values, in order. */
  readonly o: readonly string[];
}

interface Tlv { readonly tag: number; readonly start: number; readonly end: number }

const invalid = (message: string): PkiError => new PkiError('CERT_INVALID', message);

/** One DER element at `at`, which must end by `limit`. */
function read(der: Buffer, at: number, limit: number, what: string): Tlv {
  const tag = der[at];
  const first = der[at + 1];
  if (tag === undefined || first === undefined || at + 2 > limit) throw invalid(what);
  // High tag numbers (low five bits all set) never occur in a certificate's name.
  if ((tag & 0x1f) === 0x1f) throw invalid(what);
  let start = at + 2;
  let len = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    // 0x80 is BER's indefinite length; DER has none, nor lengths over 4 bytes here.
    if (n === 0 || n > 4 || start + n > limit) throw invalid(what);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    // Minimal: a long form only from 128 on, and no leading zero byte.
    if (len < 0x80 || der[start] === 0) throw invalid(what);
    start += n;
  }
  const end = start + len;
  if (end > limit) throw invalid(what);
  return { tag, start, end };
}

/** An OBJECT IDENTIFIER's contents as Go's cryptobyte reads them: base-128, minimal, complete. */
function validOid(der: Buffer, t: Tlv): boolean {
  if (t.end === t.start || (der[t.end - 1]! & 0x80) !== 0) return false;
  let atStart = true;
  for (let i = t.start; i < t.end; i++) {
    if (atStart && der[i] === 0x80) return false;
    atStart = (der[i]! & 0x80) === 0;
  }
  return true;
}

const isPrintable = (b: number): boolean =>
  (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) ||
  (b >= 0x27 && b <= 0x29) || (b >= 0x2b && b <= 0x2f) || b === 0x20 || b === 0x3a || b === 0x3d || b === 0x3f ||
  // Go permits these two although PrintableString does not have them (wildcards, and CAs that use '&').
  b === 0x2a || b === 0x26;

// ignoreBOM: a leading U+FEFF is part of the value, as in Go's string.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const TAG = { UTF8: 0x0c, NUMERIC: 0x12, PRINTABLE: 0x13, T61: 0x14, IA5: 0x16, BMP: 0x1e } as const;

// Predicates at module level: tsx (keepNames) wraps every closure made inside a function on each call.
const isIa5 = (b: number): boolean => b < 0x80;
const isNumeric = (b: number): boolean => (b >= 0x30 && b <= 0x39) || b === 0x20;
function all(v: Buffer, ok: (b: number) => boolean): boolean {
  for (let i = 0; i < v.length; i++) if (!ok(v[i]!)) return false;
  return true;
}

/** parseASN1String: the value as Go's string, or Go's words for why it is not one. */
function asn1String(tag: number, v: Buffer): string {
  switch (tag) {
    case TAG.PRINTABLE:
      if (!all(v, isPrintable)) throw new Error('invalid PrintableString');
      return v.toString('latin1');
    case TAG.IA5:
      if (!all(v, isIa5)) throw new Error('invalid IA5String');
      return v.toString('latin1');
    case TAG.NUMERIC:
      if (!all(v, isNumeric)) throw new Error('invalid NumericString');
      return v.toString('latin1');
    case TAG.UTF8:
    case TAG.T61:
      if (all(v, isIa5)) return v.toString('latin1'); // ASCII: the common case, without the decoder
      try { return utf8.decode(v); } catch { throw new Error(tag === TAG.UTF8 ? 'invalid UTF-8 string' : 'T61String that is not UTF-8'); }
    case TAG.BMP: {
      if (v.length % 2 !== 0) throw new Error('invalid BMPString');
      // A trailing NUL terminator is dropped, and unpaired surrogates become U+FFFD (utf16.Decode).
      const n = v.length >= 2 && v[v.length - 1] === 0 && v[v.length - 2] === 0 ? v.length - 2 : v.length;
      let s = '';
      for (let i = 0; i < n; i += 2) {
        const u = v.readUInt16BE(i);
        const lo = i + 2 < n ? v.readUInt16BE(i + 2) : 0;
        if (u >= 0xd800 && u < 0xdc00 && lo >= 0xdc00 && lo < 0xe000) { s += String.fromCharCode(u, lo); i += 2; }
        else s += u >= 0xd800 && u < 0xe000 ? '\ufffd' : String.fromCharCode(u);
      }
      return s;
    }
    default:
      throw new Error(`unsupported string type: ${tag}`);
  }
}

// 2.5.4.3 and 2.5.4.10, as encoded: 55 04 03 and 55 04 0a.
const isAttr = (der: Buffer, t: Tlv, last: number): boolean =>
  t.end - t.start === 3 && der[t.start] === 0x55 && der[t.start + 1] === 0x04 && der[t.start + 2] === last;

const RDN = 'x509: invalid RDNSequence';
const ATTRIBUTE = `${RDN}: invalid attribute`;
const ATTRIBUTE_TYPE = `${RDN}: invalid attribute type`;
const ATTRIBUTE_VALUE = `${RDN}: invalid attribute value`;

/** parseName + FillFromRDNSequence over the Name element `name`. */
function nameIdentity(der: Buffer, name: Tlv): NameIdentity {
  let cn = '';
  const o: string[] = [];
  for (let at = name.start; at < name.end;) {
    const set = read(der, at, name.end, RDN);
    if (set.tag !== 0x31) throw invalid(RDN);
    for (let a = set.start; a < set.end;) {
      const atv = read(der, a, set.end, ATTRIBUTE);
      if (atv.tag !== 0x30) throw invalid(ATTRIBUTE);
      const type = read(der, atv.start, atv.end, ATTRIBUTE_TYPE);
      if (type.tag !== 0x06 || !validOid(der, type)) throw invalid(ATTRIBUTE_TYPE);
      const value = read(der, type.end, atv.end, ATTRIBUTE_VALUE);
      if (value.end !== atv.end) throw invalid(ATTRIBUTE);
      let text: string;
      try {
        text = asn1String(value.tag, der.subarray(value.start, value.end));
      } catch (err) {
        throw invalid(`${ATTRIBUTE_VALUE}: ${(err as Error).message}`);
      }
      if (isAttr(der, type, 0x03)) cn = text;
      else if (isAttr(der, type, 0x0a)) o.push(text);
      a = atv.end;
    }
    at = set.end;
  }
  return { cn, o };
}

/**
 * The subject's CN and O values of a DER certificate, read as Go's crypto/x509 reads them. Throws a
 * PkiError (CERT_INVALID) with Go's words when Go would not parse the name.
 */
export function certificateSubject(der: Buffer): NameIdentity {
  const cert = read(der, 0, der.length, 'x509: malformed certificate');
  if (cert.tag !== 0x30 || cert.end !== der.length) throw invalid('x509: malformed certificate');
  const tbs = read(der, cert.start, cert.end, 'x509: malformed tbs certificate');
  if (tbs.tag !== 0x30) throw invalid('x509: malformed tbs certificate');
  // version [0] EXPLICIT (optional), serialNumber, signature, issuer, validity, subject.
  let at = tbs.start;
  if (der[at] === 0xa0) at = field(der, at, tbs.end, 0xa0, 'x509: malformed version').end;
  at = field(der, at, tbs.end, 0x02, 'x509: malformed serial number').end;
  at = field(der, at, tbs.end, 0x30, 'x509: malformed algorithm identifier').end;
  at = field(der, at, tbs.end, 0x30, 'x509: malformed issuer').end;
  at = field(der, at, tbs.end, 0x30, 'x509: malformed validity').end;
  return nameIdentity(der, field(der, at, tbs.end, 0x30, 'x509: malformed subject'));
}

/** The element at `at`, which must carry `tag`. */
function field(der: Buffer, at: number, limit: number, tag: number, what: string): Tlv {
  const t = read(der, at, limit, what);
  if (t.tag !== tag) throw invalid(what);
  return t;
}
