/**
 * A real etcd (the `etcd` binary, Debian's etcd-server 3.4) as a component: spawned with the flags
 * kubeadm's static pod gives it, its TLS material written as files into its data folder, stopped with
 * SIGTERM. The apiserver reaches it exactly as it reaches the embedded one (EtcdClient over the v3 JSON
 * gateway, apiserver-etcd-client), so a cluster can swap one for the other.
 *
 *   etcd --name etcd --data-dir D
 *        --listen-client-urls https://H:C --advertise-client-urls https://H:C
 *        --listen-peer-urls https://H:P --initial-advertise-peer-urls https://H:P
 *        --initial-cluster etcd=https://H:P --initial-cluster-state new
 *        --cert-file etcd/server.crt --key-file etcd/server.key --client-cert-auth --trusted-ca-file etcd/ca.crt
 *        --peer-cert-file etcd/peer.crt --peer-key-file etcd/peer.key --peer-client-cert-auth
 *        --peer-trusted-ca-file etcd/ca.crt --snapshot-count 10000 --logger zap --log-outputs stderr
 *
 * `start()` resolves with the client address once `GET /health` over mutual TLS (with
 * etcd/healthcheck-client, as kubeadm's liveness probe and etcdctl do) answers `"health":"true"`,
 * which for a member of a cluster means a leader was elected. etcd logs each refused handshake
 * (`rejected connection`); those lines become tls-server events in the trace, with etcd's own reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import https from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { Trace } from '../sim/trace.js';
import type { Component } from './common.js';
import { summarizePem, caName, GO_TLS, GO_TLS12_SUITE_NAMES, type Identity } from './tls.js';

export interface EtcdMemberPeer {
  readonly name: string;
  /** `https://ip:port` of the member's peer listener. */
  readonly peerUrl: string;
}

export interface EtcdProcessOptions {
  /** The member name (--name); default `etcd`. Also the server's name in the trace. */
  readonly name?: string;
  /** The address the client and peer listeners bind and advertise. */
  readonly host: string;
  /** Client port (2379 in kubeadm); 0 picks a free one at start. */
  readonly clientPort: number;
  /** Peer port (2380 in kubeadm); 0 picks a free one at start. */
  readonly peerPort: number;
  /** etcd/server.crt and .key (--cert-file, --key-file). */
  readonly identity: Identity;
  /** etcd/peer.crt and .key (--peer-cert-file, --peer-key-file). */
  readonly peerIdentity: Identity;
  /** etcd/ca.crt (--trusted-ca-file and --peer-trusted-ca-file). */
  readonly trustedCa: string;
  /** etcd/healthcheck-client, for the health wait. */
  readonly healthcheckIdentity: Identity;
  /** Every member of the cluster, this one included; default: this member alone. */
  readonly initialCluster?: readonly EtcdMemberPeer[];
  /** --initial-cluster-token; default `etcd-cluster`. */
  readonly clusterToken?: string;
  /**
   * Where the member keeps its data. Given: kept across stop/start (a restart). Absent: a temporary
   * folder removed on stop. The TLS files etcd reads are written beside it, in `<dataDir>.pki/`
   * (keys 0600), and removed on stop.
   */
  readonly dataDir?: string;
  /** The binary; default `etcd` on PATH. */
  readonly binary?: string;
  /** How long to wait for /health (ms); default 30000. */
  readonly startTimeoutMs?: number;
  readonly logger: Logger;
  readonly trace?: Trace;
}

export type EtcdProcessErrorCode =
  | 'BINARY_MISSING' // no etcd binary where asked
  | 'EADDRINUSE' // the client or peer port is taken (same code as Node's, so a caller can fall back to another port)
  | 'EXITED' // etcd exited before it was healthy; the message carries its last log lines
  | 'NOT_HEALTHY'; // /health did not say true in time

export class EtcdProcessError extends Error {
  readonly code: EtcdProcessErrorCode;
  constructor(code: EtcdProcessErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EtcdProcessError';
    this.code = code;
  }
}

/** A free TCP port on `host`: listen on 0, read it, close. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** Whether `binary` can be run: a path that exists, or a name found on PATH. */
export function findBinary(binary: string): string | undefined {
  if (binary.includes('/')) return existsSync(binary) ? binary : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, binary);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** etcd's (Go's) words for a refused client certificate, as the code Node's OpenSSL gives the embedded etcd for the same fault, so the trace and the matrix read the same. */
