/**
 * The recorded connections as a pcapng file (the format Wireshark and tshark write): one interface of
 * link type RAW (IPv4/IPv6 packets with no link header), and for each connection the TCP/IP framing a
 * kernel would have put around its bytes: the three-way handshake, data segments whose sequence and
 * acknowledgement numbers count the bytes each side sent, and the FIN (or RST) each side ended with.
 * The payload is exactly what was written to and read from the socket; the framing is made here.
 *
 * pcapng: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html (SHB, IDB, EPB; option
 * opt_comment on a connection's SYN names the two components).
 */
import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { WireConnection, WireEndpoint, WireSide } from '../../components/client/wire.js';

/** LINKTYPE_RAW: the packet begins with an IPv4 or IPv6 header. */
const LINKTYPE_RAW = 101;
/** The most payload one segment carries (loopback's MTU is 65536; an IPv4 packet's length field tops out at 65535). */
const MAX_SEGMENT = 65_000;

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

const pad4 = (n: number): number => (n + 3) & ~3;

function block(type: number, body: Buffer): Buffer {
  const total = 12 + pad4(body.length);
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  body.copy(b, 8);
  b.writeUInt32LE(total, total - 4);
  return b;
}

function option(code: number, value: Buffer): Buffer {
  const b = Buffer.alloc(4 + pad4(value.length));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}
const END_OF_OPTIONS = Buffer.alloc(4);

function sectionHeader(): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(0x1a2b3c4d, 0);
  fixed.writeUInt16LE(1, 4);
  fixed.writeUInt16LE(0, 6);
  fixed.writeBigInt64LE(-1n, 8); // section length not given
  const opts = Buffer.concat([option(4, Buffer.from('k8s-mtls-sim (recorded at the sockets)')), END_OF_OPTIONS]); // shb_userappl
  return block(0x0a0d0d0a, Buffer.concat([fixed, opts]));
}

function interfaceDescription(): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(LINKTYPE_RAW, 0);
  fixed.writeUInt32LE(0, 4); // no snap length limit
  const opts = Buffer.concat([option(2, Buffer.from('lo')), option(3, Buffer.from('loopback, as the sockets of the run saw it')), option(9, Buffer.from([6])), END_OF_OPTIONS]);
  return block(1, Buffer.concat([fixed, opts]));
}

function enhancedPacket(at: bigint, packet: Buffer, comment?: string): Buffer {
  const fixed = Buffer.alloc(20);
  fixed.writeUInt32LE(0, 0);
  fixed.writeUInt32LE(Number(at >> 32n), 4);
  fixed.writeUInt32LE(Number(at & 0xffffffffn), 8);
  fixed.writeUInt32LE(packet.length, 12);
  fixed.writeUInt32LE(packet.length, 16);
  const data = Buffer.alloc(pad4(packet.length));
  packet.copy(data);
  const opts = comment ? Buffer.concat([option(1, Buffer.from(comment)), END_OF_OPTIONS]) : Buffer.alloc(0);
  return block(6, Buffer.concat([fixed, data, opts]));
}

