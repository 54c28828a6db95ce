/**
 * The stacked etcd member of a kubeadm control plane, embedded: one member, its client port only
 * (https://<advertise>:2379), speaking etcd 3.4's JSON gateway over the MVCC store in store.ts.
 *
 * TLS is what kubeadm's static pod gives etcd: `--cert-file etcd/server.crt --key-file etcd/server.key
 * --client-cert-auth=true --trusted-ca-file etcd/ca.crt`. So the handshake itself refuses a client
 * certificate that does not chain to the etcd CA (a Kubernetes-CA certificate included) and a client
 * without a certificate; the trace records OpenSSL's reason in Go's words.
 */
import { createHash } from 'node:crypto';
import type https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Lifecycle, ServerDrain, systemClock, type Component, type ComponentDeps } from '../client/common.js';
import { createTlsServer, listen, type Identity, type TlsServer } from '../client/tls.js';
import { Gateway } from './server.js';
import { MvccStore } from './store.js';
import { Wal, type Recovery } from './wal.js';

export { MvccStore, StoreError, GrpcCode, type KeyValue, type MvccEvent } from './store.js';
export { WalError, type Recovery } from './wal.js';
export { httpStatusFromCode } from './server.js';

export interface EtcdOptions extends ComponentDeps {
  /** The address to listen on (kubeadm: the advertise address, 127.0.1.1 in the plan). */
  readonly host: string;
  /** 2379 in the plan; 0 in tests. */
  readonly port: number;
  /** etcd/server.crt and .key. */
  readonly identity: Identity;
  /** etcd/ca.crt: the only CA client certificates may chain to. */
  readonly trustedCa: string;
  /** The member name; default `etcd`. kubeadm names it after the node (`cp-1`), the trace after the component. */
  readonly name?: string;
  /** The server version reported; default 3.4.23. */
  readonly version?: string;
  /** How often leases are checked for expiry (ms); default 500. */
  readonly leaseCheckIntervalMs?: number;
  /** --max-txn-ops; default 128. */
  readonly maxTxnOps?: number;
  /**
   * etcd's --data-dir: the write-ahead log and snapshots (wal.ts). Given, `start()` recovers what is
   * there and every write is fsynced before it is acknowledged. Absent: in memory only (tests, scenarios).
   */
  readonly dataDir?: string;
  /** Records between snapshots (--snapshot-count); default 10000. */
  readonly snapshotCount?: number;
}

/** A 64-bit ID from a seed, as decimal-able bigint (etcd's member and cluster IDs are uint64). */
function id64(seed: string): bigint {
  return createHash('sha256').update(seed).digest().readBigUInt64BE(0);
}

export class Etcd implements Component {
  readonly name: string;
  /** The key-value store, for in-process inspection (tests, the sim's narration). */
  readonly store: MvccStore;
  private readonly options: EtcdOptions;
  private readonly logger: Logger;
  private server: TlsServer | undefined;
  private gateway: Gateway | undefined;
  private timer: NodeJS.Timeout | undefined;
  private addr: AddressInfo | undefined;
  private lastPort: number | undefined;
  private stopping: Promise<void> | undefined;
  private drain: ServerDrain | undefined;
  private readonly lifecycle: Lifecycle;
  private untrace: (() => void) | undefined;
  private wal: Wal | undefined;
  private recovered = false;
  /** What the first start recovered from `dataDir`. */
  recovery: Recovery | undefined;

  constructor(options: EtcdOptions) {
    this.options = options;
    this.name = options.name ?? 'etcd';
    this.logger = options.logger.child({ component: this.name });
    this.lifecycle = new Lifecycle(this.name);
    const clock = options.clock ?? systemClock;
    this.store = new MvccStore({ now: () => clock.now().getTime() });
  }

  /** The address once started. */
  get address(): AddressInfo | undefined {
    return this.addr;
  }

  /** `https://host:port`, once started. */
  get clientUrl(): string {
    if (!this.addr) throw new Error(`${this.name}: not started`);
    const host = this.addr.family === 'IPv6' ? `[${this.addr.address}]` : this.addr.address;
    return `https://${host}:${this.addr.port}`;
  }