const CODE_OF_GO_REASON: ReadonlyArray<readonly [RegExp, string]> = [
  [/certificate signed by unknown authority/, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  [/has expired or is not yet valid/, 'CERT_HAS_EXPIRED'],
  [/incompatible key usage/, 'INVALID_PURPOSE'],
  [/didn't provide a certificate/, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE'],
];

interface ZapLine {
  readonly level?: string;
  readonly msg?: string;
  readonly 'remote-addr'?: string;
  readonly 'server-name'?: string;
  readonly error?: string;
}

export class EtcdProcess implements Component {
  readonly name: string;
  private readonly options: EtcdProcessOptions;
  private readonly logger: Logger;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private addr: AddressInfo | undefined;
  private peerAddr: AddressInfo | undefined;
  private ports: { client: number; peer: number } | undefined;
  private tempDir: string | undefined;
  private stopping: Promise<void> | undefined;
  private readonly tail: string[] = [];

  constructor(options: EtcdProcessOptions) {
    this.options = options;
    this.name = options.name ?? 'etcd';
    this.logger = options.logger.child({ component: this.name });
  }

  get address(): AddressInfo | undefined {
    return this.addr;
  }

  /** `https://host:port` of the client listener, once started. */
  get clientUrl(): string {
    if (!this.addr) throw new Error(`${this.name}: not started`);
    return `https://${this.addr.address}:${this.addr.port}`;
  }

  /** `https://host:port` of the peer listener, once started. */
  get peerUrl(): string {
    if (!this.peerAddr) throw new Error(`${this.name}: not started`);
    return `https://${this.peerAddr.address}:${this.peerAddr.port}`;
  }

  /** The process id while running. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines etcd logged (at most 200). */
  get logTail(): readonly string[] {
    return this.tail;
  }

  async start(): Promise<AddressInfo> {
    if (this.addr) return this.addr;
    this.stopping = undefined;
    const o = this.options;
    const binary = o.binary ?? 'etcd';
    const found = findBinary(binary);
    if (!found) throw new EtcdProcessError('BINARY_MISSING', `${this.name}: no etcd binary "${binary}" (on Debian: apt-get install -y etcd-server)`);
    // Ports picked once: a restarted member must come back on the peer URL the cluster knows it by.
    const clientPort = this.ports?.client ?? (o.clientPort === 0 ? await freePort(o.host) : o.clientPort);
    const peerPort = this.ports?.peer ?? (o.peerPort === 0 ? await freePort(o.host) : o.peerPort);
    this.ports = { client: clientPort, peer: peerPort };
    for (const [what, port] of [['client', clientPort], ['peer', peerPort]] as const) {
      if (!(await portFree(o.host, port))) {
        throw new EtcdProcessError('EADDRINUSE', `${this.name}: the ${what} port ${o.host}:${port} is already in use`);
      }
    }
    const dataDir = o.dataDir ?? (this.tempDir = await fs.mkdtemp(path.join(os.tmpdir(), `etcd-${this.name}-`)));
    const pkiDir = path.join(dataDir, '..', `${path.basename(dataDir)}.pki`);
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    await fs.mkdir(pkiDir, { recursive: true, mode: 0o700 });
    const file = async (name: string, pem: string, mode: number): Promise<string> => {
      const p = path.join(pkiDir, name);
      await fs.writeFile(p, pem, { mode });
      await fs.chmod(p, mode);
      return p;
    };
    const [certFile, keyFile, peerCertFile, peerKeyFile, caFile] = await Promise.all([
      file('server.crt', o.identity.cert, 0o644), file('server.key', o.identity.key, 0o600),
      file('peer.crt', o.peerIdentity.cert, 0o644), file('peer.key', o.peerIdentity.key, 0o600),
      file('ca.crt', o.trustedCa, 0o644),
    ]);
    const clientUrl = `https://${o.host}:${clientPort}`;
    const peerUrl = `https://${o.host}:${peerPort}`;
    const members = o.initialCluster ?? [{ name: this.name, peerUrl }];
    const args = [
      '--name', this.name, '--data-dir', dataDir,
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', members.map((m) => `${m.name}=${m.peerUrl}`).join(','),
      '--initial-cluster-state', 'new', '--initial-cluster-token', o.clusterToken ?? 'etcd-cluster',
      '--cert-file', certFile, '--key-file', keyFile, '--client-cert-auth', '--trusted-ca-file', caFile,
      '--peer-cert-file', peerCertFile, '--peer-key-file', peerKeyFile, '--peer-client-cert-auth', '--peer-trusted-ca-file', caFile,
      // The etcd in Debian is built with Go 1.19, whose defaults still accept RSA key-exchange and CBC
      // suites: pin the ECDHE AEAD list every other server here uses (Go ignores it for TLS 1.3).
      '--cipher-suites', GO_TLS12_SUITE_NAMES.join(','),
      '--snapshot-count', '10000', '--logger', 'zap', '--log-outputs', 'stderr',
    ];
    this.tail.length = 0;
    const child = spawn(found, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', (err) => { this.tail.push(String(err)); resolve(null); });
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.onLog(line, `${o.host}:${clientPort}`));
    this.logger.info({ args: args.filter((a) => !a.endsWith('.key')) }, 'spawned etcd');
    try {
      await this.waitHealthy(clientUrl, o.startTimeoutMs ?? 30_000);
    } catch (err) {
      await this.kill();
      throw err;
    }
    this.addr = { address: o.host, family: 'IPv4', port: clientPort };
    this.peerAddr = { address: o.host, family: 'IPv4', port: peerPort };
    this.logger.info({ address: clientUrl, peer: peerUrl, pid: child.pid }, 'etcd is healthy');
    return this.addr;
  }

  private onLog(line: string, local: string): void {
    this.tail.push(line);
    if (this.tail.length > 200) this.tail.shift();
    let z: ZapLine;
    try {
      z = JSON.parse(line) as ZapLine;
    } catch {
      return;
    }
    if (z.level === 'error' || z.level === 'fatal' || z.level === 'panic') this.logger.warn({ etcd: z }, z.msg ?? 'etcd error');
    if (z.msg !== 'rejected connection' || !z.error) return;
    // "tls: failed to verify client certificate: x509: certificate signed by unknown authority" → the x509 part.
    const reason = z.error.replace(/^tls: failed to verify client('s)? certificate: /, '');
    const code = CODE_OF_GO_REASON.find(([re]) => re.test(reason))?.[1];
    this.logger.warn({ remote: z['remote-addr'], error: z.error }, 'rejected connection');
    this.options.trace?.emit({
      type: 'tls-server', server: this.name, local, peer: z['remote-addr'] ?? '?',
      serverCert: summarizePem(this.options.identity.cert), clientCert: null, trusts: caName(this.options.trustedCa),
      mode: 'require', handshake: 'refused', verified: false, ...(code ? { code } : {}), reason,
    });
  }

  private async waitHealthy(clientUrl: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const agent = new https.Agent({ cert: this.options.healthcheckIdentity.cert, key: this.options.healthcheckIdentity.key, ca: this.options.trustedCa, keepAlive: false, ...GO_TLS });
    let last = '';
    try {
      for (;;) {
        const exited = await Promise.race([this.exited!.then((code) => ({ code })), this.health(clientUrl, agent).then((h) => ({ h }))]);
        if ('code' in exited) {
          throw new EtcdProcessError('EXITED', `${this.name}: etcd exited (code ${exited.code}) before it was healthy:\n${this.tail.slice(-5).join('\n')}`);
        }
        if (exited.h === true) return;
        last = exited.h;
        if (Date.now() > deadline) throw new EtcdProcessError('NOT_HEALTHY', `${this.name}: ${clientUrl}/health did not say true within ${timeoutMs} ms (last: ${last})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      agent.destroy();
    }
  }

  /** true, or why not. */
  private health(clientUrl: string, agent: https.Agent): Promise<true | string> {
    return new Promise((resolve) => {
      const req = https.get(`${clientUrl}/health`, { agent, timeout: 2000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => resolve(/"health":\s*"true"/.test(body) ? true : `HTTP ${res.statusCode} ${body.trim()}`));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
  }

  private async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGTERM, then waits for the exit (SIGKILL after 10 s); removes a temporary data folder. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.kill();
      this.child = undefined;
      this.addr = undefined;
      this.peerAddr = undefined;
      if (this.tempDir) {
        await fs.rm(this.tempDir, { recursive: true, force: true });
        await fs.rm(`${this.tempDir}.pki`, { recursive: true, force: true });
        this.tempDir = undefined;
      } else if (this.options.dataDir) {
        await fs.rm(path.join(this.options.dataDir, '..', `${path.basename(this.options.dataDir)}.pki`), { recursive: true, force: true });
      }
      this.logger.info('stopped');
    })();
    return this.stopping;
  }
}
