/**
 * The cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, then a kubelet and a
 * kube-proxy per node, each with its own certificate from the PKI, each on its own loopback address
 * (apiserver and stacked etcd on the control-plane address, node-k's kubelet on 127.0.2.k) so IP SANs
 * mean something. Started in dependency order, stopped in reverse; if any start fails, what started is
 * stopped again and the error names the component.
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import type { LeafName, Pki } from '../pki/store.js';
import type { Component } from '../components/client/common.js';
import { Etcd } from '../components/etcd/index.js';
import { EtcdProcess } from '../components/etcd/process.js';
import { EtcdChild } from './etcd-child.js';
import { KubeApiserver } from '../components/kube-apiserver/index.js';
import { ApiError, KubeClient } from '../components/client/kube-client.js';
import { kubeadmInitObjects } from '../components/kube-apiserver/bootstrap.js';
import { KubeControllerManager } from '../components/kube-controller-manager/index.js';
import { KubeScheduler } from '../components/kube-scheduler/index.js';
import { KUBE_CONTROLLER_MANAGER_PORT, KUBE_SCHEDULER_PORT, selfSignedServing } from '../components/client/secure-serving.js';
import type { Trace } from '../components/client/trace.js';
import { uploadClusterInfo } from './join.js';
import { uploadKubeProxyConfig } from './kube-proxy-config.js';
import type { ProxyMode } from '../components/kube-proxy/index.js';
import { clusterTls, type ClusterTls, type Trust } from './wiring.js';
import { startNode, stopNode, type NodeCommon, type NodeKubelet, type NodeProxy, type NodeSpec } from './nodes.js';
import { NodeWorkers, workerCount } from './workers.js';
import { privateKeyPem } from '../pki/issue.js';
import type { MetricsServer } from '../components/metrics-server/index.js';
import { installMetricsServer, type MetricsServerInstall } from './metrics-server.js';

export interface ClusterOptions {
  readonly pki: Pki;
  readonly trace: Trace;
  readonly logger: Logger;
  /** `real`: 6443, 2379 and 10250 where free, else any free port; `ephemeral`: always any free port (tests). */
  readonly ports?: 'real' | 'ephemeral';
  /**
   * Whether the apiserver verifies kubelet serving certificates against the Kubernetes CA
   * (--kubelet-certificate-authority, as the seed and "Kubernetes The Hard Way" do; the default here) or
   * not (kubeadm's default, which CIS benchmark 1.2.5 flags).
   */
  readonly kubeletCertificateAuthority?: boolean;
  /**
   * etcd's --trusted-ca-file, when it is not the etcd CA: a mis-wiring the probe must catch (a bundle
   * with the Kubernetes CA, or "Kubernetes The Hard Way"'s one CA for all, lets a kubelet's certificate
   * reach etcd). sim/miswire.ts sets it.
   */
  readonly etcdTrustedCa?: string;
  /** Which nodes of the PKI's plan get a kubelet and kube-proxy (default: all). */
  readonly nodes?: readonly string[];
  /**
   * etcd and/or an apiserver already running (started by the caller, who also stops them): the cluster
   * adopts them instead of starting its own, e.g. after they picked up renewed certificates.
   */
  readonly running?: { readonly etcd?: Etcd; readonly apiserver?: KubeApiserver };
  /**
   * CSR signing and node join, as kubeadm always sets them up: the controller-manager gets ca.crt/ca.key
   * as --cluster-signing-cert-file/--cluster-signing-key-file (csrapproving, csrsigning, bootstrapsigner
   * run) and `kubeadm init` uploads kube-public/cluster-info. durationMs is --cluster-signing-duration
   * (default one year); backdateMs the signer's backdate (default 5 min; a scenario with certificates
   * that live seconds sets 0). `false` runs the controller-manager without a signing CA.
   */
  readonly clusterSigning?: { readonly durationMs?: number; readonly backdateMs?: number } | false;
  /**
   * Which etcd the apiserver uses (default embedded, in its own process when the nodes run in workers):
   * the embedded one, in this process or its own (`ownProcess`); a real `etcd` binary spawned
   * with etcd/server, etcd/peer and --client-cert-auth against etcd/ca (`process`); or members the user
   * runs (`external`, `https://` URLs; they must trust apiserver-etcd-client's CA and serve a certificate
   * from etcd/ca). The apiserver talks to each the same way, over the v3 JSON gateway.
   */
  readonly etcd?: EtcdChoice;
  /**
   * The cluster directory, when the cluster's state is to survive a restart (`npm run cluster`): etcd
   * keeps its data in DIR/etcd (the embedded one its write-ahead log and snapshot, a real one its
   * --data-dir), and a real etcd reads its certificates from DIR/pki/etcd as kubeadm's static pod does.
   * Absent (scenarios, tests, --ephemeral): the embedded etcd is in memory only, a real one uses a
   * temporary folder removed on stop.
   */
  readonly stateDir?: string;
  /**
   * Where the nodes' kubelets and kube-proxies run: in this process (0, the default), in that many node
   * worker processes (sim/workers.ts; nodes spread across them, each dialling the apiserver over real
   * TCP and mTLS with its own certificates), or `auto`: in this process below 50 nodes, else in
   * min(cores, nodes/100 rounded up) workers.
   */
  readonly workers?: number | 'auto';
  /**
   * metrics-server behind the aggregator, installed as its manifest does once the nodes are up
   * (sim/metrics-server.ts), on 127.0.1.4 (its "pod IP", beside the control plane: 127.0.2.0 and on
   * belong to the nodes). `npm run cluster` turns it on; default off.
   */
  readonly metricsServer?: Partial<Omit<MetricsServerInstall, 'port'>> | false;
  /**
   * Every kube-proxy's mode, as KubeProxyConfiguration `mode` sets it for the cluster (kubeadm's
   * kube-proxy ConfigMap): `iptables` (the default) or `ipvs`. The informers and mTLS are the same.
   */
  readonly proxyMode?: ProxyMode;
}

