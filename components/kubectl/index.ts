/**
 * kubectl as a library: each command is a function that talks to the apiserver with a KubeClient and
 * returns what kubectl would print (stdout, stderr) and its exit code. `runKubectl(argv, io)` parses
 * a command line as kubectl does and picks the kubeconfig (config.ts).
 *
 *   get <type>[/<name>] [name] [-n ns | -A] [-o wide|json|yaml|name] [-l selector]
 *   apply -f FILE|-      create -f FILE|-      delete <type> <name> | -f FILE
 *   logs <pod> [-c container]      auth can-i VERB RESOURCE[/SUB] [NAME]      auth whoami
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { type Clock, systemClock } from '../client/common.js';
import { ApiError, KubeClient, resourcePath, withQuery } from '../client/kube-client.js';
import { goReason } from '../client/tls.js';
import type { KubeObject, Pod, SelfSubjectReview } from '../api/types.js';
import type { Trace } from '../client/trace.js';
import { LAST_APPLIED, threeWayMergePatch, withLastApplied } from './apply.js';
import { KubectlConfigError, loadKubeconfig, resolveKubeconfigPath } from './config.js';
import { asList, printJson, printName, printTable, printYaml, RowWriter, tableCells, withKind } from './printers.js';
import { qualifiedPlural, qualifiedSingular, resolveType, type ResourceDef, typeForKind } from '../api/resources.js';
import { KubeSimError } from '../../pki/errors.js';

export interface KubectlResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export interface KubectlIo {
  /** Where `get -w` writes as events arrive (the CLI: process.stdout); without it -w is refused. */
  readonly write?: (text: string) => void;
  /** Ends a `get -w` (the CLI: SIGINT). */
  readonly signal?: AbortSignal;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** What `-f -` reads. */
  readonly stdin?: string | (() => Promise<string>);
  readonly clock?: Clock;
  readonly trace?: Trace;
}

/** What every command gets: a client, the namespace in effect, and a clock for ages. */
export interface KubectlContext {
  readonly client: KubeClient;
  /** From -n, else `default`. */
  readonly namespace: string;
  /** Whether -n was given (apply refuses a manifest in another namespace then). */
  readonly namespaceExplicit: boolean;
  readonly now: Date;
  readonly cwd: string;
  readonly stdin?: string | (() => Promise<string>);
}

class Output {
  stdout = '';
  stderr = '';
  code = 0;
  out(s: string): void { this.stdout += s.endsWith('\n') ? s : `${s}\n`; }
  err(s: string): void { this.stderr += s.endsWith('\n') ? s : `${s}\n`; this.code = 1; }
  warn(s: string): void { this.stderr += s.endsWith('\n') ? s : `${s}\n`; }
  result(): KubectlResult { return { stdout: this.stdout, stderr: this.stderr, code: this.code }; }
}

/** A user error, printed as `error: ...` (cmdutil.CheckErr's fallback). */
/** INVALID_ARGUMENT: a command line or manifest kubectl refuses before or after asking; TIMEOUT: `wait` gave up. */
export class KubectlError extends KubeSimError<'INVALID_ARGUMENT' | 'TIMEOUT'> {
  constructor(message: string, code: 'INVALID_ARGUMENT' | 'TIMEOUT' = 'INVALID_ARGUMENT') {
    super(code, message);
  }
}

const TLS_CODES = /^(UNABLE_TO_|CERT_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS_|ERR_SSL_|INVALID_PURPOSE|HOSTNAME_MISMATCH)/;

/** cmdutil.StandardErrorMessage: how kubectl prints what went wrong. */
export function errorMessage(err: unknown, server?: URL): string {
  if (err instanceof ApiError) {
    const s = err.status;
    if (err.httpStatus === 401 || s?.reason === 'Unauthorized') return `error: You must be logged in to the server (${s?.message ?? 'Unauthorized'})`;
    if (s?.reason) return `Error from server (${s.reason}): ${s.message}`;
    return `Error from server: ${s?.message ?? err.message}`;
  }
  if (err instanceof KubectlError || err instanceof KubectlConfigError) return `error: ${err.message}`;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ECONNREFUSED') return `The connection to the server ${server?.host ?? '?'} was refused - did you specify the right host or port?`;
  if (e.code && TLS_CODES.test(e.code)) return `Unable to connect to the server: ${goReason(e.code, e.message)}`;
  if (e.code === 'ECONNRESET') return `Unable to connect to the server: read: connection reset by peer`;
  if (e.code === 'PKI_ERROR' || (e as { name?: string }).name === 'PkiError') return `error: ${e.message}`;
  return `Unable to connect to the server: ${e.message}`;
}

