/**
 * The kubelet's /metrics/resource (pkg/kubelet/metrics/collectors/resource_metrics.go): the STABLE
 * resource metrics metrics-server scrapes, in the Prometheus text format with millisecond timestamps.
 * The values are simulated but consistent: each container has a steady CPU rate and working set
 * derived from its pod UID and name (a few millicores, tens of MiB), its CPU counter grows at that
 * rate from its start, and the node's figures are a system baseline plus its containers'.
 */
import { createHash } from 'node:crypto';
import type { RunningPod } from './pod-runtime.js';

/** A container's steady usage: CPU in cores, memory in bytes. */
export function simulatedUsage(podUid: string, container: string): { cpuCores: number; memoryBytes: number } {
  const h = createHash('sha256').update(`${podUid}/${container}`).digest();
  const millicores = 1 + (h.readUInt16BE(0) % 40); // 1m..40m
  const mib = 8 + (h.readUInt16BE(2) % 56); // 8Mi..63Mi
  return { cpuCores: millicores / 1000, memoryBytes: mib * 1024 * 1024 + (h.readUInt16BE(4) % 1024) * 1024 };
}

/** The node's own baseline (kubelet, runtime, system daemons). */
const NODE_BASE = { cpuCores: 0.085, memoryBytes: 612 * 1024 * 1024 };

const num = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(12).replace(/\.?0+$/, ''));

export function resourceMetrics(pods: readonly RunningPod[], nodeStartedAt: Date, now: Date): string {
  const ts = now.getTime();
  const seconds = (from: Date): number => Math.max(0, (ts - from.getTime()) / 1000);
  const lines: string[] = [];
  const cpu: string[] = [];
  const mem: string[] = [];
  const start: string[] = [];
  const podCpu: string[] = [];
  const podMem: string[] = [];
  let nodeCpu = NODE_BASE.cpuCores * seconds(nodeStartedAt);
  let nodeMem = NODE_BASE.memoryBytes;
  for (const p of pods) {
    let pc = 0;
    let pm = 0;
    for (const c of p.containers) {
      const u = simulatedUsage(p.uid, c.name);
      const labels = `container="${c.name}",namespace="${p.namespace}",pod="${p.name}"`;
      const used = u.cpuCores * seconds(c.startedAt);
      cpu.push(`container_cpu_usage_seconds_total{${labels}} ${num(used)} ${ts}`);
      mem.push(`container_memory_working_set_bytes{${labels}} ${u.memoryBytes} ${ts}`);
      start.push(`container_start_time_seconds{${labels}} ${num(c.startedAt.getTime() / 1000)} ${c.startedAt.getTime()}`);
      pc += used;
      pm += u.memoryBytes;
    }
    podCpu.push(`pod_cpu_usage_seconds_total{namespace="${p.namespace}",pod="${p.name}"} ${num(pc)} ${ts}`);
    podMem.push(`pod_memory_working_set_bytes{namespace="${p.namespace}",pod="${p.name}"} ${pm} ${ts}`);
    nodeCpu += pc;
    nodeMem += pm;
  }
  const family = (name: string, help: string, type: string, samples: string[]): void => {
    lines.push(`# HELP ${name} [STABLE] ${help}`, `# TYPE ${name} ${type}`, ...samples);
  };
  family('container_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the container in core-seconds', 'counter', cpu);
  family('container_memory_working_set_bytes', 'Current working set of the container in bytes', 'gauge', mem);
  family('container_start_time_seconds', 'Start time of the container since unix epoch in seconds', 'gauge', start);
  family('node_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the node in core-seconds', 'counter', [`node_cpu_usage_seconds_total ${num(nodeCpu)} ${ts}`]);
  family('node_memory_working_set_bytes', 'Current working set of the node in bytes', 'gauge', [`node_memory_working_set_bytes ${nodeMem} ${ts}`]);
  family('pod_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the pod in core-seconds', 'counter', podCpu);
  family('pod_memory_working_set_bytes', 'Current working set of the pod in bytes', 'gauge', podMem);
  family('resource_scrape_error', '1 if there was an error while getting container metrics, 0 otherwise', 'gauge', ['resource_scrape_error 0']);
  return `${lines.join('\n')}\n`;
}
