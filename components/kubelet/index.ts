/**
 * The kubelet, one per node. As a client of the apiserver (its kubelet.conf identity,
 * system:node:<n> in system:nodes) it registers its Node, keeps its Lease in kube-node-lease fresh,
 * watches the pods bound to it, "runs" them (see pod-runtime.ts) and reports their status. As a
 * server (port 10250, its serving certificate) it authenticates client certificates against its
 * clientCAFile and authorizes every request with a SubjectAccessReview to the apiserver, then serves
 * /healthz, /pods, /containerLogs, /spec and /stats/summary.
 */
import { certificateSubject } from '../../pki/subject.js';
import { PkiError } from '../../pki/errors.js';
import type https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Trace } from '../client/trace.js';
import { Lifecycle, ServerDrain, systemClock, type Clock, type Component, type ComponentDeps } from '../client/common.js';
import { ApiError, KubeClient, resourcePath } from '../client/kube-client.js';
import { createTlsServer, goReason, listen, type Identity, type TlsServer } from '../client/tls.js';
import type { Lease, Node, Pod, ResourceList } from '../api/types.js';
import { authorizationErrorMessage, forbiddenMessage, requestAttributes, subjectAccessReview, type KubeletAttributes } from './auth.js';
import { initialNode, machineIds, nodeConditions, nodeStatus, nodeLease, quantityBytes, type MachineIds, type NodeFacts } from './node-status.js';
import { formatLogs, PodIpAllocator, rfc3339, rfc3339Micro, runningPodStatus, startPod, type RunningPod } from './pod-runtime.js';
import { Reflector } from '../client/reflector.js';
import { CertificateManager } from './certificate-manager.js';
import { resourceMetrics } from './resource-metrics.js';
import { writeKubeletCredentials } from './bootstrap.js';
import { writeAtomically } from '../../pki/store.js';
import { refuseUpgrade, serveStreaming, streamingRoute } from './streaming.js';
import { KUBE_APISERVER_CLIENT_KUBELET_SIGNER, KUBELET_SERVING_SIGNER } from '../api/certificates.js';

export interface KubeletOptions {
  readonly nodeName: string;
  /** The node's address: the kubelet binds it (unless `host` says otherwise) and reports it as InternalIP and hostIP. */
  readonly nodeIP: string;
  /** The node's pod range; pod IPs come from it. */
  readonly podCIDR: string;
  /** `https://host:port` of the apiserver. */
  readonly apiserver: string;
  /** kubelet.conf's client certificate (CN system:node:<n>, O system:nodes). */
  readonly identity: Identity;
  /** The Kubernetes CA, to verify the apiserver. */
  readonly serverCa: string;
  /**
   * The kubelet's serving certificate (/var/lib/kubelet/pki/kubelet.crt). May be absent only with
   * serverTLSBootstrap: the kubelet API then refuses every handshake until its CSR is signed.
   */
  readonly servingIdentity?: Identity;
  /** rotateCertificates: renew the client certificate through selfnodeclient CSRs at 70-90% of its lifetime. */
  readonly rotateCertificates?: boolean;
  /** serverTLSBootstrap: get the serving certificate from a kubernetes.io/kubelet-serving CSR (never auto-approved). */
  readonly serverTLSBootstrap?: boolean;
  /** Where rotated pairs are written (kubelet.conf, pki/kubelet-client-current.pem, pki/kubelet-server-current.pem), 0600. */
  readonly certificateDir?: string;
  /** The random source of the rotation jitter, [0, 1). */
  readonly rotationRandom?: () => number;
  /**
   * The certificate store held no kubelet-client-current.pem at start: `identity` (kubelet.conf's) is
   * the bootstrap certificate, rotated at once (client-go's getCurrentCertificateOrBootstrap).
   */
  readonly forceClientRotation?: boolean;
  /** `authentication.x509.clientCAFile`: who may present a client certificate to the kubelet API. */
  readonly clientCa: string;
  /** Default 10250; 0 in tests. */
  readonly port?: number;
  /** Default: nodeIP. */
  readonly host?: string;
  /** `authentication.webhook.enabled`: bearer tokens checked by TokenReview; default true (kubeadm's). */
  readonly webhookAuthentication?: boolean;
  /** `authentication.anonymous.enabled`; kubeadm sets false. */
  readonly anonymousAuth?: boolean;
  readonly capacity?: ResourceList;
  /** Default 40 (nodeLeaseDurationSeconds). */
  readonly leaseDurationSeconds?: number;
  /** How often the Lease is renewed (ms): 10 s, a quarter of its 40 s duration, as the real kubelet does. */
  readonly leaseRenewIntervalMs?: number;
  /** How often the node status is computed (ms); default 10 s (nodeStatusUpdateFrequency). */
  readonly statusUpdateIntervalMs?: number;
  /** How often an unchanged node status is still sent (ms); default 5 min (nodeStatusReportFrequency). */
  readonly statusReportIntervalMs?: number;
  /** Pause before retrying a failed list/watch or write (ms); default 500. */
  readonly retryMs?: number;
  /** The status manager's syncPeriod (ms): a pod status the apiserver did not take is sent again after it; default 10 s. */
  readonly statusSyncPeriodMs?: number;
}

