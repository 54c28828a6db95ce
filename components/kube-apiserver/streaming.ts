/**
 * pods/exec, pods/attach and pods/portforward: connect requests that upgrade the connection. The
 * apiserver authenticates and authorizes them like any request (RequestInfo's verb: `get` for the GET
 * a WebSocket upgrade is, `create` for the POST a SPDY upgrade is; with the 1.35 gate
 * AuthorizePodWebsocketUpgradeCreatePermission, a WebSocket upgrade must also be allowed `create`),
 * then reaches the pod's kubelet over mutual TLS with apiserver-kubelet-client, as 1.32 does:
 *
 * - exec/attach over WebSocket (`v5.channel.k8s.io`, kubectl >= 1.31; `v4.channel.k8s.io` too): the
 *   StreamTranslator. The WebSocket channels are translated to a SPDY session with the kubelet
 *   (POST, `X-Stream-Protocol-Version: v5..v2`), and the command's end comes back on channel 3.
 * - port-forward over WebSocket (`SPDY/3.1+portforward.k8s.io`, kubectl >= 1.31): the TunnelingHandler.
 *   The kubelet is asked for SPDY first; once it switched protocols the WebSocket is accepted and each
 *   binary message carries SPDY bytes one way, the kubelet's bytes come back as binary messages.
 * - SPDY (POST `Upgrade: SPDY/3.1`, kubectl < 1.31 and the fallback of newer ones): the
 *   UpgradeAwareHandler. The upgrade goes to the kubelet as it came and the two connections are joined.
 *
 * Difference (documented): a real 1.32 apiserver translates only v5 and proxies a v4 WebSocket to the
 * container runtime's own WebSocket server; here the kubelet speaks only SPDY, so v4 is translated too.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SpdyConnection, SPDY_UPGRADE, type SpdyStream } from '../client/spdy.js';
import {
  apiStreamOptions, CHANNEL, channelMessage, exitCodeOf, internalErrorStatus, exitStatus, SPDY_EXEC_PROTOCOLS, STREAM_PROTOCOL_V4, STREAM_PROTOCOL_V5,
  WEBSOCKET_SPDY_TUNNELING_PREFIX, PORT_FORWARD_PROTOCOL_V1, successStatus, type StreamOptions, type StreamStatus,
} from '../client/remotecommand.js';
import type { Node, Pod, Status } from '../api/types.js';
import { badRequest } from '../api/errors.js';
import type { KubeletClient } from './kubelet-client.js';
import { logContainer } from './kubelet-client.js';

export type ConnectSubresource = 'exec' | 'attach' | 'portforward';
export const CONNECT_SUBRESOURCES: ReadonlySet<string> = new Set(['exec', 'attach', 'portforward']);

const headerList = (v: string | string[] | undefined): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean);

/** Is this a WebSocket upgrade (GET, `Upgrade: websocket`)? */
export const isWebSocket = (req: IncomingMessage): boolean => headerList(req.headers.upgrade).some((u) => u.toLowerCase() === 'websocket');
const isSpdy = (req: IncomingMessage): boolean => headerList(req.headers.upgrade).some((u) => u.toLowerCase() === SPDY_UPGRADE.toLowerCase());

