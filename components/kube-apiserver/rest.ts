/**
 * The REST handlers for resource requests, driven by the resource table: get, list, watch, create,
 * update, patch, delete, deletecollection, and the subresources status, binding, log, scale and
 * token, plus the access reviews. Each takes a request already authenticated and authorized.
 * Every write honours `?dryRun=All` (dry-run.ts): admission, defaulting and validation run, the store
 * is asked with `dryRun` (storage.ts) and writes nothing, and allocators reserve nothing.
 *
 * Simplification (documented): DELETE removes the object at once. The real apiserver deletes pods
 * gracefully (it sets metadata.deletionTimestamp and the kubelet removes the pod after stopping it);
 * here watchers see DELETED straight away. Namespaces turn Terminating and their content is deleted
 * before the answer (the real namespace controller does that afterwards).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../client/common.js';
import type { Binding, KubeList, KubeObject, Node, Pod, PodCondition, Status } from '../api/types.js';
import { parseSelection, type RequestInfo } from './auth/request-info.js';
import {
  ApiStatusError, badRequest, conflict, decidedBy, failure, forbidden, internalError, invalid, methodNotAllowed, methodNotSupported, notFound, OBJECT_MODIFIED, pathNotFound,
} from '../api/errors.js';
import type { Gate, TokenRequestInput, UserInfo } from './gate.js';
import { addWarnings, decodePatched, readApplyBody, readJson, readObject, readPatchBody, sendJson, targetOf } from './http.js';
import { applyConfiguration, trackUpdate, updateManagerOf } from './managed-fields.js';
import { fieldValidationOf } from './decode.js';
import type { KubeletClient } from './kubelet-client.js';
import { escapeGoPath, logContainer } from './kubelet-client.js';
import { applyPatch, patchTypeOf, type Json } from './patch.js';
import { apiVersionOf, groupResource, RESOURCES, resourceByName, type ResourceDef, type Verb } from '../api/resources.js';
import { resolveRoute, type Route } from './routes.js';
import { checkFieldLabels, selects, type Selection } from '../api/selectors.js';
import type { Store } from './storage.js';
import { checkBody, generateName, prepareForCreate, prepareForUpdate, validateName, validateTokenRequest, type StrategyContext } from './strategy.js';
import { includeObjectOf, toTable, wantsTable } from './table.js';
import { csrAdmissionCheck, csrAdmissionForbidden, prepareCsrCreate, prepareCsrUpdate } from './certificates.js';
import { deleteDryRun, queryDryRun } from './dry-run.js';
import { serveWatch, type ActiveWatch, type WatchOptions } from './watch.js';
import type { WatchCache } from './cacher.js';
import { COMPONENT_STATUS_DEPRECATION, componentStatusByName, componentStatuses, type ComponentStatusSources } from './componentstatus.js';
import { checkEviction, evict } from './eviction.js';
import { decodeContinue, parseListOptions, watchTimeoutMs } from './list-options.js';

type Obj = KubeObject & Record<string, unknown>;

export interface RestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The query, parsed once with Go's rules (auth/request-info.ts parseRequestTarget). */
  readonly query: URLSearchParams;
  /** The query as sent (a proxied request passes it on unchanged). */
  readonly rawQuery?: string;
  readonly info: RequestInfo;
  /** The route the resource table gives the request (registry.ts resolveRoute), resolved before authorization. */
  readonly route?: Route;
  readonly user: UserInfo;
}

export interface RestDeps {
  readonly store: Store;
  readonly gate: Gate;
  readonly clock: Clock;
  readonly kubelets: KubeletClient;
  readonly strategy: StrategyContext;
  /** The service-account token issuer's default audience (--api-audiences). */
  readonly apiAudiences: readonly string[];
  /** Registers a running watch so that stop() can end it; returns the unregister function. */
  trackWatch(w: ActiveWatch): () => void;
  /** The watch cache serving a resource's watches (--watch-cache); undefined: each watch is its own etcd watch. */
  watchCache?(def: ResourceDef): WatchCache | undefined;
  /** What v1 ComponentStatus probes (the controller-manager, the scheduler, etcd). */
  readonly componentStatus?: ComponentStatusSources;
}

/** Namespaces the real NamespaceLifecycle admission refuses to delete. */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

const NAMESPACES = resourceByName('namespaces');
const PODS = resourceByName('pods');
const NODES = resourceByName('nodes');
const SERVICE_ACCOUNTS = resourceByName('serviceaccounts');
const SECRETS = resourceByName('secrets');

const mediaType = (ct: string | undefined): string => (ct ?? '').split(';')[0]!.trim().toLowerCase();

/** A 422 on PatchOptions (ValidatePatchOptions). */
const invalidPatchOptions = (field: string, message: string): Error =>
  failure(422, 'Invalid', `PatchOptions.meta.k8s.io "" is invalid: ${field}: ${message}`, {
    group: 'meta.k8s.io', kind: 'PatchOptions', name: '', causes: [{ reason: message.startsWith('Required') ? 'FieldValueRequired' : 'FieldValueForbidden', message, field }],
  });

const withType = <T extends KubeObject>(def: ResourceDef, o: T): T => ({ ...o, kind: def.kind, apiVersion: apiVersionOf(def) });

/** List items carry no kind/apiVersion, as the real server encodes them. */
const listItem = (o: KubeObject): KubeObject => {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest as KubeObject;
};

const isRec = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Status with `status: Success`, as a binding's create answers. */
const success = (code: number): Status => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', message: '', reason: '', code });

export class Rest {
  private readonly d: RestDeps;

