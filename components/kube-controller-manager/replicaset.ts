/**
 * The ReplicaSet controller (pkg/controller/replicaset): keeps the number of active pods a ReplicaSet
 * controls equal to spec.replicas — creating pods from the template (generateName `<rs>-`, an owner
 * reference with controller: true) in slow-start batches, deleting the least valuable surplus pods
 * first — and reports replicas / readyReplicas / availableReplicas in its status.
 */
import type { Logger } from 'pino';
import type { Clock } from '../client/common.js';
import { ApiError, type KubeClient, resourcePath } from '../client/kube-client.js';
import type { OwnerReference, Pod, ReplicaSet } from '../api/types.js';
import { isPodReady } from './endpoints.js';
import { EventBroadcaster } from '../client/events.js';
import { Expectations } from './expectations.js';
import { type Lister, keyOf, splitKey } from '../client/informer.js';
import { matchesSelector } from '../api/labels.js';
import { WorkQueue } from '../client/workqueue.js';

/** The owner reference marked controller: true, if any. */
export const controllerRef = (o: { metadata: { ownerReferences?: OwnerReference[] } }): OwnerReference | undefined =>
  o.metadata.ownerReferences?.find((r) => r.controller === true);

export const isActivePod = (p: Pod): boolean =>
  p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata.deletionTimestamp;

export const ownerRefTo = (rs: ReplicaSet): OwnerReference => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name ?? '', uid: rs.metadata.uid ?? '', controller: true, blockOwnerDeletion: true,
});

/** controller.GetPodFromTemplate. */
export function podFromTemplate(rs: ReplicaSet): Pod {
  const t = rs.spec.template;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName: `${rs.metadata.name ?? ''}-`,
      namespace: rs.metadata.namespace ?? 'default',
      ...(t.metadata?.labels ? { labels: { ...t.metadata.labels } } : {}),
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ownerReferences: [ownerRefTo(rs)],
    },
    spec: structuredClone(t.spec),
  };
}

const rank = (p: Pod): number[] => {
  const phase = p.status?.phase;
  return [
    p.spec.nodeName ? 1 : 0, // unassigned < assigned
    phase === 'Pending' ? 0 : phase === 'Unknown' ? 1 : phase === 'Running' ? 2 : 0, // pending < unknown < running
    isPodReady(p) ? 1 : 0, // not ready < ready
    (p.status?.containerStatuses ?? []).reduce((n, c) => n - c.restartCount, 0), // more restarts first
    -(Date.parse(p.metadata.creationTimestamp ?? '') || 0), // newer first
  ];
};

/** controller.ActivePodsWithRanks: the `n` pods to delete, least valuable first. */
export function podsToDelete(pods: readonly Pod[], n: number): Pod[] {
  const cmp = (a: Pod, b: Pod): number => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return (ra[i] ?? 0) - (rb[i] ?? 0);
    return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
  };
  return [...pods].sort(cmp).slice(0, Math.max(0, n));
}

/**
 * replica_set_utils.go calculateStatus: the counts (replicas always, the others omitted at zero as
 * omitempty does), and ReplicaFailure while manageReplicas fails — FailedCreate or FailedDelete,
 * the error as message — removed once it succeeds.
 */
export function replicaSetStatus(rs: ReplicaSet, pods: readonly Pod[], manageError?: Error, now?: Date): NonNullable<ReplicaSet['status']> {
  const labels = rs.spec.template.metadata?.labels ?? {};
  const ready = pods.filter(isPodReady).length;
  const fullyLabeled = pods.filter((p) => Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v)).length;
  let conditions = rs.status?.conditions;
  const failure = conditions?.find((c) => c.type === 'ReplicaFailure');
  if (manageError && !failure) {
    const diff = pods.length - (rs.spec.replicas ?? 1);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    const at = `${(now ?? new Date()).toISOString().slice(0, 19)}Z`;
    conditions = [...(conditions ?? []), { type: 'ReplicaFailure', status: 'True', lastTransitionTime: at, ...(reason ? { reason } : {}), message: manageError.message }];
  } else if (!manageError && failure) {
    conditions = conditions?.filter((c) => c.type !== 'ReplicaFailure');
  }
  return {
    replicas: pods.length,
    ...(fullyLabeled ? { fullyLabeledReplicas: fullyLabeled } : {}),
    ...(ready ? { readyReplicas: ready, availableReplicas: ready } : {}),
    ...(rs.metadata.generation !== undefined ? { observedGeneration: rs.metadata.generation } : {}),
    ...(conditions && conditions.length > 0 ? { conditions } : {}),
  };
}

