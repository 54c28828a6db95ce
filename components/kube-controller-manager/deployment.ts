/**
 * The Deployment controller (pkg/controller/deployment): a Deployment owns one ReplicaSet per pod
 * template, named `<deployment>-<pod-template-hash>`, whose selector and pod labels carry that hash.
 * RollingUpdate (the default) scales the new ReplicaSet up within maxSurge and the old ones down
 * within maxUnavailable, as rolling.go does; Recreate scales the old ones to zero and waits for their
 * pods to go before scaling the new one up. Status sums the ReplicaSets' status.
 */
import type { Logger } from 'pino';
import type { Clock } from '../client/common.js';
import { EventBroadcaster } from '../client/events.js';
import { ApiError, type KubeClient, resourcePath } from '../client/kube-client.js';
import type { Deployment, DeploymentStatus, Pod, PodTemplate, ReplicaSet } from '../api/types.js';
import {
  FOUND_NEW_REPLICA_SET, NEW_REPLICA_SET_CREATED, getCondition, hasProgressDeadline, maxUnavailable, newCondition, rolloutStatus, setCondition, stuckRecheckMs,
} from './deployment-status.js';
import { type Lister, keyOf, splitKey } from '../client/informer.js';
import { controllerRef } from './replicaset.js';
import { WorkQueue } from '../client/workqueue.js';

export const POD_TEMPLATE_HASH = 'pod-template-hash';
export const REVISION = 'deployment.kubernetes.io/revision';

