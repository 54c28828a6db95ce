/**
 * What `kubectl get` prints: the human-readable tables of k8s.io/kubernetes/pkg/printers/internalversion
 * (column names and cell rules per type), aligned as kubectl's tabwriter aligns them (minimum width
 * 6, padding 3), ages as duration.HumanDuration, and the json / yaml / name outputs with keys sorted
 * as kubectl's unstructured objects print them.
 */
import YAML from 'yaml';
import { csrCondition, type CertificateSigningRequest } from '../api/certificates.js';
import { age, humanDuration, formatDiscoveryEndpoints, formatDiscoveryPorts, formatEndpoints, podStatus } from '../api/printing.js';
import type { Deployment, EndpointSlice, Endpoints, KubeEvent, KubeObject, Node, Pod, ReplicaSet, Service } from '../api/types.js';
import { selectorString } from '../api/labels.js';
import { qualifiedSingular, type ResourceDef } from '../api/resources.js';
import { printerFor, type Printer } from '../api/columns.js';

/**
 * text/tabwriter as printers.GetNewTabWriter sets it up (minwidth 6, tabwidth 4, padding 3, padchar ' '):
 * every column but the last is padded to its widest cell + 3, at least 6.
 */
export function tabulate(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i === row.length - 1) return;
      widths[i] = Math.max(widths[i] ?? 0, Math.max(6, cell.length + 3));
    });
  }
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('')).join('\n') + (rows.length ? '\n' : '');
}

interface Columns<T> {
  readonly headers: readonly string[];
  readonly wide: readonly string[];
  row(o: T, now: Date): string[];
  wideRow(o: T, now: Date): string[];
}

const none = (s: string | undefined): string => (s === undefined || s === '' ? '<none>' : s);

const pods: Columns<Pod> = {
  headers: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
  wide: ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES'],
  row: (p, now) => {
    const s = podStatus(p);
    return [p.metadata.name ?? '', s.ready, s.status, String(s.restarts), age(p.metadata.creationTimestamp, now)];
  },
  wideRow: (p) => [none(p.status?.podIP), none(p.spec.nodeName), '<none>', '<none>'],
};

