/**
 * `npm run bench -- handshakes [--runs N] [--phase-ms MS] [--concurrency C] [--path /version]`
 *
 * Mutual-TLS handshakes at the real kube-apiserver against a bare `node:tls` server with the same
 * certificates (a `pki init`: the apiserver's serving pair, client certificates requested and
 * verified by OpenSSL against ca.crt, Go's TLS settings) that answers every request with a minimal
 * HTTP 200. Each server runs in its own child process (bench/control-plane.ts); the client, here, opens
 * one new connection per request: `GET /version` as kubernetes-admin (admin.conf), `Connection: close`.
 * /version is served from memory once the request is authenticated and authorized; `--path /livez`
 * measures the health check instead, which reads etcd on every request here (its `etcd` check).
 *   full      no session offered: a full handshake each time (certificates, signatures, key exchange)
 *   resumed   the session ticket from the previous connection offered (TLS 1.3 PSK with ECDHE, as Go's
 *             crypto/tls server, which issues tickets by default, would accept)
 * The figure is handshakes per CPU-second of the server process (its CPU time read before and after
 * each phase), which neither the client's own cost nor other load on a shared machine changes; the
 * wall-clock rate is printed beside it. Phases alternate which server goes first.
 */
import tls from 'node:tls';
import { loadPki } from '../pki/store.js';
import { GO_TLS } from '../components/client/tls.js';
import { clusterTls } from '../sim/wiring.js';
import { forkServer, type ServerChild } from './child.js';
import type { Row } from './table.js';
import { median, pairedRatio } from './timing.js';

interface Target { readonly host: string; readonly port: number; readonly context: tls.SecureContext }

interface One { readonly status: number; readonly reused: boolean; readonly session: Buffer | undefined }

/** One connection: handshake, one request, read the answer to the end. */
function once(t: Target, path: string, session: Buffer | undefined): Promise<One> {
  return new Promise((resolve, reject) => {
    let latest: Buffer | undefined;
    let head = '';
    const s = tls.connect({ host: t.host, port: t.port, secureContext: t.context, ...(session ? { session } : {}) });
    s.on('session', (b: Buffer) => { latest = b; });
    s.once('secureConnect', () => { s.write(`GET ${path} HTTP/1.1\r\nHost: ${t.host}:${t.port}\r\nAccept: application/json, */*\r\nConnection: close\r\n\r\n`); });
    s.on('data', (d: Buffer) => { if (head.length < 64) head += d.toString('latin1'); });
    s.once('error', reject);
    s.once('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, reused: s.isSessionReused(), session: latest });
      s.destroy();
    });
  });
}

interface Phase { readonly perCpuSecond: number; readonly perSecond: number; readonly reusedShare: number }

/** `concurrency` loops of one connection each for `ms`; counts handshakes and the server's CPU time meanwhile. */
async function phase(t: Target, server: ServerChild, path: string, resume: boolean, ms: number, concurrency: number): Promise<Phase> {
  // A resumed phase times resumed handshakes only: each loop's first, full handshake is made before the clock starts.
  const sessions = resume ? await Promise.all(Array.from({ length: concurrency }, async () => (await once(t, path, undefined)).session)) : [];
  const cpu0 = await server.cpuMs();
  const t0 = performance.now();
  const end = t0 + ms;
  let count = 0;
  let reused = 0;
  await Promise.all(Array.from({ length: concurrency }, async (_, lane) => {
    let session: Buffer | undefined = sessions[lane];
    while (performance.now() < end) {
      const r = await once(t, path, resume ? session : undefined);
      if (r.status !== 200) throw new Error(`handshakes bench: GET ${path} answered ${r.status || 'nothing'}`);
      if (!resume && r.reused) throw new Error('handshakes bench: a session was resumed without being offered');
      count++;
      if (r.reused) reused++;
      session = r.session ?? session;
    }
  }));
  const wall = performance.now() - t0;
  const cpu = await server.cpuMs() - cpu0;
  return { perCpuSecond: count / (cpu / 1000), perSecond: count / (wall / 1000), reusedShare: reused / count };
}

export interface HandshakeOptions {
  readonly runs: number;
  readonly phaseMs: number;
  readonly concurrency: number;
  /** What each connection GETs: /version (served from memory after authentication and authorization), or /livez (which reads etcd each time). */
  readonly path: string;
}