  async start(): Promise<AddressInfo> {
    this.lifecycle.check('start');
    if (this.addr) return this.addr;
    this.stopping = undefined;
    const { host } = this.options;
    // A restarted member comes back on the address it had (as a static pod with hostNetwork does).
    const port = this.lastPort ?? this.options.port;
    const version = this.options.version ?? '3.4.23';
    if (this.options.dataDir) {
      const { wal, recovery } = await Wal.open(this.options.dataDir, this.store, {
        logger: this.logger, recover: !this.recovered, ...(this.options.snapshotCount ? { snapshotCount: this.options.snapshotCount } : {}),
      });
      this.wal = wal;
      if (!this.recovered) {
        this.recovered = true;
        this.recovery = recovery;
        this.logger.info({ dataDir: this.options.dataDir, revision: recovery.revision, snapshot: recovery.snapshot, records: recovery.records }, 'recovered store');
      }
    }
    const memberId = id64(`${this.name}|https://${host}:2380`);
    const gateway = new Gateway(this.store, {
      name: this.name, version, logger: this.logger,
      ids: { clusterId: id64(`etcd-cluster|${memberId}`), memberId, raftTerm: 2n },
      ...(this.options.trace ? { trace: this.options.trace } : {}),
      ...(this.options.maxTxnOps !== undefined ? { maxTxnOps: this.options.maxTxnOps } : {}),
      ...(this.wal ? { durable: this.wal.durable.bind(this.wal) } : {}),
    });
    const server = createTlsServer({
      name: this.name, identity: this.options.identity, clientCa: this.options.trustedCa, mode: 'require',
    }, gateway.handle, this.options.trace);
    this.drain = new ServerDrain(server);
    // etcd logs every refused handshake; the refusal (and OpenSSL's reason) is only visible through the trace.
    this.untrace = this.options.trace?.on((e) => {
      if (e.type !== 'tls-server' || e.server !== this.name || e.handshake !== 'refused') return;
      const reason = e.reason ?? e.code ?? 'unknown';
      const error = reason.startsWith('tls:') ? reason : `tls: failed to verify client certificate: ${reason}`;
      this.logger.warn({ remote: e.peer, error, serverName: '' }, 'rejected connection');
    }, { passive: true });
    this.server = server;
    this.gateway = gateway;
    try {
      this.addr = await listen(server, host, port, this.name);
    } catch (err) {
      await this.wal?.close();
      this.wal = undefined;
      throw err;
    }
    this.lastPort = this.addr.port;
    this.timer = setInterval(() => {
      const n = this.store.expireLeases();
      if (n > 0) this.logger.debug({ expired: n }, 'leases expired');
    }, this.options.leaseCheckIntervalMs ?? 500);
    this.timer.unref();
    this.logger.info({ address: this.clientUrl, version, memberId: memberId.toString(16) }, 'serving client traffic securely');
    return this.addr;
  }

  /**
   * New serving certificate and/or trusted CA bundle while serving. Real etcd reads --cert-file,
   * --key-file and --trusted-ca-file again for each new connection, so renewed files take effect
   * without a restart; here the sim hands them over. Established connections keep theirs.
   */
  reloadTls(material: { identity?: Identity; trustedCa?: string }): void {
    if (!this.server) throw new Error(`${this.name}: not started`);
    this.server.reloadTls({ ...(material.identity ? { identity: material.identity } : {}), ...(material.trustedCa ? { ca: material.trustedCa } : {}) });
    this.logger.info({ identity: Boolean(material.identity), trustedCa: Boolean(material.trustedCa) }, 'reloaded TLS material');
  }

  /**
   * Drains, for good: ends watch and keepalive streams, stops accepting, answers the requests in
   * flight, then syncs and closes the log. start() rejects with CLOSED after.
   */
  close(): Promise<void> {
    return this.lifecycle.end(async () => { await this.stopping; await this.down('close'); });
  }

  /** Aborts, for good: drops every connection now, requests in flight included, then closes the log. */
  destroy(): Promise<void> {
    if (this.lifecycle.closed) void this.drain?.destroy();
    return this.lifecycle.end(async () => { await this.stopping; await this.down('destroy'); });
  }

  /**
   * The member goes down as a killed etcd does (every connection dropped now) but is not closed:
   * start() brings it back on the same port with its store (and its data directory). Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.down('destroy');
    return this.stopping;
  }

  private async down(mode: 'close' | 'destroy'): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.untrace?.();
    this.untrace = undefined;
    this.gateway?.closeStreams();
    this.store.cancelAllWatches();
    if (this.drain) await (mode === 'close' ? this.drain.close() : this.drain.destroy());
    this.drain = undefined;
    this.server = undefined;
    await this.wal?.close();
    this.wal = undefined;
    this.addr = undefined;
    this.logger.info('stopped');
  }
}
