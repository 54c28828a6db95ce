/**
 * metrics-server's scraper (pkg/scraper): every --metric-resolution, for each Node, GET
 * `https://<InternalIP>:<daemonEndpoints.kubeletEndpoint.Port>/metrics/resource` with the service
 * account's bearer token (the kubelet authenticates it by TokenReview and authorizes `get
 * nodes/metrics` by SubjectAccessReview). The kubelet's serving certificate is verified against
 * --kubelet-certificate-authority, else the CA of metrics-server's own in-cluster config (the cluster
 * CA); --kubelet-insecure-tls verifies nothing. A failure is logged as metrics-server logs it:
 * `"Failed to scrape node" err="Get \"https://...\": tls: failed to verify certificate: x509: ..." node="n"`.
 *
 * Storage (pkg/storage): the last two points of each node and container; usage is the CPU counter's
 * rate between them and the last working set, over the window between their timestamps.
 */
import https from 'node:https';
import type { Logger } from 'pino';
import type { Trace } from '../client/trace.js';
import { createTlsAgent, goReason, type TlsAgent } from '../client/tls.js';
import type { Node } from '../api/types.js';

export interface Point {
  /** ms since the epoch. */
  readonly ts: number;
  readonly cpuSeconds: number;
  readonly memoryBytes: number;
}

export interface Usage {
  readonly timestamp: number;
  readonly windowMs: number;
  readonly cpuNanocores: number;
  readonly memoryBytes: number;
}

interface Sample { name: string; labels: Record<string, string>; value: number; ts: number | undefined }

/** The Prometheus text format, as much as /metrics/resource uses. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)(?:\s+(\d+))?$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[3]), ts: m[4] ? Number(m[4]) : undefined });
  }
  return out;
}

/** Two points → usage; undefined until there are two with time between them. */
export function usageOf(points: readonly Point[]): Usage | undefined {
  const [a, b] = points.slice(-2);
  if (!a || !b || b.ts <= a.ts || b.cpuSeconds < a.cpuSeconds) return undefined;
  return { timestamp: b.ts, windowMs: b.ts - a.ts, cpuNanocores: Math.round(((b.cpuSeconds - a.cpuSeconds) / ((b.ts - a.ts) / 1000)) * 1e9), memoryBytes: b.memoryBytes };
}

export interface ScraperOptions {
  readonly token: string;
  /** The CA kubelet serving certificates must chain to. */
  readonly kubeletCa: string;
  /** --kubelet-insecure-tls. */
  readonly insecure: boolean;
  /** --kubelet-port (used when the Node reports none). */
  readonly defaultPort: number;
}

export class Scraper {
  readonly nodes = new Map<string, Point[]>();
  /** `<ns>/<pod>` → container → points. */
  readonly pods = new Map<string, Map<string, Point[]>>();
  /** The last error per node ('' after a success). */
  readonly lastError = new Map<string, string>();
  private readonly options: ScraperOptions;
  private readonly logger: Logger;
  /** One agent per node, so each connection is traced towards `kubelet (<node>)` as the kubelet names itself. */
  private readonly agents = new Map<string, TlsAgent>();
  private readonly trace: Trace | undefined;
  private readonly open = new Set<ReturnType<typeof https.request>>();
  private closed = false;

  constructor(options: ScraperOptions, logger: Logger, trace: Trace | undefined) {
    this.options = options;
    this.logger = logger;
    this.trace = trace;
  }

  async scrapeAll(nodes: readonly Node[]): Promise<void> {
    if (this.closed) return;
    const live = new Set<string>();
    await Promise.all(nodes.map(async (n) => {
      const name = n.metadata.name ?? '';
      try {
        const samples = await this.fetch(n);
        this.store(name, samples, live);
        this.lastError.set(name, '');
      } catch (err) {
        if (this.closed) return;
        const why = (err as Error).message;
        this.lastError.set(name, why);
        this.logger.error({ err: why, node: name }, 'Failed to scrape node');
        for (const key of this.pods.keys()) if (key.startsWith(`${name}|`)) live.add(key);
      }
    }));
    for (const n of nodes) live.add(`node:${n.metadata.name ?? ''}`);
    for (const k of [...this.nodes.keys()]) if (!live.has(`node:${k}`)) this.nodes.delete(k);
    for (const k of [...this.pods.keys()]) if (!live.has(k)) this.pods.delete(k);
  }