const pathFor = (type: ResourceDef, namespace: string | undefined, name?: string, subresource?: string): string => resourcePath({
  ...(type.group ? { group: type.group } : {}), version: type.version, resource: type.resource,
  ...(type.namespaced && namespace ? { namespace } : {}), ...(name ? { name } : {}), ...(subresource ? { subresource } : {}),
});

function requireType(arg: string | undefined): ResourceDef {
  if (!arg) throw new KubectlError('You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.');
  const t = resolveType(arg);
  if (!t) throw new KubectlError(`the server doesn't have a resource type "${arg}"`);
  return t;
}

// ---------------------------------------------------------------------------------------------------
// get

export interface GetOptions {
  readonly type: string;
  readonly names?: readonly string[];
  readonly allNamespaces?: boolean;
  readonly output?: string;
  readonly selector?: string;
}

/** kubectl checks -o before it asks the server anything, whatever the number of types. */
function checkOutputFormat(output: string): void {
  if (!['', 'wide', 'json', 'yaml', 'name'].includes(output)) {
    throw new KubectlError(`unable to match a printer suitable for the output format "${output}", allowed formats are: json,name,wide,yaml`);
  }
}

export async function get(ctx: KubectlContext, o: GetOptions): Promise<KubectlResult> {
  const output = o.output ?? '';
  checkOutputFormat(output);
  const types = o.type.split(',').filter((t) => t !== '');
  if (types.length > 1) return getMany(ctx, o, types.map(requireType));
  const out = new Output();
  const type = requireType(o.type);
  const ns = o.allNamespaces ? undefined : ctx.namespace;
  let objects: KubeObject[] = [];
  const single = (o.names?.length ?? 0) > 0;
  if (single) {
    for (const name of o.names ?? []) {
      try {
        objects.push(withKind(type, await ctx.client.get(pathFor(type, ns ?? ctx.namespace, name))));
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        out.err(errorMessage(err));
      }
    }
  } else {
    const list = await ctx.client.list<KubeObject>(pathFor(type, ns), { limit: 500, ...(o.selector ? { labelSelector: o.selector } : {}) });
    objects = list.items.map((i) => withKind(type, i));
  }
  if (objects.length === 0) {
    if (!single) out.warn(type.namespaced && ns ? `No resources found in ${ns} namespace.` : 'No resources found');
    return out.result();
  }
  switch (output) {
    case 'json': out.out(printJson(objects.length === 1 && single ? objects[0] : asList(objects))); break;
    case 'yaml': out.out(printYaml(objects.length === 1 && single ? objects[0] : asList(objects))); break;
    case 'name': out.out(objects.map((x) => printName(type, x)).join('\n')); break;
    default: out.out(printTable(type, objects, { wide: output === 'wide', withNamespace: type.namespaced && o.allNamespaces === true, now: ctx.now }));
  }
  return out.result();
}

/**
 * `get deploy,rs`: one table per type, names prefixed with the type (`deployment.apps/web`), a blank
 * line between tables; json/yaml/name gather everything into one output.
 */
