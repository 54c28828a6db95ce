/**
 * The kubelet's container runtime, simulated: pod IPs from the node's pod CIDR (as the host-local
 * IPAM plugin hands them out), containers that "run" with containerd-style IDs, a few log lines per
 * container, and the PodStatus the kubelet's status manager would report. Pure except for the clock
 * passed in.
 */
import { createHash } from 'node:crypto';
import type { Container, ContainerStatus, Pod, PodCondition, PodStatus } from '../api/types.js';
import { KubeSimError } from '../../pki/errors.js';

export class KubeletError extends KubeSimError<'BAD_CIDR' | 'IP_EXHAUSTED'> {}

const ipToInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToIp = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/**
 * host-local IPAM over an IPv4 CIDR: the network address, the gateway (.1, the bridge) and the
 * broadcast address are never handed out; allocation continues after the last address reserved and
 * wraps around, so a freed address is reused only once the range has gone round.
 */
export class PodIpAllocator {
  readonly cidr: string;
  private readonly first: number;
  private readonly last: number;
  private readonly used = new Map<number, string>();
  private lastReserved: number;

  constructor(cidr: string) {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
    const bits = m ? Number(m[2]) : NaN;
    if (!m || m[1]!.split('.').some((o) => Number(o) > 255) || !(bits >= 8 && bits <= 30)) {
      throw new KubeletError('BAD_CIDR', `pod CIDR "${cidr}" is not an IPv4 CIDR with a prefix between /8 and /30`);
    }
    const size = 2 ** (32 - bits);
    const network = Math.floor(ipToInt(m[1]!) / size) * size;
    this.cidr = `${intToIp(network)}/${bits}`;
    this.first = network + 2;
    this.last = network + size - 2;
    this.lastReserved = this.first - 1;
  }

  /** The gateway address (.1), which the node's bridge holds. */
  get gateway(): string {
    return intToIp(this.first - 1);
  }

  /** Reserves the next free address for `owner` (a pod UID); the same owner gets the same address. */
  allocate(owner: string): string {
    for (const [ip, o] of this.used) if (o === owner) return intToIp(ip);
    const count = this.last - this.first + 1;
    for (let i = 1; i <= count; i++) {
      const candidate = this.first + ((this.lastReserved - this.first + i) % count);
      if (!this.used.has(candidate)) {
        this.used.set(candidate, owner);
        this.lastReserved = candidate;
        return intToIp(candidate);
      }
    }
    throw new KubeletError('IP_EXHAUSTED', `failed to allocate for range 0: no IP addresses available in range set: ${intToIp(this.first)}-${intToIp(this.last)}`);
  }

  release(owner: string): void {
    for (const [ip, o] of this.used) if (o === owner) this.used.delete(ip);
  }

  contains(ip: string): boolean {
    const n = ipToInt(ip);
    return n >= this.first - 2 && n <= this.last + 1;
  }

  get inUse(): number {
    return this.used.size;
  }
}

