/**
 * POST pods/<name>/eviction (EvictionREST, k8s.io/kubernetes pkg/registry/core/pod/storage/eviction.go,
 * v1.32): the pod is deleted unless a PodDisruptionBudget selecting it forbids the disruption.
 *
 * - The body is a policy/v1 Eviction (policy/v1beta1 is accepted too, as AcceptsGroupVersion does);
 *   its name must be the pod's (`name in URL does not match name in Eviction object`). Authorization is
 *   `create` on `pods/eviction`, decided before this runs.
 * - A pod that is Pending, Succeeded, Failed or already being deleted is deleted without a budget check.
 * - More than one budget selecting the pod: 500 `This pod has more than one PodDisruptionBudget, ...`.
 * - The budget's status is checked and decremented (checkAndDecrement): none allowed is a 429
 *   TooManyRequests `Cannot evict pod as it would violate the pod's disruption budget.` with a
 *   `DisruptionBudget` cause naming the healthy pods it needs and has; else disruptionsAllowed goes
 *   down by one, the pod is recorded in status.disruptedPods, and the pod gets the `DisruptionTarget`
 *   condition (reason EvictionByEvictionAPI) before it is deleted. The answer is a Success Status, 201.
 *
 * One difference, documented: this simulation runs no disruption controller, so nothing keeps a
 * budget's status current. The eviction computes it first, as the disruption controller's
 * getExpectedPodCount and countHealthyPods would at that moment (pods selected, Ready and not being
 * deleted or recently evicted; the expected count from the owning ReplicaSet's or Deployment's scale
 * for percentages and maxUnavailable) and then applies eviction.go's rules to that status.
 */
import type { KubeObject, Pod } from '../api/types.js';
import type { PodDisruptionBudget, IntOrString } from '../api/policy.js';
import { badRequest, failure, forbidden, type ApiStatusError } from '../api/errors.js';
import { resourceByName } from '../api/resources.js';
import { matchesSelector } from '../api/labels.js';
import type { Clock } from '../client/common.js';
import type { Store } from './storage.js';

const PODS = resourceByName('pods');
const PDBS = resourceByName('poddisruptionbudgets', 'policy');
const REPLICASETS = resourceByName('replicasets', 'apps');
const DEPLOYMENTS = resourceByName('deployments', 'apps');

/** The disruption controller forgets a disrupted pod that was not deleted after this long (DeletionTimeout). */
const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

type Budget = PodDisruptionBudget & {
  spec: PodDisruptionBudget['spec'] & { unhealthyPodEvictionPolicy?: string };
  status?: NonNullable<PodDisruptionBudget['status']> & { disruptedPods?: Record<string, string>; conditions?: Rec[] };
};