async function getMany(ctx: KubectlContext, o: GetOptions, types: ResourceDef[]): Promise<KubectlResult> {
  const out = new Output();
  const ns = o.allNamespaces ? undefined : ctx.namespace;
  const output = o.output ?? '';
  const found: { type: ResourceDef; objects: KubeObject[] }[] = [];
  for (const type of types) {
    const objects: KubeObject[] = [];
    if (o.names && o.names.length > 0) {
      for (const name of o.names) {
        try {
          objects.push(withKind(type, await ctx.client.get(pathFor(type, ns ?? ctx.namespace, name))));
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          out.err(errorMessage(err));
        }
      }
    } else {
      const list = await ctx.client.list<KubeObject>(pathFor(type, ns), { limit: 500, ...(o.selector ? { labelSelector: o.selector } : {}) });
      objects.push(...list.items.map((i) => withKind(type, i)));
    }
    if (objects.length > 0) found.push({ type, objects });
  }
  if (found.length === 0) {
    if (!o.names?.length) out.warn(ns ? `No resources found in ${ns} namespace.` : 'No resources found');
    return out.result();
  }
  const all = found.flatMap((f) => f.objects);
  if (output === 'json') out.out(printJson(asList(all)));
  else if (output === 'yaml') out.out(printYaml(asList(all)));
  else if (output === 'name') out.out(found.flatMap((f) => f.objects.map((x) => printName(f.type, x))).join('\n'));
  else {
    out.stdout += found.map((f) => printTable(f.type, f.objects.map((x) => ({ ...x, metadata: { ...x.metadata, name: printName(f.type, x) } })), {
      wide: output === 'wide', withNamespace: f.type.namespaced && o.allNamespaces === true, now: ctx.now,
    })).join('\n');
  }
  return out.result();
}

/**
 * `get -w`: the table of what exists, then one row per change as the watch delivers it, until the
 * server ends the watch or `signal` fires. Rows go to `write` as they come; the result carries stderr
 * and the exit code.
 */
export async function watchGet(ctx: KubectlContext, o: GetOptions, write: (text: string) => void, signal?: AbortSignal): Promise<KubectlResult> {
  const out = new Output();
  const type = requireType(o.type);
  if (o.output && o.output !== 'wide' && o.output !== 'name') throw new KubectlError(`--watch supports -o wide and -o name here, not "${o.output}"`);
  const ns = o.allNamespaces ? undefined : ctx.namespace;
  const name = o.names?.[0];
  const selector = { ...(o.selector ? { labelSelector: o.selector } : {}), ...(name ? { fieldSelector: `metadata.name=${name}` } : {}) };
  const collection = pathFor(type, ns);
  const list = await ctx.client.list<KubeObject>(collection, selector);
  const table = { wide: o.output === 'wide', withNamespace: type.namespaced && o.allNamespaces === true, now: ctx.now };
  const rows = new RowWriter();
  let headerDone = false;
  const emit = (objects: KubeObject[]): void => {
    if (o.output === 'name') { for (const x of objects) write(`${printName(type, withKind(type, x))}\n`); return; }
    const cells = tableCells(type, objects.map((x) => withKind(type, x)), { ...table, now: new Date(Math.max(ctx.now.getTime(), Date.now())) });
    write(rows.format(headerDone ? cells.slice(1) : cells));
    headerDone = true;
  };
  if (list.items.length > 0) emit(list.items);
  if (signal?.aborted) return out.result();
  await new Promise<void>((resolve, reject) => {
    const w = ctx.client.watch<KubeObject>(collection, { ...selector, ...(list.metadata.resourceVersion ? { resourceVersion: list.metadata.resourceVersion } : {}) }, (e) => {
      if (e.type === 'ADDED' || e.type === 'MODIFIED' || e.type === 'DELETED') emit([e.object]);
      else if (e.type === 'ERROR') { w.stop(); reject(new ApiError((e.object as unknown as { code?: number }).code ?? 500, e.object as unknown as ApiError['status'], 'watch error')); }
    });
    const onAbort = (): void => w.stop();
    signal?.addEventListener('abort', onAbort, { once: true });
    w.done.then(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, (err: unknown) => { signal?.removeEventListener('abort', onAbort); reject(err instanceof Error ? err : new Error(String(err))); });
  });
  return out.result();
}

// ---------------------------------------------------------------------------------------------------
// manifests

export interface ManifestObject {
  readonly object: KubeObject;
  readonly type: ResourceDef;
  /** Where it came from, for messages: the file name or `STDIN`. */
  readonly source: string;
}

