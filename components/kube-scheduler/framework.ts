/**
 * The scheduling decision, free of I/O: the default profile's filter plugins in their real order
 * (NodeUnschedulable, TaintToleration, NodeAffinity for nodeSelector, NodeResourcesFit) and the
 * NodeResourcesFit LeastAllocated score (k8s.io/kubernetes/pkg/scheduler/framework/plugins). A node
 * that fails reports the first failing plugin's reasons; when no node fits, the reasons are counted
 * into FitError's message: `0/2 nodes are available: 2 Insufficient cpu.`
 */
import { matchesMap } from '../api/labels.js';
import type { Node, Pod } from '../api/types.js';
import { milliValue, value } from '../api/quantity.js';

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

/** Requests of one pod, or the sum over pods on a node: millicores, bytes, pod count. */
export interface Resources {
  milliCpu: number;
  memory: number;
  pods: number;
}

/** What a node already carries: real requests (for Fit) and non-zero requests (for scoring). */
export interface NodeUsage {
  requested: Resources;
  nonZero: Resources;
}

// pkg/scheduler/util: DefaultMilliCPURequest = 100, DefaultMemoryRequest = 200 MiB.
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;
export const MAX_NODE_SCORE = 100;

const tolerationsOf = (pod: Pod): Toleration[] => (pod.spec as { tolerations?: Toleration[] }).tolerations ?? [];

/** The pod's summed container requests (init containers take the max, as the real one does). */
const requestsOf = new WeakMap<Pod, { requested: Resources; nonZero: Resources }>();
const allocatableOf = new WeakMap<Node, Resources>();

/** A pod's requests, computed once per pod object (informers replace objects, never change them). */
export function podRequests(pod: Pod): { requested: Resources; nonZero: Resources } {
  let r = requestsOf.get(pod);
  if (!r) { r = computeRequests(pod); requestsOf.set(pod, r); }
  return r;
}

function computeRequests(pod: Pod): { requested: Resources; nonZero: Resources } {
  const requested: Resources = { milliCpu: 0, memory: 0, pods: 1 };
  const nonZero: Resources = { milliCpu: 0, memory: 0, pods: 1 };
  for (const c of pod.spec.containers) {
    const cpu = c.resources?.requests?.cpu;
    const mem = c.resources?.requests?.memory;
    requested.milliCpu += cpu === undefined ? 0 : milliValue(cpu);
    requested.memory += mem === undefined ? 0 : value(mem);
    nonZero.milliCpu += cpu === undefined ? DEFAULT_MILLI_CPU_REQUEST : milliValue(cpu);
    nonZero.memory += mem === undefined ? DEFAULT_MEMORY_REQUEST : value(mem);
  }
  const init = (pod.spec as { initContainers?: Pod['spec']['containers'] }).initContainers ?? [];
  for (const c of init) {
    const cpu = c.resources?.requests?.cpu;
    const mem = c.resources?.requests?.memory;
    if (cpu !== undefined) { requested.milliCpu = Math.max(requested.milliCpu, milliValue(cpu)); nonZero.milliCpu = Math.max(nonZero.milliCpu, milliValue(cpu)); }
    if (mem !== undefined) { requested.memory = Math.max(requested.memory, value(mem)); nonZero.memory = Math.max(nonZero.memory, value(mem)); }
  }
  return { requested, nonZero };
}

export function allocatable(node: Node): Resources {
  let r = allocatableOf.get(node);
  if (!r) { r = computeAllocatable(node); allocatableOf.set(node, r); }
  return r;
}

function computeAllocatable(node: Node): Resources {
  const a = node.status?.allocatable ?? {};
  return {
    milliCpu: a.cpu === undefined ? 0 : milliValue(a.cpu),
    memory: a.memory === undefined ? 0 : value(a.memory),
    pods: a.pods === undefined ? 0 : value(a.pods),
  };
}

export const emptyUsage = (): NodeUsage => ({ requested: { milliCpu: 0, memory: 0, pods: 0 }, nonZero: { milliCpu: 0, memory: 0, pods: 0 } });

export function addUsage(u: NodeUsage, pod: Pod): void {
  const r = podRequests(pod);
  u.requested.milliCpu += r.requested.milliCpu;
  u.requested.memory += r.requested.memory;
  u.requested.pods += 1;
  u.nonZero.milliCpu += r.nonZero.milliCpu;
  u.nonZero.memory += r.nonZero.memory;
  u.nonZero.pods += 1;
}

/** v1helper.TolerationsTolerateTaint. */
export function subUsage(u: NodeUsage, pod: Pod): void {
  const r = podRequests(pod);
  u.requested.milliCpu -= r.requested.milliCpu;
  u.requested.memory -= r.requested.memory;
  u.requested.pods -= 1;
  u.nonZero.milliCpu -= r.nonZero.milliCpu;
  u.nonZero.memory -= r.nonZero.memory;
  u.nonZero.pods -= 1;
}

