/**
 * `--capture DIR`: the run's connections as DIR/<name>.pcapng and its TLS secrets as DIR/<name>.keys
 * (the NSS key log format Wireshark's tls.keylog_file reads, one line per secret).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Wire, WireConnection } from '../../components/client/wire.js';
import type { Connection } from '../trace.js';
import { toPcapng } from './pcapng.js';

const hostPort = (e: { address: string; port: number }): string => `${e.address}:${e.port}`;

/** "kubelet (node-1) → etcd", from the trace's connection whose client socket this is. */
export function namer(connections: readonly Connection[]): (c: WireConnection) => string | undefined {
  const byLocal = new Map(connections.map((c) => [c.local, c]));
  return (c) => {
    const t = byLocal.get(hostPort(c.client));
    return t ? `${t.client} → ${t.server}` : undefined;
  };
}

export interface CaptureFiles { readonly pcapng: string; readonly keys: string; readonly connections: number; readonly packets?: number }

export async function writeCapture(dir: string, name: string, wire: Wire, connections: readonly Connection[]): Promise<CaptureFiles> {
  await fs.mkdir(dir, { recursive: true });
  const pcapng = path.join(dir, `${name}.pcapng`);
  const keys = path.join(dir, `${name}.keys`);
  await fs.writeFile(pcapng, toPcapng(wire.connections, namer(connections)));
  // The secrets decrypt every recorded connection: readable by the owner only, as a private key file.
  await fs.writeFile(keys, wire.keylog.map((l) => `${l}\n`).join(''), { mode: 0o600 });
  return { pcapng, keys, connections: wire.connections.length };
}
