/**
 * A stand-in for an apiserver that is briefly overloaded: a TLS server with the apiserver's own serving
 * certificate (so clients verify it as they verify the apiserver) that forwards every request to the
 * real apiserver as `as` (the same client certificate the component holds), except the first `times`
 * requests matching `fail`, which it answers as the apiserver answers when etcd does not reply in time:
 * 504 Timeout, a Kubernetes Status. Tests use it to show that a component retries such a failure.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { caPem, credential, type Pki } from '../../pki/store.js';
import type { LeafName } from '../../pki/spec.js';

export interface FlakyFront {
  readonly url: string;
  /** `METHOD path` of each request answered 504. */
  readonly failed: string[];
  close(): Promise<void>;
}

export async function flakyFront(pki: Pki, upstream: string, as: LeafName, fail: (method: string, path: string) => boolean, times = 1): Promise<FlakyFront> {
  const serving = credential(pki, 'apiserver');
  const client = credential(pki, as);
  const ca = caPem(pki, 'ca');
  const failed: string[] = [];
  const agent = new https.Agent({ keepAlive: true, cert: client.certPem, key: client.keyPem, ca });
  const server = https.createServer({ cert: serving.certPem, key: serving.keyPem, ca, requestCert: true, rejectUnauthorized: true }, (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    if (failed.length < times && fail(method, path)) {
      failed.push(`${method} ${path}`);
      req.resume();
      const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Timeout: request did not complete within requested timeout - context deadline exceeded', reason: 'Timeout', details: {}, code: 504 };
      res.writeHead(504, { 'content-type': 'application/json' }).end(JSON.stringify(status));
      return;
    }
    const out = https.request(new URL(path, upstream), { method, headers: { ...req.headers, host: new URL(upstream).host }, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  // On the apiserver's own address (port 0), which its serving certificate names.
  const host = new URL(upstream).hostname;
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `https://${host}:${(server.address() as AddressInfo).port}`,
    failed,
    close: () => new Promise<void>((resolve) => { agent.destroy(); server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
