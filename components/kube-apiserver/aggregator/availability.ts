/**
 * kube-aggregator's availability controller (pkg/controllers/status, Kubernetes 1.32, which reads
 * Endpoints): for each APIService, the Available condition.
 *   - Local (no spec.service): True, Local, "Local APIServices are always available".
 *   - The Service is missing: False, ServiceNotFound, `service/<n> in "<ns>" is not present`.
 *   - A ClusterIP Service without the APIService's port: False, ServicePortError.
 *   - No Endpoints: False, EndpointsNotFound; none ready with the port's name: False, MissingEndpoints.
 *   - GET /apis/<group>/<version> on an endpoint, presenting the proxy client certificate with
 *     X-Remote-User system:kube-aggregator / X-Remote-Group system:masters and NOT verifying the
 *     server (as the real check does): a transport error or a status outside 2xx/3xx is False,
 *     FailedDiscoveryCheck, `failing or missing response from <url>: <error>`.
 *   - Otherwise True, Passed, "all checks passed".
 * Runs on changes of APIServices, Services and Endpoints (watch-fed caches), again after a failure
 * with a growing delay (0.5 s doubling to 30 s), and every 30 s for all.
 */
import https from 'node:https';
import type { Logger } from 'pino';
import type { Clock } from '../../client/common.js';
import type { Trace } from '../../client/trace.js';
import { createTlsAgent, type Identity, type TlsAgent } from '../../client/tls.js';
import type { APIService, APIServiceCondition } from '../../api/apiregistration.js';
import type { KubeObject } from '../../api/types.js';
import { resourceByName } from '../../api/resources.js';
import type { CachedResource, CacheSource } from '../cache.js';
import type { Store } from '../storage.js';
import { transportMessage } from '../kubelet-client.js';

export interface ServiceObject extends KubeObject {
  spec: { type?: string; ports?: { name?: string; port: number; targetPort?: number | string }[] };
}
export interface EndpointsObject extends KubeObject {
  subsets?: { addresses?: { ip: string }[]; ports?: { name?: string; port: number }[] }[];
}

export const APISERVICES = resourceByName('apiservices', 'apiregistration.k8s.io');
const RESYNC_MS = 30_000;
const DISCOVERY_TIMEOUT_MS = 5_000;

/** Where an APIService's Service is served: the first ready address with the Service port's name (endpoint routing). */
export function resolveEndpoint(svc: APIService['spec']['service'], services: CachedResource<ServiceObject>, endpoints: CachedResource<EndpointsObject>):
  { ok: true; host: string; port: number } | { ok: false; reason: string; message: string } {
  if (!svc) return { ok: false, reason: 'Local', message: '' };
  const where = `service/${svc.name} in ${JSON.stringify(svc.namespace)}`;
  const service = services.get(svc.namespace, svc.name);
  if (!service) return { ok: false, reason: 'ServiceNotFound', message: `${where} is not present` };
  const wanted = svc.port ?? 443;
  const port = (service.spec.ports ?? []).find((p) => p.port === wanted);
  if ((service.spec.type ?? 'ClusterIP') === 'ClusterIP' && !port) return { ok: false, reason: 'ServicePortError', message: `${where} is not listening on port ${wanted}` };
  const portName = port?.name ?? '';
  const ep = endpoints.get(svc.namespace, svc.name);
  if (!ep) return { ok: false, reason: 'EndpointsNotFound', message: `cannot find endpoints for ${where}` };
  for (const s of ep.subsets ?? []) {
    const p = (s.ports ?? []).find((x) => (x.name ?? '') === portName);
    const a = s.addresses?.[0];
    if (p && a) return { ok: true, host: a.ip, port: p.port };
  }
  return { ok: false, reason: 'MissingEndpoints', message: `endpoints for ${where} have no addresses with port name ${JSON.stringify(portName)}` };
}

export class AvailabilityController {
  readonly apiServices: CachedResource<APIService>;
  readonly services: CachedResource<ServiceObject>;
  readonly endpoints: CachedResource<EndpointsObject>;
  private readonly store: Store;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly agent: TlsAgent;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly requests = new Set<ReturnType<typeof https.request>>();
  private resync: NodeJS.Timeout | undefined;
  private stopped = false;

  /** `caches`: the apiserver's watch caches, which its informers read here too. */
  constructor(caches: CacheSource, store: Store, proxyClient: Identity, deps: { logger: Logger; clock: Clock; trace: Trace | undefined }) {
    this.apiServices = caches(APISERVICES) as unknown as CachedResource<APIService>;
    this.services = caches(resourceByName('services')) as unknown as CachedResource<ServiceObject>;
    this.endpoints = caches(resourceByName('endpoints')) as unknown as CachedResource<EndpointsObject>;
    this.store = store;
    this.logger = deps.logger;
    this.clock = deps.clock;
    // The discovery check does not verify the server (transport.TLSConfig{Insecure: true}): its own agent.
    this.agent = createTlsAgent({ name: 'kube-apiserver (availability check)', target: 'extension apiserver', identity: proxyClient, serverCa: '', verifyServer: false }, deps.trace);
  }