/** `nginx` → `docker.io/library/nginx:latest`, as containerd reports image references. */
export function normalizeImage(image: string): string {
  let ref = image;
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  if (slash < 0) ref = `docker.io/library/${ref}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') ref = `docker.io/${ref}`;
  const lastPart = ref.slice(ref.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !lastPart.includes('@')) ref = `${ref}:latest`;
  return ref;
}

const hex = (...parts: string[]): string => createHash('sha256').update(parts.join('\0')).digest('hex');

/** The repo digest containerd would report for an image (deterministic in the image name). */
export function imageID(image: string): string {
  const ref = normalizeImage(image);
  const repo = ref.includes('@') ? ref.slice(0, ref.indexOf('@')) : ref.slice(0, ref.lastIndexOf(':'));
  return `${repo}@sha256:${hex('image', ref)}`;
}

export interface LogLine {
  readonly time: Date;
  readonly text: string;
}

export interface RunningContainer {
  readonly name: string;
  readonly image: string;
  readonly containerID: string;
  readonly startedAt: Date;
  readonly logs: LogLine[];
}

export interface RunningPod {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly podIP: string;
  readonly startTime: Date;
  readonly containers: RunningContainer[];
  /** The pod as last seen from the apiserver. */
  pod: Pod;
}

/** Shell-quotes a word the way a log line would show it. */
const quoteWord = (w: string): string => (/^[A-Za-z0-9_./:=@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** The deterministic lines a simulated container "prints" when it starts. */
export function containerLogLines(c: Container, podIP: string, startedAt: Date): LogLine[] {
  const at = (ms: number): Date => new Date(startedAt.getTime() + ms);
  const lines: LogLine[] = [{ time: at(0), text: `Starting ${c.name} (image ${normalizeImage(c.image)})` }];
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  lines.push({ time: at(1), text: argv.length ? `Command: ${argv.map(quoteWord).join(' ')}` : 'Command: (image entrypoint)' });
  for (const p of c.ports ?? []) lines.push({ time: at(2), text: `Listening on ${podIP}:${p.containerPort}/${p.protocol ?? 'TCP'}` });
  lines.push({ time: at(3), text: `${c.name} is ready` });
  return lines;
}

/** "Runs" a pod: one containerd container per spec container, all started now. */
export function startPod(pod: Pod, podIP: string, now: Date): RunningPod {
  const uid = pod.metadata.uid ?? `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
  return {
    uid, namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', podIP, startTime: now, pod,
    containers: pod.spec.containers.map((c) => ({
      name: c.name, image: c.image, containerID: `containerd://${hex('container', uid, c.name)}`, startedAt: now,
      logs: containerLogLines(c, podIP, now),
    })),
  };
}

/** metav1.Time: RFC 3339 with whole seconds. */
export const rfc3339 = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;
/** metav1.MicroTime: RFC 3339 with microseconds. */
export const rfc3339Micro = (d: Date): string => `${d.toISOString().slice(0, 23)}000Z`;

/** Guaranteed when every container sets equal cpu and memory requests and limits; BestEffort when none sets any. */
export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const cs = pod.spec.containers;
  const any = cs.some((c) => Object.keys(c.resources?.requests ?? {}).length > 0 || Object.keys(c.resources?.limits ?? {}).length > 0);
  if (!any) return 'BestEffort';
  const guaranteed = cs.every((c) => {
    const l = c.resources?.limits;
    const r = c.resources?.requests ?? l;
    return l?.cpu !== undefined && l.memory !== undefined && r?.cpu === l.cpu && r.memory === l.memory;
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** The status the kubelet reports for a running pod. */
export function runningPodStatus(running: RunningPod, hostIP: string): PodStatus {
  const started = rfc3339(running.startTime);
  const cond = (type: PodCondition['type']): PodCondition => ({ type, status: 'True', lastTransitionTime: started });
  const byName = new Map(running.pod.spec.containers.map((c) => [c.name, c]));
  const containerStatuses: ContainerStatus[] = running.containers.map((c) => ({
    name: c.name,
    state: { running: { startedAt: rfc3339(c.startedAt) } },
    ready: true,
    restartCount: 0,
    image: normalizeImage(byName.get(c.name)?.image ?? c.image),
    imageID: imageID(c.image),
    containerID: c.containerID,
    started: true,
  }));
  return {
    phase: 'Running',
    conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP: running.podIP,
    podIPs: [{ ip: running.podIP }],
    startTime: started,
    containerStatuses,
    qosClass: qosClass(running.pod),
  };
}

export interface LogOptions {
  readonly tailLines?: number;
  readonly timestamps?: boolean;
}

/** A container's log as `kubectl logs` prints it (RFC 3339 nano timestamps when asked for). */
export function formatLogs(lines: readonly LogLine[], options: LogOptions = {}): string {
  const picked = options.tailLines === undefined ? lines : options.tailLines <= 0 ? [] : lines.slice(-options.tailLines);
  return picked.map((l) => `${options.timestamps ? `${l.time.toISOString().slice(0, 23)}000000Z ` : ''}${l.text}\n`).join('');
}