export function tolerates(tolerations: Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if ((t.operator ?? 'Equal') === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

const taintsOf = new WeakMap<Node, readonly Taint[]>();

/** The taints the filter sees, computed once per node object (as allocatable). */
function effectiveTaints(node: Node): readonly Taint[] {
  let t = taintsOf.get(node);
  if (!t) { t = computeTaints(node); taintsOf.set(node, t); }
  return t;
}

/** The node's own taints, plus the not-ready taint the node lifecycle controller would add. */
function computeTaints(node: Node): Taint[] {
  const taints: Taint[] = [...(node.spec.taints ?? [])];
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') {
    const key = ready?.status === 'False' ? 'node.kubernetes.io/not-ready' : 'node.kubernetes.io/unreachable';
    if (!taints.some((t) => t.key === key)) taints.push({ key, effect: 'NoSchedule' });
  }
  return taints;
}

/**
 * Runs the filters on one node; returns the failing plugin's reasons (empty = the node fits).
 * `usage` is what is already bound or assumed on the node.
 */
export function filterNode(pod: Pod, node: Node, usage: NodeUsage): string[] {
  const tolerations = tolerationsOf(pod);
  // NodeUnschedulable
  if (node.spec.unschedulable && !tolerates(tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) {
    return ['node(s) were unschedulable'];
  }
  // TaintToleration (NoSchedule and NoExecute taints)
  for (const t of effectiveTaints(node)) {
    if ((t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tolerations, t)) return [`node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`];
  }
  // NodeAffinity (spec.nodeSelector; none selects every node)
  if (pod.spec.nodeSelector && !matchesMap(pod.spec.nodeSelector, node.metadata.labels)) return ["node(s) didn't match Pod's node affinity/selector"];
  // NodeResourcesFit
  const req = podRequests(pod).requested;
  const alloc = allocatable(node);
  const pods = usage.requested.pods + 1 > alloc.pods;
  const cpu = req.milliCpu > 0 && req.milliCpu > alloc.milliCpu - usage.requested.milliCpu;
  const memory = req.memory > 0 && req.memory > alloc.memory - usage.requested.memory;
  // The common case (the node fits) allocates nothing: it runs for every node a cycle looks at.
  if (!pods && !cpu && !memory) return [];
  const reasons: string[] = [];
  if (pods) reasons.push('Too many pods');
  if (cpu) reasons.push('Insufficient cpu');
  if (memory) reasons.push('Insufficient memory');
  return reasons;
}

/** NodeResourcesFit with the LeastAllocated strategy, cpu and memory weighted 1 each: 0–100. */
export function leastAllocatedScore(pod: Pod, node: Node, usage: NodeUsage): number {
  const alloc = allocatable(node);
  const req = podRequests(pod).nonZero;
  const cpu = leastRequested(alloc.milliCpu, usage.nonZero.milliCpu + req.milliCpu);
  const mem = leastRequested(alloc.memory, usage.nonZero.memory + req.memory);
  return Math.floor((cpu + mem) / 2);
}

/** leastRequestedScore: one resource's free share, 0–100 (0 when nothing is allocatable or it is over). */
function leastRequested(capacity: number, requested: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

export interface ScheduleResult {
  /** The chosen node, or undefined when none fits. */
  readonly node?: string;
  /** Every feasible node's score, by name. */
  readonly scores: ReadonlyMap<string, number>;
  /** Each infeasible node's reasons. */
  readonly failures: ReadonlyMap<string, string[]>;
  /** FitError's message when no node fits. */
  readonly message?: string;
}

/**
 * schedule_one.go numFeasibleNodesToFind with the default percentageOfNodesToScore (adaptive): every
 * node below 100, else 50% less 1% per 125 nodes (at least 5%), and never fewer than 100.
 */
export function numFeasibleNodesToFind(numAllNodes: number): number {
  const MIN = 100;
  if (numAllNodes < MIN) return numAllNodes;
  const percentage = Math.max(5, 50 - Math.floor(numAllNodes / 125));
  return Math.max(MIN, Math.floor((numAllNodes * percentage) / 100));
}

/**
 * Filters, scores and picks: the highest score wins, ties go to the node whose name sorts first
 * (the real scheduler picks among ties at random; a simulation wants to be reproducible). As the real
 * findNodesThatPassFilters, filtering starts at `start` and stops once numFeasibleNodesToFind nodes
 * fit; `processed` says how many nodes were looked at (the next cycle starts after them).
 */
export function schedulePod(pod: Pod, nodes: readonly Node[], usageOf: (node: string) => NodeUsage, start = 0): ScheduleResult & { processed: number } {
  const scores = new Map<string, number>();
  const failures = new Map<string, string[]>();
  const wanted = numFeasibleNodesToFind(nodes.length);
  let processed = 0;
  for (; processed < nodes.length && scores.size < wanted; processed++) {
    const node = nodes[(start + processed) % nodes.length]!;
    const name = node.metadata.name ?? '';
    const usage = usageOf(name);
    const reasons = filterNode(pod, node, usage);
    if (reasons.length > 0) failures.set(name, reasons);
    else scores.set(name, leastAllocatedScore(pod, node, usage));
  }
  let best: string | undefined;
  let bestScore = -1;
  for (const [name, score] of scores) {
    if (score > bestScore || (score === bestScore && best !== undefined && name < best)) { best = name; bestScore = score; }
  }
  if (best !== undefined) return { node: best, scores, failures, processed };
  return { scores, failures, message: fitErrorMessage(nodes.length, failures), processed };
}

/** framework.FitError.Error(): `0/N nodes are available: <count> <reason>, ... .`, reasons sorted as strings. */
export function fitErrorMessage(numNodes: number, failures: ReadonlyMap<string, string[]>): string {
  const histogram = new Map<string, number>();
  for (const reasons of failures.values()) for (const r of reasons) histogram.set(r, (histogram.get(r) ?? 0) + 1);
  const parts = [...histogram].map(([r, n]) => `${n} ${r}`).sort();
  let msg = `0/${numNodes} nodes are available:`;
  if (parts.length > 0) msg += ` ${parts.join(', ')}.`;
  return msg;
}