const SLOW_START_INITIAL_BATCH = 1;
const BURST_REPLICAS = 500;

export interface ReplicaSetControllerOptions {
  readonly client: KubeClient;
  readonly replicaSets: Lister<ReplicaSet>;
  readonly pods: Lister<Pod>;
  readonly logger: Logger;
  readonly clock: Clock;
}

export class ReplicaSetController {
  readonly name = 'replicaset-controller';
  readonly queue: WorkQueue;
  /** Its own event broadcaster (NewReplicaSetController): events are queued, never waited for. */
  readonly events: EventBroadcaster;
  private readonly o: ReplicaSetControllerOptions;
  private readonly expectations: Expectations;

  constructor(o: ReplicaSetControllerOptions) {
    this.o = o;
    this.events = new EventBroadcaster({ client: o.client, clock: o.clock, logger: o.logger, component: this.name });
    this.expectations = new Expectations(o.clock);
    this.queue = new WorkQueue({ name: this.name, logger: o.logger, handler: (k) => this.sync(k) });
    o.replicaSets.addHandlers({
      add: (rs) => this.queue.add(keyOf(rs)),
      update: (_old, rs) => this.queue.add(keyOf(rs)),
      delete: (rs) => { this.expectations.forget(keyOf(rs)); this.queue.add(keyOf(rs)); },
    });
    o.pods.addHandlers({
      add: (p) => {
        const k = this.ownerKey(p);
        if (k) { this.expectations.creationObserved(k); this.queue.add(k); } else this.enqueueMatching(p);
      },
      update: (old, p) => {
        const k = this.ownerKey(p);
        const ko = this.ownerKey(old);
        if (ko && ko !== k) this.queue.add(ko);
        if (!k) { if (!controllerRef(p)) this.enqueueMatching(p); return; }
        // A pod marked for deletion counts as deleted now (the real controller does the same).
        if (p.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) this.expectations.deletionObserved(k);
        this.queue.add(k);
      },
      delete: (p) => { const k = this.ownerKey(p); if (k) { if (!p.metadata.deletionTimestamp) this.expectations.deletionObserved(k); this.queue.add(k); } },
    });
  }

  /** An orphan: every ReplicaSet that might adopt it (getPodReplicaSets). */
  private enqueueMatching(p: Pod): void {
    if (!isActivePod(p)) return;
    for (const rs of this.o.replicaSets.list()) {
      if (rs.metadata.namespace === p.metadata.namespace && matchesSelector(rs.spec.selector, p.metadata.labels)) this.queue.add(keyOf(rs));
    }
  }

  private ownerKey(p: Pod): string | undefined {
    const ref = controllerRef(p);
    if (ref?.kind !== 'ReplicaSet') return undefined;
    return `${p.metadata.namespace ?? 'default'}/${ref.name}`;
  }

  private async sync(key: string): Promise<void> {
    const rs = this.o.replicaSets.get(key);
    if (!rs) { this.expectations.forget(key); return; }
    const { namespace = 'default' } = splitKey(key);
    const pods = await this.claimPods(rs, this.o.pods.list().filter((p) => p.metadata.namespace === namespace && isActivePod(p)));
    let manageError: Error | undefined;
    if (this.expectations.satisfied(key) && !rs.metadata.deletionTimestamp) {
      try {
        await this.manageReplicas(key, rs, pods);
      } catch (err) {
        manageError = err instanceof Error ? err : new Error(String(err));
      }
    }
    await this.updateStatus(rs, pods, manageError);
    // The work queue retries it with backoff, as the real sync returns manageReplicasErr.
    if (manageError) throw manageError;
  }