export type EtcdChoice =
  /**
   * The embedded etcd: in this process, or (`ownProcess`) in a process of its own, as kubeadm's etcd
   * static pod is (sim/etcd-child.ts); `auto`: its own process whenever the nodes run in workers.
   */
  | { readonly kind: 'embedded'; readonly ownProcess?: boolean | 'auto' }
  | { readonly kind: 'process'; readonly binary?: string; readonly dataDir?: string }
  | { readonly kind: 'external'; readonly endpoints: readonly string[] };

export { identityOf } from './wiring.js';

export interface Endpoints {
  readonly etcd: string;
  readonly apiserver: string;
  readonly kubelets: Readonly<Record<string, string>>;
}

export class Cluster {
  /** The PKI the components use; replaced by `reloadPki`. */
  pki: Pki;
  readonly trace: Trace;
  private readonly options: ClusterOptions;
  private readonly started: Component[] = [];
  private readonly clients: KubeClient[] = [];
  /** The etcd the cluster started (embedded, in this process or its own, or a real process); undefined for external members. */
  etcd: Etcd | EtcdChild | EtcdProcess | undefined;
  apiserver: KubeApiserver | undefined;
  scheduler: KubeScheduler | undefined;
  controllerManager: KubeControllerManager | undefined;
  /** Each node's kubelet and kube-proxy: the objects themselves, or handles on them in a node worker. */
  readonly kubelets = new Map<string, NodeKubelet>();
  readonly proxies = new Map<string, NodeProxy>();
  /** The node worker processes, when the nodes run in workers. */
  nodeWorkers: NodeWorkers | undefined;
  metricsServer: MetricsServer | undefined;
  private addresses: { etcd?: string; apiserver?: string; kubelets: Record<string, string> } = { kubelets: {} };
  private stopping: Promise<void> | undefined;

  constructor(options: ClusterOptions) {
    this.options = options;
    this.pki = options.pki;
    this.trace = options.trace;
  }

  get endpoints(): Endpoints {
    if (!this.addresses.etcd || !this.addresses.apiserver) throw new Error('the cluster is not started');
    return { etcd: this.addresses.etcd, apiserver: this.addresses.apiserver, kubelets: { ...this.addresses.kubelets } };
  }

  get apiserverUrl(): string {
    return this.endpoints.apiserver;
  }

  /** Starts a component on its real port, or on any free port when that one is taken (or in ephemeral mode). */
  private async startOn<C extends Component>(make: (port: number) => C, realPort: number): Promise<{ component: C; address: AddressInfo }> {
    const ports = this.options.ports === 'real' ? [realPort, 0] : [0];
    let last: unknown;
    for (const port of ports) {
      const component = make(port);
      try {
        const address = await component.start();
        this.started.push(component);
        return { component, address: address! };
      } catch (err) {
        last = err;
        await component.stop().catch(() => undefined);
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
        this.options.logger.info({ component: component.name, port }, 'port taken, falling back to any free port');
      }
    }
    throw last;
  }

  private async startClient<C extends Component>(component: C): Promise<C> {
    await component.start();
    this.started.push(component);
    return component;
  }

