/**
 * The apiserver's side of the resource table (components/api/resources.ts): where each stored
 * resource lives in etcd, and the routes the table gives.
 *
 * Storage prefixes are the real apiserver's (k8s.io/kubernetes pkg/registry/... NewREST calls and
 * DefaultStorageFactory's overrides): nodes live under `minions`, services under `services/specs`,
 * endpoints under `services/endpoints`, endpointslices under `endpointslices`.
 */
import { failure, pathNotFound } from '../api/errors.js';
import { findResource, type ResourceDef, type SubresourceDef, type Verb } from '../api/resources.js';

/** The etcd key of one object, or the prefix of a collection (namespace and/or name absent). */
export function storageKey(def: ResourceDef, namespace: string | undefined, name?: string): string {
  if (!def.storage) throw new Error(`${def.resource} is not stored`);
  const base = `/registry/${def.storage}/`;
  if (!def.namespaced) return name === undefined ? base : `${base}${name}`;
  if (namespace === undefined) return base;
  return name === undefined ? `${base}${namespace}/` : `${base}${namespace}/${name}`;
}

/** A resource request the table serves: the resource, and the subresource when the path names one. */
export interface Route {
  readonly def: ResourceDef;
  readonly sub?: SubresourceDef;
}

/** What routing reads of a RequestInfo (auth/request-info.ts). */
export interface RoutedRequest {
  readonly verb: string;
  readonly apiGroup: string;
  readonly apiVersion: string;
  readonly resource: string;
  /** Path parts from {resource} on. */
  readonly parts: readonly string[];
  /** The resource came after /namespaces/{namespace}/. */
  readonly namespacedPath?: boolean;
}

const METHODS: Record<Verb, string> = {
  create: 'POST', get: 'GET', list: 'GET', watch: 'GET', update: 'PUT', patch: 'PATCH', delete: 'DELETE', deletecollection: 'DELETE',
};
/** A connect subresource (nodes/proxy) answers every method the real ProxyREST lists. */
const CONNECT_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/**
 * The routes the table gives, as endpoints/installer.go installs them, and the route of a request.
 * A namespaced resource is served at `/namespaces/{ns}/{resource}` (GET list/watch, POST create,
 * DELETE deletecollection), at `/namespaces/{ns}/{resource}/{name}` (GET, PUT, PATCH, DELETE), at
 * `/namespaces/{ns}/{resource}/{name}/{subresource}`, and across namespaces at `/{resource}` (GET
 * list/watch only); a cluster-scoped one at `/{resource}`, `/{resource}/{name}` and
 * `/{resource}/{name}/{subresource}` and never under `/namespaces/{ns}/`. The deprecated
 * `/watch/...` forms are GET only; `/proxy/...` is not served (removed in 1.10). There is no POST on a
 * named object: only the collection creates, and a subresource that creates (pods/binding,
 * serviceaccounts/token) has its own route. No route for the path: 404 NotFound; a route without
 * the method: 405 MethodNotAllowed (go-restful's answers, as the apiserver's serviceErrorHandler
 * words them).
 */
export function resolveRoute(method: string, r: RoutedRequest): Route {
  const def = findResource(r.apiGroup, r.apiVersion, r.resource);
  if (!def || r.verb === 'proxy') throw pathNotFound();
  const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  const parts = r.parts;
  // Scope first: a cluster-scoped resource has no route under /namespaces/{ns}/, a namespaced one
  // has only its all-namespaces list/watch route outside it.
  if (!def.namespaced && r.namespacedPath) throw pathNotFound();
  if (def.namespaced && !r.namespacedPath && parts.length > 1) throw pathNotFound();
  const prefixWatch = r.verb === 'watch' && m !== 'GET';
  let sub: SubresourceDef | undefined;
  let methods: string[];
  if (parts.length === 1) {
    const verbs = def.namespaced && !r.namespacedPath ? def.verbs.filter((v) => v === 'list' || v === 'watch') : def.verbs.filter((v) => v !== 'get' && v !== 'update' && v !== 'patch' && v !== 'delete');
    methods = verbs.map((v) => METHODS[v]);
  } else if (parts.length === 2) {
    methods = def.verbs.filter((v) => v === 'get' || v === 'update' || v === 'patch' || v === 'delete' || v === 'watch').map((v) => METHODS[v]);
  } else {
    sub = def.subresources.find((s) => s.name === parts[2]);
    if (!sub || r.verb === 'watch') throw pathNotFound();
    if (parts.length > 3 && sub.name !== 'proxy') throw pathNotFound();
    methods = sub.name === 'proxy' ? CONNECT_METHODS : sub.verbs.map((v) => METHODS[v]);
  }
  if (methods.length === 0) throw pathNotFound();
  if (prefixWatch || !methods.includes(m)) throw failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
  return sub ? { def, sub } : { def };
}
