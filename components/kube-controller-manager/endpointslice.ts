/**
 * The EndpointSlice controller (pkg/controller/endpointslice, its reconciler in
 * staging/src/k8s.io/endpointslice): for every Service with a selector, discovery.k8s.io/v1
 * EndpointSlices list the selected pods that have an IP, terminating ones included, each with its
 * conditions (ready = serving and not terminating; serving = the pod's Ready condition). Slices are
 * named by the apiserver from generateName `<service>-`, labelled `kubernetes.io/service-name` and
 * `endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`, and owned by the Service
 * (controller and blockOwnerDeletion), so the garbage collector deletes them with it; this controller
 * never deletes a Service's slices when the Service goes.
 *
 * Pods that resolve the same ports share slices of at most 100 endpoints (--max-endpoints-per-slice).
 * A Service that selects nothing keeps one placeholder slice with no endpoints and no ports.
 *
 * The informer lags behind the controller's own writes (and a slice's name is only known once it is
 * created), so, as the real endpointSliceTracker does, the controller remembers the generation of
 * every slice it wrote and does not reconcile a Service while its informer shows an older one: the
 * informer event that brings the write queues the Service again.
 */
import type { Logger } from 'pino';
import { ApiError, type KubeClient, resourcePath } from '../client/kube-client.js';
import type { EndpointSlice, OwnerReference, Pod, Service, SliceEndpoint, SliceEndpointPort } from '../api/types.js';
import { findPort, isPodReady } from './endpoints.js';
import { type Lister, keyOf, splitKey } from '../client/informer.js';
import { matchesMap } from '../api/labels.js';
import { WorkQueue } from '../client/workqueue.js';

/** discovery.LabelServiceName. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/** discovery.LabelManagedBy. */
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
/** The managed-by value of this controller (ControllerName). */
export const ENDPOINTSLICE_CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
/** v1.IsHeadlessService. */
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
/** --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

/** How soon a Service whose slices the informer has not caught up with is looked at again. */
const STALE_RETRY_MS = 500;

const SLICES = { group: 'discovery.k8s.io', resource: 'endpointslices' } as const;

/** endpointutil.ShouldPodBeInEndpoints(pod, includeTerminating=true). */
export function shouldPodBeInSlices(pod: Pod): boolean {
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
  return Boolean(pod.status?.podIP) || (pod.status?.podIPs?.length ?? 0) > 0;
}

/** podToEndpoint: one address, the conditions, the node and the Pod it stands for. */
export function podToEndpoint(pod: Pod, service: Service): SliceEndpoint {
  const serving = isPodReady(pod);
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  const publishNotReady = (service.spec as { publishNotReadyAddresses?: boolean }).publishNotReadyAddresses === true;
  const ready = publishNotReady || (serving && !terminating);
  return {
    addresses: [pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip ?? ''],
    conditions: { ready, serving, terminating },
    ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
  };
}

/** getEndpointPorts: every service port the pod resolves, in the service's order, name always set. */
export function endpointPorts(service: Service, pod: Pod): SliceEndpointPort[] {
  const out: SliceEndpointPort[] = [];
  for (const sp of service.spec.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    out.push({ name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' });
  }
  return out;
}

/** The labels of a Service's slices (setEndpointSliceLabels): the Service's own, the headless mark, then the two reserved ones. */
export function sliceLabels(service: Service): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.metadata.labels ?? {})) {
    if (k !== LABEL_SERVICE_NAME && k !== LABEL_MANAGED_BY) labels[k] = v;
  }
  if (service.spec.clusterIP === 'None') labels[LABEL_HEADLESS] = '';
  labels[LABEL_SERVICE_NAME] = service.metadata.name ?? '';
  labels[LABEL_MANAGED_BY] = ENDPOINTSLICE_CONTROLLER_NAME;
  return labels;
}

/** metav1.NewControllerRef(service, v1 Service). */
export const serviceOwnerRef = (service: Service): OwnerReference => ({
  apiVersion: 'v1', kind: 'Service', name: service.metadata.name ?? '', uid: service.metadata.uid ?? '', controller: true, blockOwnerDeletion: true,
});

/** endpointutil.NewPortMapKey: the ports sorted by name, as a string. */
const portsKey = (ports: readonly SliceEndpointPort[]): string =>
  JSON.stringify([...ports].sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : (a.port ?? 0) - (b.port ?? 0)))
    .map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP']));