export async function benchHandshakes(pkiDir: string, o: HandshakeOptions): Promise<Row[]> {
  const pki = await loadPki(pkiDir);
  const admin = clusterTls(pki, { kubeletCertificateAuthority: true }).client('admin.conf');
  const context = tls.createSecureContext({ ...GO_TLS, cert: admin.identity.cert, key: admin.identity.key, ca: admin.serverCa });
  const servers = { apiserver: await forkServer('apiserver', pkiDir), bare: await forkServer('bare', pkiDir), https: await forkServer('https', pkiDir) };
  const names = ['apiserver', 'bare', 'https'] as const;
  try {
    const target = (s: ServerChild): Target => { const u = new URL(s.url); return { host: u.hostname, port: Number(u.port), context }; };
    const targets = { apiserver: target(servers.apiserver), bare: target(servers.bare), https: target(servers.https) };
    // The resumed session still carries the client certificate: kubernetes-admin may read kube-system (anonymous: 403).
    const first = await once(targets.apiserver, o.path, undefined);
    const check = await once(targets.apiserver, '/api/v1/namespaces/kube-system', first.session);
    if (!check.reused) throw new Error('handshakes bench: kube-apiserver did not resume the TLS session it issued a ticket for');
    if (check.status !== 200) throw new Error(`handshakes bench: a resumed connection as kubernetes-admin got ${check.status} for GET /api/v1/namespaces/kube-system`);
    // What each server spends doing nothing (the apiserver's etcd and timers), for the reader to weigh.
    const idle0 = await Promise.all(names.map((n) => servers[n].cpuMs()));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idle = await Promise.all(names.map(async (n, i) => (await servers[n].cpuMs()) - idle0[i]!));
    const r = { full: { apiserver: [] as Phase[], bare: [] as Phase[], https: [] as Phase[] }, resumed: { apiserver: [] as Phase[], bare: [] as Phase[], https: [] as Phase[] } };
    // Warm-up: JIT, the apiserver's caches, each server's ticket keys.
    for (const n of names) await phase(targets[n], servers[n], o.path, true, o.phaseMs / 2, o.concurrency);
    for (let i = 0; i < o.runs; i++) {
      for (const kind of ['full', 'resumed'] as const) {
        // Each run a different server first, so drift in machine load hits all alike.
        for (let j = 0; j < names.length; j++) {
          const n = names[(i + j) % names.length]!;
          r[kind][n].push(await phase(targets[n], servers[n], o.path, kind === 'resumed', o.phaseMs, o.concurrency));
        }
      }
    }
    const command = `npm run bench -- handshakes --runs ${o.runs}${o.path === '/version' ? '' : ` --path ${o.path}`}`;
    return (['full', 'resumed'] as const).map((kind): Row => {
      const per = (n: (typeof names)[number]): number[] => r[kind][n].map((p) => p.perCpuSecond);
      const ratio = pairedRatio(per('apiserver'), per('bare'));
      const wall = (ps: Phase[]): string => median(ps.map((p) => p.perSecond)).toFixed(0);
      const reused = (ps: Phase[]): string => `${(median(ps.map((p) => p.reusedShare)) * 100).toFixed(0)}%`;
      return {
        figure: `${kind} mTLS handshakes + GET ${o.path} per server CPU-s`, unit: '/s', ours: median(per('apiserver')),
        baselineLabel: 'bare node:tls', baseline: median(per('bare')), ratio, goal: '>= 0.9x', pass: ratio >= 0.9, command,
        detail: `kube-apiserver ${median(per('apiserver')).toFixed(0)}, bare node:tls ${median(per('bare')).toFixed(0)}, node:https ${median(per('https')).toFixed(0)} per server CPU-s `
          + `(apiserver / node:https ${pairedRatio(per('apiserver'), per('https')).toFixed(3)}x); wall clock ${wall(r[kind].apiserver)}, ${wall(r[kind].bare)}, ${wall(r[kind].https)}/s`
          + (kind === 'resumed' ? `; connections resumed ${reused(r[kind].apiserver)}, ${reused(r[kind].bare)}, ${reused(r[kind].https)}` : '')
          + `; idle CPU ${idle.map((x) => `${(x / 10).toFixed(1)}%`).join(', ')}; ${o.concurrency} connections at a time, ${o.runs} rotated runs of ${o.phaseMs} ms phases, admin.conf client`,
      };
    });
  } finally {
    await Promise.all(names.map((n) => servers[n].stop()));
  }
}
