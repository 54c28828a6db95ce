/**
 * A Deployment's status as the deployment controller writes it (pkg/controller/deployment: sync.go
 * calculateStatus, progress.go syncRolloutStatus and requeueStuckDeployment, util/deployment_util.go
 * for the conditions, their reasons and messages). Pure: the clock's reading is passed in.
 */
import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from '../api/types.js';

export const MINIMUM_REPLICAS_AVAILABLE = 'MinimumReplicasAvailable';
export const MINIMUM_REPLICAS_UNAVAILABLE = 'MinimumReplicasUnavailable';
export const NEW_REPLICA_SET_CREATED = 'NewReplicaSetCreated';
export const FOUND_NEW_REPLICA_SET = 'FoundNewReplicaSet';
export const REPLICA_SET_UPDATED = 'ReplicaSetUpdated';
export const NEW_REPLICA_SET_AVAILABLE = 'NewReplicaSetAvailable';
export const PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';

/** metav1.Time: seconds, UTC. */
export const rfc3339 = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

const MAX_INT32 = 2 ** 31 - 1;

/** util.HasProgressDeadline. */
export const hasProgressDeadline = (d: Deployment): boolean =>
  d.spec.progressDeadlineSeconds !== undefined && d.spec.progressDeadlineSeconds !== MAX_INT32;

