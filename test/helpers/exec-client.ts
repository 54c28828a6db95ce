/**
 * A WebSocket exec client as client-go's (tools/remotecommand/websocket.go) speaks it: GET with
 * `Sec-WebSocket-Protocol: v5.channel.k8s.io`, channel bytes, the CLOSE signal for stdin, the
 * Status on channel 3. For tests that need the answer as data rather than through kubectl.
 */
import https from 'node:https';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { PORT_FORWARD_PROTOCOL_V1 } from '../../components/client/remotecommand.js';
export { wsExec, type ExecResult } from '../../components/client/exec.js';
import { SpdyConnection } from '../../components/client/spdy.js';

/** A raw HTTP/1.1 upgrade request: the answer when refused, or the upgraded socket. */
export function rawUpgrade(url: string, tls: { cert?: string; key?: string; ca: string }, method: string, headers: Record<string, string | string[]>): Promise<
  { upgraded: false; status: number; body: string } | { upgraded: true; socket: Duplex; head: Buffer; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, agent: false, ...tls, headers: { ...headers, Connection: 'Upgrade' } });
    req.on('upgrade', (res, socket, head) => resolve({ upgraded: true, socket, head, protocol: String(res.headers['x-stream-protocol-version'] ?? '') }));
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ upgraded: false, status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * kubectl < 1.31's port-forward (and the fallback of newer ones): POST with `Upgrade: SPDY/3.1` and
 * `X-Stream-Protocol-Version: portforward.k8s.io`, then an error and a data stream for `port`; sends
 * `request` and reads until the data stream ends. (kubectl >= 1.31 tunnels the same SPDY session in a
 * WebSocket whose sub-protocol, `SPDY/3.1+portforward.k8s.io`, the `ws` client refuses to send: the
 * interop tests cover that path with real kubectl.)
 */
export async function spdyForward(url: string, tls: { cert: string; key: string; ca: string }, port: number, request: string): Promise<{ protocol: string; data: string; error: string }> {
  const up = await rawUpgrade(url, tls, 'POST', { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': PORT_FORWARD_PROTOCOL_V1 });
  if (!up.upgraded) throw new Error(`upgrade refused: ${up.status} ${up.body}`);
  const conn = new SpdyConnection(up.socket, 'client', up.head);
  const error = await conn.open({ streamtype: 'error', port: String(port), requestid: '0' });
  const data = await conn.open({ streamtype: 'data', port: String(port), requestid: '0' });
  error.end();
  const read = (s: Duplex): Promise<string> => new Promise((resolve) => { let t = ''; s.on('data', (c: Buffer) => { t += c.toString(); }); s.once('end', () => resolve(t)); s.once('close', () => resolve(t)); });
  const [body, err] = [read(data), read(error)];
  data.write(request);
  const out = { protocol: up.protocol, data: await body, error: await err };
  conn.destroy();
  return out;
}
