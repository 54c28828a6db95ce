/**
 * "On the wire": a recorded connection told message by message, from the bytes (tls-parse.ts), with
 * who sent what: the ClientHello's SNI, versions and groups, the ServerHello's choice, the acceptable
 * CAs the server's CertificateRequest lists, the certificates each side sent, and for a refusal the
 * alert and its sender (or that none was sent, and who closed the connection).
 */
import type { Wire, WireConnection, WireSide } from '../../components/client/wire.js';
import { parseKeyLog, type KeyLog } from './tls-keys.js';
import { readConversation, type CertInfo, type TlsConversation, type WireMessage } from './tls-parse.js';

const hostPort = (e: { address: string; port: number }): string => `${e.address}:${e.port}`;

const certLine = (c: CertInfo): string => `${c.subject} (issuer ${c.issuer})`;

function messageLines(m: WireMessage, names: Record<WireSide, string>, tls13: boolean): string[] {
  const arrow = m.from === 'client' ? `${names.client} →` : `${names.server} →`;
  switch (m.kind) {
    case 'handshake': {
      const d = m.detail;
      const enc = m.encrypted ? ' [decrypted]' : '';
      switch (m.type) {
        case 1: return [`${arrow} ClientHello: SNI ${d.sni ?? '(none: an IP address was dialled)'}; versions ${d.versions?.join(', ') ?? '?'}; groups ${d.groups?.join(', ') ?? '?'}${d.keyShares?.length ? `; key share ${d.keyShares.join(', ')}` : ''}`];
        case 2: return [`${arrow} ${d.helloRetry ? 'HelloRetryRequest' : 'ServerHello'}: ${d.version ?? '?'}, ${d.suite ?? '?'}${d.keyShares?.length ? `, key share ${d.keyShares.join(', ')}` : ''}${d.resumed ? ', resuming an earlier session (PSK): no certificates are exchanged' : ''}`];
        case 13: return [`${arrow} CertificateRequest${enc}: acceptable CAs ${d.acceptableCas?.length ? d.acceptableCas.map((n) => `"${n}"`).join(', ') : '(none listed: any)'}`];
        case 11: return d.certificates?.length
          ? [`${arrow} Certificate${enc}: ${d.certificates.map(certLine).join(', then ')}`]
          : [`${arrow} Certificate${enc}: empty (no certificate)`];
        case 15: return [`${arrow} CertificateVerify${enc} (${d.signature ?? '?'}): proves it holds the key of the certificate it sent`];
        case 20: return [`${arrow} Finished${enc}`];
        case 4: return [];
        default: return [`${arrow} ${m.name}${enc}`];
      }
    }
    case 'alert':
      return m.description === 'close_notify' ? [`${arrow} alert close_notify (closing)`] : [`${arrow} ALERT ${m.level} ${m.description}${m.encrypted ? ' [decrypted]' : ''}: ${names[m.from]} refuses`];
    case 'application-data': return [`${arrow} application data (${m.records} record${m.records === 1 ? '' : 's'}, ${m.bytes} bytes${tls13 ? ', decrypted' : ''})`];
    case 'change-cipher-spec': return tls13 ? [] : [`${arrow} ChangeCipherSpec: what follows is encrypted`];
    case 'undecryptable': return [`${arrow} ${m.records} encrypted record${m.records === 1 ? '' : 's'} (no key for them in the key log)`];
    case 'end': return [`${arrow} ${m.how === 'fin' ? 'closes the connection (FIN)' : 'resets the connection (RST)'}`];
  }
}

/** The lines for one connection; `names` say who the client and server are. */
export function describeConversation(conv: TlsConversation, c: WireConnection, names: Record<WireSide, string>): string[] {
  const tls13 = conv.version === 'TLS 1.3';
  const head = `${hostPort(c.client)} → ${hostPort(c.server)}, ${conv.version ?? 'no TLS version agreed'}${conv.suite ? `, ${conv.suite}` : ''}${tls13 ? (conv.decrypted ? ' (handshake after ServerHello decrypted with the key log)' : ' (encrypted after ServerHello; no keys)') : ''}:`;
  const lines = [head];
  // TLS 1.2 resumption: the server's ChangeCipherSpec follows its ServerHello directly.
  const hello = conv.messages.findIndex((m) => m.kind === 'handshake' && m.type === 2);
  const afterHello = conv.messages.slice(hello + 1).find((m) => m.from === 'server');
  if (!tls13 && hello >= 0 && afterHello?.kind === 'change-cipher-spec') lines.push('  (an abbreviated handshake: the server resumes an earlier session, so no certificates are exchanged)');
  let lastEnd: WireMessage | undefined;
  for (const m of conv.messages) {
    if (m.kind === 'end' && lastEnd?.kind === 'end') continue;
    for (const l of messageLines(m, names, tls13)) lines.push(`  ${l}`);
    if (m.kind === 'end') lastEnd = m;
  }
  // A refusal: say plainly whether an alert was sent, and by whom.
  const alerts = conv.messages.filter((m) => m.kind === 'alert' && m.description !== 'close_notify');
  const firstEnd = conv.messages.find((m) => m.kind === 'end');
  const appData = conv.messages.some((m) => m.kind === 'application-data' && m.from === 'server');
  if (alerts.length === 0 && firstEnd && !appData) {
    lines.push(`  no alert was sent: ${names[firstEnd.from]} ended the connection without one${firstEnd.from === 'server' && names.server.startsWith('etcd') ? ' (the embedded etcd is Node, which checks the client certificate after the handshake and closes; a Go etcd sends the alert bad_certificate)' : ''}`);
  }
  return lines;
}

/** Reads every connection of the wire once the run is over, or a step's. */
export class WireReader {
  private readonly byClient: Map<string, WireConnection>;
  private readonly keys: KeyLog;
  constructor(wire: Wire) {
    this.byClient = new Map(wire.connections.map((c) => [hostPort(c.client), c]));
    this.keys = parseKeyLog(wire.keylog);
  }

  /** The recorded connection whose client socket is `local` (`ip:port`, a trace Connection's `local`). */
  connection(local: string): WireConnection | undefined {
    return this.byClient.get(local);
  }

  conversation(c: WireConnection): TlsConversation {
    return readConversation(c, this.keys);
  }
}
