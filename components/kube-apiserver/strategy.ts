/**
 * Per-resource create/update rules, a small part of each real REST strategy (PrepareForCreate,
 * PrepareForUpdate, defaulting and validation): what the apiserver fills in, what it keeps from the
 * stored object, which objects it refuses.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../client/common.js';
import type { Container, KubeObject, PodSpec } from '../api/types.js';
import { badRequest, invalid } from '../api/errors.js';
import { nullObject } from './json.js';
import { groupResource, type ResourceDef } from '../api/resources.js';

type Obj = KubeObject & Record<string, unknown>;
type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A record, or a new null-prototype one (its keys may come from a request). */
const rec = (v: unknown): Rec => (isRec(v) ? v : nullObject());

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** generateName + five characters, as names.SimpleNameGenerator does. */
export function generateName(base: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return `${base.slice(0, 58)}${suffix}`;
}

export function validateName(def: ResourceDef, name: string): void {
  if (name === '') throw invalid(groupResource(def), def.kind, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
  // CertificateSigningRequests: "We don't care what you call your certificate requests" (ValidateCertificateRequestName).
  if (def.group === 'rbac.authorization.k8s.io' || def.resource === 'certificatesigningrequests') {
    // RBAC objects only need to be a valid path segment (ValidateRBACName = path.IsValidPathSegmentName).
    if (name === '.' || name === '..' || name.includes('/') || name.includes('%')) {
      throw invalid(groupResource(def), def.kind, name, [{ field: 'metadata.name', message: `Invalid value: "${name}": may not contain '/' or '%'` }]);
    }
    return;
  }
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    throw invalid(groupResource(def), def.kind, name, [{
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    }]);
  }
}

// k8s.io/apimachinery/pkg/util/validation: IsQualifiedName, IsValidLabelValue and their messages.
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const QUALIFIED_NAME_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const DNS1123_SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
/** Annotations may hold 256 KiB in all (TotalAnnotationSizeLimitB). */
const TOTAL_ANNOTATION_SIZE = 256 * 1024;