/** Parses YAML (multi-document) or JSON manifests; `List` objects are flattened as kubectl does. */
export function parseManifests(text: string, source: string): ManifestObject[] {
  const docs = YAML.parseAllDocuments(text);
  const out: ManifestObject[] = [];
  const push = (raw: unknown): void => {
    if (raw === null || raw === undefined) return;
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new KubectlError(`error validating "${source}": error validating data: invalid object to validate`);
    const obj = raw as KubeObject & { items?: unknown[] };
    if (!obj.kind) throw new KubectlError(`error validating "${source}": error validating data: kind not set`);
    if (!obj.apiVersion) throw new KubectlError(`error validating "${source}": error validating data: apiVersion not set`);
    if (obj.kind === 'List' || obj.kind.endsWith('List')) { for (const i of obj.items ?? []) push(i); return; }
    const type = typeForKind(obj.apiVersion, obj.kind);
    if (!type) {
      throw new KubectlError(`resource mapping not found for name: "${obj.metadata?.name ?? ''}" namespace: "${obj.metadata?.namespace ?? ''}" from "${source}": no matches for kind "${obj.kind}" in version "${obj.apiVersion}"\nensure CRDs are installed first`);
    }
    if (!obj.metadata?.name) throw new KubectlError(`error when retrieving current configuration of:\nResource: "${qualifiedPlural(type)}", GroupVersionKind: "${obj.apiVersion}, Kind=${obj.kind}"\nfrom server for: "${source}": resource name may not be empty`);
    out.push({ object: obj, type, source });
  };
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new KubectlError(`error parsing ${source}: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
    push(doc.toJS());
  }
  return out;
}

async function readManifests(ctx: KubectlContext, files: readonly string[]): Promise<ManifestObject[]> {
  if (files.length === 0) throw new KubectlError('must specify one of -f and -k');
  const all: ManifestObject[] = [];
  for (const f of files) {
    let text: string;
    if (f === '-') text = typeof ctx.stdin === 'function' ? await ctx.stdin() : ctx.stdin ?? '';
    else {
      try {
        text = await fs.readFile(path.resolve(ctx.cwd, f), 'utf8');
      } catch {
        throw new KubectlError(`the path "${f}" does not exist`);
      }
    }
    all.push(...parseManifests(text, f === '-' ? 'STDIN' : f));
  }
  return all;
}

/** The namespace a manifest object lands in; set on the object, as the resource builder does. */
function placeInNamespace(ctx: KubectlContext, m: ManifestObject): KubeObject {
  const obj = structuredClone(m.object);
  if (!m.type.namespaced) { delete obj.metadata.namespace; return obj; }
  const own = obj.metadata.namespace;
  if (own && ctx.namespaceExplicit && own !== ctx.namespace) {
    throw new KubectlError(`the namespace from the provided object "${own}" does not match the namespace "${ctx.namespace}". You must pass '--namespace=${own}' to perform this operation.`);
  }
  obj.metadata.namespace = own ?? ctx.namespace;
  return obj;
}

const FIELD_MANAGER = { fieldManager: 'kubectl-client-side-apply' };

// ---------------------------------------------------------------------------------------------------
// apply / create / delete

export async function apply(ctx: KubectlContext, files: readonly string[]): Promise<KubectlResult> {
  const out = new Output();
  for (const m of await readManifests(ctx, files)) {
    const label = `${qualifiedSingular(m.type)}/${m.object.metadata.name ?? ''}`;
    try {
      const obj = placeInNamespace(ctx, m);
      const path = pathFor(m.type, obj.metadata.namespace, obj.metadata.name);
      let current: KubeObject | undefined;
      try {
        current = await ctx.client.get(path);
      } catch (err) {
        if (!(err instanceof ApiError && err.httpStatus === 404)) throw err;
      }
      const modified = withLastApplied(obj);
      if (!current) {
        await ctx.client.request('POST', withQuery(pathFor(m.type, obj.metadata.namespace), FIELD_MANAGER), modified);
        out.out(`${label} created`);
        continue;
      }
      const recorded = current.metadata.annotations?.[LAST_APPLIED];
      if (recorded === undefined) {
        out.warn(`Warning: resource ${qualifiedPlural(m.type)}/${obj.metadata.name ?? ''} is missing the ${LAST_APPLIED} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.`);
      }
      const original = recorded === undefined ? undefined : JSON.parse(recorded) as KubeObject;
      const patch = threeWayMergePatch(original, modified, current);
      if (Object.keys(patch).length === 0) { out.out(`${label} unchanged`); continue; }
      await ctx.client.request('PATCH', withQuery(path, FIELD_MANAGER), patch, 'application/merge-patch+json');
      out.out(`${label} configured`);
    } catch (err) {
      out.err(describeWriteError(err, m, 'apply'));
    }
  }
  return out.result();
}

function describeWriteError(err: unknown, m: ManifestObject, verb: 'apply' | 'create'): string {
  if (err instanceof ApiError && err.status?.reason && err.httpStatus !== 401) {
    const what = verb === 'create' ? 'creating' : 'applying patch to';
    return `Error from server (${err.status.reason}): error when ${what} "${m.source}": ${err.status.message}`;
  }
  return errorMessage(err);
}

export async function create(ctx: KubectlContext, files: readonly string[]): Promise<KubectlResult> {
  const out = new Output();
  for (const m of await readManifests(ctx, files)) {
    try {
      const obj = placeInNamespace(ctx, m);
      await ctx.client.create(pathFor(m.type, obj.metadata.namespace), obj);
      out.out(`${qualifiedSingular(m.type)}/${obj.metadata.name ?? ''} created`);
    } catch (err) {
      out.err(describeWriteError(err, m, 'create'));
    }
  }
  return out.result();
}

/** Waits until the object is gone (kubectl delete --wait): a watch on its name, bounded. */
async function waitForDeletion(ctx: KubectlContext, type: ResourceDef, namespace: string | undefined, name: string, timeoutMs: number): Promise<void> {
  const collection = pathFor(type, namespace);
  const fieldSelector = `metadata.name=${name}`;
  const list = await ctx.client.list<KubeObject>(collection, { fieldSelector });
  if (list.items.length === 0) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { w.stop(); reject(new KubectlError(`timed out waiting for the condition on ${type.resource}/${name}`, 'TIMEOUT')); }, timeoutMs);
    const w = ctx.client.watch<KubeObject>(collection, { fieldSelector, ...(list.metadata.resourceVersion ? { resourceVersion: list.metadata.resourceVersion } : {}) }, (e) => {
      if (e.type === 'DELETED') { clearTimeout(timer); w.stop(); resolve(); }
    });
    w.done.then(() => { clearTimeout(timer); resolve(); }, (err: unknown) => { clearTimeout(timer); reject(err instanceof Error ? err : new Error(String(err))); });
  });
}

export interface DeleteOptions {
  readonly type?: string;
  readonly names?: readonly string[];
  readonly files?: readonly string[];
  /** Wait until the objects are gone (default true, with a 60 s bound). */
  readonly wait?: boolean;
  readonly timeoutMs?: number;
}

export async function del(ctx: KubectlContext, o: DeleteOptions): Promise<KubectlResult> {
  const out = new Output();
  const targets: { type: ResourceDef; namespace: string | undefined; name: string }[] = [];
  if (o.files && o.files.length > 0) {
    for (const m of await readManifests(ctx, o.files)) {
      const obj = placeInNamespace(ctx, m);
      targets.push({ type: m.type, namespace: obj.metadata.namespace, name: obj.metadata.name ?? '' });
    }
  } else {
    const type = requireType(o.type);
    if (!o.names || o.names.length === 0) throw new KubectlError('resource(s) were provided, but no name was specified');
    for (const name of o.names) targets.push({ type, namespace: type.namespaced ? ctx.namespace : undefined, name });
  }
  const deleted: typeof targets = [];
  for (const t of targets) {
    try {
      await ctx.client.delete(pathFor(t.type, t.namespace, t.name));
      out.out(`${qualifiedSingular(t.type)} "${t.name}" deleted`);
      deleted.push(t);
    } catch (err) {
      out.err(errorMessage(err));
    }
  }
  if (o.wait !== false) {
    for (const t of deleted) {
      try {
        await waitForDeletion(ctx, t.type, t.namespace, t.name, o.timeoutMs ?? 60_000);
      } catch (err) {
        out.err(errorMessage(err));
      }
    }
  }
  return out.result();
}

// ---------------------------------------------------------------------------------------------------
// logs, auth can-i

export async function logs(ctx: KubectlContext, podName: string, container?: string): Promise<KubectlResult> {
  const out = new Output();
  const podsType = requireType('pods');
  const pod = await ctx.client.get<Pod>(pathFor(podsType, ctx.namespace, podName));
  let c = container;
  if (!c) {
    const names = pod.spec.containers.map((x) => x.name);
    c = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? names[0];
    if (names.length > 1) out.warn(`Defaulted container "${c ?? ''}" out of: ${names.join(', ')}`);
  }
  const res = await ctx.client.raw('GET', withQuery(pathFor(podsType, ctx.namespace, podName, 'log'), { container: c }), undefined, undefined, '*/*');
  if (res.status >= 200 && res.status < 300) {
    out.stdout += res.body;
    return out.result();
  }
  let status;
  try { status = JSON.parse(res.body) as ApiError['status']; } catch { /* not a Status */ }
  throw new ApiError(res.status, status, res.body);
}

interface SelfSubjectAccessReview extends KubeObject {
  spec: { resourceAttributes?: Record<string, string>; nonResourceAttributes?: { path: string; verb: string } };
  status?: { allowed: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

export async function canI(ctx: KubectlContext, verb: string, resourceArg: string, name?: string, allNamespaces = false): Promise<KubectlResult> {
  const out = new Output();
  let spec: SelfSubjectAccessReview['spec'];
  if (resourceArg.startsWith('/')) {
    spec = { nonResourceAttributes: { path: resourceArg, verb } };
  } else {
    const [res = '', sub] = resourceArg.split('/');
    const type = resolveType(res);
    if (!type && res !== '*') out.warn(`Warning: the server doesn't have a resource type '${res}'`);
    const resource = type?.resource ?? res.split('.')[0] ?? res;
    const group = type?.group ?? (res.includes('.') ? res.slice(res.indexOf('.') + 1) : '');
    spec = {
      resourceAttributes: {
        ...(type?.namespaced === false || allNamespaces ? {} : { namespace: ctx.namespace }),
        verb, ...(group ? { group } : {}), resource, ...(sub ? { subresource: sub } : {}), ...(name ? { name } : {}),
      },
    };
  }
  const review = await ctx.client.create<SelfSubjectAccessReview>(resourcePath({ group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }), {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec,
  });
  if (review.status?.allowed) { out.out('yes'); return out.result(); }
  let line = 'no';
  if (review.status?.reason) line += ` - ${review.status.reason}`;
  if (review.status?.evaluationError) line += ` - ${review.status.evaluationError}`;
  out.out(line);
  out.code = 1;
  return out.result();
}

