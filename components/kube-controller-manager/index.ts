/**
 * kube-controller-manager: the Deployment, ReplicaSet, Endpoints, EndpointSlice and garbage-collector controllers,
 * and, given the cluster-signing CA as kubeadm gives it, the certificate controllers with the two kubeadm adds
 * (`--controllers=*,bootstrapsigner,tokencleaner`).
 *
 * Its own identity is controller-manager.conf's client certificate (user
 * system:kube-controller-manager). With `useServiceAccountCredentials` (kubeadm sets
 * --use-service-account-credentials=true) it does what the real clientbuilder does: as itself, it
 * makes sure each controller's ServiceAccount exists in kube-system and asks the TokenRequest API for a
 * token; each controller then writes with its own client, authenticated by that bearer token alone
 * (user system:serviceaccount:kube-system:<controller>), so RBAC sees each controller separately. The
 * shared informers list and watch as the controller-manager itself, as the real shared informer
 * factory does.
 *
 * With `secureServing` it serves /healthz, /livez, /readyz and /metrics on its secure port (10257) with a
 * self-signed certificate and delegated authentication/authorization (../client/secure-serving.ts).
 */
import type { Logger } from 'pino';
import { Lifecycle, type Clock, type Component, type ComponentDeps, systemClock } from '../client/common.js';
import { ApiError, KubeClient, resourcePath } from '../client/kube-client.js';
import type { Identity } from '../client/tls.js';
import { SecureServing, type SecureServingInfo, type SecureServingOptions } from '../client/secure-serving.js';
import type { AddressInfo } from 'node:net';
import type { Deployment, EndpointSlice, Endpoints, KubeObject, Pod, ReplicaSet, Secret, Service } from '../api/types.js';
import { DeploymentController } from './deployment.js';
import { EndpointsController } from './endpoints.js';
import { EndpointSliceController } from './endpointslice.js';
import { GarbageCollector } from './garbage-collector.js';
import { SharedInformerFactory, type Lister } from '../client/informer.js';
import { LeaderElector } from '../client/leader-election.js';
import { ReplicaSetController } from './replicaset.js';
import { EventBroadcaster } from '../client/events.js';
import { TokenCleaner } from './tokencleaner.js';
import { BootstrapSigner, CsrApprovingController, CsrSigningController, type ClusterSigning } from './certificates.js';
import type { CertificateSigningRequest } from '../api/certificates.js';
import type { BootstrapTokenSecret } from '../api/bootstrap-token.js';
import type { WorkQueue } from '../client/workqueue.js';

export type ControllerName = 'deployment' | 'replicaset' | 'endpoint' | 'endpointslice' | 'garbagecollector' | 'csrapproving' | 'csrsigning' | 'bootstrapsigner' | 'tokencleaner';

/** The service account each controller runs as (the real controller-manager's names). */
export const SERVICE_ACCOUNTS: Readonly<Record<ControllerName, string>> = {
  deployment: 'deployment-controller',
  replicaset: 'replicaset-controller',
  endpoint: 'endpoint-controller',
  endpointslice: 'endpointslice-controller',
  garbagecollector: 'generic-garbage-collector',
  csrapproving: 'certificate-controller',
  csrsigning: 'certificate-controller',
  bootstrapsigner: 'bootstrap-signer',
  tokencleaner: 'token-cleaner',
};

export interface KubeControllerManagerOptions {
  /** `https://host:port` of the apiserver. */
  readonly apiserver: string;
  /** controller-manager.conf's client certificate and key (CN system:kube-controller-manager). */
  readonly identity: Identity;
  readonly serverCa: string;
  /** Default true, as kubeadm sets it. False: every controller uses the controller-manager's certificate. */
  readonly useServiceAccountCredentials?: boolean;
  /**
   * --cluster-signing-cert-file / --cluster-signing-key-file (ca.crt, ca.key) and --cluster-signing-duration.
   * Given (kubeadm always gives them), the certificate controllers (csrapproving, csrsigning) and the
   * bootstrapsigner and tokencleaner kubeadm enables run by default too.
   */
  readonly clusterSigning?: ClusterSigning;
  /** Which controllers run (default: deployment, replicaset, endpoint, endpointslice, garbagecollector, and the certificate ones with clusterSigning). */
  readonly controllers?: readonly ControllerName[];
  /** Lifetime asked for in each TokenRequest (the real clientbuilder asks for 3600 s). */
  readonly tokenExpirationSeconds?: number;
  /** Hold the `kube-system/kube-controller-manager` Lease before running controllers (kubeadm: --leader-elect=true). Default false. */
  readonly leaderElect?: boolean;
  readonly leaseDurationSeconds?: number;
  readonly retryPeriodSeconds?: number;
  /** --bind-address/--secure-port (kubeadm: 127.0.0.1:10257) and --client-ca-file; absent: no secure port. */
  readonly secureServing?: SecureServingOptions;
}