const ipKey = (ip: string): string => ip.split('.').map((o) => o.padStart(3, '0')).join('.');
const addressOf = (e: SliceEndpoint): string => e.addresses[0] ?? '';
const byAddress = (a: SliceEndpoint, b: SliceEndpoint): number => (ipKey(addressOf(a)) < ipKey(addressOf(b)) ? -1 : ipKey(addressOf(a)) > ipKey(addressOf(b)) ? 1 : 0);

/** One set of ports and the endpoints that resolve exactly those ports. */
export interface DesiredGroup {
  readonly ports: SliceEndpointPort[];
  readonly endpoints: SliceEndpoint[];
}

/** The endpoints a Service's slices should hold, grouped by the ports they resolve (keyed by portsKey). */
export function desiredGroups(service: Service, pods: readonly Pod[]): Map<string, DesiredGroup> {
  const groups = new Map<string, DesiredGroup>();
  const selector = service.spec.selector ?? {};
  const headlessNoPorts = (service.spec.ports ?? []).length === 0 && service.spec.clusterIP === 'None';
  for (const pod of pods) {
    if (pod.metadata.namespace !== service.metadata.namespace || !matchesMap(selector, pod.metadata.labels)) continue;
    if (!shouldPodBeInSlices(pod)) continue;
    const ports = headlessNoPorts ? [] : endpointPorts(service, pod);
    const key = portsKey(ports);
    let g = groups.get(key);
    if (!g) { g = { ports, endpoints: [] }; groups.set(key, g); }
    g.endpoints.push(podToEndpoint(pod, service));
  }
  for (const g of groups.values()) g.endpoints.sort(byAddress);
  return groups;
}

const canonical = (v: unknown): string => JSON.stringify(v, (_k, val: unknown) =>
  val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : val);

/** What one sync writes. */
export interface SlicePlan {
  readonly create: { ports: SliceEndpointPort[]; endpoints: SliceEndpoint[] }[];
  readonly update: EndpointSlice[];
  readonly delete: EndpointSlice[];
}

const ownedBy = (slice: EndpointSlice, service: Service): boolean =>
  (slice.metadata.ownerReferences ?? []).some((r) => r.kind === 'Service' && r.uid === service.metadata.uid);

/**
 * reconcileByAddressType, reduced: endpoints stay in the slice that holds them (updated in place when
 * their conditions change), gone ones leave, new ones fill slices with room and then new slices;
 * a slice left empty is deleted; when slices are both created and deleted, a deleted one is reused
 * (an update) instead. Slices of ports no pod resolves any more, or owned by another Service, go.
 */