export interface EvictionDeps {
  readonly store: Store;
  readonly clock: Clock;
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** podutil.IsPodReady: the Ready condition is True. */
const isReady = (pod: Pod): boolean => (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** canIgnorePDB: a terminal, pending or terminating pod has disrupted nothing more by going. */
const canIgnorePdb = (pod: Pod): boolean => {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || Boolean(pod.metadata.deletionTimestamp);
};

/** The Eviction a request carries: policy/v1 or policy/v1beta1, named as the pod. */
export function checkEviction(body: unknown, podName: string): { dryRunInBody: readonly string[] | undefined } {
  if (!isRec(body)) throw badRequest('the body of the request was in an unknown format');
  const apiVersion = body.apiVersion;
  if (apiVersion !== undefined && apiVersion !== '' && apiVersion !== 'policy/v1' && apiVersion !== 'policy/v1beta1') {
    throw badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (policy/v1)`);
  }
  const md = isRec(body.metadata) ? body.metadata : {};
  if ((typeof md.name === 'string' ? md.name : '') !== podName) throw badRequest('name in URL does not match name in Eviction object');
  const opts = isRec(body.deleteOptions) ? body.deleteOptions : undefined;
  const dryRun = opts && Array.isArray(opts.dryRun) ? opts.dryRun.map(String) : undefined;
  return { dryRunInBody: dryRun };
}

/** intstr.GetScaledValueFromIntOrPercent(v, total, roundUp=true). */
function scaled(v: IntOrString, total: number): number {
  if (typeof v === 'number') return v;
  return Math.ceil((Number(v.slice(0, -1)) * total) / 100);
}

/**
 * The status the disruption controller would write for `pdb` now (trySync: getExpectedPodCount,
 * countHealthyPods, updatePdbStatus); undefined when it would fail (a pod whose controller it cannot
 * find), which the controller answers with its fail-safe status (no disruption allowed).
 */
async function currentStatus(store: Store, pdb: Budget, pods: readonly Pod[], now: Date): Promise<NonNullable<Budget['status']>> {
  const ns = pdb.metadata.namespace;
  const { minAvailable, maxUnavailable } = pdb.spec;
  let expectedPods = 0;
  let desiredHealthy = 0;
  const disruptedPods: Record<string, string> = {};
  for (const [name, at] of Object.entries(pdb.status?.disruptedPods ?? {})) {
    // Entries for pods gone, or older than DeletionTimeout, are dropped (buildDisruptedPodMap).
    if (pods.some((p) => p.metadata.name === name && !p.metadata.deletionTimestamp) && Date.parse(at) + DELETION_TIMEOUT_MS > now.getTime()) disruptedPods[name] = at;
  }
  const expectedScale = async (): Promise<number | undefined> => {
    const scales = new Map<string, number>();
    for (const pod of pods) {
      const ref = (pod.metadata.ownerReferences ?? []).find((r) => r.controller);
      if (!ref) continue; // unmanaged pods do not count towards the scale
      let owner: { uid: string; replicas: number } | undefined;
      if (ref.kind === 'ReplicaSet' && ref.apiVersion.startsWith('apps/')) {
        const rs = await store.tryGet<KubeObject & { spec: { replicas?: number } }>(REPLICASETS, ns, ref.name);
        if (rs && rs.metadata.uid === ref.uid) {
          const dref = (rs.metadata.ownerReferences ?? []).find((r) => r.controller && r.kind === 'Deployment');
          const d = dref ? await store.tryGet<KubeObject & { spec: { replicas?: number } }>(DEPLOYMENTS, ns, dref.name) : undefined;
          owner = d && d.metadata.uid === dref?.uid ? { uid: d.metadata.uid ?? '', replicas: d.spec.replicas ?? 1 } : { uid: rs.metadata.uid ?? '', replicas: rs.spec.replicas ?? 1 };
        }
      }
      if (!owner) return undefined; // "found no controllers for pod"
      scales.set(owner.uid, owner.replicas);
    }
    return [...scales.values()].reduce((a, b) => a + b, 0);
  };
  const failSafe = { observedGeneration: pdb.metadata.generation ?? 1, disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  if (maxUnavailable !== undefined) {
    const scale = await expectedScale();
    if (scale === undefined) return failSafe;
    expectedPods = scale;
    desiredHealthy = Math.max(0, expectedPods - scaled(maxUnavailable, expectedPods));
  } else if (minAvailable !== undefined) {
    if (typeof minAvailable === 'number') {
      desiredHealthy = minAvailable;
      expectedPods = pods.length;
    } else {
      const scale = await expectedScale();
      if (scale === undefined) return failSafe;
      expectedPods = scale;
      desiredHealthy = scaled(minAvailable, expectedPods);
    }
  }
  const currentHealthy = pods.filter((p) => !p.metadata.deletionTimestamp && !Object.hasOwn(disruptedPods, p.metadata.name ?? '') && isReady(p)).length;
  const disruptionsAllowed = expectedPods > 0 ? Math.max(0, currentHealthy - desiredHealthy) : 0;
  return {
    observedGeneration: pdb.metadata.generation ?? 1, disruptionsAllowed, currentHealthy, desiredHealthy, expectedPods,
    ...(Object.keys(disruptedPods).length ? { disruptedPods } : {}),
  };
}

/** pdbhelper.UpdateDisruptionAllowedCondition: DisruptionAllowed True (SufficientPods) or False (InsufficientPods). */
function withAllowedCondition(status: NonNullable<Budget['status']>, old: readonly Rec[] | undefined, now: Date): Rec[] {
  const allowed = status.disruptionsAllowed > 0;
  const prior = (old ?? []).find((c) => c.type === 'DisruptionAllowed');
  const cond = {
    type: 'DisruptionAllowed', status: allowed ? 'True' : 'False', observedGeneration: status.observedGeneration ?? 0,
    lastTransitionTime: prior && prior.status === (allowed ? 'True' : 'False') && typeof prior.lastTransitionTime === 'string' ? prior.lastTransitionTime : rfc3339(now),
    reason: allowed ? 'SufficientPods' : 'InsufficientPods', message: '',
  };
  return [...(old ?? []).filter((c) => c.type !== 'DisruptionAllowed'), cond];
}

const tooManyRequests = (message: string, retryAfterSeconds: number, cause: string): ApiStatusError =>
  failure(429, 'TooManyRequests', message, { causes: [{ reason: 'DisruptionBudget', message: cause }], ...(retryAfterSeconds ? { retryAfterSeconds } : {}) }, 'admission');

/** Evicts `ns/name`: checks the budget (computing its status), then marks and deletes the pod. Throws the refusals. */
export async function evict(d: EvictionDeps, ns: string, name: string, dryRun: boolean): Promise<void> {
  const pod = await d.store.get<Pod>(PODS, ns, name);
  if (!canIgnorePdb(pod)) {
    const { items } = await d.store.list<Budget>(PDBS, ns);
    const budgets = items.filter((b) => {
      const sel = b.spec.selector;
      // A nil or empty selector matches nothing (policy/v1).
      const empty = !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
      return !empty && matchesSelector(sel, pod.metadata.labels);
    });
    if (budgets.length > 1) throw failure(500, '', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    const pdb = budgets[0];
    if (pdb) await checkAndDecrement(d, pdb, pod, dryRun);
  }
  if (dryRun) return;
  // addConditionAndDeletePod (the store's own update and delete: no second admission, as rest.ValidateAllObjectFunc): the DisruptionTarget condition first, then the delete.
  const now = rfc3339(d.clock.now());
  await d.store.update<Pod>(PODS, ns, name, (p) => ({
    ...p,
    status: {
      ...p.status,
      conditions: [
        ...(p.status?.conditions ?? []).filter((c) => (c.type as string) !== 'DisruptionTarget'),
        { type: 'DisruptionTarget', status: 'True', lastTransitionTime: now, reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' },
      ],
    },
  }));
  await d.store.delete(PODS, ns, name);
}

async function checkAndDecrement(d: EvictionDeps, pdb: Budget, pod: Pod, dryRun: boolean): Promise<void> {
  const ns = pod.metadata.namespace!;
  const now = d.clock.now();
  const { items: all } = await d.store.list<Pod>(PODS, ns);
  const selected = all.filter((p) => matchesSelector(pdb.spec.selector, p.metadata.labels));
  if (!isReady(pod)) {
    // An unready pod does not count as healthy: evicting it takes nothing from the budget.
    if (pdb.spec.unhealthyPodEvictionPolicy === 'AlwaysAllow') return;
    const status = await currentStatus(d.store, pdb, selected, now);
    if (status.currentHealthy >= status.desiredHealthy && status.desiredHealthy > 0) return;
  }
  // The read-check-decrement is one compare-and-swap on the budget (the store retries it on a
  // conflict, as eviction.go's RetryOnConflict does), so concurrent evictions never both spend the
  // last allowed disruption.
  let refused: NonNullable<Budget['status']> | undefined;
  await d.store.update<Budget>(PDBS, ns, pdb.metadata.name ?? '', async (cur) => {
    refused = undefined;
    const status = await currentStatus(d.store, cur, selected, now);
    if (status.disruptionsAllowed < 0) throw forbidden(`poddisruptionbudget.policy "${cur.metadata.name ?? ''}" is forbidden: pdb disruptions allowed is negative`, { group: 'policy', resource: 'poddisruptionbudget' }, cur.metadata.name ?? '', 'admission');
    let next = status;
    if (status.disruptionsAllowed === 0) refused = status;
    else next = { ...status, disruptionsAllowed: status.disruptionsAllowed - 1, disruptedPods: { ...status.disruptedPods, [pod.metadata.name ?? '']: rfc3339(now) } };
    return { ...cur, status: { ...next, conditions: withAllowedCondition(next, cur.status?.conditions, now) } };
  }, { dryRun });
  if (refused) {
    throw tooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0,
      `The disruption budget ${pdb.metadata.name ?? ''} needs ${refused.desiredHealthy} healthy pods and has ${refused.currentHealthy} currently`);
  }
}
