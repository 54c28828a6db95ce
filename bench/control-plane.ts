/**
 * The server side of the side-by-side benches, run in a child process (`fork`) so that the bench's
 * clients (handshake loops, a scheduler, a hundred kube-proxies) do not share its core:
 *
 *   control-plane.ts apiserver PKI_DIR   the embedded etcd and kube-apiserver with the PKI of a
 *                                        `pki init` (kubeadm init's RBAC objects created), no other component
 *   control-plane.ts https PKI_DIR       the same with node:https (Node's HTTP server) answering a minimal 200
 *   control-plane.ts bare PKI_DIR        a bare `node:tls` server with the apiserver's certificate, the same
 *                                        client-CA verification (requested, not required) and the same TLS
 *                                        settings, answering every request with a minimal HTTP 200
 *
 * It sends `{ url }` over IPC once listening, answers `{ cpu: true }` with its process CPU time (µs),
 * and stops when the IPC channel closes. Key material is read from the PKI directory, never sent or printed.
 */
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import { Session } from 'node:inspector/promises';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ApiError, KubeClient } from '../components/client/kube-client.js';
import { GO_TLS } from '../components/client/tls.js';
import { Etcd } from '../components/etcd/index.js';
import { kubeadmInitObjects } from '../components/kube-apiserver/bootstrap.js';
import { KubeApiserver } from '../components/kube-apiserver/index.js';
import { loadPki, type Pki } from '../pki/store.js';
import { silentLogger } from '../sim/logger.js';
import { clusterTls } from '../sim/wiring.js';

export interface Started { readonly url: string; stop(): Promise<void> }

/** etcd + kube-apiserver on the plan's advertise address, any free ports, with kubeadm init's RBAC objects. */
export async function startApiserver(pki: Pki): Promise<Started> {
  const logger = silentLogger();
  const wiring = clusterTls(pki, { kubeletCertificateAuthority: true });
  const host = pki.plan.advertiseAddress;
  const etcd = new Etcd({ host, port: 0, ...wiring.etcd, logger });
  await etcd.start();
  const apiserver = new KubeApiserver({
    host, port: 0, ...wiring.apiserver, etcd: { endpoints: [etcd.clientUrl], ...wiring.apiserver.etcd },
    serviceAccount: pki.serviceAccount, advertiseAddress: host, logger,
  });
  await apiserver.start();
  const url = apiserver.url;
  const superAdmin = new KubeClient({ name: 'kubeadm init', server: url, ...wiring.client('super-admin.conf') });
  try {
    for (const obj of kubeadmInitObjects()) {
      const path = `/apis/rbac.authorization.k8s.io/v1/${obj.kind === 'ClusterRole' ? 'clusterroles' : 'clusterrolebindings'}`;
      await superAdmin.create(path, obj).catch((err: unknown) => { if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err; });
    }
  } finally {
    superAdmin.close();
  }
  return { url, stop: async () => { await apiserver.stop(); await etcd.stop(); } };
}

const REPLY = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok';

/** The second baseline: node:https (Node's HTTP parser and server on the same TLS), a minimal 200 and nothing else. */
export async function startHttps(pki: Pki): Promise<Started> {
  const { identity, clientCa } = clusterTls(pki, { kubeletCertificateAuthority: true }).apiserver;
  const server = https.createServer({ cert: identity.cert, key: identity.key, ca: clientCa, requestCert: true, rejectUnauthorized: false, ...GO_TLS }, (req, res) => {
    req.resume();
    const ok = (req.socket as tls.TLSSocket).authorized;
    res.writeHead(ok ? 200 : 401, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 2 });
    res.end('ok');
  });
  return listenOn(server, pki);
}

async function listenOn(server: tls.Server, pki: Pki): Promise<Started> {
  const host = pki.plan.advertiseAddress;
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, host, () => resolve()); });
  const { port } = server.address() as AddressInfo;
  return { url: `https://${host}:${port}`, stop: () => new Promise((resolve) => { server.close(() => resolve()); }) };
}

/** The baseline: node:tls alone with the apiserver's serving pair, client certificates requested and verified by OpenSSL. */
export async function startBare(pki: Pki): Promise<Started> {
  const wiring = clusterTls(pki, { kubeletCertificateAuthority: true });
  const { identity, clientCa } = wiring.apiserver;
  const server = tls.createServer({ cert: identity.cert, key: identity.key, ca: clientCa, requestCert: true, rejectUnauthorized: false, ...GO_TLS }, (socket) => {
    let head = '';
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      // The apiserver answers an unverified certificate with 401; the baseline refuses it the same way, cheaply.
      if (head.includes('\r\n\r\n')) socket.end(socket.authorized ? REPLY : REPLY.replace('200 OK', '401 Unauthorized'));
    });
    socket.on('error', () => socket.destroy());
  });
  return listenOn(server, pki);
}

const MODES = { apiserver: startApiserver, bare: startBare, https: startHttps } as const;
export type ServerMode = keyof typeof MODES;

if (process.argv[1] === import.meta.filename && process.send) {
  const [mode, dir] = process.argv.slice(2);
  if (!mode || !(mode in MODES) || !dir) throw new Error('usage: control-plane.ts apiserver|bare|https PKI_DIR');
  const started = await MODES[mode as ServerMode](await loadPki(dir));
  // A window of this process's CPU profile (ServerChild.profile): 'start', then 'stop' with the file to write.
  const session = new Session();
  process.on('message', (m: { cpu?: boolean; profile?: 'start' | 'stop'; file?: string }) => {
    if (m.cpu) { const u = process.cpuUsage(); process.send!({ cpuUs: u.user + u.system }); }
    if (m.profile === 'start') {
      session.connect();
      void session.post('Profiler.enable').then(() => session.post('Profiler.start')).then(() => process.send!({ profiling: true }));
    }
    if (m.profile === 'stop' && m.file) {
      const file = m.file;
      void session.post('Profiler.stop').then(({ profile }) => { writeFileSync(file, JSON.stringify(profile)); session.disconnect(); process.send!({ profiled: file }); });
    }
  });
  process.once('disconnect', () => { void started.stop().then(() => process.exit(0)); });
  process.send({ url: started.url });
}