/** `kubectl auth whoami`: the apiserver's own view of the caller (a SelfSubjectReview), as kubectl prints it. */
export async function whoami(ctx: KubectlContext): Promise<KubectlResult> {
  const out = new Output();
  const review = await ctx.client.create<SelfSubjectReview>(resourcePath({ group: 'authentication.k8s.io', resource: 'selfsubjectreviews' }), {
    apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {},
  });
  const u = review.status?.userInfo ?? {};
  const rows: [string, string][] = [['Username', u.username ?? '']];
  if (u.uid) rows.push(['UID', u.uid]);
  if (u.groups?.length) rows.push(['Groups', `[${u.groups.join(' ')}]`]);
  for (const key of Object.keys(u.extra ?? {}).sort()) rows.push([`Extra: ${key}`, `[${(u.extra![key] ?? []).join(' ')}]`]);
  // printTableSelfSubjectAccessReview: a tabwriter with 3 spaces of padding.
  const width = Math.max('ATTRIBUTE'.length, ...rows.map(([k]) => k.length)) + 3;
  for (const [k, v] of [['ATTRIBUTE', 'VALUE'], ...rows]) out.out(`${k!.padEnd(width)}${v}`);
  return out.result();
}

// ---------------------------------------------------------------------------------------------------
// certificate approve|deny

