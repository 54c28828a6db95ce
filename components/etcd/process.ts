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
 * The TLS files are the PKI directory's own (`tlsFiles`: kubeadm's /etc/kubernetes/pki/etcd/*) when the
 * caller has them on disk; otherwise copies are written into a private temporary folder (mkdtemp, 0700,
 * each file created exclusively) that is removed on stop, with the data folder when that is temporary too.
 *
 * An etcd that exits while it should be running is started again after a backoff, as the kubelet
 * restarts a crashed static pod (there 10 s doubling to 5 min; here `restart.initialMs`, default 0.5 s,
 * doubling to `restart.maxMs`, default 5 min, reset once a restarted etcd has stayed up 10 minutes),
 * on the same ports and data folder, so it comes back with its data.
 *
 * `start()` resolves with the client address once `GET /health` over mutual TLS (with
 * etcd/healthcheck-client, as kubeadm's liveness probe and etcdctl do) answers `"health":"true"`,
 * which for a member of a cluster means a leader was elected. etcd logs each refused handshake
 * (`rejected connection`); those lines become tls-server events in the trace, with etcd's own reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants, existsSync, promises as fs } from 'node:fs';
import https from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { TlsCause, Trace } from '../client/trace.js';
import { Lifecycle, type Component } from '../client/common.js';
import { summarizePem, caName, GO_TLS, GO_TLS12_SUITE_NAMES, type Identity } from '../client/tls.js';
import { KubeSimError } from '../../pki/errors.js';

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
   * Where the member keeps its data (--data-dir). Given: kept across stop/start (a restart). Absent: a
   * temporary folder removed on stop.
   */
  readonly dataDir?: string;
  /**
   * The PEM files etcd reads, as they already are on disk (the PKI directory's etcd/server.crt, ...),
   * matching `identity`, `peerIdentity` and `trustedCa`. Absent: private temporary copies, removed on stop.
   */
  readonly tlsFiles?: {
    readonly certFile: string; readonly keyFile: string; readonly peerCertFile: string; readonly peerKeyFile: string; readonly trustedCaFile: string;
  };
  /** Restart after an unexpected exit, with this backoff (ms); `false`: leave it down. */
  readonly restart?: { readonly initialMs?: number; readonly maxMs?: number } | false;
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

export class EtcdProcessError extends KubeSimError<EtcdProcessErrorCode> {}

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

/**
 * etcd's (Go's) words for a refused handshake, as the code Node's OpenSSL gives the embedded etcd for the
 * same fault (none for a negotiation failure) and its cause, so the trace and the matrix read the same.
 */