  private store(node: string, samples: readonly Sample[], live: Set<string>): void {
    const keep = (list: Point[] | undefined, p: Point): Point[] => {
      const l = list ?? [];
      if (l.at(-1)?.ts === p.ts) return l;
      return [...l.slice(-1), p];
    };
    const nodeCpu = samples.find((s) => s.name === 'node_cpu_usage_seconds_total');
    const nodeMem = samples.find((s) => s.name === 'node_memory_working_set_bytes');
    if (nodeCpu && nodeMem) this.nodes.set(node, keep(this.nodes.get(node), { ts: nodeCpu.ts ?? Date.now(), cpuSeconds: nodeCpu.value, memoryBytes: nodeMem.value }));
    const mem = new Map<string, number>();
    for (const s of samples) if (s.name === 'container_memory_working_set_bytes') mem.set(`${s.labels.namespace}/${s.labels.pod}/${s.labels.container}`, s.value);
    for (const s of samples) {
      if (s.name !== 'container_cpu_usage_seconds_total') continue;
      const key = `${node}|${s.labels.namespace ?? ''}/${s.labels.pod ?? ''}`;
      live.add(key);
      const containers = this.pods.get(key) ?? new Map<string, Point[]>();
      const c = s.labels.container ?? '';
      containers.set(c, keep(containers.get(c), { ts: s.ts ?? Date.now(), cpuSeconds: s.value, memoryBytes: mem.get(`${s.labels.namespace}/${s.labels.pod}/${c}`) ?? 0 }));
      this.pods.set(key, containers);
    }
  }

  private agentFor(node: string): TlsAgent {
    let a = this.agents.get(node);
    if (!a) {
      a = createTlsAgent({ name: 'metrics-server', target: `kubelet (${node})`, serverCa: this.options.kubeletCa, verifyServer: !this.options.insecure }, this.trace);
      this.agents.set(node, a);
    }
    return a;
  }

  private fetch(node: Node): Promise<Sample[]> {
    const host = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? node.status?.addresses?.find((a) => a.type === 'Hostname')?.address;
    if (!host) return Promise.reject(new Error(`no address of type InternalIP, Hostname for node ${node.metadata.name ?? ''}`));
    const reported = node.status?.daemonEndpoints?.kubeletEndpoint.Port ?? 0;
    const port = reported > 0 ? reported : this.options.defaultPort;
    const url = `https://${host}:${port}/metrics/resource`;
    return new Promise((resolve, reject) => {
      const req = https.request({ host, port, path: '/metrics/resource', method: 'GET', agent: this.agentFor(node.metadata.name ?? ''), headers: { Authorization: `Bearer ${this.options.token}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () => {
          if (res.statusCode !== 200) { reject(new Error(`request failed, status: "${res.statusCode ?? 0} ${res.statusMessage ?? ''}"`)); return; }
          resolve(parseMetrics(Buffer.concat(chunks).toString('utf8')));
        });
        res.once('error', reject);
      });
      this.open.add(req);
      req.once('close', () => this.open.delete(req));
      req.once('error', (e: NodeJS.ErrnoException) => {
        const why = e.code === 'ECONNREFUSED' ? `dial tcp ${host}:${port}: connect: connection refused` : goReason(e.code, e.message);
        reject(new Error(`Get ${JSON.stringify(url)}: ${why.startsWith('x509:') ? `tls: failed to verify certificate: ${why}` : why}`));
      });
      req.end();
    });
  }

  close(): void {
    this.closed = true;
    for (const r of this.open) r.destroy();
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}