export function planSlices(service: Service, pods: readonly Pod[], existing: readonly EndpointSlice[], max = MAX_ENDPOINTS_PER_SLICE): SlicePlan {
  const labels = sliceLabels(service);
  const desired = desiredGroups(service, pods);
  const toCreate: { ports: SliceEndpointPort[]; endpoints: SliceEndpoint[] }[] = [];
  const toUpdate: EndpointSlice[] = [];
  const toDelete: EndpointSlice[] = [];
  const unchanged: EndpointSlice[] = [];
  const byKey = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    if (!ownedBy(s, service) || s.addressType !== 'IPv4') { toDelete.push(s); continue; }
    const k = portsKey(s.ports ?? []);
    byKey.set(k, [...(byKey.get(k) ?? []), s]);
  }
  for (const [key, slices] of byKey) {
    const group = desired.get(key);
    if (!group) { toDelete.push(...slices); continue; }
    const want = new Map(group.endpoints.map((e) => [addressOf(e), e]));
    const placed = new Set<string>();
    const kept: { slice: EndpointSlice; endpoints: SliceEndpoint[] }[] = [];
    for (const s of slices) {
      const endpoints: SliceEndpoint[] = [];
      for (const e of s.endpoints ?? []) {
        const w = want.get(addressOf(e));
        if (w && !placed.has(addressOf(e))) { endpoints.push(w); placed.add(addressOf(e)); }
      }
      kept.push({ slice: s, endpoints });
    }
    const rest = group.endpoints.filter((e) => !placed.has(addressOf(e)));
    for (const k of kept) {
      while (rest.length && k.endpoints.length < max) k.endpoints.push(rest.shift()!);
      const next: EndpointSlice = { ...k.slice, metadata: { ...k.slice.metadata, labels }, endpoints: k.endpoints.sort(byAddress), ports: group.ports };
      if (k.endpoints.length === 0) toDelete.push(k.slice);
      else if (canonical([next.endpoints, next.ports, next.metadata.labels]) !== canonical([k.slice.endpoints, k.slice.ports ?? [], k.slice.metadata.labels ?? {}])) toUpdate.push(next);
      else unchanged.push(k.slice);
    }
    while (rest.length) toCreate.push({ ports: group.ports, endpoints: rest.splice(0, max) });
    desired.delete(key);
  }
  for (const group of desired.values()) {
    for (let i = 0; i < group.endpoints.length; i += max) toCreate.push({ ports: group.ports, endpoints: group.endpoints.slice(i, i + max) });
  }
  // Nothing would remain: one placeholder slice (no ports, no endpoints), kept if it is already there.
  if (toCreate.length === 0 && toUpdate.length === 0 && unchanged.length === 0) {
    const placeholder = toDelete.findIndex((s) => ownedBy(s, service) && s.addressType === 'IPv4' && (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0);
    if (placeholder >= 0) {
      const [s] = toDelete.splice(placeholder, 1);
      if (s && canonical(s.metadata.labels ?? {}) !== canonical(labels)) toUpdate.push({ ...s, metadata: { ...s.metadata, labels } });
    } else {
      toCreate.push({ ports: [], endpoints: [] });
    }
  }
  // Reuse slices about to be deleted for the ones about to be created.
  while (toCreate.length && toDelete.some((s) => ownedBy(s, service) && s.addressType === 'IPv4')) {
    const i = toDelete.findIndex((s) => ownedBy(s, service) && s.addressType === 'IPv4');
    const [old] = toDelete.splice(i, 1);
    const c = toCreate.shift()!;
    toUpdate.push({ ...old!, metadata: { ...old!.metadata, labels }, endpoints: c.endpoints, ports: c.ports });
  }
  return { create: toCreate, update: toUpdate, delete: toDelete };
}

/** endpointSliceTracker: the generation of every slice this controller wrote, per Service; -1 = deleted. */
class SliceTracker {
  private readonly expected = new Map<string, Map<string, number>>();

  written(service: string, slice: EndpointSlice): void {
    const uid = slice.metadata.uid;
    if (!uid) return;
    const m = this.expected.get(service) ?? new Map<string, number>();
    m.set(uid, slice.metadata.generation ?? 1);
    this.expected.set(service, m);
  }

  deleted(service: string, slice: EndpointSlice): void {
    const uid = slice.metadata.uid;
    if (!uid) return;
    const m = this.expected.get(service) ?? new Map<string, number>();
    m.set(uid, -1);
    this.expected.set(service, m);
  }

  /** Whether the informer's slices are older than what was written; entries it has caught up with are dropped. */
  stale(service: string, slices: readonly EndpointSlice[]): boolean {
    const m = this.expected.get(service);
    if (!m) return false;
    const seen = new Map(slices.map((s) => [s.metadata.uid ?? '', s]));
    let stale = false;
    for (const [uid, gen] of m) {
      const s = seen.get(uid);
      const caughtUp = gen === -1 ? s === undefined : s !== undefined && (s.metadata.generation ?? 0) >= gen;
      if (caughtUp) m.delete(uid);
      else stale = true;
    }
    if (m.size === 0) this.expected.delete(service);
    return stale;
  }

  /** The informer saw the slice go (HandleDeletion): nothing more to wait for about it. */
  gone(service: string, slice: EndpointSlice): void {
    const m = this.expected.get(service);
    if (!m || !slice.metadata.uid) return;
    m.delete(slice.metadata.uid);
    if (m.size === 0) this.expected.delete(service);
  }

  forget(service: string): void {
    this.expected.delete(service);
  }
}

export interface EndpointSliceControllerOptions {
  /** The controller's own client (its service-account token, or the controller-manager's certificate). */
  readonly client: KubeClient;
  readonly services: Lister<Service>;
  readonly pods: Lister<Pod>;
  readonly endpointSlices: Lister<EndpointSlice>;
  readonly logger: Logger;
  readonly maxEndpointsPerSlice?: number;
}

export class EndpointSliceController {
  readonly name = 'endpointslice-controller';
  readonly queue: WorkQueue;
  private readonly o: EndpointSliceControllerOptions;
  private readonly tracker = new SliceTracker();

