/**
 * Server-side printing: the meta.k8s.io/v1 Table a client gets when it asks with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` (what `kubectl get` sends). Columns are those
 * of k8s.io/kubernetes pkg/printers/internalversion; priority-1 columns are what `-o wide` adds.
 * Kinds registered in components/api/columns.ts (new resources) print from there, as kubectl does;
 * resources without a printer get the default table: Name and Created At.
 */
import type { Deployment, EndpointSlice, Endpoints, KubeEvent, KubeObject, Lease, Node, Pod, ReplicaSet, Service } from '../api/types.js';
import { age, formatDiscoveryEndpoints, formatDiscoveryPorts, formatEndpoints, humanDuration, podStatus } from '../api/printing.js';
import type { ResourceDef } from '../api/resources.js';
import { csrCondition, type CertificateSigningRequest } from '../api/certificates.js';
import { AGE_COLUMN as AGE, NAME_COLUMN as NAME, printerFor, type PrintColumn as Column, type Printer } from '../api/columns.js';
const col = (name: string, description: string, wide = false, type: Column['type'] = 'string'): Column => ({ name, type, description, ...(wide ? { priority: 1 as const } : {}) });
const none = (s: string | undefined): string => (s === undefined || s === '' ? '<none>' : s);
const selector = (s: { matchLabels?: Record<string, string> } | undefined): string => none(Object.entries(s?.matchLabels ?? {}).sort().map(([k, v]) => `${k}=${v}`).join(','));
const containers = (t: { spec: Pod['spec'] }): string[] => [t.spec.containers.map((c) => c.name).join(','), t.spec.containers.map((c) => c.image).join(',')];