/** validation.RegexError: `<msg> (e.g. 'a',  or 'b', regex used for validation is '<fmt>')`. */
const regexError = (msg: string, fmt: string, ...examples: string[]): string =>
  `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;

/** validation.IsQualifiedName: `[prefix/]name`, the prefix a DNS subdomain, the name at most 63 characters. */
export function qualifiedNameErrors(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else {
      if (prefix.length > 253) errs.push('prefix part must be no more than 253 characters');
      if (!DNS1123_SUBDOMAIN.test(prefix)) errs.push(`prefix part ${regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com')}`);
    }
  } else {
    return [`a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (!QUALIFIED_NAME.test(name)) errs.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs;
}

/** validation.IsValidLabelValue. */
function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

type FieldErr = { field: string; message: string };
const invalidValue = (field: string, value: string, msg: string): FieldErr => ({ field, message: `Invalid value: ${JSON.stringify(value)}: ${msg}` });

/**
 * ValidateLabels and ValidateAnnotations (metav1validation / apimachinery's objectmeta.go), as every
 * create and update runs them through ValidateObjectMeta: a 422 listing each bad key and value.
 */
export function validateObjectMeta(def: ResourceDef, obj: Obj): void {
  const md = obj.metadata as Rec;
  const errs: FieldErr[] = [];
  if (isRec(md.labels)) {
    for (const [k, v] of Object.entries(md.labels)) {
      for (const m of qualifiedNameErrors(k)) errs.push(invalidValue('metadata.labels', k, m));
      for (const m of labelValueErrors(String(v))) errs.push(invalidValue('metadata.labels', String(v), m));
    }
  }
  if (isRec(md.annotations)) {
    let size = 0;
    for (const [k, v] of Object.entries(md.annotations)) {
      // "The rule is QualifiedName except that case doesn't matter."
      for (const m of qualifiedNameErrors(k.toLowerCase())) errs.push(invalidValue('metadata.annotations', k, m));
      size += k.length + String(v).length;
    }
    if (size > TOTAL_ANNOTATION_SIZE) errs.push({ field: 'metadata.annotations', message: `Too long: may not be more than ${TOTAL_ANNOTATION_SIZE} bytes` });
  }
  if (errs.length) throw invalid(groupResource(def), def.kind, String(md.name ?? ''), errs);
}

/** ValidateTokenRequest: at least 10 minutes, at most 2^32 seconds. */
export function validateTokenRequest(name: string, expirationSeconds: number): void {
  const gr = { group: 'authentication.k8s.io', resource: 'tokenrequests' };
  const errs: FieldErr[] = [];
  if (expirationSeconds < 600) errs.push({ field: 'spec.expirationSeconds', message: `Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes` });
  if (expirationSeconds > 2 ** 32) errs.push({ field: 'spec.expirationSeconds', message: `Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds` });
  if (errs.length) throw invalid(gr, 'TokenRequest', name, errs);
}

function defaultContainer(c: Container & Rec): void {
  const image = c.image ?? '';
  const tagged = /:[^/]+$/.test(image) || image.includes('@');
  c.imagePullPolicy ??= !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
}

/** SetDefaults_PodSpec, the parts a reader of the simulation meets. */
export function defaultPodSpec(spec: PodSpec & Rec): void {
  spec.restartPolicy ??= 'Always';
  spec.schedulerName ??= 'default-scheduler';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.enableServiceLinks ??= true;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.priority ??= 0;
  for (const c of spec.containers ?? []) defaultContainer(c as Container & Rec);
}

export interface StrategyContext {
  readonly clock: Clock;
  /** Allocates a ClusterIP from the service range (10.96.0.0/12). */
  allocateClusterIP(): Promise<string>;
  /** Allocates a NodePort from 30000-32767. */
  allocateNodePort(): Promise<number>;
  /** The same context for one `?dryRun=All` request: its allocators reserve nothing. */
  forDryRun(): StrategyContext;
}

const specOf = (o: Obj): Rec => rec(o.spec);

/** Everything the apiserver stamps on a new object before it is stored. */
export async function prepareForCreate(def: ResourceDef, obj: Obj, ctx: StrategyContext): Promise<void> {
  validateObjectMeta(def, obj);
  const now = ctx.clock.now();
  const md = obj.metadata;
  md.uid = randomUUID();
  md.creationTimestamp = new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  delete md.deletionTimestamp;
  if (def.generation) md.generation = 1;
  switch (def.resource) {
    case 'pods': {
      const spec = specOf(obj) as PodSpec & Rec;
      if (!Array.isArray(spec.containers) || spec.containers.length === 0) {
        throw invalid(groupResource(def), def.kind, md.name ?? '', [{ field: 'spec.containers', message: 'Required value' }]);
      }
      defaultPodSpec(spec);
      obj.spec = spec;
      const qosClass = spec.containers.some((c) => c.resources?.requests || c.resources?.limits) ? 'Burstable' : 'BestEffort';
      obj.status = { phase: 'Pending', qosClass };
      break;
    }
    case 'namespaces':
      md.labels = { ...md.labels, 'kubernetes.io/metadata.name': md.name ?? '' };
      obj.spec = { finalizers: ['kubernetes'] };
      obj.status = { phase: 'Active' };
      break;
    case 'services': await prepareService(obj, undefined, ctx); break;
    case 'deployments': case 'replicasets':
      defaultWorkloadSpec(def, obj);
      obj.status = {};
      break;
    case 'endpointslices':
      md.generation = 1;
      validateEndpointSlice(def, obj);
      break;
    case 'secrets': {
      obj.type ??= 'Opaque';
      if (isRec(obj.stringData)) {
        const data = rec(obj.data);
        for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
        obj.data = data;
        delete obj.stringData;
      }
      break;
    }
    default: break;
  }
}

/**
 * Defaults of a Deployment or ReplicaSet spec and its pod template. The real apiserver defaults every
 * write (create and update alike) before the strategy runs, so a template applied again compares equal
 * to the one its ReplicaSet was made from.
 */
function defaultWorkloadSpec(def: ResourceDef, obj: Obj): void {
  const spec = specOf(obj);
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  if (def.resource === 'deployments') {
    spec.progressDeadlineSeconds ??= 600;
    spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
  }
  const template = rec(spec.template);
  if (isRec(template.spec)) defaultPodSpec(template.spec as PodSpec & Rec);
  obj.spec = spec;
}

async function prepareService(obj: Obj, old: Obj | undefined, ctx: StrategyContext): Promise<void> {
  const spec = specOf(obj);
  const oldSpec = old ? specOf(old) : undefined;
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.type === 'ExternalName') {
    // A DNS alias (a CNAME in cluster DNS): no ClusterIP, no IP families, nothing for kube-proxy.
    const causes: { field: string; message: string }[] = [];
    if (typeof spec.externalName !== 'string' || spec.externalName === '') causes.push({ field: 'spec.externalName', message: 'Required value' });
    if (spec.clusterIP !== undefined && spec.clusterIP !== '') causes.push({ field: 'spec.clusterIPs', message: 'Invalid value: []string{' + JSON.stringify(String(spec.clusterIP)) + '}: may not be set for ExternalName services' });
    if (causes.length) throw invalid({ group: '', resource: 'services' }, 'Service', obj.metadata.name ?? '', causes);
    obj.spec = spec;
    obj.status = old?.status ?? { loadBalancer: {} };
    return;
  }
  spec.internalTrafficPolicy ??= 'Cluster';
  spec.ipFamilies ??= ['IPv4'];
  spec.ipFamilyPolicy ??= 'SingleStack';
  if (spec.clusterIP === undefined || spec.clusterIP === '') {
    spec.clusterIP = oldSpec?.clusterIP ?? await ctx.allocateClusterIP();
  } else if (oldSpec && oldSpec.clusterIP !== spec.clusterIP) {
    throw invalid({ group: '', resource: 'services' }, 'Service', obj.metadata.name ?? '', [{ field: 'spec.clusterIP', message: `Invalid value: "${String(spec.clusterIP)}": field is immutable` }]);
  }
  spec.clusterIPs = spec.clusterIP === 'None' ? ['None'] : [spec.clusterIP];
  const ports = Array.isArray(spec.ports) ? spec.ports.filter(isRec) : [];
  const oldPorts = Array.isArray(oldSpec?.ports) ? oldSpec.ports.filter(isRec) : [];
  for (const p of ports) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
    if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && p.nodePort === undefined) {
      p.nodePort = oldPorts.find((o) => o.port === p.port)?.nodePort ?? await ctx.allocateNodePort();
    }
  }
  obj.spec = spec;
  obj.status = old?.status ?? { loadBalancer: {} };
}

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** ValidateEndpointSlice (pkg/apis/discovery/validation), the checks a hand-written slice meets first. */
function validateEndpointSlice(def: ResourceDef, obj: Obj): void {
  const causes: { field: string; message: string }[] = [];
  const addressType = obj.addressType;
  if (addressType === undefined || addressType === '') causes.push({ field: 'addressType', message: 'Required value' });
  else if (typeof addressType !== 'string' || !ADDRESS_TYPES.includes(addressType)) {
    causes.push({ field: 'addressType', message: `Unsupported value: "${String(addressType)}": supported values: ${ADDRESS_TYPES.map((t) => `"${t}"`).join(', ')}` });
  }
  const endpoints = Array.isArray(obj.endpoints) ? obj.endpoints : [];
  endpoints.forEach((e, i) => {
    const addresses = isRec(e) && Array.isArray(e.addresses) ? e.addresses : [];
    if (addresses.length === 0) causes.push({ field: `endpoints[${i}].addresses`, message: 'Required value: must contain at least 1 address' });
    addresses.forEach((a, j) => {
      if (addressType === 'IPv4' && !(typeof a === 'string' && IPV4.test(a))) {
        causes.push({ field: `endpoints[${i}].addresses[${j}]`, message: `Invalid value: "${String(a)}": must be a valid IPv4 address` });
      }
    });
  });
  const ports = Array.isArray(obj.ports) ? obj.ports : [];
  ports.forEach((p, i) => {
    const port = isRec(p) ? p.port : undefined;
    if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)) {
      causes.push({ field: `ports[${i}].port`, message: `Invalid value: ${String(port)}: must be between 1 and 65535, inclusive` });
    }
  });
  if (causes.length) throw invalid(groupResource(def), def.kind, obj.metadata.name ?? '', causes);
}

/** The subresource that an update writes: the main resource keeps the stored status, `status` keeps everything else. */
export async function prepareForUpdate(def: ResourceDef, obj: Obj, old: Obj, subresource: string | undefined, ctx: StrategyContext): Promise<Obj> {
  const md = { ...obj.metadata };
  // Fields that are the apiserver's, not the client's.
  if (old.metadata.uid) md.uid = old.metadata.uid;
  if (old.metadata.creationTimestamp) md.creationTimestamp = old.metadata.creationTimestamp;
  else delete md.creationTimestamp;
  if (old.metadata.name) md.name = old.metadata.name;
  if (old.metadata.namespace !== undefined) md.namespace = old.metadata.namespace;
  if (old.metadata.deletionTimestamp) md.deletionTimestamp = old.metadata.deletionTimestamp;
  if (subresource === 'status') {
    // Only .status changes through the status subresource (labels and annotations too, for nodes and pods).
    const labels = md.labels ?? old.metadata.labels;
    const annotations = md.annotations ?? old.metadata.annotations;
    const metadata = { ...old.metadata, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) };
    const updated = { ...structuredClone(old), status: obj.status, metadata } as Obj;
    validateObjectMeta(def, updated);
    return updated;
  }
  const next: Obj = { ...obj, metadata: md };
  validateObjectMeta(def, next);
  if (def.resource === 'deployments' || def.resource === 'replicasets') defaultWorkloadSpec(def, next);
  const hasStatus = def.subresources.some((s) => s.name === 'status');
  if (hasStatus) {
    if (old.status === undefined) delete next.status;
    else next.status = old.status;
  }
  if (def.resource === 'endpointslices') {
    validateEndpointSlice(def, next);
    if (next.addressType !== old.addressType) {
      throw invalid(groupResource(def), def.kind, md.name ?? '', [{ field: 'addressType', message: `Invalid value: "${String(next.addressType)}": field is immutable` }]);
    }
    // The real strategy: any change outside metadata, or to the labels, is a new generation.
    const body = (o: Obj): string => JSON.stringify({ ...o, metadata: undefined, kind: undefined, apiVersion: undefined, labels: o.metadata.labels ?? {} }, (_k, v: unknown) =>
      (isRec(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
    md.generation = (old.metadata.generation ?? 1) + (body(next) !== body(old) ? 1 : 0);
  } else if (def.generation) {
    const changed = JSON.stringify(next.spec) !== JSON.stringify(old.spec);
    md.generation = (old.metadata.generation ?? 1) + (changed ? 1 : 0);
  } else if (old.metadata.generation !== undefined) {
    md.generation = old.metadata.generation;
  }
  if (def.resource === 'services') await prepareService(next, old, ctx);
  if (def.resource === 'pods') {
    const spec = specOf(next) as PodSpec & Rec;
    const oldSpec = specOf(old);
    defaultPodSpec(spec);
    if (oldSpec.nodeName && spec.nodeName !== oldSpec.nodeName) {
      throw invalid(groupResource(def), def.kind, md.name ?? '', [{ field: 'spec', message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)' }]);
    }
  }
  if (def.resource === 'namespaces') {
    md.labels = { ...md.labels, 'kubernetes.io/metadata.name': md.name ?? '' };
  }
  return next;
}

/** The object a request body must be: an object with metadata; kind/apiVersion filled in when absent, refused when wrong. */
export function checkBody(def: ResourceDef, body: unknown, kind = def.kind, apiVersion?: string): Obj {
  if (!isRec(body)) throw badRequest('the body of the request was in an unknown format');
  const want = apiVersion ?? (def.group ? `${def.group}/${def.version}` : def.version);
  if (body.kind !== undefined && body.kind !== '' && body.kind !== kind) {
    // The codec decodes the kind the body names, then cannot convert it into the kind the URL serves
    // (transformDecodeError around the converter's error); the version check below is only for versions.
    const version = want.slice(want.lastIndexOf('/') + 1);
    throw badRequest(`${String(body.kind)} in version ${JSON.stringify(version)} cannot be handled as a ${kind}: converting (${version}.${String(body.kind)}) to (${kind}): unknown conversion`);
  }
  if (body.apiVersion !== undefined && body.apiVersion !== want) throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${want})`);
  const metadata = isRec(body.metadata) ? body.metadata : {};
  return { ...body, kind, apiVersion: want, metadata } as Obj;
}
