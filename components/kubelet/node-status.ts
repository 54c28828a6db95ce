/**
 * What the kubelet writes about its node: the Node object it registers (kubelet_node_status.go
 * `initialNode` and the status setters in pkg/kubelet/nodestatus), and its heartbeat Lease in
 * kube-node-lease (pkg/kubelet/nodelease). Pure: the clock's reading is passed in.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Lease, Node, NodeCondition, NodeStatus, ResourceList } from '../api/types.js';
import { rfc3339, rfc3339Micro } from './pod-runtime.js';
import { KUBERNETES_VERSION } from '../api/version.js';

export const CONTAINER_RUNTIME_VERSION = 'containerd://1.7.13';

export interface NodeFacts {
  readonly nodeName: string;
  readonly nodeIP: string;
  readonly podCIDR: string;
  readonly capacity: Required<ResourceList>;
  /** The port the kubelet API really listens on (daemonEndpoints.kubeletEndpoint.Port). */
  readonly port: number;
  /** What cAdvisor reads of the machine: /etc/machine-id, the DMI product_uuid, this boot's /proc/sys/kernel/random/boot_id. */
  readonly machine: MachineIds;
}

export interface MachineIds { readonly machineID: string; readonly systemUUID: string; readonly bootID: string }

const hex = (seed: string): string => createHash('sha256').update(seed).digest('hex');
const uuidOf = (h: string): string => `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16] ?? '0', 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;

/**
 * A simulated node's machine: the machine-id (32 hex digits, as systemd writes it at install) and the
 * DMI product UUID are the node's own, so they are the same at every start; the boot ID is new at
 * every boot (here: every kubelet start), as the kernel makes it.
 */
export function machineIds(nodeName: string): MachineIds {
  return { machineID: hex(`machine-id/${nodeName}`).slice(0, 32), systemUUID: uuidOf(hex(`product_uuid/${nodeName}`)), bootID: randomUUID() };
}

const UNITS: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9 };

/** A memory quantity in bytes (`4Gi`, `512Mi`, `4194304Ki`); undefined when it is not one. */
export function quantityBytes(q: string): number | undefined {
  const m = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G|)$/.exec(q);
  return m ? Number(m[1]) * UNITS[m[2]!]! : undefined;
}

/** Memory as the kubelet reports it (cAdvisor bytes → `NNNKi`). */
const ki = (bytes: number): string => `${Math.floor(bytes / 1024)}Ki`;

/** kubeadm's default evictionHard memory.available threshold, subtracted for allocatable. */
const EVICTION_HARD_MEMORY = 100 * 2 ** 20;

export function nodeCapacity(capacity: Required<ResourceList>): { capacity: ResourceList; allocatable: ResourceList } {
  const bytes = quantityBytes(capacity.memory);
  return {
    capacity: { cpu: capacity.cpu, memory: bytes === undefined ? capacity.memory : ki(bytes), pods: capacity.pods },
    allocatable: { cpu: capacity.cpu, memory: bytes === undefined ? capacity.memory : ki(Math.max(0, bytes - EVICTION_HARD_MEMORY)), pods: capacity.pods },
  };
}

export function nodeConditions(now: Date, since: Date): NodeCondition[] {
  const c = (type: NodeCondition['type'], status: NodeCondition['status'], reason: string, message: string): NodeCondition => ({
    type, status, lastHeartbeatTime: rfc3339(now), lastTransitionTime: rfc3339(since), reason, message,
  });
  return [
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    c('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

export function nodeStatus(facts: NodeFacts, now: Date, since: Date): NodeStatus {
  return {
    ...nodeCapacity(facts.capacity),
    conditions: nodeConditions(now, since),
    addresses: [{ type: 'InternalIP', address: facts.nodeIP }, { type: 'Hostname', address: facts.nodeName }],
    daemonEndpoints: { kubeletEndpoint: { Port: facts.port } },
    nodeInfo: {
      ...facts.machine,
      kubeletVersion: KUBERNETES_VERSION,
      kubeProxyVersion: KUBERNETES_VERSION,
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      kernelVersion: '6.1.0-18-amd64',
      containerRuntimeVersion: CONTAINER_RUNTIME_VERSION,
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/** The Node the kubelet creates when it registers. */
export function initialNode(facts: NodeFacts, now: Date, since: Date): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: facts.nodeName,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': facts.nodeName,
        'kubernetes.io/os': 'linux',
      },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: { podCIDR: facts.podCIDR, podCIDRs: [facts.podCIDR] },
    status: nodeStatus(facts, now, since),
  };
}

/** The node's heartbeat in kube-node-lease, owned by its Node. */
export function nodeLease(nodeName: string, durationSeconds: number, now: Date, owner?: { uid: string }): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeName,
      namespace: 'kube-node-lease',
      ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: owner.uid }] } : {}),
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: rfc3339Micro(now) },
  };
}
