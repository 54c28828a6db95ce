/**
 * Reading a capture with Debian's tshark, for the capture tests: per TCP connection (keyed by the
 * client's port), what each side sent as tshark decodes it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';

/** Whether tshark runs here; under CI=true a missing tshark is a failure, not a skip. */
export function tsharkMissing(): string | undefined {
  const r = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  if (process.env.CI === 'true') throw new Error('tshark is not installed: CI must have it (.ci/run installs it: apt-get install -y tshark)');
  return 'tshark is not installed (apt-get install -y tshark): the capture tests that read the pcapng with it are skipped';
}

export function tshark(args: readonly string[]): string {
  return execFileSync('tshark', [...args], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface SideView {
  handshakeTypes: number[];
  certificates: string[];
  acceptableCas: string[];
  alerts: number[];
}
export interface TsharkConnection { client: SideView; server: SideView; version?: string }

const empty = (): SideView => ({ handshakeTypes: [], certificates: [], acceptableCas: [], alerts: [] });

type Json = string | Json[] | { [k: string]: Json };

/** Walks tshark's JSON (--no-duplicate-keys: repeated keys become arrays) in document order. */
function walk(node: Json, visit: (key: string, value: Json) => void): void {
  if (typeof node === 'string') return;
  if (Array.isArray(node)) { for (const n of node) walk(n, visit); return; }
  for (const [k, v] of Object.entries(node)) {
    for (const x of Array.isArray(v) ? v : [v]) { visit(k, x); walk(x, visit); }
  }
}

const strings = (node: Json): string[] => (typeof node === 'string' ? [node] : Array.isArray(node) ? node.flatMap(strings) : Object.values(node).flatMap(strings));

/** Each connection of the capture as tshark decodes it, keyed by the client's port (the SYN's source). */
/** tshark's view of each TCP connection, by the client's `address:port` (a port alone can be reused by another address). */
export function tsharkConnections(pcap: string, keys?: string): Map<string, TsharkConnection> {
  const out = tshark(['-r', pcap, ...(keys ? ['-o', `tls.keylog_file:${keys}`] : []), '-Y', 'tls or tcp.flags.syn==1', '-T', 'json', '--no-duplicate-keys', '-J', 'ip tcp tls']);
  const packets = JSON.parse(out) as { _source: { layers: { ip?: Record<string, Json>; tcp?: Record<string, Json>; tls?: Json } } }[];
  const byStream = new Map<string, { clientPort: number; conn: TsharkConnection }>();
  const result = new Map<string, TsharkConnection>();
  for (const p of packets) {
    const tcp = p._source.layers.tcp;
    if (!tcp) continue;
    const stream = String(tcp['tcp.stream']);
    const src = Number(tcp['tcp.srcport']);
    let entry = byStream.get(stream);
    if (!entry) {
      // The first packet of a stream is the client's SYN.
      entry = { clientPort: src, conn: { client: empty(), server: empty() } };
      byStream.set(stream, entry);
      result.set(`${String(p._source.layers.ip?.['ip.src'] ?? '')}:${src}`, entry.conn);
    }
    const tls = p._source.layers.tls;
    if (!tls) continue;
    const side = src === entry.clientPort ? entry.conn.client : entry.conn.server;
    walk(tls, (key, value) => {
      if (key === 'tls.handshake.type' && typeof value === 'string') side.handshakeTypes.push(Number(value));
      if (key === 'tls.handshake.certificate' && typeof value === 'string') {
        const x = new X509Certificate(Buffer.from(value.replace(/:/g, ''), 'hex'));
        side.certificates.push(`${x.subject.split('\n').join(', ')} (issuer ${x.issuer.split('\n').join(', ')})`);
      }
      if (key === 'tls.handshake.dname') side.acceptableCas.push(strings(value).filter((s) => !/^\d+$/.test(s) && !/^\d+(\.\d+)+$/.test(s)).join(','));
      if (key === 'tls.alert_message.desc' && typeof value === 'string') side.alerts.push(Number(value));
      if (key === 'tls.handshake.extensions.supported_version' && typeof value === 'string' && side === entry!.conn.server) entry!.conn.version = value;
    });
  }
  return result;
}