function nodeStatus(n: Node): string {
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  const s = [ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown'];
  if (n.spec.unschedulable) s.push('SchedulingDisabled');
  return s.join(',');
}

const nodeRoles = (n: Node): string => {
  const roles = Object.keys(n.metadata.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice('node-role.kubernetes.io/'.length)).filter(Boolean);
  const kind = n.metadata.labels?.['kubernetes.io/role'];
  if (kind) roles.push(kind);
  return roles.length ? [...new Set(roles)].sort().join(',') : '<none>';
};

const nodes: Columns<Node> = {
  headers: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
  wide: ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'],
  row: (n, now) => [n.metadata.name ?? '', nodeStatus(n), nodeRoles(n), age(n.metadata.creationTimestamp, now), n.status?.nodeInfo?.kubeletVersion ?? ''],
  wideRow: (n) => [
    none(n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address),
    none(n.status?.addresses?.find((a) => a.type === 'ExternalIP')?.address),
    n.status?.nodeInfo?.osImage ?? '<unknown>', n.status?.nodeInfo?.kernelVersion ?? '<unknown>', n.status?.nodeInfo?.containerRuntimeVersion ?? '<unknown>',
  ],
};

const servicePorts = (s: Service): string => {
  const ports = (s.spec.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`);
  return ports.length ? ports.join(',') : '<none>';
};

const services: Columns<Service> = {
  headers: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
  wide: ['SELECTOR'],
  row: (s, now) => [
    s.metadata.name ?? '', s.spec.type ?? 'ClusterIP', none(s.spec.clusterIP),
    s.spec.type === 'LoadBalancer' ? '<pending>' : s.spec.type === 'ExternalName' ? s.spec.externalName ?? '' : '<none>', servicePorts(s), age(s.metadata.creationTimestamp, now),
  ],
  wideRow: (s) => [s.spec.selector ? none(Object.entries(s.spec.selector).sort().map(([k, v]) => `${k}=${v}`).join(',')) : '<none>'],
};

const containersAndImages = (t: { spec: Pod['spec'] }): string[] => [t.spec.containers.map((c) => c.name).join(','), t.spec.containers.map((c) => c.image).join(',')];

const deployments: Columns<Deployment> = {
  headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
  wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
  row: (d, now) => [
    d.metadata.name ?? '', `${d.status?.readyReplicas ?? 0}/${d.spec.replicas ?? 1}`, String(d.status?.updatedReplicas ?? 0),
    String(d.status?.availableReplicas ?? 0), age(d.metadata.creationTimestamp, now),
  ],
  wideRow: (d) => [...containersAndImages(d.spec.template), none(selectorString(d.spec.selector))],
};

const replicaSets: Columns<ReplicaSet> = {
  headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
  wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
  row: (r, now) => [r.metadata.name ?? '', String(r.spec.replicas ?? 1), String(r.status?.replicas ?? 0), String(r.status?.readyReplicas ?? 0), age(r.metadata.creationTimestamp, now)],
  wideRow: (r) => [...containersAndImages(r.spec.template), none(selectorString(r.spec.selector))],
};

const endpoints: Columns<Endpoints> = {
  headers: ['NAME', 'ENDPOINTS', 'AGE'],
  wide: [],
  row: (e, now) => [e.metadata.name ?? '', formatEndpoints(e), age(e.metadata.creationTimestamp, now)],
  wideRow: () => [],
};

/** printEndpointSlice. */
const endpointSlices: Columns<EndpointSlice> = {
  headers: ['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE'],
  wide: [],
  row: (e, now) => [e.metadata.name ?? '', e.addressType, formatDiscoveryPorts(e), formatDiscoveryEndpoints(e), age(e.metadata.creationTimestamp, now)],
  wideRow: () => [],
};

const namespaces: Columns<KubeObject & { status?: { phase?: string } }> = {
  headers: ['NAME', 'STATUS', 'AGE'],
  wide: [],
  row: (n, now) => [n.metadata.name ?? '', n.status?.phase ?? 'Active', age(n.metadata.creationTimestamp, now)],
  wideRow: () => [],
};

const events: Columns<KubeEvent> = {
  headers: ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE'],
  wide: [],
  row: (e, now) => [
    age(e.lastTimestamp ?? e.firstTimestamp ?? e.metadata.creationTimestamp, now), e.type, e.reason,
    `${e.involvedObject.kind.toLowerCase()}/${e.involvedObject.name}`, e.message,
  ],
  wideRow: () => [],
};

/** printCertificateSigningRequest. */
const csrs: Columns<CertificateSigningRequest> = {
  headers: ['NAME', 'AGE', 'SIGNERNAME', 'REQUESTOR', 'REQUESTEDDURATION', 'CONDITION'],
  wide: [],
  row: (c, now) => [c.metadata.name ?? '', age(c.metadata.creationTimestamp, now), c.spec.signerName, c.spec.username ?? '',
    c.spec.expirationSeconds === undefined ? '<none>' : humanDuration(c.spec.expirationSeconds * 1000), csrCondition(c)],
  wideRow: () => [],
};

const generic: Columns<KubeObject> = {
  headers: ['NAME', 'AGE'],
  wide: [],
  row: (o, now) => [o.metadata.name ?? '', age(o.metadata.creationTimestamp, now)],
  wideRow: () => [],
};

/** A registered printer (components/api/columns.ts) as kubectl prints it: names upper-cased, priority 1 only with -o wide. */
function fromPrinter(p: Printer): Columns<KubeObject> {
  const wideAt = p.columns.map((c) => c.priority === 1);
  const pick = (cells: (string | number)[], wide: boolean): string[] => cells.filter((_c, i) => wideAt[i] === wide).map(String);
  return {
    headers: p.columns.filter((c) => c.priority !== 1).map((c) => c.name.toUpperCase()),
    wide: p.columns.filter((c) => c.priority === 1).map((c) => c.name.toUpperCase()),
    row: (o, now) => pick(p.cells(o, now), false),
    wideRow: (o, now) => pick(p.cells(o, now), true),
  };
}

function columnsFor(kind: string): Columns<KubeObject> {
  const table: Record<string, Columns<never>> = { Pod: pods, Node: nodes, Service: services, Deployment: deployments, ReplicaSet: replicaSets, Endpoints: endpoints, EndpointSlice: endpointSlices, Namespace: namespaces, Event: events, CertificateSigningRequest: csrs };
  const registered = printerFor(kind);
  return (table[kind] ?? (registered ? fromPrinter(registered) : generic)) as unknown as Columns<KubeObject>;
}

export interface TableOptions {
  readonly wide?: boolean;
  /** -A: a NAMESPACE column first. */
  readonly withNamespace?: boolean;
  readonly now: Date;
}

/** The header row and one row per object, as cells. */
export function tableCells(type: ResourceDef, objects: readonly KubeObject[], o: TableOptions): string[][] {
  const cols = columnsFor(type.kind);
  const headers = [...(o.withNamespace ? ['NAMESPACE'] : []), ...cols.headers, ...(o.wide ? cols.wide : [])];
  const rows = objects.map((obj) => [
    ...(o.withNamespace ? [obj.metadata.namespace ?? ''] : []), ...cols.row(obj, o.now), ...(o.wide ? cols.wideRow(obj, o.now) : []),
  ]);
  return [headers, ...rows];
}

/** The human-readable table for objects of one type (headers included). */
export function printTable(type: ResourceDef, objects: readonly KubeObject[], o: TableOptions): string {
  return tabulate(tableCells(type, objects, o));
}

/**
 * Rows printed one at a time (`get -w`), aligned as tabwriter.RememberWidths keeps them: a column
 * never gets narrower than it was.
 */
export class RowWriter {
  private readonly widths: number[] = [];

  format(rows: readonly (readonly string[])[]): string {
    for (const row of rows) row.forEach((cell, i) => { if (i < row.length - 1) this.widths[i] = Math.max(this.widths[i] ?? 0, 6, cell.length + 3); });
    return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(this.widths[i] ?? 0))).join('')).join('\n') + (rows.length ? '\n' : '');
  }
}

/** Keys sorted at every level, as Go's encoding/json prints a map. */
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => [k, sortKeys(x)]));
  return v;
}

/** Items of a list carry no kind on the wire; kubectl prints them with it. */
export const withKind = (type: ResourceDef, o: KubeObject): KubeObject => ({ ...o, apiVersion: o.apiVersion ?? (type.group ? `${type.group}/v1` : 'v1'), kind: o.kind ?? type.kind });

export function printJson(v: unknown): string {
  return `${JSON.stringify(sortKeys(v), null, 4)}\n`;
}

export function printYaml(v: unknown): string {
  return YAML.stringify(sortKeys(v), { indentSeq: false, lineWidth: 0 });
}

/** -o json/yaml of several objects: a `List`, as kubectl wraps them. */
export const asList = (items: readonly KubeObject[]): unknown => ({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } });

export const printName = (type: ResourceDef, o: KubeObject): string => `${qualifiedSingular(type)}/${o.metadata.name ?? ''}`;
