/**
 * A recorded connection read back as TLS: records split out of each direction's bytes, decrypted with
 * the key log where they are protected, and the handshake messages decoded (RFC 8446 §4, RFC 5246 §7.4):
 * ClientHello (SNI, versions, groups), ServerHello, CertificateRequest (its certificate_authorities),
 * Certificate (subject and issuer of each), CertificateVerify, Finished, and alerts with who sent them.
 */
import { X509Certificate } from 'node:crypto';
import type { WireConnection, WireSide } from '../../components/client/wire.js';
import { distinguishedName } from './der.js';
import { RecordDecrypter, SUITES, type KeyLog, type Suite } from './tls-keys.js';

export const HANDSHAKE_TYPES: Readonly<Record<number, string>> = {
  1: 'ClientHello', 2: 'ServerHello', 4: 'NewSessionTicket', 5: 'EndOfEarlyData', 8: 'EncryptedExtensions',
  11: 'Certificate', 12: 'ServerKeyExchange', 13: 'CertificateRequest', 14: 'ServerHelloDone',
  15: 'CertificateVerify', 16: 'ClientKeyExchange', 20: 'Finished', 24: 'KeyUpdate',
};

export const ALERTS: Readonly<Record<number, string>> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 40: 'handshake_failure', 42: 'bad_certificate',
  43: 'unsupported_certificate', 44: 'certificate_revoked', 45: 'certificate_expired', 46: 'certificate_unknown',
  47: 'illegal_parameter', 48: 'unknown_ca', 49: 'access_denied', 50: 'decode_error', 51: 'decrypt_error',
  70: 'protocol_version', 71: 'insufficient_security', 80: 'internal_error', 90: 'user_canceled',
  100: 'no_renegotiation', 109: 'missing_extension', 112: 'unrecognized_name', 116: 'certificate_required',
};

const GROUPS: Readonly<Record<number, string>> = { 0x17: 'secp256r1', 0x18: 'secp384r1', 0x19: 'secp521r1', 0x1d: 'x25519', 0x1e: 'x448', 0x11ec: 'X25519MLKEM768' };
const SIGNATURES: Readonly<Record<number, string>> = {
  0x0403: 'ecdsa_secp256r1_sha256', 0x0503: 'ecdsa_secp384r1_sha384', 0x0603: 'ecdsa_secp521r1_sha512', 0x0804: 'rsa_pss_rsae_sha256',
  0x0805: 'rsa_pss_rsae_sha384', 0x0806: 'rsa_pss_rsae_sha512', 0x0807: 'ed25519', 0x0401: 'rsa_pkcs1_sha256', 0x0501: 'rsa_pkcs1_sha384', 0x0601: 'rsa_pkcs1_sha512',
};
const VERSIONS: Readonly<Record<number, string>> = { 0x0301: 'TLS 1.0', 0x0302: 'TLS 1.1', 0x0303: 'TLS 1.2', 0x0304: 'TLS 1.3' };
const HRR_RANDOM = 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c';

const name = (table: Readonly<Record<number, string>>, v: number): string => table[v] ?? `0x${v.toString(16).padStart(4, '0')}`;

export interface CertInfo { readonly subject: string; readonly issuer: string }

/** One thing a side sent, decoded. */
export type WireMessage =
  | { readonly kind: 'handshake'; readonly from: WireSide; readonly type: number; readonly name: string; readonly encrypted: boolean; readonly detail: HandshakeDetail }
  | { readonly kind: 'alert'; readonly from: WireSide; readonly level: 'warning' | 'fatal'; readonly description: string; readonly encrypted: boolean }
  | { readonly kind: 'application-data'; readonly from: WireSide; readonly records: number; readonly bytes: number }
  | { readonly kind: 'change-cipher-spec'; readonly from: WireSide }
  | { readonly kind: 'undecryptable'; readonly from: WireSide; readonly records: number }
  | { readonly kind: 'end'; readonly from: WireSide; readonly how: 'fin' | 'rst' };

export interface HandshakeDetail {
  readonly sni?: string;
  readonly versions?: readonly string[];
  readonly groups?: readonly string[];
  readonly keyShares?: readonly string[];
  readonly version?: string;
  readonly suite?: string;
  readonly resumed?: boolean;
  readonly helloRetry?: boolean;
  readonly acceptableCas?: readonly string[];
  readonly certificates?: readonly CertInfo[];
  readonly signature?: string;
}

export interface TlsConversation {
  readonly version?: string;
  readonly suite?: string;
  readonly decrypted: boolean;
  readonly messages: readonly WireMessage[];
}