  /**
   * controller.PodControllerRefManager.ClaimPods: the pods this ReplicaSet controls — its own that
   * still match its selector, plus orphans that match (adopted by adding a controller reference);
   * its own that no longer match are released.
   */
  private async claimPods(rs: ReplicaSet, candidates: Pod[]): Promise<Pod[]> {
    const mine: Pod[] = [];
    const path = (p: Pod): string => resourcePath({ resource: 'pods', namespace: p.metadata.namespace ?? 'default', name: p.metadata.name ?? '' });
    const others = (p: Pod): OwnerReference[] => (p.metadata.ownerReferences ?? []).filter((r) => r.uid !== rs.metadata.uid);
    for (const p of candidates) {
      const ref = controllerRef(p);
      const matches = matchesSelector(rs.spec.selector, p.metadata.labels);
      if (ref?.uid === rs.metadata.uid) {
        if (matches) { mine.push(p); continue; }
        this.o.logger.info({ replicaSet: keyOf(rs), pod: p.metadata.name }, 'releasing pod that no longer matches the selector');
        await this.o.client.patch(path(p), { metadata: { ownerReferences: others(p), uid: p.metadata.uid } });
        continue;
      }
      if (ref || !matches || rs.metadata.deletionTimestamp) continue;
      this.o.logger.info({ replicaSet: keyOf(rs), pod: p.metadata.name }, 'adopting orphan pod');
      try {
        const adopted = await this.o.client.patch<Pod>(path(p), { metadata: { ownerReferences: [...others(p), ownerRefTo(rs)], uid: p.metadata.uid } });
        mine.push(adopted);
      } catch (err) {
        if (!(err instanceof ApiError && (err.httpStatus === 404 || err.httpStatus === 409))) throw err;
      }
    }
    return mine;
  }

  private async manageReplicas(key: string, rs: ReplicaSet, pods: Pod[]): Promise<void> {
    const want = rs.spec.replicas ?? 1;
    const diff = pods.length - want;
    const ns = rs.metadata.namespace ?? 'default';
    const podsPath = resourcePath({ resource: 'pods', namespace: ns });
    if (diff < 0) {
      let toCreate = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expect(key, toCreate, 0);
      this.o.logger.info({ replicaSet: key, need: want, creating: toCreate }, 'too few replicas');
      // controller.slowStartBatch: 1, 2, 4, ... at a time; stop at the first failing batch.
      let batch = Math.min(toCreate, SLOW_START_INITIAL_BATCH);
      while (toCreate > 0) {
        const results = await Promise.allSettled(Array.from({ length: batch }, () => this.o.client.create<Pod>(podsPath, podFromTemplate(rs))));
        for (const r of results) {
          if (r.status === 'fulfilled') this.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${r.value.metadata.name ?? ''}`);
          else this.event(rs, 'Warning', 'FailedCreate', `Error creating: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
        }
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        toCreate -= batch;
        if (failed.length > 0) {
          // Neither the failed creations nor the skipped ones will ever be observed.
          for (let i = 0; i < failed.length + toCreate; i++) this.expectations.creationObserved(key);
          throw failed[0]?.reason instanceof Error ? failed[0].reason : new Error(String(failed[0]?.reason));
        }
        batch = Math.min(toCreate, batch * 2);
      }
    } else if (diff > 0) {
      const victims = podsToDelete(pods, Math.min(diff, BURST_REPLICAS));
      this.expectations.expect(key, 0, victims.length);
      this.o.logger.info({ replicaSet: key, need: want, deleting: victims.length }, 'too many replicas');
      const results = await Promise.allSettled(victims.map((p) => this.o.client.delete(`${podsPath}/${encodeURIComponent(p.metadata.name ?? '')}`)));
      let firstError: unknown;
      for (const [i, r] of results.entries()) {
        const name = victims[i]?.metadata.name ?? '';
        if (r.status === 'fulfilled') { this.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`); continue; }
        this.expectations.deletionObserved(key);
        if (!(r.reason instanceof ApiError && r.reason.httpStatus === 404)) {
          firstError ??= r.reason;
          this.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
        }
      }
      if (firstError !== undefined) throw firstError instanceof Error ? firstError : new Error(String(firstError));
    }
  }

  private event(rs: ReplicaSet, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.record({ kind: 'ReplicaSet', apiVersion: 'apps/v1', object: rs }, type, reason, message);
  }

  private async updateStatus(rs: ReplicaSet, pods: Pod[], manageError: Error | undefined): Promise<void> {
    const status = replicaSetStatus(rs, pods, manageError, this.o.clock.now());
    if (rs.status && JSON.stringify(rs.status) === JSON.stringify(status)) return;
    const path = resourcePath({ group: 'apps', resource: 'replicasets', namespace: rs.metadata.namespace ?? 'default', name: rs.metadata.name ?? '', subresource: 'status' });
    // updateReplicaSetStatus: on a conflict, read the latest and write once more.
    let base = rs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.client.update<ReplicaSet>(path, { ...base, apiVersion: 'apps/v1', kind: 'ReplicaSet', status });
        return;
      } catch (err) {
        if (err instanceof ApiError && err.httpStatus === 404) return;
        if (!(err instanceof ApiError && err.httpStatus === 409) || attempt > 0) throw err;
        base = await this.o.client.get<ReplicaSet>(path.replace(/\/status$/, ''));
      }
    }
  }
}
