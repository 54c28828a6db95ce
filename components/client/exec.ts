/**
 * An exec client as client-go's WebSocket executor (tools/remotecommand/websocket.go) speaks it: GET
 * with `Sec-WebSocket-Protocol: v5.channel.k8s.io`, channel bytes, the CLOSE signal for stdin, the
 * Status on channel 3. kubectl >= 1.31 execs this way; scenarios and tests use it to get the answer as data.
 */
import type { Agent } from 'node:https';
import WebSocket from 'ws';
import { CHANNEL, STREAM_PROTOCOL_V5, type StreamStatus } from './remotecommand.js';

export interface ExecResult {
  readonly protocol: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly status: StreamStatus | undefined;
  /** The HTTP status when the upgrade was refused, and its body. */
  readonly refused?: { status: number; body: string };
}

/** The client's TLS: its certificate, the CA it verifies the apiserver with, or an agent that carries them (and traces). */
export interface ExecTls {
  readonly cert?: string;
  readonly key?: string;
  readonly ca: string;
  readonly agent?: Agent;
}

/** One exec over a WebSocket: stdin (if given) then the CLOSE signal; resolves when the server closes, or with the refusal. */
export function wsExec(url: string, tls: ExecTls, stdin?: string, protocols: string[] = [STREAM_PROTOCOL_V5]): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^https:/, 'wss:'), protocols, tls.agent ? { agent: tls.agent } : { ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}), ca: tls.ca });
    let stdout = '';
    let stderr = '';
    let status: StreamStatus | undefined;
    ws.on('open', () => {
      if (stdin !== undefined) {
        if (stdin) ws.send(Buffer.concat([Buffer.from([CHANNEL.stdin]), Buffer.from(stdin)]));
        ws.send(Buffer.from([CHANNEL.close, CHANNEL.stdin]));
      }
    });
    ws.on('message', (data: Buffer) => {
      const body = data.subarray(1).toString();
      if (data[0] === CHANNEL.stdout) stdout += body;
      else if (data[0] === CHANNEL.stderr) stderr += body;
      else if (data[0] === CHANNEL.error && body) status = JSON.parse(body) as StreamStatus;
    });
    ws.on('close', () => resolve({ protocol: ws.protocol, stdout, stderr, status }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => { resolve({ protocol: '', stdout, stderr, status, refused: { status: res.statusCode ?? 0, body } }); ws.terminate(); });
    });
    ws.on('error', reject);
  });
}
