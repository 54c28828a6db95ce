/**
 * kube-scheduler: watches nodes and the pods that are not finished, queues the pods without a node
 * that name this scheduler, and for each one filters and scores the nodes (framework.ts) and POSTs a
 * Binding to `pods/<name>/binding` — the only write it needs besides Events. A pod bound but not yet
 * seen bound in the watch is "assumed" on its node, so the next decision already counts it. A pod
 * that fits nowhere gets a FailedScheduling Event and waits in the unschedulable queue until a node
 * or an assigned pod changes, or at most 5 minutes (podMaxInUnschedulablePodsDuration). A pod whose
 * binding failed for another reason (a timeout, a 500 from etcd) waits in the backoff queue, 1 s
 * doubling to 10 s per attempt (podInitialBackoffSeconds, podMaxBackoffSeconds), then is tried again.
 *
 * It authenticates with scheduler.conf's client certificate (user system:kube-scheduler). With
 * `secureServing` it serves /healthz, /livez, /readyz and /metrics on its secure port (10259) with a
 * self-signed certificate and delegated authentication/authorization (../client/secure-serving.ts).
 */
import type { Logger } from 'pino';
import { Lifecycle, type Component, type ComponentDeps, systemClock, type Clock } from '../client/common.js';
import { ApiError, KubeClient, resourcePath } from '../client/kube-client.js';
import { EventBroadcaster } from '../client/events.js';
import { Informer, keyOf } from '../client/informer.js';
import { LeaderElector } from '../client/leader-election.js';
import type { Identity } from '../client/tls.js';
import { SecureServing, type SecureServingInfo, type SecureServingOptions } from '../client/secure-serving.js';
import type { AddressInfo } from 'node:net';
import type { Binding, Node, Pod } from '../api/types.js';
import { userAgent } from '../api/version.js';
import { addUsage, emptyUsage, schedulePod, subUsage, type NodeUsage } from './framework.js';

export interface KubeSchedulerOptions {
  /** `https://host:port` of the apiserver. */
  readonly apiserver: string;
  /** scheduler.conf's client certificate and key (CN system:kube-scheduler). */
  readonly identity: Identity;
  /** The CA the apiserver's serving certificate must chain to. */
  readonly serverCa: string;
  readonly schedulerName?: string;
  /** Hold the `kube-system/kube-scheduler` Lease while running (kubeadm: --leader-elect=true). Default false. */
  readonly leaderElect?: boolean;
  /** Lease timings, seconds (defaults 15 / 2, as the real flags). */
  readonly leaseDurationSeconds?: number;
  readonly retryPeriodSeconds?: number;
  /** --bind-address/--secure-port (kubeadm: 127.0.0.1:10259); absent: no secure port. */
  readonly secureServing?: SecureServingOptions;
  /** podInitialBackoffSeconds and podMaxBackoffSeconds, in ms (defaults 1000 and 10000). */
  readonly podInitialBackoffMs?: number;
  readonly podMaxBackoffMs?: number;
  /** podMaxInUnschedulablePodsDuration (ms, default 5 min): how long a pod waits unschedulable before it is tried again anyway. */
  readonly podMaxInUnschedulablePodsMs?: number;
}

export interface ScheduleOutcome {
  /** `namespace/name`. */
  readonly pod: string;
  readonly result: 'bound' | 'unschedulable' | 'error';
  readonly node?: string;
  readonly message: string;
}

export type ScheduleListener = (o: ScheduleOutcome) => void;

/** What a node with no bound or assumed pod carries, read-only (one object for every such node a cycle looks at). */
const NO_USAGE: NodeUsage = Object.freeze({ requested: Object.freeze(emptyUsage().requested), nonZero: Object.freeze(emptyUsage().nonZero) });