interface User {
  readonly name: string;
  readonly groups: readonly string[];
}


export class Kubelet implements Component {
  readonly name: string;
  private readonly options: KubeletOptions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly trace: Trace | undefined;
  private readonly ips: PodIpAllocator;
  private readonly running = new Map<string, RunningPod>();
  /** Pod statuses not yet taken by the apiserver (uid), sent again by the status manager's syncBatch. */
  private readonly unsynced = new Set<string>();
  private syncTimer: NodeJS.Timeout | undefined;
  private readonly deleting = new Set<string>();
  private readonly followers = new Map<string, Set<ServerResponse>>();
  private readonly inflight = new Set<Promise<unknown>>();
  /** Upgraded connections (exec, attach, port-forward): close() and destroy() end them. */
  private readonly sessions = new Set<Duplex>();
  private server: TlsServer | undefined;
  private client: KubeClient | undefined;
  private reflector: Reflector<Pod> | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private lease: Lease | undefined;
  private nodeUid: string | undefined;
  private readyAt: Date | undefined;
  /** The last node status sent (its content without heartbeat times) and when. */
  private lastStatusReport: { readonly key: string; readonly at: number } | undefined;
  /** This boot's machine identity (a new boot ID at every start). */
  private machine: MachineIds | undefined;
  private address: AddressInfo | undefined;
  private drain: ServerDrain | undefined;
  private readonly lifecycle: Lifecycle;
  private started = false;
  /** The client certificate manager (rotateCertificates). */
  clientCertificates: CertificateManager | undefined;
  /** The serving certificate manager (serverTLSBootstrap). */
  servingCertificates: CertificateManager | undefined;

  constructor(options: KubeletOptions, deps: ComponentDeps) {
    this.options = options;
    this.name = `kubelet (${options.nodeName})`;
    this.logger = deps.logger.child({ component: 'kubelet', node: options.nodeName });
    this.clock = deps.clock ?? systemClock;
    this.trace = deps.trace;
    this.ips = new PodIpAllocator(options.podCIDR);
    this.lifecycle = new Lifecycle(this.name);
  }

  /** The address the kubelet API listens on (after start). */
  get listening(): AddressInfo | undefined {
    return this.address;
  }

  /** Kubelet API requests being served now (`logs -f` streams included; close() ends those and waits for the rest). */
  get requestsInFlight(): number {
    return this.drain?.inFlight ?? 0;
  }

  /** How many pod IPs are allocated from the node's pod CIDR. */
  get podIPsInUse(): number {
    return this.ips.inUse;
  }

  /** Pods this kubelet is running. */
  runningPods(): RunningPod[] {
    return [...this.running.values()];
  }

