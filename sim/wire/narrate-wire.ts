/**
 * "On the wire": a recorded connection told message by message, from the bytes (tls-parse.ts), with
 * who sent what: the ClientHello's SNI, versions and groups, the ServerHello's choice, the acceptable
 * CAs the server's CertificateRequest lists, the certificates each side sent, and for a refusal the
 * alert and its sender (or that none was sent, and who closed the connection).
 */
import type { Wire, WireConnection, WireSide } from '../../components/client/wire.js';
import { parseKeyLog, type KeyLog } from './tls-keys.js';
import { readConversation, type CertInfo, type TlsConversation, type WireMessage } from './tls-parse.js';
import { translator, type Translate } from '../i18n/index.js';

const hostPort = (e: { address: string; port: number }): string => `${e.address}:${e.port}`;

function messageLines(m: WireMessage, names: Record<WireSide, string>, tls13: boolean, t: Translate): string[] {
  const arrow = m.from === 'client' ? `${names.client} →` : `${names.server} →`;
  switch (m.kind) {
    case 'handshake': {
      const d = m.detail;
      const enc = m.encrypted ? t('wire.decrypted') : '';
      switch (m.type) {
        case 1: return [t('wire.clientHello', {
          arrow, sni: d.sni ?? t('wire.noSni'), versions: d.versions?.join(', ') ?? '?', groups: d.groups?.join(', ') ?? '?',
          keyShare: d.keyShares?.length ? t('wire.clientKeyShare', { shares: d.keyShares.join(', ') }) : '',
        })];
        case 2: return [t('wire.serverHello', {
          arrow, hello: d.helloRetry ? 'HelloRetryRequest' : 'ServerHello', version: d.version ?? '?', suite: d.suite ?? '?',
          keyShare: d.keyShares?.length ? t('wire.serverKeyShare', { shares: d.keyShares.join(', ') }) : '', resumed: d.resumed ? t('wire.resumed') : '',
        })];
        case 13: return [t('wire.certificateRequest', { arrow, enc, cas: d.acceptableCas?.length ? d.acceptableCas.map((n) => `"${n}"`).join(', ') : t('wire.noCasListed') })];
        case 11: return d.certificates?.length
          ? [t('wire.certificate', { arrow, enc, certs: d.certificates.map((c: CertInfo) => t('wire.cert', { subject: c.subject, issuer: c.issuer })).join(t('wire.certificateThen')) })]
          : [t('wire.certificateEmpty', { arrow, enc })];
        case 15: return [t('wire.certificateVerify', { arrow, enc, signature: d.signature ?? '?' })];
        case 20: return [`${arrow} Finished${enc}`];
        case 4: return [];
        default: return [`${arrow} ${m.name}${enc}`];
      }
    }
    case 'alert':
      return m.description === 'close_notify' ? [t('wire.closeNotify', { arrow })]
        : [t('wire.alert', { arrow, level: m.level, description: m.description, enc: m.encrypted ? t('wire.decrypted') : '', who: names[m.from] })];
    case 'application-data':
      return [t(m.records === 1 ? 'wire.appData.one' : 'wire.appData.other', { arrow, records: m.records, bytes: m.bytes, decrypted: tls13 ? t('wire.appDataDecrypted') : '' })];
    case 'change-cipher-spec': return tls13 ? [] : [t('wire.changeCipherSpec', { arrow })];
    case 'undecryptable': return [t(m.records === 1 ? 'wire.undecryptable.one' : 'wire.undecryptable.other', { arrow, records: m.records })];
    case 'end': return [t(m.how === 'fin' ? 'wire.fin' : 'wire.rst', { arrow })];
  }
}

/** The lines for one connection; `names` say who the client and server are; `t` the language (English by default). */
export function describeConversation(conv: TlsConversation, c: WireConnection, names: Record<WireSide, string>, t: Translate = translator('en')): string[] {
  const tls13 = conv.version === 'TLS 1.3';
  const head = t('wire.head', {
    client: hostPort(c.client), server: hostPort(c.server), version: conv.version ?? t('wire.noVersion'), suite: conv.suite ? `, ${conv.suite}` : '',
    decryption: tls13 ? (conv.decrypted ? t('wire.decryptedAfterHello') : t('wire.encryptedNoKeys')) : '',
  });
  const lines = [head];
  // TLS 1.2 resumption: the server's ChangeCipherSpec follows its ServerHello directly.
  const hello = conv.messages.findIndex((m) => m.kind === 'handshake' && m.type === 2);
  const afterHello = conv.messages.slice(hello + 1).find((m) => m.from === 'server');
  if (!tls13 && hello >= 0 && afterHello?.kind === 'change-cipher-spec') lines.push(`  ${t('wire.abbreviated')}`);
  let lastEnd: WireMessage | undefined;
  for (const m of conv.messages) {
    if (m.kind === 'end' && lastEnd?.kind === 'end') continue;
    for (const l of messageLines(m, names, tls13, t)) lines.push(`  ${l}`);
    if (m.kind === 'end') lastEnd = m;
  }
  // A refusal: say plainly whether an alert was sent, and by whom.
  const alerts = conv.messages.filter((m) => m.kind === 'alert' && m.description !== 'close_notify');
  const firstEnd = conv.messages.find((m) => m.kind === 'end');
  const appData = conv.messages.some((m) => m.kind === 'application-data' && m.from === 'server');
  if (alerts.length === 0 && firstEnd && !appData) {
    lines.push(`  ${t('wire.noAlert', { who: names[firstEnd.from], why: firstEnd.from === 'server' && names.server.startsWith('etcd') ? t('wire.noAlertEtcd') : '' })}`);
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