interface ServiceAccount extends KubeObject {
  secrets?: { name: string }[];
}

interface TokenRequest extends KubeObject {
  spec: { audiences?: string[]; expirationSeconds?: number };
  status?: { token: string; expirationTimestamp: string };
}

export class KubeControllerManager implements Component {
  readonly name = 'kube-controller-manager';
  private readonly options: KubeControllerManagerOptions;
  private readonly deps: ComponentDeps;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly clients: KubeClient[] = [];
  private informers: SharedInformerFactory | undefined;
  private readonly queues: WorkQueue[] = [];
  /** The controllers' event broadcasters (each controller has its own, as in kube-controller-manager). */
  private readonly recorders: EventBroadcaster[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private elector: LeaderElector | undefined;
  private bootstrapSigner: BootstrapSigner | undefined;
  /** The CSR approver, once running (its decisions explain why a CSR stays Pending). */
  csrApprover: CsrApprovingController | undefined;
  private started = false;
  private secure: SecureServing | undefined;
  private readonly lifecycle = new Lifecycle('kube-controller-manager');

  constructor(options: KubeControllerManagerOptions, deps: ComponentDeps) {
    this.options = options;
    this.deps = deps;
    this.logger = deps.logger.child({ component: 'kube-controller-manager' });
    this.clock = deps.clock ?? systemClock;
  }

  /** The apiserver CA bundle given by reloadTls, for clients made after it. */
  private reloadedServerCa: string | undefined;

  /**
   * New client certificate (controller-manager.conf, used by its own client only) and/or the apiserver's
   * CA bundle (every client, the controllers' token clients included) for later connections.
   */
  reloadTls(material: { identity?: Identity; serverCa?: string }): void {
    if (material.serverCa) this.reloadedServerCa = material.serverCa;
    for (const c of this.clients) {
      const own = c.name === 'kube-controller-manager';
      c.reloadTls({ ...(own && material.identity ? { identity: material.identity } : {}), ...(material.serverCa ? { ca: material.serverCa } : {}) });
    }
  }

  private newClient(name: string, auth: { identity: Identity } | { token: string }): KubeClient {
    const c = new KubeClient({
      name, server: this.options.apiserver, serverCa: this.reloadedServerCa ?? this.options.serverCa, ...auth,
      ...(this.deps.trace ? { trace: this.deps.trace } : {}),
    });
    this.clients.push(c);
    return c;
  }

  /**
   * A controller's client, authenticated by its service account's token alone; the token is requested
   * again when 80% of its lifetime has passed, as clientbuilder's token source does.
   */
  private async serviceAccountClient(root: KubeClient, sa: string): Promise<KubeClient> {
    const first = await this.serviceAccountToken(root, sa);
    const client = this.newClient(`kube-controller-manager (${sa})`, { token: first.token });
    const schedule = (expires: Date): void => {
      if (this.stopped) return;
      const now = this.clock.now().getTime();
      const lifetime = Math.max(0, expires.getTime() - now);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.stopped) return;
        this.serviceAccountToken(root, sa).then((t) => {
          client.setToken(t.token);
          schedule(t.expires);
        }, (err: unknown) => {
          this.logger.warn({ err: err instanceof Error ? err.message : String(err), serviceAccount: sa }, 'token refresh failed; retrying');
          schedule(new Date(this.clock.now().getTime() + 10_000 / 0.8));
        });
      }, Math.max(1000, lifetime * 0.8));
      this.timers.add(timer);
    };
    schedule(first.expires);
    return client;
  }

  /** clientbuilder.DynamicControllerClientBuilder: get or create the ServiceAccount, then a token for it. */
  private async serviceAccountToken(root: KubeClient, sa: string): Promise<{ token: string; expires: Date }> {
    const ns = 'kube-system';
    const saPath = resourcePath({ resource: 'serviceaccounts', namespace: ns });
    try {
      await root.get<ServiceAccount>(`${saPath}/${sa}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.httpStatus === 404)) throw err;
      try {
        await root.create<ServiceAccount>(saPath, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: ns } });
      } catch (e) {
        if (!(e instanceof ApiError && e.httpStatus === 409)) throw e;
      }
    }
    const tr = await root.create<TokenRequest>(`${saPath}/${sa}/token`, {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: sa, namespace: ns },
      spec: { expirationSeconds: this.options.tokenExpirationSeconds ?? 3600 },
    });
    const token = tr.status?.token;
    if (!token) throw new Error(`TokenRequest for kube-system/${sa} returned no token`);
    this.logger.info({ serviceAccount: `kube-system/${sa}`, expires: tr.status?.expirationTimestamp }, 'obtained service-account token');
    const expires = new Date(Date.parse(tr.status?.expirationTimestamp ?? '') || this.clock.now().getTime() + (this.options.tokenExpirationSeconds ?? 3600) * 1000);
    return { token, expires };
  }

  /** The secure port's address and serving certificate, once started with `secureServing`. */
  get secureServing(): SecureServingInfo | undefined {
    return this.secure?.info;
  }

  /** Resolves with the secure port's address when `secureServing` is set. */
  async start(): Promise<AddressInfo | undefined> {
    this.lifecycle.check('start');
    if (this.started) throw new Error('kube-controller-manager already started');
    this.started = true;
    try {
      await this.run();
    } catch (err) {
      await this.destroy();
      throw err;
    }
    return this.secure?.info?.address;
  }

  /** A few of the real controller-manager's series, in the Prometheus text format. */
  private metrics(): string {
    return [
      '# HELP leader_election_master_status [ALPHA] Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. \'name\' is the string used to identify the lease. Please make sure to group by name.',
      '# TYPE leader_election_master_status gauge',
      `leader_election_master_status{name="kube-controller-manager"} ${this.options.leaderElect ? 1 : 0}`,
      '# HELP workqueue_depth [ALPHA] Current depth of workqueue',
      '# TYPE workqueue_depth gauge',
      ...[...this.queues].sort((a, b) => a.name.localeCompare(b.name)).map((q) => `workqueue_depth{name="${q.name}"} ${q.length}`),
      '',
    ].join('\n');
  }

  private async run(): Promise<void> {
    const enabled = new Set<ControllerName>(this.options.controllers ?? ['deployment', 'replicaset', 'endpoint', 'endpointslice', 'garbagecollector',
      ...(this.options.clusterSigning ? ['csrapproving', 'csrsigning', 'bootstrapsigner', 'tokencleaner'] as const : [])]);
    const root = this.newClient('kube-controller-manager', { identity: this.options.identity });
    if (this.options.secureServing) {
      // Served before leader election, as the real one: the health checks answer on a standby too.
      this.secure = new SecureServing(this.options.secureServing, {
        name: 'kube-controller-manager', api: () => root, metrics: () => this.metrics(), logger: this.logger, clock: this.clock, trace: this.deps.trace,
      });
      await this.secure.start();
    }
    if (this.options.leaderElect) {
      this.elector = new LeaderElector({
        client: root, lease: 'kube-controller-manager', clock: this.clock, logger: this.logger,
        ...(this.options.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: this.options.leaseDurationSeconds } : {}),
        ...(this.options.retryPeriodSeconds !== undefined ? { retryPeriodSeconds: this.options.retryPeriodSeconds } : {}),
      });
      await this.elector.acquire();
    }
    const clientFor = async (c: ControllerName): Promise<KubeClient> => {
      if (this.options.useServiceAccountCredentials === false) return root;
      return this.serviceAccountClient(root, SERVICE_ACCOUNTS[c]);
    };
    const factory = new SharedInformerFactory(root, this.logger);
    this.informers = factory;
    const informer = <T extends KubeObject>(path: string, kind: string) => factory.informerFor<T>(path, kind);
    const pods = informer<Pod>(resourcePath({ resource: 'pods' }), '*v1.Pod');
    const replicaSets = informer<ReplicaSet>(resourcePath({ group: 'apps', resource: 'replicasets' }), '*v1.ReplicaSet');
    const deployments = informer<Deployment>(resourcePath({ group: 'apps', resource: 'deployments' }), '*v1.Deployment');
    const services = informer<Service>(resourcePath({ resource: 'services' }), '*v1.Service');
    const endpoints = informer<Endpoints>(resourcePath({ resource: 'endpoints' }), '*v1.Endpoints');
    const endpointSlices = informer<EndpointSlice>(resourcePath({ group: 'discovery.k8s.io', resource: 'endpointslices' }), '*v1.EndpointSlice');
    const log = (name: string): Logger => this.logger.child({ controller: name });

    // Controllers register their handlers before the informers start, so the first list reaches them.
    if (enabled.has('replicaset')) {
      const c = new ReplicaSetController({ client: await clientFor('replicaset'), replicaSets, pods, logger: log('replicaset'), clock: this.clock });
      this.queues.push(c.queue);
      this.recorders.push(c.events);
    }
    if (enabled.has('deployment')) {
      const c = new DeploymentController({ client: await clientFor('deployment'), deployments, replicaSets, pods, logger: log('deployment'), clock: this.clock });
      this.queues.push(c.queue);
      this.recorders.push(c.events);
    }
    if (enabled.has('endpoint')) {
      this.queues.push(new EndpointsController({ client: await clientFor('endpoint'), services, pods, endpoints, logger: log('endpoint') }).queue);
    }
    if (enabled.has('endpointslice')) {
      this.queues.push(new EndpointSliceController({ client: await clientFor('endpointslice'), services, pods, endpointSlices, logger: log('endpointslice') }).queue);
    }
    if (enabled.has('garbagecollector')) {
      // The real collector watches every resource (metadata only); here, the kinds whose owner chains exist.
      const secrets = informer<Secret>(resourcePath({ resource: 'secrets' }), '*v1.Secret');
      this.queues.push(new GarbageCollector({ client: await clientFor('garbagecollector'), deployments, replicaSets, pods, services, endpointSlices, secrets, logger: log('garbagecollector') }).queue);
    }
    if (enabled.has('csrapproving') || enabled.has('csrsigning')) {
      const csrs = informer<CertificateSigningRequest>(resourcePath({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests' }), '*v1.CertificateSigningRequest');
      if (enabled.has('csrapproving')) {
        this.csrApprover = new CsrApprovingController({ client: await clientFor('csrapproving'), csrs, logger: log('csrapproving'), clock: this.clock });
        this.queues.push(this.csrApprover.queue);
      }
      if (enabled.has('csrsigning')) {
        if (!this.options.clusterSigning) throw new Error('kube-controller-manager: csrsigning needs --cluster-signing-cert-file and --cluster-signing-key-file');
        this.queues.push(new CsrSigningController({ client: await clientFor('csrsigning'), csrs, logger: log('csrsigning'), clock: this.clock, signing: this.options.clusterSigning }).queue);
      }
    }
    // The token Secrets of kube-system: one informer for the bootstrap signer and the token cleaner.
    const tokenSecrets = (): Lister<BootstrapTokenSecret> => factory.informerFor<BootstrapTokenSecret>(resourcePath({ resource: 'secrets', namespace: 'kube-system' }), '*v1.Secret', { fieldSelector: 'type=bootstrap.kubernetes.io/token' });
    if (enabled.has('tokencleaner')) {
      this.queues.push(new TokenCleaner({ client: await clientFor('tokencleaner'), secrets: tokenSecrets(), logger: log('tokencleaner'), clock: this.clock }).queue);
    }
    if (enabled.has('bootstrapsigner')) {
      const secrets = tokenSecrets();
      const configMaps = factory.informerFor<KubeObject & { data?: Record<string, string> }>(resourcePath({ resource: 'configmaps', namespace: 'kube-public' }), '*v1.ConfigMap', { fieldSelector: 'metadata.name=cluster-info' });
      this.bootstrapSigner = new BootstrapSigner({ client: await clientFor('bootstrapsigner'), secrets, configMaps, logger: log('bootstrapsigner'), clock: this.clock });
      this.queues.push(this.bootstrapSigner.queue);
    }
    if (this.stopped) return;
    await factory.start();
    this.logger.info({ controllers: [...enabled] }, 'caches synced; controllers running');
  }

  /** Resolves when every controller's queue is empty and its events are written (for tests that want a settled state). */
  async idle(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.idle()));
    await Promise.all(this.recorders.map((r) => r.flush()));
  }

  /** Drains: stops the timers, queues and informers (a sync in flight finishes), then closes every client. */
  close(): Promise<void> {
    return this.lifecycle.end(() => this.release('close'));
  }

  /** Aborts: closes every client first, so requests in flight fail, then stops the rest. */
  destroy(): Promise<void> {
    if (this.lifecycle.closed) for (const c of this.clients) c.close();
    return this.lifecycle.end(() => this.release('destroy'));
  }

  /** An alias of close(). */
  stop(): Promise<void> {
    return this.close();
  }

  private get stopped(): boolean {
    return this.lifecycle.closed;
  }

  private async release(mode: 'close' | 'destroy'): Promise<void> {
    if (mode === 'destroy') for (const c of this.clients) c.close();
    await this.secure?.close(mode);
    this.elector?.stop();
    this.bootstrapSigner?.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const q of this.queues) q.stop();
    for (const r of this.recorders) r.stop();
    await this.informers?.stop();
    for (const c of this.clients) c.close();
  }
}