  async start(): Promise<AddressInfo> {
    this.lifecycle.check('start');
    if (this.started) throw new Error(`${this.name}: already started`);
    this.started = true;
    const o = this.options;
    try {
      if (!o.servingIdentity && !o.serverTLSBootstrap) throw new Error(`${this.name}: a serving certificate is required unless serverTLSBootstrap is set`);
      this.server = createTlsServer({ name: this.name, ...(o.servingIdentity ? { identity: o.servingIdentity } : {}), clientCa: o.clientCa, mode: 'request' },
        (req, res) => { this.track(this.handle(req, res)); }, this.trace);
      this.drain = new ServerDrain(this.server);
      this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => { this.track(this.upgrade(req, socket, head)); });
      this.address = await listen(this.server, o.host ?? o.nodeIP, o.port ?? 10250, this.name);
      this.client = new KubeClient({ name: this.name, server: o.apiserver, identity: o.identity, serverCa: o.serverCa, ...(this.trace ? { trace: this.trace } : {}) });
      this.startCertificateManagers();
      await this.registerNode();
      await this.renewLease();
      this.scheduleLease();
      this.scheduleStatus();
      // The kubelet's pod config source (pkg/kubelet/config/apiserver.go): its own pods, into its own store.
      this.reflector = new Reflector<Pod>({
        client: this.client, path: '/api/v1/pods', fieldSelector: `spec.nodeName=${o.nodeName}`, logger: this.logger, kind: '*v1.Pod',
        ...(o.retryMs !== undefined ? { retryMs: o.retryMs } : {}),
      }, {
        replace: (pods) => this.replacePods(pods),
        apply: (type, pod) => this.onPod(type, pod),
      });
      await this.reflector.start();
      this.logger.info({ address: this.address }, 'kubelet started');
      return this.address;
    } catch (err) {
      await this.destroy();
      throw err;
    }
  }

  /**
   * Drains: stops its timers, certificate managers and pod watch, ends `logs -f` streams, stops
   * accepting kubelet API connections and answers the requests in flight, then closes its client.
   */
  close(): Promise<void> {
    return this.lifecycle.end(() => this.shutdown('close'));
  }

  /** Aborts: drops every kubelet API connection now, requests in flight included. */
  destroy(): Promise<void> {
    if (this.lifecycle.closed) void this.drain?.destroy();
    return this.lifecycle.end(() => this.shutdown('destroy'));
  }

  /** An alias of close(). */
  stop(): Promise<void> {
    return this.close();
  }

  /**
   * New TLS material while running: its client certificate (kubelet.conf) and the apiserver's CA, its
   * serving certificate and the CA it trusts for clients (clientCAFile). The real kubelet watches its
   * certificate files (the client certificate manager, the serving certificate's dynamic content).
   */
  reloadTls(material: { identity?: Identity; serverCa?: string; servingIdentity?: Identity; clientCa?: string }): void {
    if (!this.server || !this.client) throw new Error(`${this.name}: not started`);
    if (material.identity || material.serverCa) {
      this.client.reloadTls({ ...(material.identity ? { identity: material.identity } : {}), ...(material.serverCa ? { ca: material.serverCa } : {}) });
    }
    if (material.servingIdentity || material.clientCa) {
      this.server.reloadTls({ ...(material.servingIdentity ? { identity: material.servingIdentity } : {}), ...(material.clientCa ? { ca: material.clientCa } : {}) });
    }
  }

  /**
   * The client certificate store: pki/kubelet-client-current.pem. A kubelet.conf that names that file
   * (as the real kubelet's bootstrap and kubeadm's documented recovery leave it) keeps naming it and is
   * not rewritten; one that embeds its certificate is rewritten with the new one.
   */
  private async storeClientCertificate(dir: string, identity: Identity): Promise<void> {
    const conf = await fs.readFile(path.join(dir, 'kubelet.conf'), 'utf8').catch(() => '');
    if (/^\s*client-certificate:/m.test(conf)) await writeAtomically(dir, [{ rel: 'pki/kubelet-client-current.pem', data: `${identity.cert}${identity.key}`, mode: 0o600 }]);
    else await writeKubeletCredentials(dir, this.options.apiserver, this.options.serverCa, identity);
  }

  private startCertificateManagers(): void {
    const o = this.options;
    const common = { client: () => this.api(), clock: this.clock, logger: this.logger, ...(o.rotationRandom ? { random: o.rotationRandom } : {}) };
    const subject = { cn: `system:node:${o.nodeName}`, o: ['system:nodes'] };
    if (o.rotateCertificates) {
      this.clientCertificates = new CertificateManager({
        ...common, signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER, subject, sans: { dns: [], ip: [] }, usages: ['digital signature', 'client auth'], current: o.identity,
        ...(o.forceClientRotation ? { forceRotation: true } : {}),
        onRotate: (identity) => this.client?.reloadTls({ identity }),
        ...(o.certificateDir ? { store: (identity) => this.storeClientCertificate(o.certificateDir!, identity) } : {}),
      });
      this.clientCertificates.start();
    }
    if (o.serverTLSBootstrap) {
      this.servingCertificates = new CertificateManager({
        ...common, signerName: KUBELET_SERVING_SIGNER, subject, sans: { dns: [o.nodeName], ip: [o.nodeIP] }, usages: ['digital signature', 'server auth'],
        ...(o.servingIdentity ? { current: o.servingIdentity } : {}),
        onRotate: (identity) => this.server?.reloadTls({ identity }),
        ...(o.certificateDir ? { store: (identity) => writeAtomically(o.certificateDir!, [{ rel: 'pki/kubelet-server-current.pem', data: `${identity.cert}${identity.key}`, mode: 0o600 }]) } : {}),
      });
      this.servingCertificates.start();
    }
  }

  private async shutdown(mode: 'close' | 'destroy'): Promise<void> {
    const server = mode === 'close' ? undefined : this.drain?.destroy();
    await this.clientCertificates?.stop();
    await this.servingCertificates?.stop();
    if (this.leaseTimer) clearTimeout(this.leaseTimer);
    if (this.statusTimer) clearTimeout(this.statusTimer);
    if (this.syncTimer) clearTimeout(this.syncTimer);
    await this.reflector?.stop();
    for (const socket of this.sessions) socket.destroy();
    this.sessions.clear();
    for (const set of this.followers.values()) for (const res of set) res.end();
    this.followers.clear();
    // Requests in flight may still ask the apiserver (webhook authorization): drain before the client goes.
    await (server ?? this.drain?.close());
    this.client?.close();
    await Promise.allSettled([...this.inflight]);
    this.logger.info('kubelet stopped');
  }

  private get stopped(): boolean {
    return this.lifecycle.closed;
  }

  private track<T>(p: Promise<T>): void {
    const tracked = p.catch((err: unknown) => {
      if (!this.stopped) this.logger.warn({ err: (err as Error).message }, 'kubelet task failed');
    });
    this.inflight.add(tracked);
    void tracked.finally(() => this.inflight.delete(tracked));
  }

  private api(): KubeClient {
    if (!this.client) throw new Error(`${this.name}: not started`);
    return this.client;
  }

  // ---- node registration and heartbeats ----

  private facts(): NodeFacts {
    const c = this.options.capacity ?? {};
    return {
      nodeName: this.options.nodeName, nodeIP: this.options.nodeIP, podCIDR: this.ips.cidr, port: this.address?.port ?? 0,
      capacity: { cpu: c.cpu ?? '2', memory: c.memory ?? '4Gi', pods: c.pods ?? '110' },
      machine: this.machine ??= machineIds(this.options.nodeName),
    };
  }

  /** kubelet_node_status.go registerWithAPIServer: create; on AlreadyExists, take over the existing Node's status. */
  private async registerNode(): Promise<void> {
    const now = this.clock.now();
    this.readyAt = now;
    const nodePath = resourcePath({ resource: 'nodes' });
    try {
      const created = await this.api().create<Node>(nodePath, initialNode(this.facts(), now, now));
      this.nodeUid = created.metadata.uid;
      this.logger.info('node registered');
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.httpStatus === 409)) throw err;
    }
    const path = resourcePath({ resource: 'nodes', name: this.options.nodeName });
    const existing = await this.api().get<Node>(path);
    this.nodeUid = existing.metadata.uid;
    const status = nodeStatus(this.facts(), now, now);
    await this.api().update<Node>(`${path}/status`, { ...existing, spec: { ...existing.spec }, status });
    this.logger.info('node already registered; status updated');
  }

  /**
   * pkg/kubelet/kubelet_node_status.go: the status is computed every --node-status-update-frequency but
   * sent only when it changed (heartbeat times aside) or --node-status-report-frequency (5 min) passed;
   * the Lease, not the status, is the heartbeat.
   */
  private async patchNodeStatus(): Promise<void> {
    const now = this.clock.now();
    const conditions = nodeConditions(now, this.readyAt ?? now);
    const port = this.address?.port ?? 0;
    const key = JSON.stringify([conditions.map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime]), port]);
    const last = this.lastStatusReport;
    if (last && last.key === key && now.getTime() - last.at < (this.options.statusReportIntervalMs ?? 5 * 60_000)) return;
    const path = resourcePath({ resource: 'nodes', name: this.options.nodeName, subresource: 'status' });
    await this.api().patch<Node>(path, { status: { conditions, daemonEndpoints: { kubeletEndpoint: { Port: port } } } }, 'strategic');
    this.lastStatusReport = { key, at: now.getTime() };
  }

  /** pkg/kubelet/nodelease: get-or-create once, then update the cached Lease; re-read on conflict. */
  private async renewLease(): Promise<void> {
    const o = this.options;
    const duration = o.leaseDurationSeconds ?? 40;
    const path = resourcePath({ group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease', name: o.nodeName });
    const now = this.clock.now();
    if (this.lease) {
      try {
        this.lease = await this.api().update<Lease>(path, { ...this.lease, spec: { ...this.lease.spec, holderIdentity: o.nodeName, leaseDurationSeconds: duration, renewTime: rfc3339Micro(now) } });
        return;
      } catch (err) {
        if (!(err instanceof ApiError && (err.httpStatus === 409 || err.httpStatus === 404))) throw err;
        this.lease = undefined;
      }
    }
    let current: Lease | undefined;
    try {
      current = await this.api().get<Lease>(path);
    } catch (err) {
      if (!(err instanceof ApiError && err.httpStatus === 404)) throw err;
    }
    if (!current) {
      const fresh = nodeLease(o.nodeName, duration, now, this.nodeUid ? { uid: this.nodeUid } : undefined);
      this.lease = await this.api().create<Lease>(resourcePath({ group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-node-lease' }), fresh);
      return;
    }
    this.lease = await this.api().update<Lease>(path, { ...current, spec: { ...current.spec, holderIdentity: o.nodeName, leaseDurationSeconds: duration, renewTime: rfc3339Micro(now) } });
  }

  private scheduleLease(): void {
    if (this.stopped) return;
    this.leaseTimer = setTimeout(() => {
      this.track(this.renewLease().finally(() => this.scheduleLease()));
    }, this.options.leaseRenewIntervalMs ?? 10_000);
  }

  private scheduleStatus(): void {
    if (this.stopped) return;
    this.statusTimer = setTimeout(() => {
      this.track(this.patchNodeStatus().finally(() => this.scheduleStatus()));
    }, this.options.statusUpdateIntervalMs ?? 10_000);
  }

  // ---- pods ----

  private replacePods(pods: Pod[]): void {
    const seen = new Set(pods.map((p) => p.metadata.uid ?? ''));
    for (const uid of [...this.running.keys()]) if (!seen.has(uid)) this.forget(uid);
    for (const p of pods) this.onPod('ADDED', p);
  }

  private onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    if (this.stopped) return;
    const uid = pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (type === 'DELETED' || pod.spec.nodeName !== this.options.nodeName) {
      this.forget(uid);
      this.deleting.delete(uid);
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      this.forget(uid);
      this.finishDeletion(pod, uid);
      return;
    }
    const known = this.running.get(uid);
    if (known) {
      known.pod = pod;
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    let ip: string;
    try {
      ip = this.ips.allocate(uid);
    } catch (err) {
      this.logger.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: (err as Error).message }, 'cannot start pod');
      return;
    }
    const running = startPod(pod, ip, this.clock.now());
    this.running.set(uid, running);
    this.logger.info({ pod: `${running.namespace}/${running.name}`, podIP: ip }, 'pod started');
    this.track(this.reportStatus(running));
  }

  private forget(uid: string): void {
    const r = this.running.get(uid);
    if (!r) return;
    this.running.delete(uid);
    this.unsynced.delete(uid);
    this.ips.release(uid);
    for (const c of r.containers) {
      const key = `${r.namespace}/${r.name}/${c.name}`;
      for (const res of this.followers.get(key) ?? []) res.end();
      this.followers.delete(key);
    }
    this.logger.info({ pod: `${r.namespace}/${r.name}` }, 'pod stopped');
  }

  /** The containers are gone: finish the graceful deletion (status_manager: Delete with grace 0 and a UID precondition). */
  private finishDeletion(pod: Pod, uid: string): void {
    if (this.deleting.has(uid)) return;
    this.deleting.add(uid);
    const path = resourcePath({ resource: 'pods', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '' });
    this.track(this.api().request('DELETE', path, { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, preconditions: { uid } })
      .catch((err: unknown) => {
        if (err instanceof ApiError && (err.httpStatus === 404 || err.httpStatus === 409)) return;
        this.deleting.delete(uid);
        throw err;
      }));
  }

  /** The status manager's PATCH of pods/<name>/status. */
  private async reportStatus(running: RunningPod): Promise<void> {
    const path = resourcePath({ resource: 'pods', namespace: running.namespace, name: running.name, subresource: 'status' });
    const status = runningPodStatus(running, this.options.nodeIP);
    try {
      // As the status manager's two-way merge patch does, the patch names the order of its conditions.
      const order = { '$setElementOrder/conditions': (status.conditions ?? []).map((c) => ({ type: c.type })) };
      const updated = await this.api().patch<Pod>(path, { metadata: { uid: running.uid }, status: { ...order, ...status } }, 'strategic');
      if (this.running.get(running.uid) === running) running.pod = updated;
      this.unsynced.delete(running.uid);
    } catch (err) {
      if (err instanceof ApiError && err.httpStatus === 404) return; // deleted meanwhile
      // The apiserver did not take it (a timeout, etcd unavailable): syncBatch sends it again.
      if (this.running.get(running.uid) === running) { this.unsynced.add(running.uid); this.scheduleSync(); }
      throw err;
    }
  }

  /** status_manager's syncBatch, every syncPeriod while some pod's status is not yet in the apiserver. */
  private scheduleSync(): void {
    if (this.syncTimer || this.stopped) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      for (const uid of [...this.unsynced]) {
        const running = this.running.get(uid);
        this.unsynced.delete(uid);
        if (running) this.track(this.reportStatus(running));
      }
    }, this.options.statusSyncPeriodMs ?? 10_000);
  }

  // ---- the kubelet API ----

  /**
   * The kubelet's DelegatingAuthenticatorConfig: x509 against clientCAFile, then (when enabled)
   * anonymous in a fail-on-error union: a certificate that fails verification is a 401 even with
   * anonymous auth on; a verified certificate with no CN has no opinion and falls through to anonymous.
   */
  private async authenticate(socket: TLSSocket, authorization: string | undefined): Promise<User | undefined> {
    const cert = socket.getPeerX509Certificate();
    const presented = cert !== undefined;
    if (socket.authorized && cert) {
      // The subject as Go's crypto/x509 reads it: the last CN, every O (multi-valued RDNs included). A name
      // Go cannot parse fails Go's handshake, so no identity and no fall-through to anonymous.
      let subject;
      try {
        subject = certificateSubject(cert.raw);
      } catch (err) {
        if (!(err instanceof PkiError)) throw err;
        return undefined;
      }
      if (subject.cn) return { name: subject.cn, groups: [...subject.o, 'system:authenticated'] };
    }
    // authentication.webhook.enabled (kubeadm sets it): a bearer token is sent to the apiserver as a TokenReview.
    const token = /^bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '')?.[1];
    if (token && this.options.webhookAuthentication !== false) return this.reviewToken(token);
    if (presented && !socket.authorized) return undefined;
    if (this.options.anonymousAuth) return { name: 'system:anonymous', groups: ['system:unauthenticated'] };
    return undefined;
  }

  /** The webhook token authenticator: POST a TokenReview with the kubelet's own credentials. */
  private async reviewToken(token: string): Promise<User | undefined> {
    try {
      const review = await this.api().create<{ metadata: Record<string, never>; status?: { authenticated?: boolean; user?: { username?: string; groups?: string[] }; error?: string } }>(
        '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token } } as never);
      if (review.status?.authenticated !== true || !review.status.user?.username) return undefined;
      return { name: review.status.user.username, groups: review.status.user.groups ?? [] };
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'TokenReview failed');
      return undefined;
    }
  }

  private async authorize(user: User, attrs: KubeletAttributes): Promise<boolean> {
    const review = await this.api().create<{ metadata: Record<string, never>; status?: { allowed?: boolean; reason?: string } }>(
      '/apis/authorization.k8s.io/v1/subjectaccessreviews', subjectAccessReview(user.name, user.groups, attrs));
    return review.status?.allowed === true;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket as TLSSocket;
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'https://kubelet.invalid');
    const attrs = requestAttributes(method, url.pathname, this.options.nodeName);
    const base = {
      type: 'request' as const, server: this.name, peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, method, path: req.url ?? '/',
      verb: attrs.verb, resource: `${attrs.resource}/${attrs.subresource}`,
    };
    const text = (status: number, body: string, contentType = 'text/plain; charset=utf-8'): void => {
      res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    const user = await this.authenticate(socket, req.headers.authorization);
    if (!user) {
      const code = socket.authorizationError === null ? undefined : String(socket.authorizationError);
      const certShown = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
      this.trace?.emit({ ...base, user: '', groups: [], decision: 'unauthenticated', layer: 'authentication', status: 401, reason: /^bearer\s/i.test(req.headers.authorization ?? '') && this.options.webhookAuthentication !== false ? 'token not authenticated by TokenReview' : certShown ? goReason(code) : 'no client certificate' });
      text(401, 'Unauthorized');
      return;
    }
    let allowed: boolean;
    try {
      allowed = await this.authorize(user, attrs);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'SubjectAccessReview failed');
      this.trace?.emit({ ...base, user: user.name, groups: user.groups, decision: 'deny', layer: 'authorization', status: 500, reason: (err as Error).message });
      text(500, authorizationErrorMessage(user.name, attrs));
      return;
    }
    if (!allowed) {
      const msg = forbiddenMessage(user.name, attrs);
      this.trace?.emit({ ...base, user: user.name, groups: user.groups, decision: 'deny', layer: 'authorization', status: 403, reason: msg });
      text(403, msg);
      return;
    }
    const status = this.serve(method, url, res);
    // Past the authorizer only the handler answers: a 404 or 405 is its own. (Built only when someone listens.)
    if (this.trace?.active) this.trace.emit({ ...base, user: user.name, groups: user.groups, decision: 'allow', layer: status < 400 ? 'none' : 'handler', status });
  }

  /**
   * An upgrade request (exec, attach, port-forward): the same authentication and SubjectAccessReview
   * as every kubelet path (nodes/proxy; `create` for the POST that SPDY upgrades with), then the
   * streaming session (streaming.ts). Refusals are plain HTTP answers on the socket.
   */
  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const tls = req.socket as TLSSocket;
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'https://kubelet.invalid');
    const attrs = requestAttributes(method, url.pathname, this.options.nodeName);
    const base = {
      type: 'request' as const, server: this.name, peer: `${tls.remoteAddress ?? '?'}:${tls.remotePort ?? '?'}`, method, path: req.url ?? '/',
      verb: attrs.verb, resource: `${attrs.resource}/${attrs.subresource}`,
    };
    socket.on('error', () => socket.destroy());
    if (this.stopped) { socket.destroy(); return; }
    this.sessions.add(socket);
    socket.once('close', () => this.sessions.delete(socket));
    const user = await this.authenticate(tls, req.headers.authorization);
    if (!user) {
      const code = tls.authorizationError === null ? undefined : String(tls.authorizationError);
      const certShown = Object.keys(tls.getPeerCertificate() ?? {}).length > 0;
      this.trace?.emit({ ...base, user: '', groups: [], decision: 'unauthenticated', layer: 'authentication', status: 401, reason: certShown ? goReason(code) : 'no client certificate' });
      refuseUpgrade(socket, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    let allowed: boolean;
    try {
      allowed = await this.authorize(user, attrs);
    } catch (err) {
      this.trace?.emit({ ...base, user: user.name, groups: user.groups, decision: 'deny', layer: 'authorization', status: 500, reason: (err as Error).message });
      refuseUpgrade(socket, 500, 'Internal Server Error', authorizationErrorMessage(user.name, attrs));
      return;
    }
    if (!allowed) {
      const msg = forbiddenMessage(user.name, attrs);
      this.trace?.emit({ ...base, user: user.name, groups: user.groups, decision: 'deny', layer: 'authorization', status: 403, reason: msg });
      refuseUpgrade(socket, 403, 'Forbidden', msg);
      return;
    }
    const route = streamingRoute(url.pathname);
    const pod = route ? this.runningPods().find((r) => r.namespace === route.namespace && r.name === route.pod) : undefined;
    if (!route || !pod) {
      this.trace?.emit({ ...base, user: user.name, groups: user.groups, decision: 'allow', layer: 'handler', status: 404 });
      refuseUpgrade(socket, 404, 'Not Found', route ? 'pod does not exist' : '404 page not found\n');
      return;
    }
    let traced = false;
    const status = await serveStreaming(req, socket, head, route, url.searchParams, {
      pod, upgraded: (protocol) => {
        traced = true;
        this.trace?.emit({ ...base, user: user.name, groups: user.groups, decision: 'allow', layer: 'none', status: 101, reason: `switched to ${protocol}` });
      },
    });
    if (!traced) this.trace?.emit({ ...base, user: user.name, groups: user.groups, decision: 'allow', layer: 'handler', status });
  }

  /** Routes an authorized request; returns the status written. */
  private serve(method: string, url: URL, res: ServerResponse): number {
    const send = (status: number, body: string, contentType = 'text/plain; charset=utf-8'): number => {
      res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return status;
    };
    const json = (body: unknown): number => send(200, JSON.stringify(body), 'application/json');
    const path = url.pathname;
    if (method !== 'GET') return send(405, 'Method Not Allowed');
    if (path === '/healthz') return send(200, 'ok');
    if (path === '/metrics/resource') return send(200, resourceMetrics(this.runningPods(), this.readyAt ?? this.clock.now(), this.clock.now()), 'text/plain; version=0.0.4; charset=utf-8');
    if (path === '/pods' || path === '/pods/') {
      return json({
        kind: 'PodList', apiVersion: 'v1', metadata: {},
        items: this.runningPods().map((r) => ({ ...r.pod, status: runningPodStatus(r, this.options.nodeIP) })),
      });
    }
    if (path === '/spec' || path === '/spec/') {
      const f = this.facts();
      return json({ num_cores: Number(f.capacity.cpu), memory_capacity: quantityBytes(f.capacity.memory) ?? 0, machine_id: '', system_uuid: '', boot_id: '', cpu_frequency_khz: 2_000_000 });
    }
    if (path === '/stats/summary') {
      return json({
        node: { nodeName: this.options.nodeName, startTime: rfc3339(this.readyAt ?? this.clock.now()) },
        pods: this.runningPods().map((r) => ({
          podRef: { name: r.name, namespace: r.namespace, uid: r.uid }, startTime: rfc3339(r.startTime),
          containers: r.containers.map((c) => ({ name: c.name, startTime: rfc3339(c.startedAt) })),
        })),
      });
    }
    const logs = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(path);
    if (logs) {
      const [ns, podName, containerName] = [decodeURIComponent(logs[1]!), decodeURIComponent(logs[2]!), decodeURIComponent(logs[3]!)];
      const pod = this.runningPods().find((r) => r.namespace === ns && r.name === podName);
      if (!pod) return send(404, `pod "${podName}" does not exist`);
      const container = pod.containers.find((c) => c.name === containerName);
      if (!container) return send(404, `container "${containerName}" not found in pod "${podName}"`);
      const tail = url.searchParams.get('tailLines');
      const body = formatLogs(container.logs, {
        ...(tail !== null && /^\d+$/.test(tail) ? { tailLines: Number(tail) } : {}),
        timestamps: url.searchParams.get('timestamps') === 'true',
      });
      if (url.searchParams.get('follow') !== 'true') return send(200, body);
      // follow: the lines so far, then the stream stays open until the container stops or the client leaves.
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Transfer-Encoding': 'chunked' });
      res.write(body);
      // Closing (draining): the stream gets the lines so far and ends, as the open ones were ended.
      if (this.stopped) { res.end(); return 200; }
      const key = `${ns}/${podName}/${containerName}`;
      const set = this.followers.get(key) ?? new Set<ServerResponse>();
      set.add(res);
      this.followers.set(key, set);
      res.on('close', () => set.delete(res));
      return 200;
    }
    return send(404, '404 page not found\n');
  }
}
