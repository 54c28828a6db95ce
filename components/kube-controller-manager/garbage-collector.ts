/**
 * A small garbage collector (pkg/controller/garbagecollector) for the owner chains the controllers
 * here build: Deployment → ReplicaSet → Pod, and Service → EndpointSlice, and the one kubeadm builds:
 * bootstrap-token Secret → kubeadm-certs Secret (so kubeadm-certs goes when the token cleaner deletes
 * its expired token). Owner references are matched by uid. A dependent whose every owner reference names an object
 * that no longer exists (confirmed with a live GET, as the real one does, since an informer may lag)
 * is deleted with background propagation. Owner kinds it does not know are left alone.
 */
import type { Logger } from 'pino';
import { ApiError, type KubeClient, resourcePath } from '../client/kube-client.js';
import type { Deployment, EndpointSlice, KubeObject, OwnerReference, Pod, ReplicaSet, Secret, Service } from '../api/types.js';
import { type Lister, keyOf, splitKey } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';

const OWNER_KINDS: Readonly<Record<string, { group: string; resource: string }>> = {
  Deployment: { group: 'apps', resource: 'deployments' },
  ReplicaSet: { group: 'apps', resource: 'replicasets' },
  Service: { group: '', resource: 'services' },
  Secret: { group: '', resource: 'secrets' },
};

type DependentKind = 'ReplicaSet' | 'Pod' | 'EndpointSlice' | 'Secret';

const DEPENDENT_PATHS: Readonly<Record<DependentKind, { group?: string; resource: string }>> = {
  ReplicaSet: { group: 'apps', resource: 'replicasets' },
  Pod: { resource: 'pods' },
  EndpointSlice: { group: 'discovery.k8s.io', resource: 'endpointslices' },
  Secret: { resource: 'secrets' },
};

export interface GarbageCollectorOptions {
  readonly client: KubeClient;
  readonly deployments: Lister<Deployment>;
  readonly replicaSets: Lister<ReplicaSet>;
  readonly pods: Lister<Pod>;
  /** Services and their EndpointSlices (optional: without them, slices are not collected). */
  readonly services?: Lister<Service>;
  readonly endpointSlices?: Lister<EndpointSlice>;
  /** Secrets, as owners and as dependents (optional: without them, Secrets are not collected). */
  readonly secrets?: Lister<Secret>;
  readonly logger: Logger;
}

export class GarbageCollector {
  readonly name = 'generic-garbage-collector';
  readonly queue: WorkQueue;
  private readonly o: GarbageCollectorOptions;

  constructor(o: GarbageCollectorOptions) {
    this.o = o;
    this.queue = new WorkQueue({ name: this.name, logger: o.logger, handler: (k) => this.sync(k) });
    const watchDependent = (kind: DependentKind, inf: Lister<KubeObject>): void => {
      const check = (obj: KubeObject): void => { if (this.ownedByKnownKind(obj)) this.queue.add(`${kind}|${keyOf(obj)}`); };
      inf.addHandlers({ add: check, update: (_old, obj) => check(obj) });
    };
    watchDependent('ReplicaSet', o.replicaSets);
    watchDependent('Pod', o.pods);
    // An owner going away: look at its dependents.
    o.deployments.addHandlers({ delete: (d) => this.ownerGone(d, o.replicaSets, 'ReplicaSet') });
    o.replicaSets.addHandlers({ delete: (rs) => this.ownerGone(rs, o.pods, 'Pod') });
    if (o.services && o.endpointSlices) {
      const slices = o.endpointSlices;
      watchDependent('EndpointSlice', slices);
      o.services.addHandlers({ delete: (svc) => this.ownerGone(svc, slices, 'EndpointSlice') });
    }
    if (o.secrets) {
      const secrets = o.secrets;
      watchDependent('Secret', secrets);
      secrets.addHandlers({ delete: (s) => this.ownerGone(s, secrets, 'Secret') });
    }
  }

  private dependents(kind: DependentKind): Lister<KubeObject> | undefined {
    if (kind === 'Pod') return this.o.pods;
    if (kind === 'ReplicaSet') return this.o.replicaSets;
    if (kind === 'Secret') return this.o.secrets;
    return this.o.endpointSlices;
  }

  private ownedByKnownKind(obj: KubeObject): boolean {
    return (obj.metadata.ownerReferences ?? []).some((r) => OWNER_KINDS[r.kind] !== undefined);
  }

  private ownerGone(owner: KubeObject, dependents: Lister<KubeObject>, kind: DependentKind): void {
    for (const d of dependents.list()) {
      if (d.metadata.namespace !== owner.metadata.namespace) continue;
      if (d.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid)) this.queue.add(`${kind}|${keyOf(d)}`);
    }
  }

  private informerFor(kind: string): Lister<KubeObject> | undefined {
    if (kind === 'Deployment') return this.o.deployments;
    if (kind === 'ReplicaSet') return this.o.replicaSets;
    if (kind === 'Service') return this.o.services;
    if (kind === 'Secret') return this.o.secrets;
    return undefined;
  }

  /** Whether the owner a reference names exists (same uid): informer first, then a live GET. */
  private async ownerExists(ns: string, ref: OwnerReference): Promise<boolean> {
    const cached = this.informerFor(ref.kind)?.get(`${ns}/${ref.name}`);
    if (cached?.metadata.uid === ref.uid) return true;
    const def = OWNER_KINDS[ref.kind];
    if (!def) return true;
    try {
      const live = await this.o.client.get(resourcePath({ group: def.group, resource: def.resource, namespace: ns, name: ref.name }));
      return live.metadata.uid === ref.uid;
    } catch (err) {
      if (err instanceof ApiError && err.httpStatus === 404) return false;
      throw err;
    }
  }

  private async sync(item: string): Promise<void> {
    const [k = '', key = ''] = item.split('|');
    const kind = k as DependentKind;
    const obj = this.dependents(kind)?.get(key);
    if (!obj || obj.metadata.deletionTimestamp) return;
    const refs = obj.metadata.ownerReferences ?? [];
    if (refs.length === 0 || refs.some((r) => OWNER_KINDS[r.kind] === undefined)) return;
    const { namespace = 'default', name } = splitKey(key);
    for (const ref of refs) if (await this.ownerExists(namespace, ref)) return;
    const path = resourcePath({ ...DEPENDENT_PATHS[kind], namespace, name });
    this.o.logger.info({ kind, object: key, owners: refs.map((r) => `${r.kind}/${r.name}`) }, 'deleting object whose owners are gone');
    try {
      await this.o.client.delete(path);
    } catch (err) {
      if (!(err instanceof ApiError && err.httpStatus === 404)) throw err;
    }
  }
}