  async start(): Promise<void> {
    await Promise.all([this.apiServices.start(), this.services.start(), this.endpoints.start()]);
    this.unsubscribe.push(this.apiServices.onChange((type, o) => { if (type === 'put') this.enqueue(o.metadata.name ?? ''); }));
    const forService = (_t: 'put' | 'delete', o: KubeObject): void => {
      for (const s of this.apiServices.list()) {
        if (s.spec.service?.namespace === o.metadata.namespace && s.spec.service?.name === o.metadata.name) this.enqueue(s.metadata.name ?? '');
      }
    };
    this.unsubscribe.push(this.services.onChange(forService), this.endpoints.onChange(forService));
    for (const s of this.apiServices.list()) this.enqueue(s.metadata.name ?? '');
    this.resync = setInterval(() => { for (const s of this.apiServices.list()) this.enqueue(s.metadata.name ?? ''); }, RESYNC_MS);
    this.resync.unref();
  }

  /** Resolves once no sync is running or queued (tests and scenarios wait on it, then read the condition). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  /** Checks one APIService now (or right after the check under way). */
  enqueue(name: string): void {
    if (this.stopped || name === '') return;
    const t = this.timers.get(name);
    if (t) { clearTimeout(t); this.timers.delete(name); }
    if (this.running.has(name)) { this.again.add(name); return; }
    const run = this.sync(name)
      .catch((err: unknown) => this.logger.warn({ apiservice: name, err: (err as Error).message }, 'APIService status update failed'))
      .finally(() => {
        this.running.delete(name);
        if (this.again.delete(name)) this.enqueue(name);
      });
    this.running.set(name, run);
  }

  private async sync(name: string): Promise<void> {
    const s = this.apiServices.get(undefined, name);
    if (!s) return;
    const cond = await this.check(s);
    if (cond.status === 'True') this.failures.delete(name);
    else this.retryLater(name);
    const old = s.status?.conditions?.find((c) => c.type === 'Available');
    if (old && old.status === cond.status && old.reason === cond.reason && old.message === cond.message) return;
    if (!old || old.status !== cond.status) this.logger.info({ name, oldStatus: old?.status ?? 'Unknown', newStatus: cond.status, reason: cond.reason, message: cond.message }, 'changing APIService availability');
    const next: APIServiceCondition = { ...cond, lastTransitionTime: old && old.status === cond.status && old.lastTransitionTime ? old.lastTransitionTime : this.clock.now().toISOString().replace(/\.\d{3}Z$/, 'Z') };
    if (this.stopped) return;
    await this.store.update<APIService>(APISERVICES, undefined, name, (o) => ({
      ...o, status: { ...o.status, conditions: [...(o.status?.conditions ?? []).filter((c) => c.type !== 'Available'), next] },
    }));
  }

  private retryLater(name: string): void {
    if (this.stopped) return;
    const n = (this.failures.get(name) ?? 0) + 1;
    this.failures.set(name, n);
    const t = setTimeout(() => { this.timers.delete(name); this.enqueue(name); }, Math.min(500 * 2 ** (n - 1), RESYNC_MS));
    t.unref();
    this.timers.set(name, t);
  }

  private async check(s: APIService): Promise<Omit<APIServiceCondition, 'lastTransitionTime'>> {
    if (!s.spec.service) return { type: 'Available', status: 'True', reason: 'Local', message: 'Local APIServices are always available' };
    const where = resolveEndpoint(s.spec.service, this.services, this.endpoints);
    if (!where.ok) return { type: 'Available', status: 'False', reason: where.reason, message: where.message };
    const path = `/apis/${s.spec.group ?? ''}/${s.spec.version ?? ''}`;
    const url = `https://${where.host}:${where.port}${path}`;
    const err = await this.discover(where.host, where.port, path, url);
    if (err) return { type: 'Available', status: 'False', reason: 'FailedDiscoveryCheck', message: `failing or missing response from ${url}: ${err}` };
    return { type: 'Available', status: 'True', reason: 'Passed', message: 'all checks passed' };
  }

  /** The discovery GET; resolves with Go's words for what went wrong, or undefined. */
  private discover(host: string, port: number, path: string, url: string): Promise<string | undefined> {
    return new Promise((resolve) => {
      const req = https.request({
        host, port, path, method: 'GET', agent: this.agent, timeout: DISCOVERY_TIMEOUT_MS,
        headers: { 'X-Remote-User': 'system:kube-aggregator', 'X-Remote-Group': ['system:masters'], Accept: 'application/json' },
      }, (res) => {
        res.resume();
        res.once('end', () => {
          const code = res.statusCode ?? 0;
          resolve(code >= 200 && code < 300 ? undefined : `bad status from ${url}: ${code}`);
        });
      });
      this.requests.add(req);
      req.once('close', () => this.requests.delete(req));
      req.once('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.once('error', (e: NodeJS.ErrnoException) => resolve(`Get ${JSON.stringify(url)}: ${transportMessage(e, host, port)}`));
      req.end();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.resync) clearInterval(this.resync);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const u of this.unsubscribe.splice(0)) u();
    for (const r of this.requests) r.destroy();
    this.agent.destroy();
    // The caches are the apiserver's watch caches: it stops them.
  }
}