interface Csr extends KubeObject {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string; lastUpdateTime?: string }[]; certificate?: string };
}

/**
 * `kubectl certificate approve|deny NAME...` (kubectl/pkg/cmd/certificates): adds the Approved (or
 * Denied) condition through the /approval subresource, refusing a request already decided the other
 * way; one already decided the same way is left as it is.
 */
export async function certificate(ctx: KubectlContext, action: 'approve' | 'deny', names: readonly string[], force = false): Promise<KubectlResult> {
  const out = new Output();
  if (names.length === 0) throw new KubectlError('one or more CSRs must be specified as <name> or -f <filename>');
  const type = requireType('certificatesigningrequests');
  const [want, mustNot, reason, message] = action === 'approve'
    ? ['Approved', 'Denied', 'KubectlApprove', 'This CSR was approved by kubectl certificate approve.']
    : ['Denied', 'Approved', 'KubectlDeny', 'This CSR was denied by kubectl certificate deny.'];
  for (const name of names) {
    try {
      const csr = await ctx.client.get<Csr>(pathFor(type, undefined, name));
      const conds = csr.status?.conditions ?? [];
      const other = conds.find((c) => c.type === mustNot);
      if (other) throw new KubectlError(`certificate signing request "${name}" is already ${other.type}`);
      if (force || !conds.some((c) => c.type === want)) {
        const now = ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
        await ctx.client.update(`${pathFor(type, undefined, name)}/approval`, {
          ...csr, status: { ...csr.status, conditions: [...conds, { type: want, status: 'True', reason, message, lastUpdateTime: now }] },
        });
      }
      out.out(`${qualifiedSingular(type)}/${name} ${action === 'approve' ? 'approved' : 'denied'}`);
    } catch (err) {
      out.err(errorMessage(err));
    }
  }
  return out.result();
}