const isTerminal = (p: Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

export class KubeScheduler implements Component {
  readonly name = 'kube-scheduler';
  private readonly options: KubeSchedulerOptions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly deps: ComponentDeps;
  private readonly schedulerName: string;
  private client: KubeClient | undefined;
  /** The Events' own client and broadcaster (createClients' eventClient; the legacy core/v1 recorder, see start()). */
  private eventClient: KubeClient | undefined;
  private events: EventBroadcaster | undefined;
  private pods: Informer<Pod> | undefined;
  private nodes: Informer<Node> | undefined;
  /** activeQ (FIFO, with a set of what it holds) and the unschedulable pods, by key. */
  private readonly active: string[] = [];
  private readonly queued = new Set<string>();
  /** The scheduler cache's NodeInfo: what each node's bound and assumed pods request, kept as pods change. */
  private readonly usage = new Map<string, NodeUsage>();
  private readonly counted = new Map<string, { node: string; pod: Pod }>();
  /** The nodes in name order, made again when a node changes; where the next cycle's filtering starts. */
  private sortedNodes: Node[] | undefined;
  private nextStartNodeIndex = 0;
  /** Binding cycles in flight (they run beside the next scheduling cycles, as the real binding goroutines). */
  private readonly binding = new Set<Promise<void>>();
  /** unschedulablePods: key → when it went there (ms). */
  private readonly unschedulable = new Map<string, number>();
  /** backoffQ: key → when its backoff ends (ms); attempts per pod decide the backoff's length. */
  private readonly backoff = new Map<string, number>();
  private readonly attemptsOf = new Map<string, { readonly attempts: number; readonly at: number }>();
  /** flushBackoffQCompleted (every second) and flushUnschedulablePodsLeftover (every 30 s), while running. */
  private flushTimers: NodeJS.Timeout[] = [];
  /** Pods bound by us and not yet seen bound in the watch: key → node. */
  private readonly assumed = new Map<string, { node: string; pod: Pod }>();
  /** The last FailedScheduling message recorded per pod (one Event per distinct message). */
  private readonly lastFailure = new Map<string, string>();
  private readonly listeners = new Set<ScheduleListener>();
  private busy = false;
  private cycle: Promise<void> = Promise.resolve();
  private readonly lifecycle = new Lifecycle('kube-scheduler');
  private started = false;
  private elector: LeaderElector | undefined;
  private secure: SecureServing | undefined;
  /** scheduler_schedule_attempts_total by result, for /metrics. */
  private readonly attempts = { scheduled: 0, unschedulable: 0, error: 0 };

  constructor(options: KubeSchedulerOptions, deps: ComponentDeps) {
    this.options = options;
    this.deps = deps;
    this.logger = deps.logger.child({ component: 'kube-scheduler' });
    this.clock = deps.clock ?? systemClock;
    this.schedulerName = options.schedulerName ?? 'default-scheduler';
  }

  /** Subscribes to scheduling outcomes; returns the unsubscribe function. */
  onOutcome(listener: ScheduleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the outcome of the next attempt for `namespace/name` that binds it (or rejects after `timeoutMs`). */
  waitForBinding(podKey: string, timeoutMs = 10_000): Promise<ScheduleOutcome> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { off(); reject(new Error(`pod ${podKey} was not bound within ${timeoutMs} ms`)); }, timeoutMs);
      const off = this.onOutcome((o) => {
        if (o.pod !== podKey || o.result !== 'bound') return;
        clearTimeout(timer);
        off();
        resolve(o);
      });
    });
  }

  /** The secure port's address and serving certificate, once started with `secureServing`. */
  get secureServing(): SecureServingInfo | undefined {
    return this.secure?.info;
  }

  /** Resolves with the secure port's address when `secureServing` is set (it listens before leader election, as the real one). */
  async start(): Promise<AddressInfo | undefined> {
    this.lifecycle.check('start');
    if (this.started) throw new Error('kube-scheduler already started');
    this.started = true;
    // createClients: `client` with restclient.AddUserAgent(kubeConfig, "scheduler") and `eventClient` with the
    // default User-Agent, both from scheduler.conf, so on the same connections (client-go's transport cache).
    // Our apiserver serves no events.k8s.io/v1, so NewEventBroadcasterAdapter falls back to the core/v1
    // recorder (record.NewBroadcaster): Events are queued and written one at a time, never waited on.
    const client = new KubeClient({
      name: 'kube-scheduler', server: this.options.apiserver, identity: this.options.identity, serverCa: this.options.serverCa,
      userAgent: `${userAgent('kube-scheduler')}/scheduler`, ...(this.deps.trace ? { trace: this.deps.trace } : {}),
    });
    this.client = client;
    this.eventClient = client.sharingTransport(userAgent('kube-scheduler'));
    this.events = new EventBroadcaster({ client: this.eventClient, clock: this.clock, logger: this.logger, component: this.schedulerName });
    try {
      if (this.options.secureServing) {
        this.secure = new SecureServing(this.options.secureServing, {
          name: 'kube-scheduler', api: () => client, metrics: () => this.metrics(), logger: this.logger, clock: this.clock, trace: this.deps.trace,
        });
        await this.secure.start();
      }
      if (this.options.leaderElect) {
        this.elector = new LeaderElector({
          client, lease: 'kube-scheduler', clock: this.clock, logger: this.logger,
          ...(this.options.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: this.options.leaseDurationSeconds } : {}),
          ...(this.options.retryPeriodSeconds !== undefined ? { retryPeriodSeconds: this.options.retryPeriodSeconds } : {}),
        });
        await this.elector.acquire();
      }
      const nodes = new Informer<Node>({ client, path: resourcePath({ resource: 'nodes' }), logger: this.logger, kind: '*v1.Node' });
      // The real scheduler's pod informer: every pod that is not finished (scheduler.go newPodInformer).
      const pods = new Informer<Pod>({
        client, path: resourcePath({ resource: 'pods' }), fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed', logger: this.logger, kind: '*v1.Pod',
      });
      this.nodes = nodes;
      this.pods = pods;
      nodes.addHandlers({
        add: () => { this.sortedNodes = undefined; this.moveAllToActive(); },
        update: () => { this.sortedNodes = undefined; this.moveAllToActive(); },
        delete: () => { this.sortedNodes = undefined; },
      });
      pods.addHandlers({
        add: (p) => this.onPod(p),
        update: (_old, p) => this.onPod(p),
        delete: (p) => this.onPodDeleted(p),
      });
      await Promise.all([nodes.start(), pods.start()]);
    } catch (err) {
      await this.destroy();
      throw err;
    }
    this.logger.info({ schedulerName: this.schedulerName }, 'caches synced; scheduling');
    const initial = this.options.podInitialBackoffMs ?? 1000;
    this.flushTimers = [
      setInterval(() => this.flushBackoff(), Math.min(1000, initial)),
      setInterval(() => this.flushUnschedulable(), Math.min(30_000, this.options.podMaxInUnschedulablePodsMs ?? 30_000)),
    ];
    this.pump();
    return this.secure?.info?.address;
  }

  /** A few of the real scheduler's series, in the Prometheus text format. */
  private metrics(): string {
    const profile = this.schedulerName;
    return [
      '# HELP leader_election_master_status [ALPHA] Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. \'name\' is the string used to identify the lease. Please make sure to group by name.',
      '# TYPE leader_election_master_status gauge',
      `leader_election_master_status{name="kube-scheduler"} ${this.options.leaderElect ? 1 : 0}`,
      '# HELP scheduler_pending_pods [STABLE] Number of pending pods, by the queue type. \'active\' means number of pods in activeQ; \'backoff\' means number of pods in backoffQ; \'unschedulable\' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; \'gated\' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.',
      '# TYPE scheduler_pending_pods gauge',
      `scheduler_pending_pods{queue="active"} ${this.active.length}`,
      `scheduler_pending_pods{queue="backoff"} ${this.backoff.size}`,
      `scheduler_pending_pods{queue="unschedulable"} ${this.unschedulable.size}`,
      '# HELP scheduler_schedule_attempts_total [STABLE] Number of attempts to schedule pods, by the result. \'unschedulable\' means a pod could not be scheduled, while \'error\' means an internal scheduler problem.',
      '# TYPE scheduler_schedule_attempts_total counter',
      ...(['error', 'scheduled', 'unschedulable'] as const).map((r) => `scheduler_schedule_attempts_total{profile="${profile}",result="${r}"} ${this.attempts[r]}`),
      '',
    ].join('\n');
  }

  /** New client certificate (scheduler.conf) and/or the apiserver's CA bundle for later connections. */
  reloadTls(material: { identity?: Identity; serverCa?: string }): void {
    this.client?.reloadTls({ ...(material.identity ? { identity: material.identity } : {}), ...(material.serverCa ? { ca: material.serverCa } : {}) });
  }

  /** Drains: stops watching, lets the scheduling cycle in flight finish its binding, then closes the client. */
  close(): Promise<void> {
    return this.lifecycle.end(() => this.release('close'));
  }

  /** Aborts: closes the client first, so a binding in flight fails, then stops the rest. */
  destroy(): Promise<void> {
    if (this.lifecycle.closed) { void this.events?.shutdown(true); this.eventClient?.close(); this.client?.close(); }
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
    if (mode === 'destroy') { void this.events?.shutdown(true); this.eventClient?.close(); this.client?.close(); }
    for (const t of this.flushTimers) clearInterval(t);
    await this.secure?.close(mode);
    this.elector?.stop();
    await Promise.all([this.pods?.stop(), this.nodes?.stop()]);
    await this.cycle;
    await Promise.all([...this.binding]);
    // Close drains the Events queued so far; destroy drops them (the one being written fails with the client).
    await this.events?.shutdown(mode === 'destroy');
    this.eventClient?.close();
    this.client?.close();
    this.listeners.clear();
  }

  private responsibleFor(p: Pod): boolean {
    return !p.spec.nodeName && (p.spec.schedulerName ?? 'default-scheduler') === this.schedulerName && !p.metadata.deletionTimestamp && !isTerminal(p);
  }

  /** Counts `pod` on `node` in the node's usage (undefined: counts it nowhere), replacing what it counted before. */
  private count(key: string, node: string | undefined, pod: Pod | undefined): void {
    const old = this.counted.get(key);
    if (old) subUsage(this.usage.get(old.node)!, old.pod);
    if (node === undefined || pod === undefined) { this.counted.delete(key); return; }
    let u = this.usage.get(node);
    if (!u) { u = emptyUsage(); this.usage.set(node, u); }
    addUsage(u, pod);
    this.counted.set(key, { node, pod });
  }

  private onPod(p: Pod): void {
    const key = keyOf(p);
    if (p.spec.nodeName && !isTerminal(p)) this.count(key, p.spec.nodeName, p);
    else if (!this.assumed.has(key)) this.count(key, undefined, undefined);
    if (p.spec.nodeName) {
      // Bound (by us or anyone): the assumption is confirmed; its resources now count from the informer.
      this.assumed.delete(key);
      this.forgetQueued(key);
      return;
    }
    if (!this.responsibleFor(p)) return;
    // A pod in backoff waits its backoff out; an update of a pod waiting as unschedulable may make it
    // fit (e.g. smaller requests).
    if (this.backoff.has(key)) return;
    this.unschedulable.delete(key);
    this.enqueue(key);
  }

  private onPodDeleted(p: Pod): void {
    const key = keyOf(p);
    this.count(key, undefined, undefined);
    this.assumed.delete(key);
    this.forgetQueued(key);
    // A bound pod going away frees room: retry the pods that did not fit (MoveAllToActiveOrBackoffQueue).
    if (p.spec.nodeName) this.moveAllToActive();
  }

  private forgetQueued(key: string): void {
    this.unschedulable.delete(key);
    this.backoff.delete(key);
    this.attemptsOf.delete(key);
    this.lastFailure.delete(key);
  }

  /** MoveAllToActiveOrBackoffQueue: an unschedulable pod still in its backoff goes to the backoffQ, the rest to the activeQ. */
  private moveAllToActive(): void {
    const now = Date.now();
    for (const key of this.unschedulable.keys()) {
      const until = this.backoffEnd(key);
      if (until > now) this.backoff.set(key, until);
      else this.enqueue(key);
    }
    this.unschedulable.clear();
  }

  /**
   * The end of a pod's backoff (getBackoffTime): its last attempt plus 1 s doubled per attempt after the
   * first, at most 10 s. A pod whose last attempt is older than that is not backing off.
   */
  private backoffEnd(key: string): number {
    const last = this.attemptsOf.get(key);
    if (!last) return 0;
    const initial = this.options.podInitialBackoffMs ?? 1000;
    const max = this.options.podMaxBackoffMs ?? 10_000;
    return last.at + Math.min(max, initial * 2 ** Math.min(last.attempts - 1, 30));
  }

  private flushBackoff(): void {
    const now = Date.now();
    for (const [key, until] of this.backoff) {
      if (until > now) continue;
      this.backoff.delete(key);
      this.enqueue(key);
    }
  }

  private flushUnschedulable(): void {
    const limit = Date.now() - (this.options.podMaxInUnschedulablePodsMs ?? 5 * 60_000);
    for (const [key, since] of this.unschedulable) {
      if (since > limit) continue;
      this.unschedulable.delete(key);
      this.enqueue(key);
    }
  }

  private enqueue(key: string): void {
    if (this.stopped) return;
    if (!this.queued.has(key)) { this.queued.add(key); this.active.push(key); }
    this.pump();
  }

  private pump(): void {
    if (this.busy || this.stopped || !this.pods) return;
    const key = this.active.shift();
    if (key === undefined) return;
    this.queued.delete(key);
    this.busy = true;
    this.cycle = this.scheduleOne(key)
      .catch((err: unknown) => this.logger.error({ err, pod: key }, 'scheduling cycle failed'))
      // The next cycle after a turn of the event loop: the real scheduleOne loop runs in its own goroutine
      // beside the binding goroutines, and here a run of synchronous cycles (2,000 pending pods are a second
      // of filtering) would hold back every Binding POST and every answer until the queue is empty.
      .finally(() => { this.busy = false; setImmediate(() => this.pump()); });
  }

  private nodesInOrder(): Node[] {
    this.sortedNodes ??= [...(this.nodes?.list() ?? [])].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
    return this.sortedNodes;
  }

  /**
   * The scheduling cycle (synchronous, one pod at a time), then the binding cycle started beside the
   * next scheduling cycles: the pod is assumed on its node at once, so the next decision counts it.
   */
  private async scheduleOne(key: string): Promise<void> {
    const pod = this.pods?.get(key);
    if (!pod || !this.responsibleFor(pod) || this.assumed.has(key)) return;
    this.attemptsOf.set(key, { attempts: (this.attemptsOf.get(key)?.attempts ?? 0) + 1, at: Date.now() });
    const nodes = this.nodesInOrder();
    const usageOf = (node: string): NodeUsage => this.usage.get(node) ?? NO_USAGE;
    const result = nodes.length === 0
      ? { message: 'no nodes available to schedule pods', processed: 0 }
      : schedulePod(pod, nodes, usageOf, this.nextStartNodeIndex);
    if (nodes.length > 0) this.nextStartNodeIndex = (this.nextStartNodeIndex + result.processed) % nodes.length;
    if (!('node' in result) || result.node === undefined) {
      const message = result.message ?? 'no fit';
      this.unschedulable.set(key, Date.now());
      this.logger.info({ pod: key, message }, 'unable to schedule pod; waiting');
      if (this.lastFailure.get(key) !== message) {
        this.lastFailure.set(key, message);
        this.recordEvent(pod, 'Warning', 'FailedScheduling', message);
        await this.markUnschedulable(pod, message);
      }
      this.notify({ pod: key, result: 'unschedulable', message });
      return;
    }
    const node = result.node;
    this.assumed.set(key, { node, pod });
    this.count(key, node, pod);
    const scores = result.scores;
    const bind = this.bind(key, pod, node, scores).finally(() => this.binding.delete(bind));
    this.binding.add(bind);
  }

  private async bind(key: string, pod: Pod, node: string, scores: ReadonlyMap<string, number>): Promise<void> {
    const binding: Binding = {
      apiVersion: 'v1', kind: 'Binding',
      metadata: { name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? 'default', ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
      target: { apiVersion: 'v1', kind: 'Node', name: node },
    };
    try {
      await this.client?.create(resourcePath({ resource: 'pods', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', subresource: 'binding' }), binding);
    } catch (err) {
      // ForgetPod: the assumed pod no longer counts on its node.
      this.assumed.delete(key);
      if (!this.pods?.get(key)?.spec.nodeName) this.count(key, undefined, undefined);
      const message = err instanceof Error ? err.message : String(err);
      this.logger.warn({ pod: key, node, err: message }, 'binding rejected');
      this.notify({ pod: key, result: 'error', node, message });
      // A pod that is gone or already bound needs nothing more; anything else waits out its backoff
      // and is tried again (handleSchedulingFailure: an error, not a FitError, goes to the backoffQ).
      if (!(err instanceof ApiError && (err.httpStatus === 404 || err.httpStatus === 409)) && this.pods?.get(key)) this.backoff.set(key, this.backoffEnd(key));
      return;
    }
    const message = `Successfully assigned ${key} to ${node}`;
    if (this.logger.isLevelEnabled('info')) this.logger.info({ pod: key, node, scores: Object.fromEntries(scores) }, 'bound');
    this.lastFailure.delete(key);
    this.notify({ pod: key, result: 'bound', node, message });
    this.recordEvent(pod, 'Normal', 'Scheduled', message);
  }

  /**
   * handleSchedulingFailure → updatePod: the PodScheduled=False condition (reason Unschedulable) with
   * FitError's message, as a strategic merge patch of pods/<name>/status (conditions merge by type).
   */
  private async markUnschedulable(pod: Pod, message: string): Promise<void> {
    const now = this.clock.now();
    const ns = pod.metadata.namespace ?? 'default';
    const condition = {
      type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message,
      lastProbeTime: null, lastTransitionTime: `${now.toISOString().slice(0, 19)}Z`,
    };
    try {
      await this.client?.patch(resourcePath({ resource: 'pods', namespace: ns, name: pod.metadata.name ?? '', subresource: 'status' }),
        { status: { conditions: [condition] } }, 'strategic');
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err), pod: `${ns}/${pod.metadata.name ?? ''}` }, 'could not update the pod\'s PodScheduled condition');
    }
  }

  private notify(o: ScheduleOutcome): void {
    this.attempts[o.result === 'bound' ? 'scheduled' : o.result] += 1;
    for (const l of this.listeners) l(o);
  }

  /** Resolves once the Events recorded so far are written (or dropped): for benchmarks and tests that want a settled state. */
  async eventsWritten(): Promise<void> {
    await this.events?.flush();
  }

  /** The recorder's Eventf: queued for the broadcaster's writer, not waited on (scheduler.go: fwk.EventRecorder().Eventf). */
  private recordEvent(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events?.record({ kind: 'Pod', apiVersion: 'v1', object: pod }, type, reason, message);
  }
}
