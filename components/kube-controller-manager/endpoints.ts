/**
 * The endpoints controller (pkg/controller/endpoint): for every Service with a selector, an Endpoints
 * object of the same name lists the selected pods that have an IP — Ready pods under `addresses`, the
 * rest under `notReadyAddresses` — with each service port resolved against the pod (`targetPort` as
 * a number, or a named container port). Addresses that resolve the same ports share one subset
 * (endpoints.RepackSubsets).
 */
import type { Logger } from 'pino';
import { ApiError, type KubeClient, resourcePath } from '../client/kube-client.js';
import type { EndpointAddress, EndpointSubset, Endpoints, Pod, Service, ServicePort } from '../api/types.js';
import { type Lister, keyOf, splitKey } from '../client/informer.js';
import { matchesMap } from '../api/labels.js';
import { WorkQueue } from '../client/workqueue.js';

type EndpointPort = NonNullable<EndpointSubset['ports']>[number];

export const isPodReady = (p: Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** podutil.FindPort: the container port a service port targets on this pod, or undefined. */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^[0-9]+$/.test(target)) return Number(target);
  const protocol = sp.protocol ?? 'TCP';
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

const ipKey = (ip: string): string => ip.split('.').map((o) => o.padStart(3, '0')).join('.');

/** The subsets a service's Endpoints should hold, given every pod in its namespace. */
export function computeSubsets(service: Service, pods: readonly Pod[]): EndpointSubset[] {
  const selector = service.spec.selector;
  if (!selector || Object.keys(selector).length === 0) return [];
  const groups = new Map<string, { ports: EndpointPort[]; addresses: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const pod of pods) {
    if (!matchesMap(selector, pod.metadata.labels)) continue;
    if (!pod.status?.podIP || pod.metadata.deletionTimestamp) continue;
    if (pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') continue;
    const address: EndpointAddress = {
      ip: pod.status.podIP,
      ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
    };
    const ports: EndpointPort[] = [];
    for (const sp of service.spec.ports ?? []) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP' });
    }
    // A service without ports still gets its addresses (headless); a pod resolving none of several ports does not.
    if (ports.length === 0 && (service.spec.ports ?? []).length > 0) continue;
    ports.sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : (a.name ?? '') > (b.name ?? '') ? 1 : a.port - b.port));
    const key = JSON.stringify(ports);
    let g = groups.get(key);
    if (!g) { g = { ports, addresses: [], notReady: [] }; groups.set(key, g); }
    (isPodReady(pod) ? g.addresses : g.notReady).push(address);
  }
  const byIp = (a: EndpointAddress, b: EndpointAddress): number => (ipKey(a.ip) < ipKey(b.ip) ? -1 : ipKey(a.ip) > ipKey(b.ip) ? 1 : 0);
  return [...groups.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, g]) => ({
    ...(g.addresses.length ? { addresses: g.addresses.sort(byIp) } : {}),
    ...(g.notReady.length ? { notReadyAddresses: g.notReady.sort(byIp) } : {}),
    ...(g.ports.length ? { ports: g.ports } : {}),
  }));
}

const canonical = (v: unknown): string => JSON.stringify(v, (_k, val: unknown) =>
  val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : val);

export interface EndpointsControllerOptions {
  /** The controller's own client (its service-account token, or the controller-manager's certificate). */
  readonly client: KubeClient;
  readonly services: Lister<Service>;
  readonly pods: Lister<Pod>;
  readonly endpoints: Lister<Endpoints>;
  readonly logger: Logger;
}

export class EndpointsController {
  readonly name = 'endpoint-controller';
  readonly queue: WorkQueue;
  private readonly o: EndpointsControllerOptions;

  constructor(o: EndpointsControllerOptions) {
    this.o = o;
    this.queue = new WorkQueue({ name: this.name, logger: o.logger, handler: (k) => this.sync(k) });
    o.services.addHandlers({ add: (s) => this.queue.add(keyOf(s)), update: (_o, s) => this.queue.add(keyOf(s)), delete: (s) => this.queue.add(keyOf(s)) });
    o.pods.addHandlers({
      add: (p) => this.podChanged(p),
      update: (old, p) => { this.podChanged(old); this.podChanged(p); },
      delete: (p) => this.podChanged(p),
    });
    o.endpoints.addHandlers({ delete: (e) => { if (o.services.get(keyOf(e))) this.queue.add(keyOf(e)); } });
  }

  /** Enqueues every service in the pod's namespace whose selector matches the pod's labels. */
  private podChanged(p: Pod): void {
    for (const s of this.o.services.list()) {
      if (s.metadata.namespace !== p.metadata.namespace || !s.spec.selector) continue;
      if (matchesMap(s.spec.selector, p.metadata.labels)) this.queue.add(keyOf(s));
    }
  }

  private async sync(key: string): Promise<void> {
    const { namespace = 'default', name } = splitKey(key);
    const path = resourcePath({ resource: 'endpoints', namespace });
    const service = this.o.services.get(key);
    if (!service) {
      // The service is gone: so are its endpoints.
      try {
        await this.o.client.delete(`${path}/${encodeURIComponent(name)}`);
      } catch (err) {
        if (!(err instanceof ApiError && err.httpStatus === 404)) throw err;
      }
      return;
    }
    if (!service.spec.selector || Object.keys(service.spec.selector).length === 0) return;
    const pods = this.o.pods.list().filter((p) => p.metadata.namespace === namespace);
    const subsets = computeSubsets(service, pods);
    const labels = { ...(service.metadata.labels ?? {}), ...(service.spec.clusterIP === 'None' ? { 'service.kubernetes.io/headless': '' } : {}) };
    const current = this.o.endpoints.get(key);
    if (current && canonical(current.subsets ?? []) === canonical(subsets) && canonical(current.metadata.labels ?? {}) === canonical(labels)) return;
    const desired: Endpoints = {
      apiVersion: 'v1', kind: 'Endpoints',
      metadata: {
        ...(current?.metadata ?? {}), name, namespace,
        ...(Object.keys(labels).length ? { labels } : {}),
      },
      ...(subsets.length ? { subsets } : {}),
    };
    if (!Object.keys(labels).length) delete desired.metadata.labels;
    if (current) await this.o.client.update(`${path}/${encodeURIComponent(name)}`, desired);
    else {
      delete desired.metadata.resourceVersion;
      try {
        await this.o.client.create(path, desired);
      } catch (err) {
        // Created meanwhile (the informer lags): the next event brings it and a new sync.
        if (!(err instanceof ApiError && err.httpStatus === 409)) throw err;
        throw new Error(`endpoints ${key} already exist; retrying with the current object`);
      }
    }
    this.o.logger.debug({ service: key, subsets: subsets.length }, 'endpoints updated');
  }
}