  constructor(deps: RestDeps) {
    this.d = deps;
  }

  /** Serves a resource request; throws ApiStatusError for every refusal. */
  async handle(ctx: RestContext): Promise<{ watching: boolean }> {
    const { info } = ctx;
    const { def, sub: subDef } = ctx.route ?? resolveRoute(ctx.req.method ?? 'GET', info);
    const sub = subDef?.name;
    const verbs: readonly string[] = subDef ? subDef.verbs : def.verbs;
    // ComponentStatus storage is no Watcher: the list route takes `?watch=true` and its handler refuses it (ListResource).
    if (def.resource === 'componentstatuses' && def.group === '' && info.verb === 'watch' && !info.name && ctx.req.method === 'GET') throw methodNotSupported(groupResource(def), 'watch');
    if (!verbs.includes(info.verb as Verb)) throw methodNotAllowed();
    const ns = def.namespaced ? (info.namespace || undefined) : undefined;
    const name = info.name;
    if (def.namespaced && ns === undefined && !['list', 'watch'].includes(info.verb)) throw pathNotFound();

    if (def.resource === 'nodes' && def.group === '' && sub === 'proxy') { await this.nodeProxy(ctx, name); return { watching: false }; }
    if (def.resource === 'componentstatuses' && def.group === '') { await this.componentStatus(ctx, def, name); return { watching: false }; }
    if (def.resource === 'pods' && def.group === '' && (sub === 'exec' || sub === 'attach' || sub === 'portforward')) {
      // Without an Upgrade header (those go to connect.ts): the pod is looked up, then UpgradeAwareHandler's answer.
      await this.d.store.get(PODS, ns, name);
      throw badRequest('Upgrade request required');
    }
    switch (info.verb) {
      case 'get':
        if (sub === 'log') { await this.log(ctx, ns, name); return { watching: false }; }
        if (sub === 'scale') { sendJson(ctx.res, 200, toScale(def, await this.d.store.get(def, ns, name))); return { watching: false }; }
        {
          const obj = withType(def, await this.d.store.get(def, ns, name));
          sendJson(ctx.res, 200, this.table(ctx) ? toTable(def, [obj], this.d.clock.now(), includeObjectOf(ctx.query.get('includeObject')), { resourceVersion: obj.metadata.resourceVersion }) : obj);
        }
        return { watching: false };
      case 'list': await this.list(ctx, def, ns); return { watching: false };
      case 'watch': await this.watch(ctx, def, ns); return { watching: true };
      case 'create': await this.create(ctx, def, ns, name, sub); return { watching: false };
      case 'update': await this.update(ctx, def, ns, name, sub); return { watching: false };
      case 'patch': await this.patch(ctx, def, ns, name, sub); return { watching: false };
      case 'delete': await this.delete(ctx, def, ns, name); return { watching: false };
      case 'deletecollection': await this.deleteCollection(ctx, def, ns); return { watching: false };
      default: throw methodNotAllowed();
    }
  }

  /**
   * GET / LIST v1 ComponentStatus: probed now, never stored; the deprecation warning on every answer,
   * as the apiserver adds it for a deprecated API. An unknown name is REST.Get's plain error (a 500).
   */
  private async componentStatus(ctx: RestContext, def: ResourceDef, name: string): Promise<void> {
    addWarnings(ctx.res, [COMPONENT_STATUS_DEPRECATION]);
    const sources = this.d.componentStatus ?? { components: [], etcd: [] };
    const now = this.d.clock.now();
    if (name) {
      const one = await componentStatusByName(sources, name);
      if (!one) throw internalError(new Error(`Component not found: ${name}`));
      sendJson(ctx.res, 200, this.table(ctx) ? toTable(def, [one], now, includeObjectOf(ctx.query.get('includeObject')), {}) : one);
      return;
    }
    const sel = this.selection(ctx, def);
    const items = (await componentStatuses(sources)).filter((o) => selects(sel, o));
    if (this.table(ctx)) { sendJson(ctx.res, 200, toTable(def, items, now, includeObjectOf(ctx.query.get('includeObject')), {})); return; }
    sendJson(ctx.res, 200, { kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items: items.map(listItem) });
  }

  /** `kubectl get` asks for a server-printed Table. */
  private table(ctx: RestContext): boolean {
    return wantsTable(ctx.req.headers.accept);
  }

  /** The selectors RequestInfo parsed (the same parse the authorizer read), checked against the resource's field labels. */
  private selection(ctx: RestContext, def: ResourceDef): Selection {
    const parsed = ctx.info.selection ?? parseSelection(ctx.query);
    if (parsed.error) throw parsed.error;
    const fields = [...checkFieldLabels(parsed.fields, def)];
    // /api/v1/watch/namespaces/ns/pods/NAME watches one object.
    if (ctx.info.name && !fields.some((f) => f.field === 'metadata.name')) fields.push({ field: 'metadata.name', operator: '=', value: ctx.info.name });
    return { labels: parsed.labels, fields };
  }