// ---------------------------------------------------------------------------------------------------
// the command line

interface Parsed {
  readonly args: string[];
  readonly flags: Map<string, string[]>;
}

const VALUE_FLAGS: Readonly<Record<string, string>> = {
  '--kubeconfig': 'kubeconfig', '-n': 'namespace', '--namespace': 'namespace', '-o': 'output', '--output': 'output',
  '-l': 'selector', '--selector': 'selector', '-f': 'filename', '--filename': 'filename', '-c': 'container', '--container': 'container',
  '--timeout': 'timeout', '--wait': 'wait',
};
const BOOL_FLAGS: Readonly<Record<string, string>> = { '--force': 'force', '-A': 'all-namespaces', '--all-namespaces': 'all-namespaces', '-w': 'watch', '--watch': 'watch' };

export function parseArgs(argv: readonly string[]): Parsed {
  const args: string[] = [];
  const flags = new Map<string, string[]>();
  const set = (k: string, v: string): void => { flags.set(k, [...(flags.get(k) ?? []), v]); };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') { args.push(...argv.slice(i + 1)); break; }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (BOOL_FLAGS[name]) { set(BOOL_FLAGS[name], eq > 0 ? a.slice(eq + 1) : 'true'); continue; }
    if (name === '--wait' && eq < 0) { set('wait', 'true'); continue; }
    const vf = VALUE_FLAGS[name];
    if (vf) {
      if (eq > 0) { set(vf, a.slice(eq + 1)); continue; }
      const v = argv[i + 1];
      if (v === undefined) throw new KubectlError(`flag needs an argument: ${a}`);
      set(vf, v);
      i += 1;
      continue;
    }
    // -owide, -nkube-system, -o=json
    const short = /^-([nolfc])=?(.+)$/.exec(a);
    if (short) { set(VALUE_FLAGS[`-${short[1] ?? ''}`] ?? '', short[2] ?? ''); continue; }
    if (a.startsWith('-') && a !== '-') throw new KubectlError(`unknown flag: ${a}\nSee 'kubectl --help' for usage.`);
    args.push(a);
  }
  return { args, flags };
}

const USAGE = `kubectl controls the Kubernetes cluster manager (simulation).

Commands:
  get <type> [name] [-n ns | -A] [-o wide|json|yaml|name] [-l selector]
  apply -f FILE|-          create -f FILE|-
  delete <type> <name> | -f FILE
  logs <pod> [-c container]
  auth can-i VERB RESOURCE [NAME]
  auth whoami
  certificate approve|deny CSR...

Flags: --kubeconfig FILE (else $KUBECONFIG, else .cluster/cluster.json's admin kubeconfig), -n NAMESPACE
`;

