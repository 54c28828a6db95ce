/**
 * The per-resource half of each REST strategy (k8s.io/kubernetes pkg/registry/<group>/<resource>/strategy.go):
 * defaulting, validation, what create resets, how generation counts, keyed by group/resource beside the
 * resource table. strategy.ts runs the steps every resource shares and calls these hooks; a resource
 * without an entry gets the generic behaviour (names are DNS subdomains, no defaults, generation kept).
 * Printing columns are registered with the resource too: `printer` names the Table columns
 * (components/api/columns.ts), which kubectl reads as well.
 */
import type { Clock } from '../client/common.js';
import type { Container, KubeObject, PodSpec } from '../api/types.js';
import { invalid } from '../api/errors.js';
import { nullObject } from './json.js';
import { groupResource, type ResourceDef } from '../api/resources.js';
import { validatePodDisruptionBudget } from './policy.js';
import { prepareAPIService } from './aggregator/validation.js';

export type Obj = KubeObject & Record<string, unknown>;
type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A record, or a new null-prototype one (its keys may come from a request). */
const rec = (v: unknown): Rec => (isRec(v) ? v : nullObject());
const specOf = (o: Obj): Rec => rec(o.spec);

export interface StrategyContext {
  readonly clock: Clock;
  /** Allocates a ClusterIP from the service range (10.96.0.0/12). */
  allocateClusterIP(): Promise<string>;
  /** Allocates a NodePort from 30000-32767. */
  allocateNodePort(): Promise<number>;
  /** The same context for one `?dryRun=All` request: its allocators reserve nothing. */
  forDryRun(): StrategyContext;
}