  /** Every component's certificates and trusted CAs from `pki` (sim/wiring.ts), with this cluster's choices. */
  private tls(pki: Pki, bundles: Partial<Trust> = {}): ClusterTls {
    const tls = clusterTls(pki, { kubeletCertificateAuthority: this.options.kubeletCertificateAuthority ?? true, bundles });
    const trustedCa = this.options.etcdTrustedCa;
    return trustedCa === undefined ? tls : { ...tls, etcd: { ...tls.etcd, trustedCa }, etcdMember: { ...tls.etcdMember, trustedCa } };
  }

  /** The plan's nodes this cluster runs (`nodes`, or all). */
  private plannedNodes(): Pki['plan']['nodes'] {
    return this.pki.plan.nodes.filter((n) => this.options.nodes?.includes(n.name) ?? true);
  }

  /** Whether the embedded etcd runs in a process of its own (`ownProcess`, or `auto` with nodes in workers). */
  private etcdInOwnProcess(choice: EtcdChoice): boolean {
    if (this.options.running?.etcd) return false;
    if (choice.kind !== 'embedded') return false;
    if (choice.ownProcess !== 'auto') return choice.ownProcess === true;
    return workerCount(this.options.workers, this.plannedNodes().length) > 0;
  }

  async start(): Promise<this> {
    const { pki, trace, logger } = this.options;
    const plan = pki.plan;
    const tls = this.tls(pki);
    // kubeadm's static pods start at once: the controller-manager and the scheduler make their self-signed
    // serving certificates (four RSA-2048 keys, on the thread pool) while etcd and the apiserver come up,
    // not one after the other once the apiserver answers.
    const selfSigned = { controllerManager: selfSignedServing(new Date()), scheduler: selfSignedServing(new Date()) };
    for (const p of Object.values(selfSigned)) p.catch(() => undefined); // awaited below; a start that fails first drops them
    try {
      const running = this.options.running;
      const choice = this.options.etcd ?? { kind: 'embedded', ownProcess: 'auto' };
      let etcdEndpoints: readonly string[];
      if (choice.kind === 'external' && !running?.etcd) {
        if (choice.endpoints.length === 0) throw new Error('etcd: no external endpoints given');
        etcdEndpoints = choice.endpoints;
      } else {
        const stateDir = this.options.stateDir;
        const dataDir = choice.kind === 'process' && choice.dataDir ? choice.dataDir : stateDir ? path.join(stateDir, 'etcd') : undefined;
        const etcdPki = stateDir ? path.join(stateDir, 'pki', 'etcd') : undefined;
        const etcd = running?.etcd ? { component: running.etcd, address: running.etcd.address! } : choice.kind === 'process'
          ? await this.startOn((port) => new EtcdProcess({
            host: plan.advertiseAddress, clientPort: port, peerPort: 0, ...tls.etcdMember,
            ...(choice.binary ? { binary: choice.binary } : {}), ...(dataDir ? { dataDir } : {}), logger, trace,
            ...(etcdPki && this.options.etcdTrustedCa === undefined ? {
              tlsFiles: {
                certFile: path.join(etcdPki, 'server.crt'), keyFile: path.join(etcdPki, 'server.key'), peerCertFile: path.join(etcdPki, 'peer.crt'),
                peerKeyFile: path.join(etcdPki, 'peer.key'), trustedCaFile: path.join(etcdPki, 'ca.crt'),
              },
            } : {}),
          }), 2379)
          : this.etcdInOwnProcess(choice)
            ? await this.startOn((port) => new EtcdChild({ host: plan.advertiseAddress, port, ...tls.etcd, logger, trace, ...(dataDir ? { dataDir } : {}) }), 2379)
            : await this.startOn((port) => new Etcd({
              host: plan.advertiseAddress, port, ...tls.etcd, logger, trace, ...(dataDir ? { dataDir } : {}),
            }), 2379);
        this.etcd = etcd.component;
        etcdEndpoints = [`https://${plan.advertiseAddress}:${etcd.address.port}`];
      }
      this.addresses.etcd = etcdEndpoints[0]!;

      const api = running?.apiserver ? { component: running.apiserver, address: running.apiserver.address! } : await this.startOn((port) => new KubeApiserver({
        host: plan.advertiseAddress, port, ...tls.apiserver, etcd: { endpoints: etcdEndpoints, ...tls.apiserver.etcd },
        serviceAccount: pki.serviceAccount,
        advertiseAddress: plan.advertiseAddress,
        logger, trace,
      }), plan.apiserverPort);
      this.apiserver = api.component;
      const url = `https://${plan.advertiseAddress}:${api.address.port}`;
      this.addresses.apiserver = url;

      await this.kubeadmInit(url);

      const signing = this.options.clusterSigning ?? {};
      const caSigner = pki.signers.get('ca');
      // Their secure ports on 127.0.0.1 (kubeadm's --bind-address), 10257 and 10259 where free with `ports: 'real'`;
      // kubeadm gives the controller-manager --client-ca-file=ca.crt, the scheduler reads the ConfigMap.
      const [cmPair, schedulerPair] = await Promise.all([selfSigned.controllerManager, selfSigned.scheduler]);
      const cm = await this.startOn((port) => new KubeControllerManager({
        apiserver: url, ...tls.controllerManager, secureServing: { host: '127.0.0.1', port, clientCa: tls.trust.ca, selfSigned: cmPair },
        ...(signing && caSigner ? { clusterSigning: { certPem: caSigner.cert.toString(), keyPem: privateKeyPem(caSigner.key), ...signing } } : {}),
      }, { logger, trace }), KUBE_CONTROLLER_MANAGER_PORT);
      this.controllerManager = cm.component;
      const scheduler = await this.startOn((port) => new KubeScheduler({
        apiserver: url, ...tls.scheduler, secureServing: { host: '127.0.0.1', port, selfSigned: schedulerPair },
      }, { logger, trace }), KUBE_SCHEDULER_PORT);
      this.scheduler = scheduler.component;
      // The real apiserver probes 127.0.0.1:10257 and :10259 for `kubectl get cs`; tell it where they listen.
      this.apiserver.setComponentStatusServers([
        { name: 'controller-manager', url: `https://127.0.0.1:${cm.address.port}/healthz` },
        { name: 'scheduler', url: `https://127.0.0.1:${scheduler.address.port}/healthz` },
      ]);
      await this.startNodes(url, tls);
      if (this.options.metricsServer) await this.startMetricsServer(url, this.options.metricsServer);
      return this;
    } catch (err) {
      const failed = err instanceof Error ? err.message : String(err);
      await this.stop();
      throw new Error(`cluster start failed (everything started was stopped again): ${failed}`, { cause: err });
    }
  }