  constructor(o: EndpointSliceControllerOptions) {
    this.o = o;
    this.queue = new WorkQueue({ name: this.name, logger: o.logger, handler: (k) => this.sync(k) });
    o.services.addHandlers({ add: (s) => this.queue.add(keyOf(s)), update: (_o, s) => this.queue.add(keyOf(s)), delete: (s) => this.queue.add(keyOf(s)) });
    o.pods.addHandlers({
      add: (p) => this.podChanged(p),
      update: (old, p) => { this.podChanged(old); this.podChanged(p); },
      delete: (p) => this.podChanged(p),
    });
    const serviceOf = (s: EndpointSlice): string | undefined => {
      const svc = s.metadata.labels?.[LABEL_SERVICE_NAME];
      return s.metadata.labels?.[LABEL_MANAGED_BY] === ENDPOINTSLICE_CONTROLLER_NAME && svc ? `${s.metadata.namespace ?? 'default'}/${svc}` : undefined;
    };
    const sliceChanged = (s: EndpointSlice): void => { const k = serviceOf(s); if (k) this.queue.add(k); };
    o.endpointSlices.addHandlers({
      add: sliceChanged,
      update: (_o, s) => sliceChanged(s),
      delete: (s) => { const k = serviceOf(s); if (k) { this.tracker.gone(k, s); this.queue.add(k); } },
    });
  }

  /** getPodServiceMemberships: every Service in the pod's namespace whose selector matches its labels. */
  private podChanged(p: Pod): void {
    for (const s of this.o.services.list()) {
      if (s.metadata.namespace !== p.metadata.namespace || !s.spec.selector || Object.keys(s.spec.selector).length === 0) continue;
      if (matchesMap(s.spec.selector, p.metadata.labels)) this.queue.add(keyOf(s));
    }
  }

  /** The slices this controller manages for a Service, as the informer has them. */
  private slicesOf(namespace: string, name: string): EndpointSlice[] {
    return this.o.endpointSlices.list().filter((s) => s.metadata.namespace === namespace
      && s.metadata.labels?.[LABEL_SERVICE_NAME] === name && s.metadata.labels[LABEL_MANAGED_BY] === ENDPOINTSLICE_CONTROLLER_NAME);
  }

  private async sync(key: string): Promise<void> {
    const { namespace = 'default', name } = splitKey(key);
    const service = this.o.services.get(key);
    if (!service) {
      // The garbage collector deletes the slices through their owner reference.
      this.tracker.forget(key);
      return;
    }
    if (!service.spec.selector || Object.keys(service.spec.selector).length === 0) return;
    if (service.spec.type === 'ExternalName') return;
    const existing = this.slicesOf(namespace, name);
    if (this.tracker.stale(key, existing)) {
      // The informer event bringing the write queues the Service again; the delayed retry covers an event never seen.
      this.o.logger.debug({ service: key }, 'EndpointSlice informer cache is out of date; waiting for it');
      this.queue.addAfter(key, STALE_RETRY_MS);
      return;
    }
    const pods = this.o.pods.list().filter((p) => p.metadata.namespace === namespace);
    const plan = planSlices(service, pods, existing, this.o.maxEndpointsPerSlice);
    const path = resourcePath({ ...SLICES, namespace });
    const labels = sliceLabels(service);
    for (const c of plan.create) {
      const created = await this.o.client.create<EndpointSlice>(path, {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { generateName: `${name}-`, namespace, labels, ownerReferences: [serviceOwnerRef(service)] },
        addressType: 'IPv4', endpoints: c.endpoints, ports: c.ports,
      });
      this.tracker.written(key, created);
    }
    for (const s of plan.update) {
      const updated = await this.o.client.update<EndpointSlice>(`${path}/${encodeURIComponent(s.metadata.name ?? '')}`, s);
      this.tracker.written(key, updated);
    }
    for (const s of plan.delete) {
      try {
        await this.o.client.delete(`${path}/${encodeURIComponent(s.metadata.name ?? '')}`);
      } catch (err) {
        if (!(err instanceof ApiError && err.httpStatus === 404)) throw err;
      }
      this.tracker.deleted(key, s);
    }
    if (plan.create.length + plan.update.length + plan.delete.length > 0) {
      this.o.logger.debug({ service: key, created: plan.create.length, updated: plan.update.length, deleted: plan.delete.length }, 'endpointslices reconciled');
    }
  }
}