/** Runs a kubectl command line; never throws (errors become stderr and exit code 1). */
export async function runKubectl(argv: readonly string[], io: KubectlIo = {}): Promise<KubectlResult> {
  let client: KubeClient | undefined;
  try {
    const { args, flags } = parseArgs(argv);
    const last = (k: string): string | undefined => flags.get(k)?.at(-1);
    const [command, ...rest] = args;
    if (!command || command === 'help') return { stdout: USAGE, stderr: '', code: command ? 0 : 1 };
    const cwd = io.cwd ?? process.cwd();
    const config = await loadKubeconfig(await resolveKubeconfigPath(last('kubeconfig'), io.env ?? process.env, cwd));
    client = new KubeClient({
      name: 'kubectl', server: config.server, identity: { cert: config.certPem, key: config.keyPem }, serverCa: config.caPem,
      ...(io.trace ? { trace: io.trace } : {}),
    });
    const ns = last('namespace');
    const ctx: KubectlContext = {
      client, namespace: ns ?? 'default', namespaceExplicit: ns !== undefined, now: (io.clock ?? systemClock).now(), cwd,
      ...(io.stdin !== undefined ? { stdin: io.stdin } : {}),
    };
    const allNamespaces = last('all-namespaces') === 'true';
    const files = flags.get('filename') ?? [];
    try {
      switch (command) {
        case 'get': {
          let [type, ...names] = rest;
          if (type?.includes('/')) { const [t, n] = type.split('/'); type = t; names = [n ?? '', ...names]; }
          const output = last('output');
          const selector = last('selector');
          if (last('watch') === 'true') {
            if (!io.write) throw new KubectlError('--watch needs a terminal to write to');
            return await watchGet(ctx, { type: type ?? '', names, allNamespaces, ...(output ? { output } : {}), ...(selector ? { selector } : {}) }, io.write, io.signal);
          }
          return await get(ctx, { type: type ?? '', names, allNamespaces, ...(output ? { output } : {}), ...(selector ? { selector } : {}) });
        }
        case 'apply': return await apply(ctx, files);
        case 'create': return await create(ctx, files);
        case 'delete': {
          let [type, ...names] = rest;
          if (type?.includes('/')) { const [t, n] = type.split('/'); type = t; names = [n ?? '', ...names]; }
          const timeout = last('timeout');
          return await del(ctx, {
            ...(type ? { type } : {}), names, files, wait: last('wait') !== 'false',
            ...(timeout ? { timeoutMs: Number.parseFloat(timeout) * (timeout.endsWith('m') ? 60_000 : 1000) } : {}),
          });
        }
        case 'logs': {
          const [pod] = rest;
          if (!pod) throw new KubectlError('expected POD or TYPE/NAME is a required argument for the logs command');
          return await logs(ctx, pod.replace(/^(pod|pods|po)\//, ''), last('container'));
        }
        case 'auth': {
          const [sub, verb, resource, name] = rest;
          if (sub === 'whoami') return await whoami(ctx);
          if (sub !== 'can-i') throw new KubectlError(`unknown command "${sub ?? ''}" for "kubectl auth"`);
          if (!verb || !resource) throw new KubectlError('you must specify two arguments: verb resource or verb resource/resourceName.');
          return await canI(ctx, verb, resource, name, allNamespaces);
        }
        case 'certificate': {
          const [sub, ...names] = rest;
          if (sub !== 'approve' && sub !== 'deny') throw new KubectlError(`unknown command "${sub ?? ''}" for "kubectl certificate"`);
          return await certificate(ctx, sub, names, last('force') === 'true');
        }
        default:
          throw new KubectlError(`unknown command "${command}" for "kubectl"`);
      }
    } catch (err) {
      return { stdout: '', stderr: `${errorMessage(err, client.server)}\n`, code: 1 };
    }
  } catch (err) {
    return { stdout: '', stderr: `${errorMessage(err)}\n`, code: 1 };
  } finally {
    client?.close();
  }
}