function defaultContainer(c: Container & Rec): void {
  const image = c.image ?? '';
  const tagged = /:[^/]+$/.test(image) || image.includes('@');
  c.imagePullPolicy ??= !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  // ResourceRequirements is a struct, not a pointer: Kubernetes always writes `resources: {}`.
  c.resources ??= {};
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

/**
 * Defaults of a Deployment or ReplicaSet spec and its pod template. The real apiserver defaults every
 * write (create and update alike) before the strategy runs, so a template applied again compares equal
 * to the one its ReplicaSet was made from.
 */
function defaultWorkloadSpec(obj: Obj, deployment: boolean): void {
  const spec = specOf(obj);
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  if (deployment) {
    spec.progressDeadlineSeconds ??= 600;
    // SetDefaults_Deployment: an empty strategy (protobuf bodies carry `strategy: {}`) is RollingUpdate 25%/25%.
    const strategy = rec(spec.strategy);
    if (strategy.type === undefined || strategy.type === '') strategy.type = 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') {
      const ru = rec(strategy.rollingUpdate);
      ru.maxUnavailable ??= '25%';
      ru.maxSurge ??= '25%';
      strategy.rollingUpdate = ru;
    }
    spec.strategy = strategy;
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

/** One resource's strategy. Every hook is optional; each runs after the shared steps named in its comment. */
export interface ResourceStrategy {
  /**
   * metadata.name rule: a DNS-1123 subdomain (the default), or any valid path segment (RBAC objects:
   * ValidateRBACName; CertificateSigningRequests: "we don't care what you call your certificate requests").
   */
  readonly names?: 'path-segment';
  /**
   * How metadata.generation counts: `spec` when .spec changed (Deployments, ReplicaSets), or a
   * function saying whether this update is a new generation. Absent: the stored generation is kept.
   */
  readonly generation?: 'spec' | ((next: Obj, old: Obj) => boolean);
  /** SetDefaults_*: on every write, create and update alike, before the other hooks. */
  defaults?(def: ResourceDef, obj: Obj): void;
  /** PrepareForCreate and Validate: after uid, timestamps and generation are stamped. */
  create?(def: ResourceDef, obj: Obj, ctx: StrategyContext): void | Promise<void>;
  /** PrepareForUpdate and ValidateUpdate of the main resource: after status is reset to the stored one. */
  update?(def: ResourceDef, next: Obj, old: Obj, ctx: StrategyContext): void | Promise<void>;
}

/** The real strategy: any change outside metadata, or to the labels, is a new generation (EndpointSlices have no spec). */
function endpointSliceChanged(next: Obj, old: Obj): boolean {
  const body = (o: Obj): string => JSON.stringify({ ...o, metadata: undefined, kind: undefined, apiVersion: undefined, labels: o.metadata.labels ?? {} }, (_k, v: unknown) =>
    (isRec(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
  return body(next) !== body(old);
}

const POD_UPDATE_FORBIDDEN = 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

const pods: ResourceStrategy = {
  create(def, obj) {
    const spec = specOf(obj) as PodSpec & Rec;
    if (!Array.isArray(spec.containers) || spec.containers.length === 0) {
      throw invalid(groupResource(def), def.kind, obj.metadata.name ?? '', [{ field: 'spec.containers', message: 'Required value' }]);
    }
    defaultPodSpec(spec);
    obj.spec = spec;
    const qosClass = spec.containers.some((c) => c.resources?.requests || c.resources?.limits) ? 'Burstable' : 'BestEffort';
    obj.status = { phase: 'Pending', qosClass };
  },
  update(def, next, old) {
    const spec = specOf(next) as PodSpec & Rec;
    const oldSpec = specOf(old);
    defaultPodSpec(spec);
    if (oldSpec.nodeName && spec.nodeName !== oldSpec.nodeName) {
      throw invalid(groupResource(def), def.kind, next.metadata.name ?? '', [{ field: 'spec', message: POD_UPDATE_FORBIDDEN }]);
    }
  },
};

const namespaceLabel = (obj: Obj): void => {
  obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name ?? '' };
};

const replicaSets: ResourceStrategy = {
  generation: 'spec',
  defaults: (_def, obj) => defaultWorkloadSpec(obj, false),
  // PrepareForCreate: `rs.Status = apps.ReplicaSetStatus{}`, whose replicas is not omitempty.
  create(_def, obj) { obj.status = { replicas: 0 }; },
};
const deployments: ResourceStrategy = { ...replicaSets, defaults: (_def, obj) => defaultWorkloadSpec(obj, true), create(_def, obj) { obj.status = {}; } };

const pathSegmentNames: ResourceStrategy = { names: 'path-segment' };

/** The strategies by `group/resource` (`/pods` for the core group). */
export const STRATEGIES: ReadonlyMap<string, ResourceStrategy> = new Map<string, ResourceStrategy>([
  ['/pods', pods],
  ['/namespaces', {
    create(_def, obj) {
      namespaceLabel(obj);
      obj.spec = { finalizers: ['kubernetes'] };
      obj.status = { phase: 'Active' };
    },
    update(_def, next) { namespaceLabel(next); },
  }],
  ['/services', {
    create: (_def, obj, ctx) => prepareService(obj, undefined, ctx),
    update: (_def, next, old, ctx) => prepareService(next, old, ctx),
  }],
  ['/secrets', {
    create(_def, obj) {
      obj.type ??= 'Opaque';
      if (isRec(obj.stringData)) {
        const data = rec(obj.data);
        for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
        obj.data = data;
        delete obj.stringData;
      }
    },
  }],
  ['apps/deployments', deployments],
  ['apps/replicasets', replicaSets],
  ['discovery.k8s.io/endpointslices', {
    generation: endpointSliceChanged,
    create: validateEndpointSlice,
    update(def, next, old) {
      validateEndpointSlice(def, next);
      if (next.addressType !== old.addressType) {
        throw invalid(groupResource(def), def.kind, next.metadata.name ?? '', [{ field: 'addressType', message: `Invalid value: "${String(next.addressType)}": field is immutable` }]);
      }
    },
  }],
  ['policy/poddisruptionbudgets', {
    generation: 'spec',
    create(def, obj) {
      validatePodDisruptionBudget(def, obj);
      // The disruption controller fills status; a new budget starts with none allowed.
      obj.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    },
    update: (def, next) => validatePodDisruptionBudget(def, next),
  }],
  ['apiregistration.k8s.io/apiservices', {
    names: 'path-segment',
    generation: 'spec',
    create: (def, obj) => prepareAPIService(def, obj, true),
    update: (def, next) => prepareAPIService(def, next, false),
  }],
  ['certificates.k8s.io/certificatesigningrequests', pathSegmentNames],
  ['rbac.authorization.k8s.io/clusterrolebindings', pathSegmentNames],
  ['rbac.authorization.k8s.io/clusterroles', pathSegmentNames],
  ['rbac.authorization.k8s.io/rolebindings', pathSegmentNames],
  ['rbac.authorization.k8s.io/roles', pathSegmentNames],
]);

const GENERIC: ResourceStrategy = {};

/** The strategy of a resource (the generic one when it has none). */
export const strategyFor = (def: ResourceDef): ResourceStrategy => STRATEGIES.get(`${def.group}/${def.resource}`) ?? GENERIC;