  /** The nodes: in this process one after the other, or spread across node worker processes. */
  private async startNodes(url: string, tls: ClusterTls): Promise<void> {
    const { trace, logger } = this.options;
    const specs: NodeSpec[] = this.plannedNodes()
      .map((n) => ({ name: n.name, ip: n.ip, podCIDR: n.podCIDR, kubelet: tls.kubelet(n.name) }));
    const common: NodeCommon = { apiserver: url, kubeProxy: tls.kubeProxy, clusterCIDR: this.pki.plan.podSubnet, ports: this.options.ports ?? 'ephemeral', proxyMode: this.proxyMode };
    const count = workerCount(this.options.workers, specs.length);
    if (count === 0) {
      // A handful of nodes start one by one (the tour's trace keeps its order); many start 32 at a time.
      const batch = specs.length > 16 ? 32 : 1;
      for (let i = 0; i < specs.length; i += batch) {
        const settled = await Promise.allSettled(specs.slice(i, i + batch).map((spec) => startNode(spec, common, { logger, trace })));
        for (const r of settled) {
          if (r.status === 'rejected') continue;
          const node = r.value;
          this.started.push({ name: `node ${node.name}`, start: async () => undefined, close: () => stopNode(node), destroy: () => stopNode(node, 'destroy'), stop: () => stopNode(node) });
          this.kubelets.set(node.name, node.kubelet);
          this.proxies.set(node.name, node.proxy);
          this.addresses.kubelets[node.name] = node.url;
        }
        const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
      return;
    }
    const workers = new NodeWorkers({ count, nodes: specs, common, trace, logger });
    this.nodeWorkers = workers;
    this.started.push(workers);
    await workers.start();
    for (const spec of specs) {
      this.kubelets.set(spec.name, workers.kubelets.get(spec.name)!);
      this.proxies.set(spec.name, workers.proxies.get(spec.name)!);
      this.addresses.kubelets[spec.name] = workers.urls.get(spec.name)!;
    }
  }

  private async startMetricsServer(url: string, choice: Partial<Omit<MetricsServerInstall, 'port'>>): Promise<void> {
    const { logger, trace } = this.options;
    const admin = new KubeClient({ name: 'kubectl apply (metrics-server)', server: url, ...this.tls(this.pki).client('admin.conf'), trace });
    try {
      const ports = this.options.ports === 'real' ? [10250, 0] : [0];
      for (const port of ports) {
        try {
          this.metricsServer = await installMetricsServer(admin, url, this.tls(this.pki).trust.ca, { host: '127.0.1.4', metricResolutionMs: 2000, ...choice, port }, { logger, trace });
          this.started.push(this.metricsServer);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
        }
      }
    } finally {
      admin.close();
    }
  }

  /**
   * What `kubeadm init` does through the API once the apiserver answers, with super-admin.conf
   * (system:masters): the kubeadm:cluster-admins binding that gives admin.conf its rights, and the
   * node-join roles and bindings.
   */
  private async kubeadmInit(url: string): Promise<void> {
    const superAdmin = new KubeClient({ name: 'kubeadm init', server: url, ...this.tls(this.pki).client('super-admin.conf'), trace: this.trace });
    try {
      for (const obj of kubeadmInitObjects()) {
        const path = `/apis/rbac.authorization.k8s.io/v1/${obj.kind === 'ClusterRole' ? 'clusterroles' : 'clusterrolebindings'}`;
        try {
          await superAdmin.create(path, obj);
        } catch (err) {
          if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
        }
      }
      if (this.options.clusterSigning !== false) await uploadClusterInfo(superAdmin, url, this.tls(this.pki).trust.ca);
      // kubeadm's kube-proxy addon: the KubeProxyConfiguration (with the cluster's mode) every kube-proxy runs with.
      await uploadKubeProxyConfig(superAdmin, { mode: this.options.proxyMode, clusterCIDR: this.pki.plan.podSubnet, server: url });
    } finally {
      superAdmin.close();
    }
  }

  /** The kube-proxies' mode (ClusterOptions.proxyMode; iptables when unset). */
  get proxyMode(): ProxyMode {
    return this.options.proxyMode ?? 'iptables';
  }

  /** A client of the apiserver with one of the PKI's identities (closed when the cluster stops). */
  client(credentialName: LeafName, name: string = credentialName): KubeClient {
    const c = new KubeClient({ name, server: this.apiserverUrl, ...this.tls(this.pki).client(credentialName), trace: this.trace });
    this.clients.push(c);
    return c;
  }

  /**
   * Hands every running component new TLS material without restarting it: the leaves of `pki` and the
   * CA bundles each side trusts (default: `pki`'s own CAs; a CA rotation passes old+new bundles).
   * Servers (etcd, the apiserver, kubelets) swap their secure context; clients use the new
   * certificate and bundle for every later connection. Clients from `client()` made before keep theirs.
   * Resolves once every node has it too (nodes in worker processes get theirs over IPC).
   */
  async reloadPki(pki: Pki, bundles: Partial<Trust> = {}): Promise<void> {
    const tls = this.tls(pki, bundles);
    this.pki = pki;
    if (this.etcd instanceof Etcd) this.etcd.reloadTls(tls.etcd);
    const etcdReload = this.etcd instanceof EtcdChild ? this.etcd.reloadTls(tls.etcd) : undefined;
    const { identity: serving, ...apiserver } = tls.apiserver;
    this.apiserver?.reloadTls({ serving, ...apiserver });
    this.controllerManager?.reloadTls(tls.controllerManager);
    this.scheduler?.reloadTls(tls.scheduler);
    await etcdReload;
    const workers = this.nodeWorkers;
    if (workers) {
      await Promise.all([...this.kubelets.keys()].map((node) => workers.reload(node, { kubelet: tls.kubelet(node), proxy: tls.kubeProxy })));
      return;
    }
    // In this process the nodes take it at once, as the control plane did above.
    const pending: Promise<void>[] = [];
    for (const [node, kubelet] of this.kubelets) { const r = kubelet.reloadTls(tls.kubelet(node)); if (r) pending.push(r); }
    for (const proxy of this.proxies.values()) { const r = proxy.reloadTls(tls.kubeProxy); if (r) pending.push(r); }
    await Promise.all(pending);
  }

  /**
   * Resolves once every trace event the nodes and etcd emitted before now is in the cluster's trace: at
   * once when they run in this process; in worker processes, after each has answered a message sent
   * behind its events on the same IPC channel.
   */
  async settleTrace(): Promise<void> {
    await Promise.all([this.nodeWorkers?.flush(), this.etcd instanceof EtcdChild ? this.etcd.flush() : undefined]);
  }

  /** Stops everything in reverse start order; safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const c of this.clients.splice(0)) c.close();
      for (const c of this.started.splice(0).reverse()) {
        await c.stop().catch((err: unknown) => this.options.logger.warn({ component: c.name, err }, 'stop failed'));
      }
    })();
    return this.stopping;
  }
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  return new Cluster(options).start();
}