/** 32-bit FNV-1a (hash/fnv New32a). */
export function fnv32a(data: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(data, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** rand.SafeEncodeString: each character mapped into an alphabet without vowels or look-alikes. */
export function safeEncodeString(s: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...Buffer.from(s)].map((b) => alphabet[b % alphabet.length] ?? '').join('');
}

/** Keys sorted at every level, so equal objects give equal text. */
export const canonicalJson = (v: unknown): string => JSON.stringify(v, (_k, val: unknown) =>
  val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : val);

const withoutHash = (t: PodTemplate): PodTemplate => {
  const labels = { ...(t.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH];
  return { ...t, metadata: { ...(t.metadata ?? {}), labels } };
};

/**
 * controller.ComputeHash: FNV-32a over the template (the real one hashes Go's spew dump of the struct;
 * here its canonical JSON) and the collision count, printed in decimal and safe-encoded.
 */
export function podTemplateHash(template: PodTemplate, collisionCount?: number): string {
  let data = canonicalJson(withoutHash(template));
  if (collisionCount !== undefined && collisionCount > 0) data += `#${collisionCount}`;
  return safeEncodeString(String(fnv32a(data)));
}

type Rec = Record<string, unknown>;

/**
 * The pod-spec defaults the apiserver fills in (SetDefaults_PodSpec, SetDefaults_Container), applied to
 * a copy so that a template read back defaulted and one that is not compare equal.
 */
function defaulted(t: PodTemplate): PodTemplate {
  const copy = structuredClone(withoutHash(t));
  const spec = copy.spec as unknown as Rec;
  spec.restartPolicy ??= 'Always';
  spec.schedulerName ??= 'default-scheduler';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  for (const c of copy.spec.containers as unknown as Rec[]) {
    const image = typeof c.image === 'string' ? c.image : '';
    const tagged = /:[^/]+$/.test(image) || image.includes('@');
    c.imagePullPolicy ??= !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.resources ??= {};
    for (const port of (c.ports ?? []) as Rec[]) port.protocol ??= 'TCP';
  }
  return copy;
}

/** deploymentutil.EqualIgnoreHash, over defaulted copies. */
export const sameTemplate = (a: PodTemplate, b: PodTemplate): boolean => canonicalJson(defaulted(a)) === canonicalJson(defaulted(b));

/** intstr.GetScaledValueFromIntOrPercent. */
function scaled(v: number | string | undefined, total: number, roundUp: boolean, fallback: string): number {
  const x = v ?? fallback;
  if (typeof x === 'number') return x;
  const m = /^([0-9]+)%$/.exec(x);
  if (!m) return Number(x) || 0;
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

interface RollingParams { maxSurge: number; maxUnavailable: number }

/** deploymentutil.ResolveFenceposts: maxSurge rounds up, maxUnavailable down; both 0 → maxUnavailable 1. */
export function resolveFenceposts(d: Deployment): RollingParams {
  const ru = (d.spec.strategy as { rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } } | undefined)?.rollingUpdate;
  const replicas = d.spec.replicas ?? 1;
  const maxSurge = scaled(ru?.maxSurge, replicas, true, '25%');
  let maxUnavailable = scaled(ru?.maxUnavailable, replicas, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

const specReplicas = (rs: ReplicaSet): number => rs.spec.replicas ?? 0;
const available = (rs: ReplicaSet): number => rs.status?.availableReplicas ?? 0;
const sum = (xs: readonly ReplicaSet[], f: (rs: ReplicaSet) => number): number => xs.reduce((n, rs) => n + f(rs), 0);

/** deploymentutil.NewRSNewReplicas for RollingUpdate: how far the new ReplicaSet may grow now. */
export function newReplicasForRolling(d: Deployment, all: readonly ReplicaSet[], newRs: ReplicaSet | undefined): number {
  const replicas = d.spec.replicas ?? 1;
  const { maxSurge } = resolveFenceposts(d);
  const current = sum(all, specReplicas);
  const newCount = newRs ? specReplicas(newRs) : 0;
  const maxTotal = replicas + maxSurge;
  if (current >= maxTotal) return newCount;
  return newCount + Math.min(maxTotal - current, replicas - newCount);
}

/**
 * reconcileOldReplicaSets: how many replicas each old ReplicaSet keeps. Unhealthy old replicas go first
 * (cleanupUnhealthyReplicas), then available ones, never below replicas - maxUnavailable available.
 */
export function scaleDownOld(d: Deployment, oldRs: readonly ReplicaSet[], newRs: ReplicaSet | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const replicas = d.spec.replicas ?? 1;
  const all = newRs ? [...oldRs, newRs] : [...oldRs];
  if (sum(oldRs, specReplicas) === 0) return out;
  const { maxUnavailable } = resolveFenceposts(d);
  const minAvailable = replicas - maxUnavailable;
  const newUnavailable = newRs ? specReplicas(newRs) - available(newRs) : 0;
  let maxScaledDown = sum(all, specReplicas) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return out;
  const byAge = [...oldRs].sort((a, b) => (a.metadata.creationTimestamp ?? '') < (b.metadata.creationTimestamp ?? '') ? -1 : 1);
  const target = new Map(byAge.map((rs) => [rs.metadata.name ?? '', specReplicas(rs)]));
  for (const rs of byAge) {
    if (maxScaledDown <= 0) break;
    const cur = target.get(rs.metadata.name ?? '') ?? 0;
    const unhealthy = cur - available(rs);
    if (unhealthy <= 0) continue;
    const down = Math.min(maxScaledDown, unhealthy);
    target.set(rs.metadata.name ?? '', cur - down);
    maxScaledDown -= down;
  }
  // scaleDownOldReplicaSetsForRollingUpdate
  const availableNow = sum(all, available);
  let canRemove = Math.min(maxScaledDown, availableNow - minAvailable);
  for (const rs of byAge) {
    if (canRemove <= 0) break;
    const cur = target.get(rs.metadata.name ?? '') ?? 0;
    const down = Math.min(cur, canRemove);
    target.set(rs.metadata.name ?? '', cur - down);
    canRemove -= down;
  }
  for (const rs of oldRs) {
    const t = target.get(rs.metadata.name ?? '') ?? 0;
    if (t !== specReplicas(rs)) out.set(rs.metadata.name ?? '', t);
  }
  return out;
}

/** The ReplicaSet a Deployment's template gets (getNewReplicaSet). */
export function newReplicaSetFor(d: Deployment, hash: string, replicas: number, revision: number): ReplicaSet {
  const t = d.spec.template;
  const labels = { ...(t.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash };
  const maxSurge = resolveFenceposts(d).maxSurge;
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name ?? ''}-${hash}`,
      namespace: d.metadata.namespace ?? 'default',
      labels,
      annotations: {
        'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas ?? 1),
        'deployment.kubernetes.io/max-replicas': String((d.spec.replicas ?? 1) + maxSurge),
        [REVISION]: String(revision),
      },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name ?? '', uid: d.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      replicas,
      selector: { ...d.spec.selector, matchLabels: { ...(d.spec.selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash } },
      template: { ...t, metadata: { ...(t.metadata ?? {}), labels } },
    },
  };
}

export interface DeploymentControllerOptions {
  readonly client: KubeClient;
  readonly deployments: Lister<Deployment>;
  readonly replicaSets: Lister<ReplicaSet>;
  readonly pods: Lister<Pod>;
  readonly logger: Logger;
  readonly clock: Clock;
}

export class DeploymentController {
  readonly name = 'deployment-controller';
  readonly queue: WorkQueue;
  /** Its own event broadcaster (NewDeploymentController): events are queued, never waited for. */
  readonly events: EventBroadcaster;
  private readonly o: DeploymentControllerOptions;

  constructor(o: DeploymentControllerOptions) {
    this.o = o;
    this.events = new EventBroadcaster({ client: o.client, clock: o.clock, logger: o.logger, component: this.name });
    this.queue = new WorkQueue({ name: this.name, logger: o.logger, handler: (k) => this.sync(k) });
    o.deployments.addHandlers({ add: (d) => this.queue.add(keyOf(d)), update: (_o, d) => this.queue.add(keyOf(d)), delete: (d) => this.queue.add(keyOf(d)) });
    const rsChanged = (rs: ReplicaSet): void => {
      const ref = controllerRef(rs);
      if (ref?.kind === 'Deployment') this.queue.add(`${rs.metadata.namespace ?? 'default'}/${ref.name}`);
    };
    o.replicaSets.addHandlers({ add: rsChanged, update: (_o, rs) => rsChanged(rs), delete: rsChanged });
    // Recreate waits for the old pods to be gone.
    o.pods.addHandlers({
      delete: (p) => {
        const ref = controllerRef(p);
        if (ref?.kind !== 'ReplicaSet') return;
        const rs = o.replicaSets.get(`${p.metadata.namespace ?? 'default'}/${ref.name}`);
        if (rs) rsChanged(rs);
      },
    });
  }

  private event(d: Deployment, reason: string, message: string): void {
    this.events.record({ kind: 'Deployment', apiVersion: 'apps/v1', object: d }, 'Normal', reason, message);
  }

  private rsPath(ns: string, name?: string): string {
    return resourcePath({ group: 'apps', resource: 'replicasets', namespace: ns, ...(name ? { name } : {}) });
  }

  private async scale(rs: ReplicaSet, replicas: number, d: Deployment): Promise<void> {
    if (specReplicas(rs) === replicas) return;
    const from = specReplicas(rs);
    this.o.logger.info({ replicaSet: keyOf(rs), from, to: replicas }, 'scaling replica set');
    await this.o.client.patch(this.rsPath(rs.metadata.namespace ?? 'default', rs.metadata.name ?? ''), {
      metadata: { annotations: { 'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas ?? 1) } },
      spec: { replicas },
    });
    this.event(d, 'ScalingReplicaSet', `Scaled ${replicas > from ? 'up' : 'down'} replica set ${rs.metadata.name ?? ''} to ${replicas} from ${from}`);
  }

  private async sync(key: string): Promise<void> {
    const cached = this.o.deployments.get(key);
    if (!cached || cached.metadata.deletionTimestamp) return;
    let d = cached;
    const { namespace = 'default' } = splitKey(key);
    const owned = this.o.replicaSets.list().filter((rs) => rs.metadata.namespace === namespace && controllerRef(rs)?.uid === d.metadata.uid);
    const collisionCount = (d.status as { collisionCount?: number } | undefined)?.collisionCount;
    const hash = podTemplateHash(d.spec.template, collisionCount);
    // FindNewReplicaSet: the one whose template is the deployment's; failing that (a field the
    // apiserver defaulted on one side only), the one this template's hash names.
    let newRs = owned.find((rs) => sameTemplate(rs.spec.template, d.spec.template))
      ?? owned.find((rs) => rs.metadata.name === `${d.metadata.name ?? ''}-${hash}`);
    const oldRs = owned.filter((rs) => rs !== newRs);
    const replicas = d.spec.replicas ?? 1;
    const recreate = d.spec.strategy?.type === 'Recreate';
    const oldActive = oldRs.filter((rs) => specReplicas(rs) > 0);

    if (recreate) {
      for (const rs of oldActive) await this.scale(rs, 0, d);
      const oldPods = this.o.pods.list().some((p) => p.metadata.namespace === namespace && oldRs.some((rs) => controllerRef(p)?.uid === rs.metadata.uid));
      if (oldActive.length > 0 || oldPods) { await this.updateStatus(d, owned, newRs); return; }
    }

    if (!newRs) {
      const revision = Math.max(0, ...oldRs.map((rs) => Number(rs.metadata.annotations?.[REVISION] ?? 0))) + 1;
      const want = recreate || oldActive.length === 0 ? replicas : newReplicasForRolling(d, owned, undefined);
      const rs = newReplicaSetFor(d, hash, want, revision);
      this.o.logger.info({ deployment: key, replicaSet: rs.metadata.name, replicas: want }, 'creating replica set');
      try {
        newRs = await this.o.client.create<ReplicaSet>(this.rsPath(namespace), rs);
        this.event(d, 'ScalingReplicaSet', `Scaled up replica set ${newRs.metadata.name ?? ''} to ${want}`);
        d = await this.noteNewReplicaSet(d, newRs, true);
      } catch (err) {
        // Already there (the informer has not caught up): the RS event syncs this deployment again.
        if (err instanceof ApiError && err.httpStatus === 409) return;
        throw err;
      }
    } else if (recreate || oldActive.length === 0) {
      d = await this.noteNewReplicaSet(d, newRs, false);
      await this.scale(newRs, replicas, d);
    } else {
      d = await this.noteNewReplicaSet(d, newRs, false);
      await this.scale(newRs, newReplicasForRolling(d, owned, newRs), d);
    }

    if (!recreate) {
      const targets = scaleDownOld(d, oldRs, newRs);
      for (const rs of oldRs) {
        const t = targets.get(rs.metadata.name ?? '');
        if (t !== undefined) await this.scale(rs, t, d);
      }
    }
    await this.updateStatus(d, [...oldRs, newRs], newRs);
  }

  /**
   * syncRolloutStatus: counts, Available and Progressing as the rollout stands; written only when
   * something changed. A rollout with no progress is checked again at its deadline (requeueStuckDeployment).
   */
  private async updateStatus(d: Deployment, all: readonly ReplicaSet[], newRs: ReplicaSet | undefined): Promise<void> {
    const now = this.o.clock.now();
    const status = rolloutStatus(all, newRs, d, maxUnavailable(d, resolveFenceposts(d).maxUnavailable), now);
    if (canonicalJson(status) === canonicalJson(d.status ?? {})) {
      const after = stuckRecheckMs(d, status, now);
      if (after !== undefined) this.queue.addAfter(keyOf(d), after);
      return;
    }
    await this.writeStatus(d, status);
  }

  /** UpdateStatus (annotations travel with it, as the revision does); on a conflict, read the latest once and write again. */
  private async writeStatus(d: Deployment, status: DeploymentStatus): Promise<Deployment | undefined> {
    const path = resourcePath({ group: 'apps', resource: 'deployments', namespace: d.metadata.namespace ?? 'default', name: d.metadata.name ?? '', subresource: 'status' });
    let base = d;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.o.client.update<Deployment>(path, { ...base, metadata: { ...base.metadata, ...(d.metadata.annotations ? { annotations: d.metadata.annotations } : {}) }, apiVersion: 'apps/v1', kind: 'Deployment', status });
      } catch (err) {
        if (err instanceof ApiError && err.httpStatus === 404) return undefined;
        // Its spec may have moved on: the event that moved it queues another sync.
        if (!(err instanceof ApiError && err.httpStatus === 409) || attempt > 0) throw err;
        base = await this.o.client.get<Deployment>(path.replace(/\/status$/, ''));
      }
    }
  }

  /**
   * getNewReplicaSet's bookkeeping: the Deployment carries its new ReplicaSet's revision, and a
   * Progressing condition from the moment the ReplicaSet is created (NewReplicaSetCreated) or first
   * found (FoundNewReplicaSet). Returns the Deployment as written, or as it was when nothing changed.
   */
  private async noteNewReplicaSet(d: Deployment, rs: ReplicaSet, created: boolean): Promise<Deployment> {
    const revision = rs.metadata.annotations?.[REVISION];
    const next: Deployment = structuredClone(d);
    let changed = false;
    if (revision !== undefined && next.metadata.annotations?.[REVISION] !== revision) {
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [REVISION]: revision };
      changed = true;
    }
    const status: DeploymentStatus = { ...(next.status ?? {}) };
    const name = rs.metadata.name ?? '';
    if (hasProgressDeadline(d) && (created || !getCondition(d.status, 'Progressing'))) {
      setCondition(status, created
        ? newCondition('Progressing', 'True', NEW_REPLICA_SET_CREATED, `Created new replica set "${name}"`, this.o.clock.now())
        : newCondition('Progressing', 'True', FOUND_NEW_REPLICA_SET, `Found new replica set "${name}"`, this.o.clock.now()));
      changed = true;
    }
    if (!changed) return d;
    return (await this.writeStatus(next, status)) ?? d;
  }
}