/** Writes a Status as a plain HTTP answer on a socket that was not upgraded, and closes it. */
export function writeStatus(socket: Duplex, status: Status): void {
  const body = JSON.stringify(status);
  socket.end(`HTTP/1.1 ${status.code} ${httpText(status.code)}\r\nContent-Type: application/json\r\nCache-Control: no-cache, private\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

const httpText = (code: number): string =>
  ({ 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error', 503: 'Service Unavailable' } as Record<number, string>)[code] ?? 'Error';

/** The kubelet path of a connect request (ExecLocation, AttachLocation, PortForwardLocation). */
export function kubeletStreamPath(sub: ConnectSubresource, pod: Pod, query: URLSearchParams): { path: string; options: StreamOptions } {
  const ns = encodeURIComponent(pod.metadata.namespace ?? 'default');
  const name = encodeURIComponent(pod.metadata.name ?? '');
  const options = apiStreamOptions(query);
  if (sub === 'portforward') {
    const q = new URLSearchParams();
    for (const p of query.getAll('ports')) q.append('port', p);
    return { path: `/portForward/${ns}/${name}${q.size ? `?${q.toString()}` : ''}`, options };
  }
  const container = logContainer(pod, query.get('container'));
  const q = new URLSearchParams();
  if (sub === 'exec') {
    const command = query.getAll('command');
    if (command.length === 0) throw badRequest('you must specify at least 1 command');
    for (const c of command) q.append('command', c);
  }
  // streamParams: the kubelet's names for the four switches.
  if (options.stdin) q.set('input', '1');
  if (options.stdout) q.set('output', '1');
  if (options.stderr) q.set('error', '1');
  if (options.tty) q.set('tty', '1');
  return { path: `/${sub}/${ns}/${name}/${encodeURIComponent(container)}?${q.toString()}`, options };
}

/** What the streaming handlers need to reach a kubelet. */
export interface StreamTarget {
  readonly kubelets: KubeletClient;
  readonly node: Node;
  readonly path: string;
  readonly options: StreamOptions;
}

/**
 * Serves an authorized connect request on the raw socket; resolves with a short description of the
 * mode (for the trace) once the session is set up.
 */
export async function serveConnect(sub: ConnectSubresource, req: IncomingMessage, socket: Duplex, head: Buffer, t: StreamTarget): Promise<string> {
  if (isWebSocket(req)) {
    const offered = headerList(req.headers['sec-websocket-protocol']);
    if (sub === 'portforward') {
      const spdy = offered.filter((p) => p.startsWith(WEBSOCKET_SPDY_TUNNELING_PREFIX)).map((p) => p.slice(WEBSOCKET_SPDY_TUNNELING_PREFIX.length));
      if (spdy.length === 0) { writeStatus(socket, badRequest('unable to upgrade: no tunneling spdy protocols provided').status); return 'refused'; }
      return tunnel(req, socket, head, t, spdy);
    }
    const protocol = [STREAM_PROTOCOL_V5, STREAM_PROTOCOL_V4].find((p) => offered.includes(p));
    if (!protocol) {
      writeStatus(socket, badRequest(`unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${STREAM_PROTOCOL_V5} ${STREAM_PROTOCOL_V4}]`).status);
      return 'refused';
    }
    return translate(req, socket, head, t, protocol);
  }
  if (isSpdy(req)) return proxySpdy(req, socket, head, t);
  writeStatus(socket, badRequest('Upgrade request required').status);
  return 'refused';
}

function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string): Promise<WebSocket> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: () => protocol });
  return new Promise((resolve) => wss.handleUpgrade(req, socket, head, (ws) => { wss.close(); resolve(ws); }));
}

/** StreamTranslatorHandler: WebSocket channels on one side, a SPDY exec/attach session with the kubelet on the other. */
async function translate(req: IncomingMessage, socket: Duplex, head: Buffer, t: StreamTarget, protocol: string): Promise<string> {
  const ws = await acceptWebSocket(req, socket, head, protocol);
  const o = t.options;
  // The client may write stdin at once: what comes before the SPDY streams exist waits for them.
  const early: Buffer[] = [];
  let onMessage: (data: Buffer) => void = (data) => { early.push(data); };
  ws.on('message', (data: Buffer) => onMessage(data));
  const finish = (status: StreamStatus): void => {
    if (ws.readyState === ws.OPEN) {
      ws.send(channelMessage(CHANNEL.error, JSON.stringify(status)));
      ws.close(1000);
    }
  };
  // The first message tells the client the connection is established: empty, on the lowest writable channel.
  ws.send(Buffer.from([o.stdout ? CHANNEL.stdout : o.stderr ? CHANNEL.stderr : CHANNEL.error]));
  let up;
  try {
    up = await t.kubelets.upgrade(t.node, t.path, 'POST', { Upgrade: SPDY_UPGRADE, 'X-Stream-Protocol-Version': [...SPDY_EXEC_PROTOCOLS] });
  } catch (err) {
    finish(internalErrorStatus((err as { status?: Status }).status?.message ?? (err as Error).message));
    return `${protocol} → kubelet unreachable`;
  }
  if (!up.upgraded) {
    // client-go's SPDY round tripper: a Status body is that Status, anything else "unable to upgrade connection: <body>".
    let status: StreamStatus | undefined;
    try {
      const parsed = JSON.parse(up.body) as Status;
      if (parsed.kind === 'Status') status = { metadata: {}, status: 'Failure', message: parsed.message, reason: parsed.reason, code: parsed.code };
    } catch { /* not a Status */ }
    finish(status ?? internalErrorStatus(`unable to upgrade connection: ${up.body.trim()}`));
    return `${protocol} → kubelet answered ${up.status}`;
  }
  const conn = new SpdyConnection(up.socket, 'client', up.head);
  ws.on('close', () => conn.destroy());
  try {
    // The order client-go's v4 protocol creates them: error first.
    const error = await conn.open({ streamtype: 'error' });
    const stdin = o.stdin ? await conn.open({ streamtype: 'stdin' }) : undefined;
    const stdout = o.stdout ? await conn.open({ streamtype: 'stdout' }) : undefined;
    const stderr = o.stderr && !o.tty ? await conn.open({ streamtype: 'stderr' }) : undefined;
    const resize = o.tty ? await conn.open({ streamtype: 'resize' }) : undefined;
    const ended = (s: SpdyStream | undefined): Promise<void> => (s ? new Promise((resolve) => { s.once('end', resolve); s.once('close', resolve); }) : Promise.resolve());
    const forward = (s: SpdyStream | undefined, channel: number): void => { s?.on('data', (c: Buffer) => { if (ws.readyState === ws.OPEN) ws.send(channelMessage(channel, c)); }); };
    forward(stdout, CHANNEL.stdout);
    forward(stderr, CHANNEL.stderr);
    const errorText: Buffer[] = [];
    error.on('data', (c: Buffer) => errorText.push(c));
    onMessage = (data) => {
      const channel = data[0];
      const payload = data.subarray(1);
      if (channel === CHANNEL.stdin) stdin?.write(payload);
      else if (channel === CHANNEL.resize) resize?.write(payload);
      else if (channel === CHANNEL.close && protocol === STREAM_PROTOCOL_V5 && payload[0] === CHANNEL.stdin) stdin?.end();
    };
    for (const m of early.splice(0)) onMessage(m);
    error.end();
    void Promise.all([ended(error), ended(stdout), ended(stderr)]).then(() => {
      const text = Buffer.concat(errorText).toString();
      let status: StreamStatus = successStatus();
      if (text.trim()) {
        const parsed = JSON.parse(text) as StreamStatus;
        const code = exitCodeOf(parsed);
        // client-go turns the kubelet's NonZeroExitCode into a CodeExitError; codeExitToStatusError words it again.
        status = code === undefined ? parsed : code === 0 ? successStatus() : exitStatus(code, `command terminated with exit code ${code}`);
      }
      finish(status);
      conn.close();
    });
  } catch (err) {
    finish(internalErrorStatus((err as Error).message));
    conn.destroy();
  }
  return `${protocol} ⇄ SPDY/3.1`;
}

/** TunnelingHandler: SPDY to the kubelet first; then the WebSocket, whose binary messages carry the SPDY bytes. */
async function tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, t: StreamTarget, protocols: string[]): Promise<string> {
  const up = await t.kubelets.upgrade(t.node, t.path, 'POST', { Upgrade: SPDY_UPGRADE, 'X-Stream-Protocol-Version': protocols });
  if (!up.upgraded) {
    socket.end(`HTTP/1.1 ${up.status} ${up.statusText}\r\nContent-Type: ${up.contentType}\r\nContent-Length: ${Buffer.byteLength(up.body)}\r\nConnection: close\r\n\r\n${up.body}`);
    return `tunnel refused by the kubelet (${up.status})`;
  }
  const negotiated = String(up.headers['x-stream-protocol-version'] ?? PORT_FORWARD_PROTOCOL_V1);
  const ws = await acceptWebSocket(req, socket, head, `${WEBSOCKET_SPDY_TUNNELING_PREFIX}${negotiated}`);
  const kubelet = up.socket;
  if (up.head.length) ws.send(up.head);
  kubelet.on('data', (c: Buffer) => { if (ws.readyState === ws.OPEN) ws.send(c); });
  kubelet.on('close', () => { if (ws.readyState === ws.OPEN) ws.close(1000); });
  kubelet.on('error', () => kubelet.destroy());
  ws.on('message', (data: Buffer) => { if (!kubelet.destroyed) kubelet.write(data); });
  ws.on('close', () => kubelet.destroy());
  ws.on('error', () => kubelet.destroy());
  return `${WEBSOCKET_SPDY_TUNNELING_PREFIX}${negotiated} tunnel`;
}

/** UpgradeAwareHandler: the SPDY upgrade goes to the kubelet as it came; after its 101 the two connections are joined. */
async function proxySpdy(req: IncomingMessage, socket: Duplex, head: Buffer, t: StreamTarget): Promise<string> {
  const up = await t.kubelets.upgrade(t.node, t.path, 'POST', { Upgrade: SPDY_UPGRADE, 'X-Stream-Protocol-Version': headerList(req.headers['x-stream-protocol-version']) });
  if (!up.upgraded) {
    socket.end(`HTTP/1.1 ${up.status} ${up.statusText}\r\nContent-Type: ${up.contentType}\r\nContent-Length: ${Buffer.byteLength(up.body)}\r\nConnection: close\r\n\r\n${up.body}`);
    return `SPDY refused by the kubelet (${up.status})`;
  }
  const protocol = String(up.headers['x-stream-protocol-version'] ?? '');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${SPDY_UPGRADE}\r\n${protocol ? `X-Stream-Protocol-Version: ${protocol}\r\n` : ''}\r\n`);
  if (up.head.length) socket.write(up.head);
  if (head.length) up.socket.write(head);
  socket.pipe(up.socket);
  up.socket.pipe(socket);
  socket.on('close', () => up.socket.destroy());
  up.socket.on('close', () => socket.destroy());
  socket.on('error', () => up.socket.destroy());
  up.socket.on('error', () => socket.destroy());
  return `SPDY/3.1 ${protocol}`;
}
