/**
 * kube-proxy in iptables mode, one per node. With its kube-proxy.conf identity (user
 * system:kube-proxy, bound to system:node-proxier) it lists and watches Services and EndpointSlices
 * (discovery.k8s.io/v1, as real kube-proxy does: it stopped reading the core Endpoints once slices
 * went GA) and keeps the node's nat table in step: `rules()` is what `iptables-save -t nat` would print after the
 * latest sync. Nothing is written to the host's netfilter.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Trace } from '../client/trace.js';
import { Lifecycle, systemClock, type Clock, type Component, type ComponentDeps } from '../client/common.js';
import { KubeClient } from '../client/kube-client.js';
import { Informer } from '../client/informer.js';
import type { Identity } from '../client/tls.js';
import type { EndpointSlice, KubeObject, Service } from '../api/types.js';
import { renderNatTable, servicePorts, type ServicePortInfo } from './iptables.js';
import { KubeSimError } from '../../pki/errors.js';

export interface KubeProxyOptions {
  readonly nodeName: string;
  /** `https://host:port` of the apiserver. */
  readonly apiserver: string;
  /** kube-proxy.conf's client certificate (CN system:kube-proxy). */
  readonly identity: Identity;
  /** The Kubernetes CA, to verify the apiserver. */
  readonly serverCa: string;
  /** --cluster-cidr (kubeadm: the pod subnet); default 10.244.0.0/16. */
  readonly clusterCIDR?: string;
  /** The first pause before retrying a failed list/watch (ms), doubled on each further failure up to 10 s; default 200. */
  readonly retryMs?: number;
}

export class KubeProxyError extends KubeSimError<'TIMEOUT' | 'STOPPED'> {}

/**
 * The label selector of kube-proxy's informers (cmd/kube-proxy/app/server.go): nothing that another
 * proxy serves (service.kubernetes.io/service-proxy-name) and no headless service's slices.
 */
export const PROXY_LABEL_SELECTOR = '!service.kubernetes.io/headless,!service.kubernetes.io/service-proxy-name';

export class KubeProxy implements Component {
  readonly name: string;
  private readonly options: KubeProxyOptions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly trace: Trace | undefined;
  private services: Informer<Service> | undefined;
  /** EndpointSlices (a Service may have several). */
  private endpointSlices: Informer<EndpointSlice> | undefined;
  private readonly events = new EventEmitter();
  private client: KubeClient | undefined;
  private text = '';
  private synced = false;
  private readonly lifecycle: Lifecycle;
  /** Bumped each time the rendered rules change. */
  ruleVersion = 0;

  constructor(options: KubeProxyOptions, deps: ComponentDeps) {
    this.options = options;
    this.name = `kube-proxy (${options.nodeName})`;
    this.lifecycle = new Lifecycle(this.name);
    this.logger = deps.logger.child({ component: 'kube-proxy', node: options.nodeName });
    this.clock = deps.clock ?? systemClock;
    this.trace = deps.trace;
    this.events.setMaxListeners(0);
  }

  /** The nat table as `iptables-save -t nat` would print it after the latest sync ('' before the first). */
  rules(): string {
    return this.text;
  }

  /** The service ports currently programmed, with their endpoints. */
  servicePorts(): ServicePortInfo[] {
    return servicePorts(this.services?.list() ?? [], this.endpointSlices?.list() ?? []);
  }

  /** Calls `listener(rules, version)` after every change of the rules; returns the unsubscribe function. */
  onSync(listener: (rules: string, version: number) => void): () => void {
    this.events.on('sync', listener);
    return () => this.events.off('sync', listener);
  }

  /** Resolves with the rules once `predicate` holds for them (checked now and after every change). */
  waitFor(predicate: (rules: string) => boolean, timeoutMs = 10_000): Promise<string> {
    if (this.text && predicate(this.text)) return Promise.resolve(this.text);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        off();
        this.events.off('stop', onStop);
      };
      const off = this.onSync((rules) => {
        if (predicate(rules)) { done(); resolve(rules); }
      });
      const onStop = (): void => { done(); reject(new KubeProxyError('STOPPED', `${this.name} stopped before the rules matched`)); };
      this.events.once('stop', onStop);
      const timer = setTimeout(() => {
        done();
        reject(new KubeProxyError('TIMEOUT', `${this.name}: rules did not match within ${timeoutMs} ms; current rules:\n${this.text}`));
      }, timeoutMs);
    });
  }

  /** New client certificate (kube-proxy.conf) and/or the apiserver's CA bundle for later connections. */
  reloadTls(material: { identity?: Identity; serverCa?: string }): void {
    this.client?.reloadTls({ ...(material.identity ? { identity: material.identity } : {}), ...(material.serverCa ? { ca: material.serverCa } : {}) });
  }

  async start(): Promise<undefined> {
    this.lifecycle.check('start');
    const o = this.options;
    this.client = new KubeClient({ name: this.name, server: o.apiserver, identity: o.identity, serverCa: o.serverCa, ...(this.trace ? { trace: this.trace } : {}) });
    const retry = o.retryMs !== undefined ? { retryMs: o.retryMs } : {};
    const informer = <T extends KubeObject>(path: string, kind: string): Informer<T> => {
      const inf = new Informer<T>({ client: this.client!, path, kind, logger: this.logger, ...retry, labelSelector: PROXY_LABEL_SELECTOR });
      inf.addHandlers({ add: () => this.sync(), update: () => this.sync(), delete: () => this.sync() });
      return inf;
    };
    this.services = informer<Service>('/api/v1/services', '*v1.Service');
    this.endpointSlices = informer<EndpointSlice>('/apis/discovery.k8s.io/v1/endpointslices', '*v1.EndpointSlice');
    try {
      await Promise.all([this.services.start(), this.endpointSlices.start()]);
    } catch (err) {
      await this.destroy();
      throw err;
    }
    this.synced = true;
    this.sync();
    this.logger.info({ services: this.services.list().length, endpointSlices: this.endpointSlices.list().length }, 'kube-proxy synced');
    return undefined;
  }

  /** syncProxyRules: nothing until both Services and EndpointSlices have been listed once. */
  private sync(): void {
    if (this.lifecycle.closed || !this.synced) return;
    const body = renderNatTable(this.servicePorts(), { clusterCIDR: this.options.clusterCIDR ?? '10.244.0.0/16' });
    if (body === this.text) return;
    this.text = body;
    this.ruleVersion += 1;
    this.logger.debug({ version: this.ruleVersion }, 'iptables rules synced');
    this.events.emit('sync', body, this.ruleVersion);
  }

  /** The rules with iptables-save's `# Generated by` / `# Completed on` lines, stamped now. */
  iptablesSave(): string {
    return renderNatTable(this.servicePorts(), { clusterCIDR: this.options.clusterCIDR ?? '10.244.0.0/16', savedAt: this.clock.now() });
  }

  /** Drains: stops its informers (a list in flight finishes), then closes its client. */
  close(): Promise<void> {
    return this.lifecycle.end(() => this.release('close'));
  }

  /** Aborts: closes its client first, so a list or watch in flight fails, then stops its informers. */
  destroy(): Promise<void> {
    if (this.lifecycle.closed) this.client?.close();
    return this.lifecycle.end(() => this.release('destroy'));
  }

  /** An alias of close(). */
  stop(): Promise<void> {
    return this.close();
  }

  private async release(mode: 'close' | 'destroy'): Promise<void> {
    if (mode === 'destroy') this.client?.close();
    await Promise.all([this.services?.stop(), this.endpointSlices?.stop()]);
    this.client?.close();
    this.events.emit('stop');
    this.events.removeAllListeners();
  }
}