/** A cursor over a handshake body. */
class Reader {
  constructor(private readonly b: Buffer, public at = 0) {}
  get left(): number { return this.b.length - this.at; }
  u8(): number { return this.b[this.at++]!; }
  u16(): number { const v = this.b.readUInt16BE(this.at); this.at += 2; return v; }
  u24(): number { const v = this.b.readUIntBE(this.at, 3); this.at += 3; return v; }
  bytes(n: number): Buffer { const v = this.b.subarray(this.at, this.at + n); this.at += n; return v; }
  vec8(): Buffer { return this.bytes(this.u8()); }
  vec16(): Buffer { return this.bytes(this.u16()); }
  vec24(): Buffer { return this.bytes(this.u24()); }
}

function extensions(r: Reader): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  if (r.left < 2) return m;
  const all = new Reader(r.vec16());
  while (all.left >= 4) { const t = all.u16(); m.set(t, all.vec16()); }
  return m;
}

const u16list = (b: Buffer | undefined): number[] => {
  if (!b) return [];
  const out: number[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) out.push(b.readUInt16BE(i));
  return out;
};

function certInfo(der: Buffer): CertInfo {
  try {
    const x = new X509Certificate(der);
    return { subject: x.subject.split('\n').join(', '), issuer: x.issuer.split('\n').join(', ') };
  } catch {
    return { subject: `(${der.length} bytes that do not parse as X.509)`, issuer: '?' };
  }
}

function caList(b: Buffer): string[] {
  const r = new Reader(b);
  const out: string[] = [];
  while (r.left >= 2) out.push(distinguishedName(r.vec16()));
  return out;
}

function decodeHandshake(type: number, body: Buffer, tls13: boolean): HandshakeDetail {
  const r = new Reader(body);
  try {
    switch (type) {
      case 1: {
        r.bytes(2 + 32); r.vec8(); r.vec16(); r.vec8();
        const ext = extensions(r);
        const sniExt = ext.get(0);
        const sni = sniExt && sniExt.length > 5 ? sniExt.subarray(5, 5 + sniExt.readUInt16BE(3)).toString() : undefined;
        const versions = ext.get(43);
        const shares = ext.get(51);
        const keyShares: string[] = [];
        if (shares) { const s = new Reader(shares.subarray(2)); while (s.left >= 4) { keyShares.push(name(GROUPS, s.u16())); s.vec16(); } }
        return {
          ...(sni ? { sni } : {}),
          versions: versions ? u16list(versions.subarray(1)).map((v) => name(VERSIONS, v)) : [name(VERSIONS, body.readUInt16BE(0))],
          groups: u16list(ext.get(10)?.subarray(2)).map((g) => name(GROUPS, g)),
          keyShares,
        };
      }
      case 2: {
        const legacy = r.u16();
        const random = r.bytes(32).toString('hex');
        r.vec8();
        const suite = r.u16();
        r.u8();
        const ext = extensions(r);
        const selected = ext.get(43);
        const version = selected ? name(VERSIONS, selected.readUInt16BE(0)) : name(VERSIONS, legacy);
        const share = ext.get(51);
        return {
          version, suite: SUITES.get(suite)?.name ?? name({}, suite), resumed: ext.has(41), helloRetry: random === HRR_RANDOM,
          ...(share && share.length >= 2 ? { keyShares: [name(GROUPS, share.readUInt16BE(0))] } : {}),
        };
      }
      case 13: {
        if (tls13) {
          r.vec8();
          const ext = extensions(r);
          const cas = ext.get(47);
          return { acceptableCas: cas ? caList(cas.subarray(2)) : [] };
        }
        r.vec8(); r.vec16();
        return { acceptableCas: caList(r.vec16()) };
      }
      case 11: {
        if (tls13) r.vec8();
        const list = new Reader(r.vec24());
        const certificates: CertInfo[] = [];
        while (list.left >= 3) { certificates.push(certInfo(list.vec24())); if (tls13) list.vec16(); }
        return { certificates };
      }
      case 15:
        return { signature: name(SIGNATURES, r.u16()) };
      default:
        return {};
    }
  } catch {
    return {};
  }
}

interface Direction { buf: Buffer; hs: Buffer; decrypter?: RecordDecrypter; afterCcs: boolean }

/**
 * The conversation on one connection, in the order the bytes were seen. `keys` decrypts what is
 * protected; without the secrets of this connection the protected part is reported as undecryptable.
 */
