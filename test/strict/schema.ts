/**
 * Kubernetes' own OpenAPI schema as `kubernetes-models` generates validators from it: the model class
 * for an apiVersion/kind, and what it says of an object (every failure, with the object's identity).
 */
import type { KubeClient } from '../../components/client/kube-client.js';

interface ModelClass { new (data: unknown): { validate(): void } }

/** `kubernetes-models/v1`, `kubernetes-models/apps/v1`: the module holding the kinds of an apiVersion. */
const modules = new Map<string, Promise<Record<string, unknown>>>();
const moduleOf = (apiVersion: string): Promise<Record<string, unknown>> => {
  let m = modules.get(apiVersion);
  if (!m) { m = import(`kubernetes-models/${apiVersion}`) as Promise<Record<string, unknown>>; modules.set(apiVersion, m); }
  return m;
};

export async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  try {
    const m = await moduleOf(apiVersion);
    return m[kind] as ModelClass | undefined;
  } catch {
    return undefined;
  }
}

export interface Failure { readonly object: string; readonly error: string }

/** Validates one object against its kind's schema; the failure names kind, namespace/name and the schema's words. */
export async function validateObject(obj: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } }, where: string): Promise<Failure | undefined> {
  const id = `${where} ${obj.apiVersion ?? '?'}/${obj.kind ?? '?'} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name ?? '?'}`;
  if (!obj.apiVersion || !obj.kind) return { object: id, error: 'apiVersion or kind missing' };
  const Model = await modelFor(obj.apiVersion, obj.kind);
  if (!Model) return { object: id, error: `kubernetes-models has no ${obj.apiVersion} ${obj.kind}` };
  try {
    new Model(obj).validate();
    return undefined;
  } catch (err) {
    return { object: id, error: err instanceof Error ? err.message : String(err) };
  }
}

export interface ServedKind { readonly apiVersion: string; readonly resource: string; readonly kind: string; readonly namespaced: boolean; readonly verbs: readonly string[] }

interface APIResourceList { resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[] }

/** Every listable resource the apiserver serves, walked from discovery as kubectl does (/api/v1, /apis, each group's versions). */
export async function servedKinds(client: KubeClient): Promise<ServedKind[]> {
  const versions: string[] = ['v1'];
  const groups = await client.request<{ groups: { preferredVersion: { groupVersion: string }; versions: { groupVersion: string }[] }[] }>('GET', '/apis');
  for (const g of groups.groups) for (const v of g.versions) versions.push(v.groupVersion);
  const out: ServedKind[] = [];
  for (const gv of versions) {
    const list = await client.request<APIResourceList>('GET', gv === 'v1' ? '/api/v1' : `/apis/${gv}`);
    for (const r of list.resources) {
      if (r.name.includes('/') || !r.verbs.includes('list')) continue;
      out.push({ apiVersion: gv, resource: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs });
    }
  }
  return out;
}

export const collectionPath = (k: ServedKind): string => (k.apiVersion === 'v1' ? `/api/v1/${k.resource}` : `/apis/${k.apiVersion}/${k.resource}`);

/** Lists every served kind (across namespaces) and validates each item with its apiVersion and kind filled as a GET returns them. */
export async function validateEverything(client: KubeClient, kinds: readonly ServedKind[]): Promise<{ failures: Failure[]; counts: Map<string, number> }> {
  const failures: Failure[] = [];
  const counts = new Map<string, number>();
  for (const k of kinds) {
    const list = await client.request<{ items: Record<string, unknown>[] }>('GET', collectionPath(k));
    counts.set(`${k.apiVersion} ${k.kind}`, list.items.length);
    for (const item of list.items) {
      const f = await validateObject({ apiVersion: k.apiVersion, kind: k.kind, ...item }, 'list');
      if (f) failures.push(f);
    }
  }
  return { failures, counts };
}