const PRINTERS: Readonly<Record<string, Printer>> = {
  Pod: {
    columns: [NAME, col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'), col('Status', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'), AGE,
      col('IP', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', true),
      col('Node', 'NodeName is a request to schedule this pod onto a specific node.', true),
      col('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node.', true),
      col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', true)],
    cells: (o, now) => {
      const p = o as Pod;
      const s = podStatus(p);
      return [p.metadata.name ?? '', s.ready, s.status, String(s.restarts), age(p.metadata.creationTimestamp, now), none(p.status?.podIP), none(p.spec.nodeName), '<none>', '<none>'];
    },
  },
  Node: {
    columns: [NAME, col('Status', 'The status of the node'), col('Roles', 'The roles of the node'), AGE, col('Version', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', true),
      col('External-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', true),
      col('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', true),
      col('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", true),
      col('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', true)],
    cells: (o, now) => {
      const n = o as Node;
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      const status = [ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown', ...(n.spec.unschedulable ? ['SchedulingDisabled'] : [])].join(',');
      const roles = Object.keys(n.metadata.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice(24)).filter(Boolean).sort();
      const addr = (t: string): string => none(n.status?.addresses?.find((a) => a.type === t)?.address);
      const info = n.status?.nodeInfo;
      return [n.metadata.name ?? '', status, roles.length ? roles.join(',') : '<none>', age(n.metadata.creationTimestamp, now), info?.kubeletVersion ?? '',
        addr('InternalIP'), addr('ExternalIP'), info?.osImage ?? '<unknown>', info?.kernelVersion ?? '<unknown>', info?.containerRuntimeVersion ?? '<unknown>'];
    },
  },
  Service: {
    columns: [NAME, col('Type', 'The type of service.'), col('Cluster-IP', 'The cluster IP of the service.'), col('External-IP', 'The external IP of the service.'),
      col('Port(s)', 'The ports of the service.'), AGE, col('Selector', 'Route service traffic to pods with label keys and values matching this selector.', true)],
    cells: (o, now) => {
      const s = o as Service;
      const ports = (s.spec.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`);
      return [s.metadata.name ?? '', s.spec.type ?? 'ClusterIP', none(s.spec.clusterIP), s.spec.type === 'LoadBalancer' ? '<pending>' : s.spec.type === 'ExternalName' ? s.spec.externalName ?? '' : '<none>',
        ports.length ? ports.join(',') : '<none>', age(s.metadata.creationTimestamp, now), selector({ matchLabels: s.spec.selector ?? {} })];
    },
  },
  Namespace: {
    columns: [NAME, col('Status', 'The status of the namespace'), AGE],
    cells: (o, now) => [o.metadata.name ?? '', ((o as { status?: { phase?: string } }).status?.phase) ?? 'Active', age(o.metadata.creationTimestamp, now)],
  },
  Endpoints: {
    columns: [NAME, col('Endpoints', 'Endpoints of the resource'), AGE],
    cells: (o, now) => [o.metadata.name ?? '', formatEndpoints(o as Endpoints), age(o.metadata.creationTimestamp, now)],
  },
  EndpointSlice: {
    columns: [NAME,
      col('AddressType', 'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.'),
      col('Ports', 'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.'),
      col('Endpoints', 'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.'),
      AGE],
    cells: (o, now) => {
      const s = o as EndpointSlice;
      return [s.metadata.name ?? '', s.addressType, formatDiscoveryPorts(s), formatDiscoveryEndpoints(s), age(s.metadata.creationTimestamp, now)];
    },
  },
  Deployment: {
    columns: [NAME, col('Ready', 'Number of the pod with ready state'), col('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      col('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'), AGE,
      col('Containers', 'Names of each container in the template.', true), col('Images', 'Images referenced by each container in the template.', true),
      col('Selector', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', true)],
    cells: (o, now) => {
      const d = o as Deployment;
      return [d.metadata.name ?? '', `${d.status?.readyReplicas ?? 0}/${d.spec.replicas ?? 1}`, d.status?.updatedReplicas ?? 0, d.status?.availableReplicas ?? 0,
        age(d.metadata.creationTimestamp, now), ...containers(d.spec.template), selector(d.spec.selector)];
    },
  },
  ReplicaSet: {
    columns: [NAME, col('Desired', 'Number of desired pods.', false, 'integer'), col('Current', 'Number of actual running pods.', false, 'integer'),
      col('Ready', 'Number of ready pods.', false, 'integer'), AGE,
      col('Containers', 'Names of each container in the template.', true), col('Images', 'Images referenced by each container in the template.', true),
      col('Selector', 'Label query over pods that should match the replica count.', true)],
    cells: (o, now) => {
      const r = o as ReplicaSet;
      return [r.metadata.name ?? '', r.spec.replicas ?? 1, r.status?.replicas ?? 0, r.status?.readyReplicas ?? 0, age(r.metadata.creationTimestamp, now),
        ...containers(r.spec.template), selector(r.spec.selector)];
    },
  },
  Event: {
    columns: [col('Last Seen', 'Time when last event occurred'), col('Type', 'Type of this event (Normal, Warning), new types could be added in the future.'),
      col('Reason', 'This should be a short, machine understandable string that gives the reason for this event being generated.'),
      col('Object', 'The object that this event is about.'), col('Message', 'A human-readable description of the status of this operation.')],
    cells: (o, now) => {
      const e = o as KubeEvent;
      return [age(e.lastTimestamp ?? e.firstTimestamp ?? e.metadata.creationTimestamp, now), e.type, e.reason,
        `${e.involvedObject.kind.toLowerCase()}/${e.involvedObject.name}`, e.message];
    },
  },
  CertificateSigningRequest: {
    columns: [NAME, AGE, col('SignerName', 'Only one signer is allowed for a CertificateSigningRequest.'),
      col('Requestor', 'Name of the user that requested the CertificateSigningRequest.'),
      col('RequestedDuration', 'The requested duration of the certificate'),
      col('Condition', 'The condition of the CertificateSigningRequest.')],
    cells: (o, now) => {
      const c = o as CertificateSigningRequest;
      const d = c.spec.expirationSeconds;
      return [o.metadata.name ?? '', age(o.metadata.creationTimestamp, now), c.spec.signerName, c.spec.username ?? '',
        d === undefined ? '<none>' : humanDuration(d * 1000), csrCondition(c)];
    },
  },
  Lease: {
    columns: [NAME, col('Holder', 'HolderIdentity contains the identity of the holder of a current lease.'), AGE],
    cells: (o, now) => [o.metadata.name ?? '', (o as Lease).spec.holderIdentity ?? '', age(o.metadata.creationTimestamp, now)],
  },
  ConfigMap: {
    columns: [NAME, col('Data', 'Data contains the configuration data.', false, 'integer'), AGE],
    cells: (o, now) => {
      const c = o as KubeObject & { data?: object; binaryData?: object };
      return [o.metadata.name ?? '', Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length, age(o.metadata.creationTimestamp, now)];
    },
  },
  Secret: {
    columns: [NAME, col('Type', 'The type of the secret'), col('Data', 'The number of entries in the secret', false, 'integer'), AGE],
    cells: (o, now) => {
      const c = o as KubeObject & { data?: object; type?: string };
      return [o.metadata.name ?? '', c.type ?? 'Opaque', Object.keys(c.data ?? {}).length, age(o.metadata.creationTimestamp, now)];
    },
  },
  ServiceAccount: {
    columns: [NAME, col('Secrets', 'Secrets is the list of secrets allowed to be used by pods running using this ServiceAccount', false, 'integer'), AGE],
    cells: (o, now) => [o.metadata.name ?? '', ((o as KubeObject & { secrets?: unknown[] }).secrets ?? []).length, age(o.metadata.creationTimestamp, now)],
  },
  ClusterRoleBinding: {
    columns: [NAME, col('Role', 'Role or ClusterRole the binding grants.'), AGE],
    cells: (o, now) => {
      const b = o as KubeObject & { roleRef: { kind: string; name: string } };
      return [o.metadata.name ?? '', `${b.roleRef.kind}/${b.roleRef.name}`, age(o.metadata.creationTimestamp, now)];
    },
  },
  RoleBinding: {
    columns: [NAME, col('Role', 'Role or ClusterRole the binding grants.'), AGE],
    cells: (o, now) => {
      const b = o as KubeObject & { roleRef: { kind: string; name: string } };
      return [o.metadata.name ?? '', `${b.roleRef.kind}/${b.roleRef.name}`, age(o.metadata.creationTimestamp, now)];
    },
  },
};

const DEFAULT: Printer = {
  columns: [NAME, { name: 'Created At', type: 'date', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' }],
  cells: (o) => [o.metadata.name ?? '', o.metadata.creationTimestamp ?? ''],
};

/** Whether the Accept header asks for a Table (`as=Table;g=meta.k8s.io`, v1 or v1beta1). */
export function wantsTable(accept: string | undefined): boolean {
  const first = (accept ?? '').split(',')[0] ?? '';
  return /(^|;)\s*as=Table\s*(;|$)/.test(first) && /(^|;)\s*g=meta\.k8s\.io\s*(;|$)/.test(first);
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function includeObjectOf(q: string | null): IncludeObject {
  return q === 'None' || q === 'Object' ? q : 'Metadata';
}

/** The Table of some objects of one resource. */
export function toTable(def: ResourceDef, objects: readonly KubeObject[], now: Date, include: IncludeObject, listMeta: Record<string, unknown> = {}): object {
  const printer = PRINTERS[def.kind] ?? printerFor(def.kind) ?? DEFAULT;
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: listMeta,
    columnDefinitions: printer.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority ?? 0 })),
    rows: objects.map((o) => ({
      cells: printer.cells(o, now),
      ...(include === 'None' ? {} : {
        object: include === 'Object' ? o : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
      }),
    })),
  };
}