/** The Internet checksum (RFC 1071) over the buffers. */
function checksum(...parts: Buffer[]): number {
  let sum = 0;
  for (const p of parts) {
    for (let i = 0; i + 1 < p.length; i += 2) sum += p.readUInt16BE(i);
    if (p.length % 2 === 1) sum += p[p.length - 1]! << 8;
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function addressBytes(e: WireEndpoint): Buffer {
  if (isIPv4(e.address)) return Buffer.from(e.address.split('.').map(Number));
  // IPv6 (with :: and an IPv4-mapped tail handled).
  const [head, tail] = e.address.split('::') as [string, string | undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').flatMap((g) => (g.includes('.') ? [((Number(g.split('.')[0]) << 8) | Number(g.split('.')[1])), ((Number(g.split('.')[2]) << 8) | Number(g.split('.')[3]))] : [parseInt(g, 16)])) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(g & 0xffff, i * 2));
  return b;
}

/** One TCP/IP packet from `src` to `dst`. */
function packet(src: WireEndpoint, dst: WireEndpoint, seq: number, ack: number, flags: number, payload: Buffer, ipId: number): Buffer {
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(src.port, 0);
  tcp.writeUInt16BE(dst.port, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp.writeUInt32BE(flags & TCP_ACK ? ack >>> 0 : 0, 8);
  tcp.writeUInt8(5 << 4, 12);
  tcp.writeUInt8(flags, 13);
  tcp.writeUInt16BE(65535, 14);
  const s = addressBytes(src);
  const d = addressBytes(dst);
  const tcpLength = tcp.length + payload.length;
  if (s.length === 4) {
    const pseudo = Buffer.alloc(12);
    s.copy(pseudo, 0); d.copy(pseudo, 4); pseudo.writeUInt8(6, 9); pseudo.writeUInt16BE(tcpLength, 10);
    tcp.writeUInt16BE(checksum(pseudo, tcp, payload), 16);
    const ip = Buffer.alloc(20);
    ip.writeUInt8(0x45, 0);
    ip.writeUInt16BE(20 + tcpLength, 2);
    ip.writeUInt16BE(ipId & 0xffff, 4);
    ip.writeUInt16BE(0x4000, 6); // don't fragment
    ip.writeUInt8(64, 8);
    ip.writeUInt8(6, 9);
    s.copy(ip, 12); d.copy(ip, 16);
    ip.writeUInt16BE(checksum(ip), 10);
    return Buffer.concat([ip, tcp, payload]);
  }
  const pseudo = Buffer.alloc(40);
  s.copy(pseudo, 0); d.copy(pseudo, 16); pseudo.writeUInt32BE(tcpLength, 32); pseudo.writeUInt8(6, 39);
  tcp.writeUInt16BE(checksum(pseudo, tcp, payload), 16);
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(0x60000000, 0);
  ip.writeUInt16BE(tcpLength, 4);
  ip.writeUInt8(6, 6);
  ip.writeUInt8(64, 7);
  s.copy(ip, 8); d.copy(ip, 24);
  return Buffer.concat([ip, tcp, payload]);
}

interface Timed { readonly at: bigint; readonly order: number; readonly block: Buffer }

/**
 * The packets of one connection, each with its time. `comment` goes on the SYN (Wireshark shows it as
 * the packet comment: which component dialled which).
 */
function connectionPackets(c: WireConnection, comment: string | undefined, nextId: () => number): Timed[] {
  const isn = { client: randomBytes(4).readUInt32BE(0), server: randomBytes(4).readUInt32BE(0) };
  const next = { client: isn.client, server: isn.server };
  const ends: Record<WireSide, WireEndpoint> = { client: c.client, server: c.server };
  const other = (s: WireSide): WireSide => (s === 'client' ? 'server' : 'client');
  const out: Timed[] = [];
  let last = c.opened;
  const emit = (at: bigint, from: WireSide, flags: number, payload: Buffer, note?: string): void => {
    // Keep each connection's packets strictly in the order they were seen.
    last = at > last ? at : last + 1n;
    const p = packet(ends[from], ends[other(from)], next[from], next[other(from)], flags, payload, nextId());
    out.push({ at: last, order: out.length, block: enhancedPacket(last, p, note) });
  };
  emit(c.opened, 'client', TCP_SYN, Buffer.alloc(0), comment);
  next.client = (next.client + 1) >>> 0;
  emit(c.opened, 'server', TCP_SYN | TCP_ACK, Buffer.alloc(0));
  next.server = (next.server + 1) >>> 0;
  emit(c.opened, 'client', TCP_ACK, Buffer.alloc(0));
  const finished = new Set<WireSide>();
  for (const s of c.segments) {
    if (finished.has(s.from) && s.kind !== 'rst') continue;
    if (s.kind === 'data' && s.bytes) {
      for (let i = 0; i < s.bytes.length; i += MAX_SEGMENT) {
        const chunk = s.bytes.subarray(i, i + MAX_SEGMENT);
        emit(s.at, s.from, TCP_PSH | TCP_ACK, chunk);
        next[s.from] = (next[s.from] + chunk.length) >>> 0;
      }
    } else if (s.kind === 'fin') {
      emit(s.at, s.from, TCP_FIN | TCP_ACK, Buffer.alloc(0));
      next[s.from] = (next[s.from] + 1) >>> 0;
      finished.add(s.from);
      // The other side's kernel acknowledges the FIN.
      emit(s.at, other(s.from), TCP_ACK, Buffer.alloc(0));
    } else if (s.kind === 'rst') {
      emit(s.at, s.from, TCP_RST | TCP_ACK, Buffer.alloc(0));
      break;
    }
  }
  return out;
}

/** The whole run as one pcapng file, packets in time order. `describe` names a connection for its SYN's comment. */
export function toPcapng(connections: readonly WireConnection[], describe: (c: WireConnection) => string | undefined = () => undefined): Buffer {
  let id = 0;
  const nextId = (): number => ++id;
  const all = connections.flatMap((c, n) => connectionPackets(c, describe(c), nextId).map((p) => ({ ...p, conn: n })));
  all.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.conn - b.conn || a.order - b.order));
  return Buffer.concat([sectionHeader(), interfaceDescription(), ...all.map((p) => p.block)]);
}