export function readConversation(c: WireConnection, keys: KeyLog): TlsConversation {
  const dir: Record<WireSide, Direction> = { client: { buf: Buffer.alloc(0), hs: Buffer.alloc(0), afterCcs: false }, server: { buf: Buffer.alloc(0), hs: Buffer.alloc(0), afterCcs: false } };
  const messages: WireMessage[] = [];
  let clientRandom: Buffer | undefined;
  let serverRandom: Buffer | undefined;
  let suite: Suite | undefined;
  let version: string | undefined;
  let decrypted = false;
  const secret = (label: string): Buffer | undefined => (clientRandom ? keys.get(label)?.get(clientRandom.toString('hex')) : undefined);
  const push = (m: WireMessage): void => {
    const last = messages[messages.length - 1];
    if (m.kind === 'application-data' && last?.kind === 'application-data' && last.from === m.from) {
      messages[messages.length - 1] = { ...last, records: last.records + m.records, bytes: last.bytes + m.bytes };
    } else if (m.kind === 'undecryptable' && last?.kind === 'undecryptable' && last.from === m.from) {
      messages[messages.length - 1] = { ...last, records: last.records + m.records };
    } else messages.push(m);
  };

  const handshakeMessages = (from: WireSide, data: Buffer, encrypted: boolean): void => {
    const d = dir[from];
    d.hs = Buffer.concat([d.hs, data]);
    while (d.hs.length >= 4) {
      const len = d.hs.readUIntBE(1, 3);
      if (d.hs.length < 4 + len) break;
      const type = d.hs[0]!;
      const body = d.hs.subarray(4, 4 + len);
      d.hs = d.hs.subarray(4 + len);
      if (type === 1) clientRandom = body.subarray(2, 34);
      if (type === 2) serverRandom = body.subarray(2, 34);
      const detail = decodeHandshake(type, body, version === 'TLS 1.3');
      if (type === 2 && !detail.helloRetry) {
        version = detail.version;
        suite = SUITES.get(body.readUInt16BE(2 + 32 + 1 + body[34]!));
        if (version === 'TLS 1.3' && suite) {
          const cs = secret('CLIENT_HANDSHAKE_TRAFFIC_SECRET');
          const ss = secret('SERVER_HANDSHAKE_TRAFFIC_SECRET');
          if (cs) dir.client.decrypter = RecordDecrypter.tls13(suite, cs);
          if (ss) dir.server.decrypter = RecordDecrypter.tls13(suite, ss);
        }
      }
      messages.push({ kind: 'handshake', from, type, name: HANDSHAKE_TYPES[type] ?? `handshake type ${type}`, encrypted, detail });
      // TLS 1.3: a side's Finished ends its handshake keys; what it sends next is under its application keys.
      if (type === 20 && version === 'TLS 1.3' && suite) {
        const next = secret(from === 'client' ? 'CLIENT_TRAFFIC_SECRET_0' : 'SERVER_TRAFFIC_SECRET_0');
        if (next) dir[from].decrypter = RecordDecrypter.tls13(suite, next);
        else delete dir[from].decrypter;
      }
    }
  };

  const record = (from: WireSide, header: Buffer, fragment: Buffer): void => {
    const d = dir[from];
    let type = header[0]!;
    let plain = fragment;
    let encrypted = false;
    const protectedRecord = version === 'TLS 1.3' ? type === 23 : d.afterCcs;
    if (protectedRecord) {
      const out = d.decrypter?.decrypt(header, fragment);
      if (!out) { push({ kind: 'undecryptable', from, records: 1 }); return; }
      ({ type, plaintext: plain } = out);
      encrypted = true;
      decrypted = true;
    }
    if (type === 22) handshakeMessages(from, plain, encrypted);
    else if (type === 21 && plain.length >= 2) push({ kind: 'alert', from, level: plain[0] === 2 ? 'fatal' : 'warning', description: name(ALERTS, plain[1]!), encrypted });
    else if (type === 20) {
      if (version !== 'TLS 1.3') {
        d.afterCcs = true;
        if (!d.decrypter && suite && clientRandom && serverRandom) {
          const master = secret('CLIENT_RANDOM');
          if (master) { const both = RecordDecrypter.tls12(suite, master, clientRandom, serverRandom); dir.client.decrypter ??= both.client; dir.server.decrypter ??= both.server; }
        }
      }
      push({ kind: 'change-cipher-spec', from });
    } else if (type === 23) push({ kind: 'application-data', from, records: 1, bytes: plain.length });
  };

  for (const s of c.segments) {
    if (s.kind !== 'data') { push({ kind: 'end', from: s.from, how: s.kind }); continue; }
    const d = dir[s.from];
    d.buf = Buffer.concat([d.buf, s.bytes ?? Buffer.alloc(0)]);
    while (d.buf.length >= 5) {
      const len = d.buf.readUInt16BE(3);
      if (d.buf.length < 5 + len) break;
      record(s.from, d.buf.subarray(0, 5), d.buf.subarray(5, 5 + len));
      d.buf = d.buf.subarray(5 + len);
    }
  }
  return { ...(version ? { version } : {}), ...(suite ? { suite: suite.name } : {}), decrypted, messages };
}