/** util.NewDeploymentCondition: both times now. */
export function newCondition(type: DeploymentCondition['type'], status: DeploymentCondition['status'], reason: string, message: string, now: Date): DeploymentCondition {
  const t = rfc3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

export const getCondition = (s: DeploymentStatus | undefined, type: DeploymentCondition['type']): DeploymentCondition | undefined =>
  s?.conditions?.find((c) => c.type === type);

/**
 * util.SetDeploymentCondition: nothing changes when status and reason are the same; the transition
 * time is kept when only the reason changes; the condition moves to the end of the list.
 */
export function setCondition(s: DeploymentStatus, c: DeploymentCondition): void {
  const cur = getCondition(s, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  const next = cur && cur.status === c.status ? { ...c, lastTransitionTime: cur.lastTransitionTime } : c;
  s.conditions = [...(s.conditions ?? []).filter((x) => x.type !== c.type), next];
}

export function removeCondition(s: DeploymentStatus, type: DeploymentCondition['type']): void {
  if (!s.conditions) return;
  s.conditions = s.conditions.filter((x) => x.type !== type);
  if (s.conditions.length === 0) delete s.conditions;
}

/** util.MaxUnavailable: 0 for Recreate or zero replicas, else the resolved maxUnavailable, at most replicas. */
export function maxUnavailable(d: Deployment, resolved: number): number {
  const replicas = d.spec.replicas ?? 1;
  if (d.spec.strategy?.type === 'Recreate' || replicas === 0) return 0;
  return Math.min(resolved, replicas);
}

const total = (all: readonly (ReplicaSet | undefined)[], f: (rs: ReplicaSet) => number): number =>
  all.reduce((n, rs) => n + (rs ? f(rs) : 0), 0);

/** sync.go calculateStatus: the counts (zeros omitted, as omitempty does) and the Available condition. */
export function calculateStatus(all: readonly ReplicaSet[], newRs: ReplicaSet | undefined, d: Deployment, maxUnavail: number, now: Date): DeploymentStatus {
  const availableReplicas = total(all, (rs) => rs.status?.availableReplicas ?? 0);
  const totalReplicas = total(all, (rs) => rs.spec.replicas ?? 0);
  const counts: Record<string, number> = {
    replicas: total(all, (rs) => rs.status?.replicas ?? 0),
    updatedReplicas: total([newRs], (rs) => rs.status?.replicas ?? 0),
    readyReplicas: total(all, (rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas,
    unavailableReplicas: Math.max(0, totalReplicas - availableReplicas),
  };
  const status: DeploymentStatus = {
    ...(d.metadata.generation !== undefined ? { observedGeneration: d.metadata.generation } : {}),
    ...Object.fromEntries(Object.entries(counts).filter(([, v]) => v !== 0)),
    ...(d.status?.conditions ? { conditions: d.status.conditions.map((c) => ({ ...c })) } : {}),
    ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
  };
  if (availableReplicas >= (d.spec.replicas ?? 1) - maxUnavail) {
    setCondition(status, newCondition('Available', 'True', MINIMUM_REPLICAS_AVAILABLE, 'Deployment has minimum availability.', now));
  } else {
    setCondition(status, newCondition('Available', 'False', MINIMUM_REPLICAS_UNAVAILABLE, 'Deployment does not have minimum availability.', now));
  }
  return status;
}

/** util.DeploymentComplete. */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const replicas = d.spec.replicas ?? 1;
  return (s.updatedReplicas ?? 0) === replicas && (s.replicas ?? 0) === replicas && (s.availableReplicas ?? 0) === replicas
    && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** util.DeploymentProgressing: more updated, fewer old, more ready or more available than before. */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld
    || (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

/** util.DeploymentTimedOut: no progress since the Progressing condition's lastUpdateTime + progressDeadlineSeconds. */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, 'Progressing');
  if (!c || c.reason === NEW_REPLICA_SET_AVAILABLE) return false;
  if (c.reason === PROGRESS_DEADLINE_EXCEEDED) return true;
  return Date.parse(c.lastUpdateTime) + (d.spec.progressDeadlineSeconds ?? 0) * 1000 < now.getTime();
}

/** progress.go syncRolloutStatus: the status to write (Progressing as the rollout stands, Available from calculateStatus). */
export function rolloutStatus(all: readonly ReplicaSet[], newRs: ReplicaSet | undefined, d: Deployment, maxUnavail: number, now: Date): DeploymentStatus {
  const s = calculateStatus(all, newRs, d, maxUnavail, now);
  if (!hasProgressDeadline(d)) removeCondition(s, 'Progressing');
  const cur = getCondition(d.status, 'Progressing');
  const complete = s.replicas === s.updatedReplicas && cur?.reason === NEW_REPLICA_SET_AVAILABLE;
  const name = newRs?.metadata.name;
  if (hasProgressDeadline(d) && !complete) {
    if (deploymentComplete(d, s)) {
      const msg = name ? `ReplicaSet "${name}" has successfully progressed.` : `Deployment "${d.metadata.name ?? ''}" has successfully progressed.`;
      setCondition(s, newCondition('Progressing', 'True', NEW_REPLICA_SET_AVAILABLE, msg, now));
    } else if (deploymentProgressing(d, s)) {
      const msg = name ? `ReplicaSet "${name}" is progressing.` : `Deployment "${d.metadata.name ?? ''}" is progressing.`;
      let c = newCondition('Progressing', 'True', REPLICA_SET_UPDATED, msg, now);
      if (cur) {
        // Same reason, a new lastUpdateTime: progress was seen; the transition time stays while True.
        if (cur.status === 'True') c = { ...c, lastTransitionTime: cur.lastTransitionTime };
        removeCondition(s, 'Progressing');
      }
      setCondition(s, c);
    } else if (deploymentTimedOut(d, s, now)) {
      const msg = name ? `ReplicaSet "${name}" has timed out progressing.` : `Deployment "${d.metadata.name ?? ''}" has timed out progressing.`;
      setCondition(s, newCondition('Progressing', 'False', PROGRESS_DEADLINE_EXCEEDED, msg, now));
    }
  }
  // getReplicaFailures: a ReplicaFailure on the new ReplicaSet (else an old one) becomes the Deployment's.
  const failure = [newRs, ...all.filter((rs) => rs !== newRs)].map((rs) => rs?.status?.conditions?.find((c) => c.type === 'ReplicaFailure')).find((c) => c !== undefined);
  if (failure) {
    const at = failure.lastTransitionTime ?? rfc3339(now);
    setCondition(s, {
      type: 'ReplicaFailure', status: failure.status, lastUpdateTime: at, lastTransitionTime: at,
      ...(failure.reason ? { reason: failure.reason } : {}), ...(failure.message ? { message: failure.message } : {}),
    });
  } else {
    removeCondition(s, 'ReplicaFailure');
  }
  return s;
}

/**
 * requeueStuckDeployment: when a rollout shows no progress, how long until its deadline is checked
 * again (lastUpdateTime + progressDeadlineSeconds - now, plus a second); undefined when there is nothing to watch for.
 */
export function stuckRecheckMs(d: Deployment, s: DeploymentStatus, now: Date): number | undefined {
  const cur = getCondition(d.status, 'Progressing');
  if (!hasProgressDeadline(d) || !cur) return undefined;
  if (deploymentComplete(d, s) || cur.reason === PROGRESS_DEADLINE_EXCEEDED) return undefined;
  const after = Date.parse(cur.lastUpdateTime) + (d.spec.progressDeadlineSeconds ?? 0) * 1000 - now.getTime();
  return after < 1000 ? 1000 : after + 1000;
}