  private async list(ctx: RestContext, def: ResourceDef, ns: string | undefined): Promise<void> {
    const opts = parseListOptions(ctx.query);
    const sel = this.selection(ctx, def);
    const token = opts.continue ? decodeContinue(opts.continue) : undefined;
    if (token && opts.resourceVersion !== '' && opts.resourceVersion !== '0') throw badRequest('specifying resource version is not allowed when using continue');
    // resourceVersion "0" (any) without a continue token: the watch cache answers, limit ignored, as the
    // cacher's GetList does (a limit with another resourceVersion, a continue, or no cache: etcd).
    const cache = opts.resourceVersion === '0' && !token ? this.d.watchCache?.(def) : undefined;
    const { items, revision } = cache ? await cache.listAny(ns) : await this.d.store.list(def, ns);
    let selected = items.filter((o) => selects(sel, o));
    let rv = revision;
    if (token) {
      rv = token.rv;
      selected = selected.filter((o) => continueKey(o) >= token.start);
    }
    const limit = cache ? 0 : opts.limit;
    const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
    if (limit > 0 && selected.length > limit) {
      const last = selected[limit - 1]!;
      metadata.continue = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${continueKey(last)}\u0000` })).toString('base64url');
      metadata.remainingItemCount = selected.length - limit;
      selected = selected.slice(0, limit);
    }
    if (this.table(ctx)) {
      sendJson(ctx.res, 200, toTable(def, selected, this.d.clock.now(), includeObjectOf(ctx.query.get('includeObject')), metadata));
      return;
    }
    const list: KubeList = { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata, items: selected.map(listItem) };
    sendJson(ctx.res, 200, list);
  }

  private async watch(ctx: RestContext, def: ResourceDef, ns: string | undefined): Promise<void> {
    const opts = parseListOptions(ctx.query);
    const options: WatchOptions = {
      def, namespace: ns, selection: this.selection(ctx, def),
      resourceVersion: opts.resourceVersion,
      timeoutMs: watchTimeoutMs(opts.timeoutSeconds),
      ...(this.table(ctx) ? { transform: (o: KubeObject) => toTable(def, [o], this.d.clock.now(), includeObjectOf(ctx.query.get('includeObject')), { resourceVersion: o.metadata.resourceVersion }) as KubeObject } : {}),
    };
    const cache = this.d.watchCache?.(def);
    const w = cache ? await cache.serve(ctx.res, options) : await serveWatch(this.d.store.kv, ctx.res, options);
    const untrack = this.d.trackWatch(w);
    ctx.res.once('close', untrack);
  }

  /** The strategy context of a write: a dry run's allocators reserve no ClusterIP or NodePort. */
  private strategy(dryRun: boolean): StrategyContext {
    return dryRun ? this.d.strategy.forDryRun() : this.d.strategy;
  }

  private async admit(ctx: RestContext, object: KubeObject | undefined, oldObject: KubeObject | undefined): Promise<void> {
    await this.d.gate.admit({ user: ctx.user, info: ctx.info, ...(object ? { object } : {}), ...(oldObject ? { oldObject } : {}) });
  }

  private async create(ctx: RestContext, def: ResourceDef, ns: string | undefined, name: string, sub: string | undefined): Promise<void> {
    const dryRun = queryDryRun('CreateOptions', ctx.query);
    const body = await readObject(ctx.req, ctx.res, targetOf(def, sub), fieldValidationOf(ctx.query, 'CreateOptions'));
    if (def.resource === 'bindings') return this.bind(ctx, ns, isRec(body) && isRec(body.metadata) ? String(body.metadata.name ?? '') : '', body, dryRun);
    if (sub === 'binding') return this.bind(ctx, ns, name, body, dryRun);
    if (sub === 'eviction') return this.evict(ctx, ns!, name, body, dryRun);
    // TokenRequests and the reviews store nothing: a dry run answers as a real request (TokenREST.Create does not read it).
    if (sub === 'token') return this.tokenRequest(ctx, ns, name, body);
    if (def.resource === 'subjectaccessreviews' || def.resource === 'selfsubjectaccessreviews') return this.review(ctx, def, body);
    if (def.resource === 'selfsubjectrulesreviews') return this.rulesReview(ctx, def, body);
    if (def.resource === 'selfsubjectreviews') return this.selfReview(ctx, def, body);
    if (def.resource === 'tokenreviews') return this.tokenReview(ctx, def, body);

    const obj = checkBody(def, body);
    const md = obj.metadata;
    if (def.namespaced) {
      if (md.namespace && md.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      md.namespace = ns!;
      // NamespaceLifecycle: no objects in a namespace that does not exist or is being deleted.
      // As the real plugin: its informer's copy, and a live read when the informer does not have it.
      const cached = await this.d.watchCache?.(NAMESPACES)?.lookup(undefined, ns!);
      const namespace = cached && cached !== 'stale' ? cached : await this.d.store.tryGet(NAMESPACES, undefined, ns!);
      if (!namespace) throw decidedBy('admission', notFound(groupResource(NAMESPACES), ns!));
      if (namespace.metadata.deletionTimestamp) {
        throw forbidden(`${groupResource(def).resource} "${md.name ?? md.generateName ?? ''}" is forbidden: unable to create new content in namespace ${ns!} because it is being terminated`, groupResource(def), md.name ?? '', 'admission');
      }
    } else {
      delete md.namespace;
    }
    if (!md.name && md.generateName) md.name = generateName(md.generateName);
    validateName(def, md.name ?? '');
    delete md.resourceVersion;
    if (def.resource === 'certificatesigningrequests') prepareCsrCreate(obj, ctx.user);
    await prepareForCreate(def, obj, this.strategy(dryRun));
    this.track(ctx, def, undefined, obj, sub);
    await this.admit(ctx, obj, undefined);
    const created = await this.d.store.create(def, obj, { dryRun });
    sendJson(ctx.res, 201, withType(def, created));
  }

  private async update(ctx: RestContext, def: ResourceDef, ns: string | undefined, name: string, sub: string | undefined): Promise<void> {
    const dryRun = queryDryRun('UpdateOptions', ctx.query);
    const body = await readObject(ctx.req, ctx.res, targetOf(def, sub), fieldValidationOf(ctx.query, 'UpdateOptions'));
    if (sub === 'scale') return this.writeScale(ctx, def, ns, name, () => body, dryRun);
    const obj = checkBody(def, body);
    if (obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name ?? ''}) does not match the name on the URL (${name})`);
    if (def.namespaced && obj.metadata.namespace && obj.metadata.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const rv = obj.metadata.resourceVersion;
    const { object } = await this.d.store.update<Obj>(def, ns, name, async (old) => {
      const next = await this.csrUpdate(ctx, def, await prepareForUpdate(def, obj, old, sub, this.strategy(dryRun)), old, sub, obj);
      this.track(ctx, def, old, next, sub);
      await this.admit(ctx, next, old);
      return next;
    }, { ...(rv ? { expectedRv: rv } : {}), dryRun });
    sendJson(ctx.res, 200, withType(def, object));
  }

  private async patch(ctx: RestContext, def: ResourceDef, ns: string | undefined, name: string, sub: string | undefined): Promise<void> {
    if (mediaType(ctx.req.headers['content-type']) === 'application/apply-patch+yaml') return this.apply(ctx, def, ns, name, sub);
    if (ctx.query.has('force')) throw invalidPatchOptions('force', 'Forbidden: may not be specified for non-apply patch');
    const type = patchTypeOf(ctx.req.headers['content-type']);
    const dryRun = queryDryRun('PatchOptions', ctx.query);
    const validation = fieldValidationOf(ctx.query, 'PatchOptions');
    const patch = await readPatchBody(ctx.req, type === 'strategic');
    if (sub === 'scale') return this.writeScale(ctx, def, ns, name, (scale) => applyPatch(type, scale as Json, patch), dryRun);
    const { object } = await this.d.store.update<Obj>(def, ns, name, async (old) => {
      const patched = applyPatch(type, old as unknown as Json, patch);
      if (!isRec(patched) || !isRec(patched.metadata)) throw badRequest('the patched object has no metadata');
      decodePatched(ctx.res, targetOf(def, sub), patched, validation);
      const prv = patched.metadata.resourceVersion;
      if (prv !== undefined && prv !== old.metadata.resourceVersion) throw conflict(groupResource(def), name, OBJECT_MODIFIED);
      const next = await this.csrUpdate(ctx, def, await prepareForUpdate(def, { ...(patched as Obj), kind: def.kind, apiVersion: apiVersionOf(def) }, old, sub, this.strategy(dryRun)), old, sub, patched as Obj);
      this.track(ctx, def, old, next, sub);
      await this.admit(ctx, next, old);
      return next;
    }, { dryRun });
    sendJson(ctx.res, 200, withType(def, object));
  }

  /** managedFields for a non-apply write (managed-fields.ts): an Update entry for the request's manager. */
  private track(ctx: RestContext, def: ResourceDef, old: Obj | undefined, next: Obj, sub: string | undefined): void {
    trackUpdate(old, next, {
      manager: updateManagerOf(ctx.query, ctx.req.headers['user-agent']), apiVersion: apiVersionOf(def), now: this.d.clock.now(),
      ...(sub ? { subresource: sub } : {}),
    });
  }

  /**
   * Server-side apply (PATCH application/apply-patch+yaml): `fieldManager` is required, `force=true`
   * takes conflicting fields over. The object is created when it does not exist (201).
   */
  private async apply(ctx: RestContext, def: ResourceDef, ns: string | undefined, name: string, sub: string | undefined): Promise<void> {
    const manager = ctx.query.get('fieldManager') ?? '';
    if (manager === '') throw invalidPatchOptions('fieldManager', 'Required value: is required for apply patch');
    const forceText = ctx.query.get('force');
    const force = forceText === 'true' || forceText === '1' || forceText === 'True';
    const dryRun = queryDryRun('PatchOptions', ctx.query);
    const validation = fieldValidationOf(ctx.query, 'PatchOptions');
    const config = await readApplyBody(ctx.req);
    const target = targetOf(def, sub);
    if (typeof config.apiVersion !== 'string' || config.apiVersion === '') throw badRequest('apiVersion must be set');
    if (typeof config.kind !== 'string' || config.kind === '') throw badRequest('Object \'Kind\' is missing in \'' + JSON.stringify(config) + '\'');
    if (config.apiVersion !== target.apiVersion || config.kind !== target.kind) {
      throw badRequest(`the API version in the data (${config.apiVersion}) does not match the expected API version (${target.apiVersion})`);
    }
    const md = isRec(config.metadata) ? config.metadata : {};
    if (md.name !== undefined && md.name !== name) throw badRequest(`the name of the object (${String(md.name)}) does not match the name on the URL (${name})`);
    // The main resource's apply leaves status alone (ResetFields), the status subresource's everything but status.
    const hasStatus = def.subresources.some((s) => s.name === 'status');
    if (hasStatus && sub === undefined) delete config.status;
    const w = { manager, apiVersion: target.apiVersion, now: this.d.clock.now(), force, ...(sub ? { subresource: sub } : {}) };
    const existing = await this.d.store.tryGet<Obj>(def, ns, name);
    if (!existing) {
      if (sub) throw notFound(groupResource(def), name);
      const merged = applyConfiguration(undefined, config, w);
      decodePatched(ctx.res, target, merged, validation);
      const obj = checkBody(def, { ...merged, metadata: { ...(isRec(merged.metadata) ? merged.metadata : {}), name, ...(ns ? { namespace: ns } : {}) } });
      await this.admitNamespace(def, ns, name);
      validateName(def, name);
      await prepareForCreate(def, obj, this.strategy(dryRun));
      await this.admit(ctx, obj, undefined);
      sendJson(ctx.res, 201, withType(def, await this.d.store.create(def, obj, { dryRun })));
      return;
    }
    const { object } = await this.d.store.update<Obj>(def, ns, name, async (old) => {
      const merged = applyConfiguration(old, config, w);
      decodePatched(ctx.res, target, merged, validation);
      const next = await prepareForUpdate(def, { ...(merged as Obj), kind: def.kind, apiVersion: apiVersionOf(def) }, old, sub, this.strategy(dryRun));
      await this.admit(ctx, next, old);
      return next;
    }, { dryRun });
    sendJson(ctx.res, 200, withType(def, object));
  }

  /** NamespaceLifecycle for a create: the namespace exists and is not terminating. */
  private async admitNamespace(def: ResourceDef, ns: string | undefined, name: string): Promise<void> {
    if (!def.namespaced) return;
    const namespace = await this.d.store.tryGet(NAMESPACES, undefined, ns!);
    if (!namespace) throw decidedBy('admission', notFound(groupResource(NAMESPACES), ns!));
    if (namespace.metadata.deletionTimestamp) {
      throw forbidden(`${groupResource(def).resource} "${name}" is forbidden: unable to create new content in namespace ${ns!} because it is being terminated`, groupResource(def), name, 'admission');
    }
  }

  /**
   * CertificateSigningRequests: the registry's own update rules for the main resource, /approval and
   * /status, then the CertificateApproval / CertificateSigning admission plugins (the `approve` or
   * `sign` verb on certificates.k8s.io `signers` named by the request's signerName).
   */
  private async csrUpdate(ctx: RestContext, def: ResourceDef, next: Obj, old: Obj, sub: string | undefined, requested?: Obj): Promise<Obj> {
    if (def.resource !== 'certificatesigningrequests') return next;
    // The generic status path keeps only .status of the request; approval reads the conditions too.
    const incoming = sub === 'approval' ? (requested ?? next) : next;
    const result = prepareCsrUpdate({ ...incoming, metadata: next.metadata }, old, sub);
    const check = csrAdmissionCheck(result, old, sub);
    if (check) {
      const d = await this.d.gate.authorize(ctx.user, {
        isResourceRequest: true, path: '', verb: check.verb, apiPrefix: 'apis', apiGroup: 'certificates.k8s.io', apiVersion: '*',
        namespace: '', resource: 'signers', subresource: '', name: check.signerName, parts: [],
      });
      if (!d.allowed) throw csrAdmissionForbidden(old.metadata.name ?? '', check.verb, check.signerName);
    }
    return result;
  }

  private async delete(ctx: RestContext, def: ResourceDef, ns: string | undefined, name: string): Promise<void> {
    const body = await readJson(ctx.req);
    const dryRun = deleteDryRun(ctx.query, body);
    const pre = isRec(body) && isRec(body.preconditions) ? body.preconditions : {};
    if (def.resource === 'namespaces' && IMMORTAL_NAMESPACES.has(name)) {
      throw forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`, groupResource(def), name, 'admission');
    }
    const old = await this.d.store.get(def, ns, name);
    await this.admit(ctx, undefined, old);
    if (def.resource === 'namespaces') { sendJson(ctx.res, 200, withType(def, await this.deleteNamespace(name, dryRun))); return; }
    const deleted = await this.d.store.delete(def, ns, name, {
      ...(typeof pre.uid === 'string' ? { uid: pre.uid } : {}),
      ...(typeof pre.resourceVersion === 'string' ? { resourceVersion: pre.resourceVersion } : {}),
    }, { dryRun });
    sendJson(ctx.res, 200, withType(def, deleted));
  }

  private async deleteCollection(ctx: RestContext, def: ResourceDef, ns: string | undefined): Promise<void> {
    const dryRun = deleteDryRun(ctx.query, await readJson(ctx.req));
    const sel = this.selection(ctx, def);
    const { items, revision } = await this.d.store.list(def, ns);
    const deleted: KubeObject[] = [];
    for (const o of items.filter((x) => selects(sel, x))) {
      await this.admit(ctx, undefined, o);
      try {
        deleted.push(await this.d.store.delete(def, o.metadata.namespace, o.metadata.name ?? '', {}, { dryRun }));
      } catch (err) {
        if (!(err instanceof ApiStatusError && err.status.code === 404)) throw err;
      }
    }
    sendJson(ctx.res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(revision) }, items: deleted.map(listItem) });
  }

  /**
   * Deleting a namespace: it turns Terminating (deletionTimestamp set), everything stored in it is
   * deleted, then the namespace itself. The real apiserver leaves the content to the namespace
   * controller in kube-controller-manager and returns at once; here it happens before the answer.
   * A dry run answers the Terminating namespace (the real REST's dry-run GuaranteedUpdate) and stops.
   */
  private async deleteNamespace(name: string, dryRun: boolean): Promise<KubeObject> {
    const now = this.d.clock.now().toISOString().replace(/\.\d+Z$/, 'Z');
    const { object: terminating } = await this.d.store.update<Obj>(NAMESPACES, undefined, name, (ns) => ({
      ...ns, metadata: { ...ns.metadata, deletionTimestamp: ns.metadata.deletionTimestamp ?? now }, status: { phase: 'Terminating' },
    }), { dryRun });
    if (dryRun) return terminating;
    for (const def of RESOURCES.filter((r) => r.namespaced && r.storage)) {
      const { items } = await this.d.store.list(def, name);
      for (const o of items) {
        try {
          await this.d.store.delete(def, name, o.metadata.name ?? '');
        } catch (err) {
          if (!(err instanceof ApiStatusError && err.status.code === 404)) throw err;
        }
      }
    }
    await this.d.store.delete(NAMESPACES, undefined, name);
    return terminating;
  }

  /**
   * POST pods/<name>/binding (and the older POST bindings): sets spec.nodeName with a compare-and-swap,
   * refusing a pod already bound, and records the PodScheduled condition (BindingREST.assignPod).
   */
  private async bind(ctx: RestContext, ns: string | undefined, podName: string, body: unknown, dryRun: boolean): Promise<void> {
    const binding = checkBody(resourceByName('bindings'), body, 'Binding', 'v1') as unknown as Binding;
    if (binding.metadata.name && binding.metadata.name !== podName) throw badRequest('name in URL does not match name in Binding object');
    if (!binding.target?.name) throw invalid({ group: '', resource: 'bindings' }, 'Binding', podName, [{ field: 'target.name', message: 'Required value' }]);
    if (binding.target.kind && binding.target.kind !== 'Node') throw invalid({ group: '', resource: 'bindings' }, 'Binding', podName, [{ field: 'target.kind', message: `Invalid value: "${binding.target.kind}": must be empty or 'Node'` }]);
    const node = binding.target.name;
    await this.admit(ctx, binding, undefined);
    const bindingGr = { group: '', resource: 'pods/binding' };
    await this.d.store.update<Pod>(PODS, ns, podName, (pod) => {
      if (binding.metadata.uid && binding.metadata.uid !== pod.metadata.uid) throw conflict(bindingGr, podName, `Precondition failed: UID in precondition: ${binding.metadata.uid}, UID in object meta: ${pod.metadata.uid ?? ''}`);
      if (pod.metadata.deletionTimestamp) throw conflict(bindingGr, podName, `pod ${podName} is being deleted, cannot be assigned to a host`);
      if (pod.spec.nodeName) throw conflict(bindingGr, podName, `pod ${podName} is already assigned to node "${pod.spec.nodeName}"`);
      const now = this.d.clock.now().toISOString().replace(/\.\d+Z$/, 'Z');
      const scheduled: PodCondition = { type: 'PodScheduled', status: 'True', lastTransitionTime: now };
      const conditions = [...(pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled'), scheduled];
      const annotations = { ...pod.metadata.annotations, ...binding.metadata.annotations };
      return {
        ...pod,
        metadata: { ...pod.metadata, ...(Object.keys(annotations).length ? { annotations } : {}) },
        spec: { ...pod.spec, nodeName: node },
        status: { ...pod.status, conditions },
      };
    }, { dryRun });
    sendJson(ctx.res, 201, success(201));
  }

  /** POST pods/<name>/eviction (eviction.ts): 201 Success, or the budget's 429. */
  private async evict(ctx: RestContext, ns: string, name: string, body: unknown, queryDry: boolean): Promise<void> {
    const { dryRunInBody } = checkEviction(body, name);
    const dryRun = queryDry || (dryRunInBody ?? []).includes('All');
    await this.admit(ctx, body as KubeObject, undefined);
    await evict({ store: this.d.store, clock: this.d.clock }, ns, name, dryRun);
    sendJson(ctx.res, 201, success(201));
  }

  /** GET pods/<name>/log: the apiserver asks the pod's kubelet and streams its answer. */
  private async log(ctx: RestContext, ns: string | undefined, name: string): Promise<void> {
    const pod = await this.d.store.get<Pod>(PODS, ns, name);
    const container = logContainer(pod, ctx.query.get('container'));
    const nodeName = pod.spec.nodeName;
    // A pod with no node yet has no log: the real LogLocation returns no location and an empty body.
    if (!nodeName) { ctx.res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 0 }); ctx.res.end(); return; }
    const node = await this.d.store.get<Node>(NODES, undefined, nodeName);
    await this.d.kubelets.streamLogs(node, pod, container, ctx.query, ctx.res);
  }

  /**
   * nodes/<name>/proxy/<path>: the rest of the path (trailing slash kept) and the query go to the
   * node's kubelet. The path is the unescaped one, escaped again as Go's URL.EscapedPath does (a `%3F`
   * stays `%3F`, never a `?`); the query is passed on as it was sent (UpgradeAwareHandler sets
   * RawQuery).
   */
  private async nodeProxy(ctx: RestContext, name: string): Promise<void> {
    const node = await this.d.store.get<Node>(NODES, undefined, name);
    const rest = ctx.info.parts.slice(3).join('/');
    const trailing = ctx.info.path.endsWith('/') && rest !== '' ? '/' : '';
    const query = ctx.rawQuery ?? ctx.query.toString();
    await this.d.kubelets.proxy(node, ctx.req, `${escapeGoPath(`/${rest}${trailing}`)}${query ? `?${query}` : ''}`, ctx.res);
  }

  /** POST serviceaccounts/<name>/token: a TokenRequest answered with a signed, bound token. */
  private async tokenRequest(ctx: RestContext, ns: string | undefined, name: string, body: unknown): Promise<void> {
    const tr = isRec(body) ? body : {};
    const spec = isRec(tr.spec) ? tr.spec : {};
    const expirationSeconds = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : 3600;
    validateTokenRequest(name, expirationSeconds);
    const audiences = Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences.map(String) : [...this.d.apiAudiences];
    const sa = await this.d.store.get(SERVICE_ACCOUNTS, ns, name);
    await this.admit(ctx, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name, ...(ns ? { namespace: ns } : {}) }, spec } as KubeObject, undefined);
    const ref = isRec(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
    const bound = ref ? await this.boundObject(ns, name, ref) : undefined;
    const now = this.d.clock.now();
    const token = await this.d.gate.issueToken({ serviceAccount: sa, audiences, expirationSeconds, ...(bound ? { bound } : {}), now });
    const exp = new Date(now.getTime() + expirationSeconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    sendJson(ctx.res, 201, {
      kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace: ns, creationTimestamp: null },
      spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
      status: { token, expirationTimestamp: exp },
    });
  }

  /**
   * TokenREST.Create's lookup of spec.boundObjectRef (v1.32, where ServiceAccountTokenNodeBinding and
   * ServiceAccountTokenPodNodeInfo are on): a Pod running as this service account (and its node, when
   * it has one: the Node's uid, or only its name if the Node is not found), a Node, or a Secret, which
   * must exist (404) and have the reference's uid if it gives one (409).
   */
  private async boundObject(ns: string | undefined, saName: string, ref: Record<string, unknown>): Promise<NonNullable<TokenRequestInput['bound']>> {
    const str = (v: unknown): string => (typeof v === 'string' ? v : '');
    const [apiVersion, kind, refName, refUid] = [str(ref.apiVersion), str(ref.kind), str(ref.name), str(ref.uid)];
    // schema.FromAPIVersionAndKind: "v1" is the core group; "g/v" a group; anything else no group version.
    const parts = apiVersion.split('/');
    const [group, version] = apiVersion === '' ? ['', ''] : parts.length === 1 ? ['', apiVersion] : parts.length === 2 ? [parts[0]!, parts[1]!] : ['', ''];
    const refOf = (o: KubeObject): { name: string; uid: string } => ({ name: o.metadata.name ?? '', uid: o.metadata.uid ?? '' });
    let bound: NonNullable<TokenRequestInput['bound']>;
    let uid: string;
    if (group === '' && kind === 'Pod') {
      const pod = await this.d.store.get<Pod>(PODS, ns, refName);
      if (pod.spec.serviceAccountName !== saName) throw badRequest(`cannot bind token for serviceaccount ${JSON.stringify(saName)} to pod running with different serviceaccount name.`);
      const nodeName = pod.spec.nodeName;
      const node = nodeName ? await this.d.store.tryGet<Node>(NODES, undefined, nodeName) : undefined;
      bound = { pod: refOf(pod), ...(nodeName ? { podNode: { name: nodeName, uid: node?.metadata.uid ?? '' } } : {}) };
      uid = pod.metadata.uid ?? '';
    } else if (group === '' && kind === 'Node') {
      const node = await this.d.store.get<Node>(NODES, undefined, refName);
      bound = { node: refOf(node) };
      uid = node.metadata.uid ?? '';
    } else if (group === '' && kind === 'Secret') {
      const secret = await this.d.store.get(SECRETS, ns, refName);
      bound = { secret: refOf(secret) };
      uid = secret.metadata.uid ?? '';
    } else {
      throw badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${kind}`);
    }
    if (refUid !== '' && uid !== refUid) {
      throw conflict({ group, resource: kind }, refName, `the UID in the bound object reference (${refUid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    return bound;
  }

  /** SubjectAccessReview / SelfSubjectAccessReview: the authorizer's answer for the given attributes. */
  private async review(ctx: RestContext, def: ResourceDef, body: unknown): Promise<void> {
    const obj = checkBody(def, body);
    const spec = isRec(obj.spec) ? obj.spec : {};
    const ra = isRec(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
    const nra = isRec(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
    const gr = groupResource(def);
    if (!ra === !nra) throw invalid(gr, def.kind, '', [{ field: 'spec.resourceAttributes', message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified' }]);
    let user: UserInfo = ctx.user;
    if (def.resource === 'subjectaccessreviews') {
      const groups = Array.isArray(spec.groups) ? spec.groups.map(String) : [];
      const name = typeof spec.user === 'string' ? spec.user : '';
      if (!name && groups.length === 0) throw invalid(gr, def.kind, '', [{ field: 'spec.user', message: 'Invalid value: "": at least one of user or group must be specified' }]);
      user = { name, groups, ...(typeof spec.uid === 'string' ? { uid: spec.uid } : {}) };
    }
    const s = (v: unknown): string => (typeof v === 'string' ? v : '');
    const info: RequestInfo = ra
      ? {
        isResourceRequest: true, path: '', verb: s(ra.verb), apiPrefix: s(ra.group) ? 'apis' : 'api', apiGroup: s(ra.group), apiVersion: s(ra.version),
        namespace: s(ra.namespace), resource: s(ra.resource), subresource: s(ra.subresource), name: s(ra.name), parts: [],
      }
      : { isResourceRequest: false, path: s(nra!.path), verb: s(nra!.verb), apiPrefix: '', apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '', parts: [] };
    const decision = await this.d.gate.authorize(user, info);
    const outSpec = def.resource === 'selfsubjectaccessreviews' ? spec : { ...spec, user: user.name, groups: user.groups };
    sendJson(ctx.res, 201, {
      kind: def.kind, apiVersion: apiVersionOf(def), metadata: { creationTimestamp: null }, spec: outSpec,
      status: { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) },
    });
  }

  /**
   * TokenReview (webhook token authentication: the kubelet's, an extension apiserver's delegated
   * authentication): the bearer token of spec.token through this apiserver's token authenticators
   * (service-account and bootstrap tokens). An empty token is a 422; a token that does not
   * authenticate is a 201 with `authenticated: false` and the authenticators' error.
   */
  private async tokenReview(ctx: RestContext, def: ResourceDef, body: unknown): Promise<void> {
    const obj = checkBody(def, body);
    const spec = isRec(obj.spec) ? obj.spec : {};
    const token = typeof spec.token === 'string' ? spec.token : '';
    if (token === '') throw invalid(groupResource(def), def.kind, '', [{ field: 'spec.token', message: 'Required value' }]);
    const audiences = Array.isArray(spec.audiences) ? spec.audiences.map(String) : [];
    const r = await this.d.gate.authenticateToken(token);
    const status = r.ok
      ? {
        authenticated: true,
        user: { username: r.user.name, ...(r.user.uid ? { uid: r.user.uid } : {}), groups: [...r.user.groups], ...(r.user.extra && Object.keys(r.user.extra).length ? { extra: r.user.extra } : {}) },
        audiences: audiences.length ? audiences : this.d.apiAudiences,
      }
      : { user: {}, error: r.reason };
    sendJson(ctx.res, 201, { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { creationTimestamp: null }, spec: { ...spec }, status });
  }

  /**
   * SelfSubjectReview (`kubectl auth whoami`): who the authenticators say the caller is. For a client
   * certificate: the CN as username, every O as a group, and system:authenticated.
   */
  private selfReview(ctx: RestContext, def: ResourceDef, body: unknown): void {
    checkBody(def, body);
    const { name, uid, groups, extra } = ctx.user;
    sendJson(ctx.res, 201, {
      kind: def.kind, apiVersion: apiVersionOf(def), metadata: { creationTimestamp: null },
      status: { userInfo: { username: name, ...(uid ? { uid } : {}), groups, ...(extra && Object.keys(extra).length ? { extra } : {}) } },
    });
  }

  /** SelfSubjectRulesReview (`kubectl auth can-i --list`): the caller's rules in a namespace. */
  private rulesReview(ctx: RestContext, def: ResourceDef, body: unknown): void {
    const obj = checkBody(def, body);
    const spec = isRec(obj.spec) ? obj.spec : {};
    const namespace = typeof spec.namespace === 'string' ? spec.namespace : '';
    const r = this.d.gate.rulesFor(ctx.user, namespace);
    sendJson(ctx.res, 201, {
      kind: def.kind, apiVersion: apiVersionOf(def), metadata: { creationTimestamp: null }, spec: { namespace },
      status: {
        // RBACAuthorizer.RulesFor: a rule with resources is a resource rule, one with URLs a non-resource rule (omitempty lists left out).
        resourceRules: r.rules.filter((x) => x.resources?.length).map((x) => ({
          verbs: x.verbs, ...(x.apiGroups?.length ? { apiGroups: x.apiGroups } : {}), resources: x.resources, ...(x.resourceNames?.length ? { resourceNames: x.resourceNames } : {}),
        })),
        nonResourceRules: r.rules.filter((x) => x.nonResourceURLs?.length).map((x) => ({ verbs: x.verbs, nonResourceURLs: x.nonResourceURLs })),
        incomplete: r.incomplete, ...(r.evaluationError ? { evaluationError: r.evaluationError } : {}),
      },
    });
  }

  /** PUT / PATCH <deployments|replicasets>/<name>/scale: writes spec.replicas through a Scale. */
  private async writeScale(ctx: RestContext, def: ResourceDef, ns: string | undefined, name: string, produce: (current: object) => unknown, dryRun: boolean): Promise<void> {
    const { object } = await this.d.store.update<Obj>(def, ns, name, async (old) => {
      const scale = produce(toScale(def, old));
      if (!isRec(scale) || !isRec(scale.spec) || typeof scale.spec.replicas !== 'number') {
        throw invalid({ group: 'autoscaling', resource: 'scale' }, 'Scale', name, [{ field: 'spec.replicas', message: 'Required value' }]);
      }
      const rv = isRec(scale.metadata) ? scale.metadata.resourceVersion : undefined;
      if (typeof rv === 'string' && rv !== '' && rv !== old.metadata.resourceVersion) throw conflict(groupResource(def), name, OBJECT_MODIFIED);
      const next = await prepareForUpdate(def, { ...old, spec: { ...(isRec(old.spec) ? old.spec : {}), replicas: scale.spec.replicas } }, old, undefined, this.strategy(dryRun));
      this.track(ctx, def, old, next, 'scale');
      await this.admit(ctx, next, old);
      return next;
    }, { dryRun });
    sendJson(ctx.res, 200, toScale(def, object));
  }
}

/** The sort key of a continue token (the key below the collection prefix). */
const continueKey = (o: KubeObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/` : '') + (o.metadata.name ?? '');

/** autoscaling/v1 Scale of a Deployment or ReplicaSet. */
export function toScale(_def: ResourceDef, o: KubeObject): object {
  const obj = o as Obj;
  const spec = isRec(obj.spec) ? obj.spec : {};
  const status = isRec(obj.status) ? obj.status : {};
  const sel = isRec(spec.selector) && isRec(spec.selector.matchLabels) ? spec.selector.matchLabels : {};
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 0 },
    status: { replicas: typeof status.replicas === 'number' ? status.replicas : 0, selector: Object.entries(sel).map(([k, v]) => `${k}=${String(v)}`).join(',') },
  };
}