const CODE_OF_GO_REASON: ReadonlyArray<readonly [RegExp, string | undefined, TlsCause]> = [
  [/certificate signed by unknown authority/, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unknown-authority'],
  [/has expired or is not yet valid/, 'CERT_HAS_EXPIRED', 'expired'],
  [/incompatible key usage/, 'INVALID_PURPOSE', 'wrong-usage'],
  [/didn't provide a certificate/, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', 'no-certificate'],
  [/no cipher suite supported by both client and server/, undefined, 'no-shared-cipher'],
  [/client offered only unsupported versions/, undefined, 'protocol-version'],
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
  private readonly lifecycle: Lifecycle;
  private readonly tail: string[] = [];
  /** The command line, fixed at the first start so a restart is the same member. */
  private command: { binary: string; args: string[]; clientUrl: string; peerUrl: string } | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs = 0;
  private upSince = 0;
  /** Restarts after an unexpected exit (for tests and the log). */
  restarts = 0;

  constructor(options: EtcdProcessOptions) {
    this.options = options;
    this.name = options.name ?? 'etcd';
    this.logger = options.logger.child({ component: this.name });
    this.lifecycle = new Lifecycle(this.name);
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
    this.lifecycle.check('start');
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
    this.command = { binary: found, args: await this.arguments(clientPort, peerPort), clientUrl: `https://${o.host}:${clientPort}`, peerUrl: `https://${o.host}:${peerPort}` };
    try {
      await this.spawnHealthy();
    } catch (err) {
      await this.removeTemp();
      throw err;
    }
    this.addr = { address: o.host, family: 'IPv4', port: clientPort };
    this.peerAddr = { address: o.host, family: 'IPv4', port: peerPort };
    this.logger.info({ address: this.command.clientUrl, peer: this.command.peerUrl, pid: this.child?.pid }, 'etcd is healthy');
    return this.addr;
  }

  /** etcd's flags, with its data folder and TLS files (made here when temporary). */
  private async arguments(clientPort: number, peerPort: number): Promise<string[]> {
    const o = this.options;
    let dataDir = o.dataDir;
    let files = o.tlsFiles;
    if (!dataDir || !files) {
      // mkdtemp makes a fresh 0700 folder with an unguessable name; nothing in it can be planted before.
      this.tempDir ??= await fs.mkdtemp(path.join(os.tmpdir(), `etcd-${this.name}-`));
    }
    if (dataDir) await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    else {
      dataDir = path.join(this.tempDir!, 'data');
      await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    }
    if (!files) {
      const pkiDir = path.join(this.tempDir!, 'pki');
      await fs.mkdir(pkiDir, { recursive: true, mode: 0o700 });
      const file = async (name: string, pem: string, mode: number): Promise<string> => {
        const p = path.join(pkiDir, name);
        await fs.rm(p, { force: true });
        await fs.writeFile(p, pem, { mode, flag: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW });
        return p;
      };
      const [certFile, keyFile, peerCertFile, peerKeyFile, trustedCaFile] = await Promise.all([
        file('server.crt', o.identity.cert, 0o644), file('server.key', o.identity.key, 0o600),
        file('peer.crt', o.peerIdentity.cert, 0o644), file('peer.key', o.peerIdentity.key, 0o600),
        file('ca.crt', o.trustedCa, 0o644),
      ]);
      files = { certFile, keyFile, peerCertFile, peerKeyFile, trustedCaFile };
    }
    const clientUrl = `https://${o.host}:${clientPort}`;
    const peerUrl = `https://${o.host}:${peerPort}`;
    const members = o.initialCluster ?? [{ name: this.name, peerUrl }];
    return [
      '--name', this.name, '--data-dir', dataDir,
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', members.map((m) => `${m.name}=${m.peerUrl}`).join(','),
      '--initial-cluster-state', 'new', '--initial-cluster-token', o.clusterToken ?? 'etcd-cluster',
      '--cert-file', files.certFile, '--key-file', files.keyFile, '--client-cert-auth', '--trusted-ca-file', files.trustedCaFile,
      '--peer-cert-file', files.peerCertFile, '--peer-key-file', files.peerKeyFile, '--peer-client-cert-auth', '--peer-trusted-ca-file', files.trustedCaFile,
      // The etcd in Debian is built with Go 1.19, whose defaults still accept RSA key-exchange and CBC
      // suites: pin the ECDHE AEAD list every other server here uses (Go ignores it for TLS 1.3).
      '--cipher-suites', GO_TLS12_SUITE_NAMES.join(','),
      '--snapshot-count', '10000', '--logger', 'zap', '--log-outputs', 'stderr',
    ];
  }

  /** Spawns etcd with the fixed command line and waits for /health; on failure the process is gone. */
  private async spawnHealthy(): Promise<void> {
    const o = this.options;
    const { binary, args, clientUrl } = this.command!;
    this.tail.length = 0;
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let healthy = false;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve(code);
        if (healthy && this.child === child && !this.stopping) this.onUnexpectedExit(code, signal);
      });
      child.once('error', (err) => { this.tail.push(String(err)); resolve(null); });
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.onLog(line, new URL(clientUrl).host));
    this.logger.info({ args: args.filter((a) => !a.endsWith('.key')) }, 'spawned etcd');
    try {
      await this.waitHealthy(clientUrl, o.startTimeoutMs ?? 30_000);
    } catch (err) {
      await this.kill();
      throw err;
    }
    healthy = true;
    this.upSince = Date.now();
  }

  /** As the kubelet does for a static pod that died: log it, wait the backoff, start it again. */
  private onUnexpectedExit(code: number | null, signal: NodeJS.Signals | null): void {
    const policy = this.options.restart ?? {};
    if (policy === false) {
      this.logger.error({ code, signal, tail: this.tail.slice(-3) }, 'etcd exited; not restarting it');
      return;
    }
    const initial = policy.initialMs ?? 500;
    const max = policy.maxMs ?? 300_000;
    if (Date.now() - this.upSince >= 600_000) this.backoffMs = 0;
    this.backoffMs = this.backoffMs === 0 ? initial : Math.min(max, this.backoffMs * 2);
    this.logger.warn({ code, signal, backoffMs: this.backoffMs, tail: this.tail.slice(-3) }, 'etcd exited unexpectedly; restarting it after the backoff');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.restarts++;
      this.spawnHealthy().then(
        () => this.logger.warn({ pid: this.child?.pid, restarts: this.restarts }, 'etcd restarted and healthy'),
        (err: unknown) => {
          if (this.stopping) return;
          this.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'etcd restart failed');
          this.onUnexpectedExit(null, null);
        },
      );
    }, this.backoffMs);
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
    // A real etcd says why only in Go's words: its log line is where its TLS reports the cause.
    const [, code, cause = 'other'] = CODE_OF_GO_REASON.find(([re]) => re.test(reason)) ?? [];
    this.logger.warn({ remote: z['remote-addr'], error: z.error }, 'rejected connection');
    this.options.trace?.emit({
      type: 'tls-server', server: this.name, local, peer: z['remote-addr'] ?? '?',
      serverCert: summarizePem(this.options.identity.cert), clientCert: null, trusts: caName(this.options.trustedCa),
      mode: 'require', handshake: 'refused', verified: false, ...(code ? { code } : {}), reason, cause,
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

  private async kill(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Drains: SIGTERM (etcd answers what it has in flight and exits), then waits for the exit (SIGKILL after 10 s); removes the temporary folder (data and TLS copies). Idempotent. */
  close(): Promise<void> {
    return this.lifecycle.end(() => this.shutdown('SIGTERM'));
  }

  /** Aborts: SIGKILL now, then removes the temporary folder. Idempotent. */
  destroy(): Promise<void> {
    if (this.lifecycle.closed) this.child?.kill('SIGKILL');
    return this.lifecycle.end(() => this.shutdown('SIGKILL'));
  }

  /**
   * The member goes down as `systemctl stop etcd` does (SIGTERM, then the exit) but is not closed:
   * start() brings it back on the same ports and data directory, as a member of its cluster. Idempotent.
   */
  stop(): Promise<void> {
    return this.shutdown('SIGTERM');
  }

  private shutdown(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    this.stopping ??= (async () => {
      if (this.restartTimer) clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      await this.kill(signal);
      this.child = undefined;
      this.addr = undefined;
      this.peerAddr = undefined;
      await this.removeTemp();
      this.logger.info('stopped');
    })();
    return this.stopping;
  }

  private async removeTemp(): Promise<void> {
    if (!this.tempDir) return;
    await fs.rm(this.tempDir, { recursive: true, force: true });
    this.tempDir = undefined;
  }
}
