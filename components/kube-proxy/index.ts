/**
 * kube-proxy, one per node, in iptables mode (the default) or ipvs mode (KubeProxyConfiguration
 * `mode: ipvs`, --proxy-mode ipvs). With its kube-proxy.conf identity (user system:kube-proxy, bound to
 * system:node-proxier) it lists and watches Services and EndpointSlices (discovery.k8s.io/v1, as real
 * kube-proxy does: it stopped reading the core Endpoints once slices went GA) and keeps the node's
 * rules in step. The informers and the mTLS are the same in both modes; only the rendering differs:
 * `rules()` is what `iptables-save` would print after the latest sync (the nat table in iptables mode;
 * the filter and nat tables ipvs mode writes), `ipvs()` what `ipvsadm -Ln`, `ipset list` and
 * `ip addr show kube-ipvs0` would print in ipvs mode. Nothing is written to the host's kernel.
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
import {
  bindAddresses, dummyDeviceIdentity, ipvsState, localEndpoints, renderIpsetList, renderIpvsadm, renderKubeIpvs0, type IpvsState,
} from './ipvs.js';
import { renderIpvsIptables } from './ipvs-iptables.js';
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
  /** KubeProxyConfiguration `mode`: `iptables` (default; also what '' means on Linux) or `ipvs`. */
  readonly mode?: ProxyMode;
  /** The node's address (NodePort virtual servers are made on it in ipvs mode). */
  readonly nodeIP?: string;
  /** KubeProxyConfiguration `ipvs.scheduler`; default `rr`. */
  readonly ipvsScheduler?: string;
  /** The first pause before retrying a failed list/watch (ms), doubled on each further failure up to 10 s; default 200. */
  readonly retryMs?: number;
}

export class KubeProxyError extends KubeSimError<'TIMEOUT' | 'STOPPED' | 'INVALID_MODE'> {}

/** kube-proxy's Linux modes that the sim renders (nftables is not modelled). */
export const PROXY_MODES = ['iptables', 'ipvs'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];

/**
 * `mode` as KubeProxyConfiguration takes it: '' means iptables on Linux; anything else is refused with
 * validateProxyMode's message (of a kube-proxy before the nftables mode, which the sim does not render).
 */
export function parseProxyMode(value: string | undefined): ProxyMode {
  if (value === undefined || value === '') return 'iptables';
  if ((PROXY_MODES as readonly string[]).includes(value)) return value as ProxyMode;
  throw new KubeProxyError('INVALID_MODE', `KubeProxyConfiguration.ProxyMode: Invalid value: "${value}": must be iptables, ipvs or blank (blank means the best-available proxy [currently iptables])`);
}

/** What an ipvs-mode kube-proxy shows on its node, each as the tool prints it. */
export interface IpvsView {
  /** `ipvsadm -Ln`. */
  readonly ipvsadm: string;
  /** `ipset list`. */
  readonly ipset: string;
  /** `ip addr show kube-ipvs0`. */
  readonly kubeIpvs0: string;
  /** The virtual servers, sets and bound addresses the text is printed from. */
  readonly state: IpvsState;
  /** The addresses on kube-ipvs0, in the order they were bound. */
  readonly addresses: readonly string[];
}

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
  private ipvsView: IpvsView | undefined;
  /** The addresses on kube-ipvs0 (ipvs mode), in the order they were bound. */
  private bound: string[] = [];
  private synced = false;
  /** iptables or ipvs. */
  readonly mode: ProxyMode;
  private readonly lifecycle: Lifecycle;
  /** Bumped each time the rendered rules change. */
  ruleVersion = 0;

  constructor(options: KubeProxyOptions, deps: ComponentDeps) {
    this.options = options;
    this.name = `kube-proxy (${options.nodeName})`;
    this.mode = options.mode ?? 'iptables';
    this.lifecycle = new Lifecycle(this.name);
    this.logger = deps.logger.child({ component: 'kube-proxy', node: options.nodeName });
    this.clock = deps.clock ?? systemClock;
    this.trace = deps.trace;
    this.events.setMaxListeners(0);
  }

  /** `iptables-save` after the latest sync ('' before the first): the nat table in iptables mode, filter and nat in ipvs mode. */
  rules(): string {
    return this.text;
  }

  /** In ipvs mode, `ipvsadm -Ln`, `ipset list` and `ip addr show kube-ipvs0` after the latest sync; undefined in iptables mode or before the first sync. */
  ipvs(): IpvsView | undefined {
    return this.ipvsView;
  }

  /** The service ports currently programmed, with their endpoints. */
  servicePorts(): ServicePortInfo[] {
    return servicePorts(this.services?.list() ?? [], this.endpointSlices?.list() ?? []);
  }

  /** Calls `listener(rules, version, ipvs)` after every change of the rules; returns the unsubscribe function. */
  onSync(listener: (rules: string, version: number, ipvs: IpvsView | undefined) => void): () => void {
    this.events.on('sync', listener);
    return () => this.events.off('sync', listener);
  }

  /** Resolves with the rules once `predicate` holds for them (and, in ipvs mode, the ipvs view), checked now and after every change. */
  waitFor(predicate: (rules: string, ipvs: IpvsView | undefined) => boolean, timeoutMs = 10_000): Promise<string> {
    if (this.text && predicate(this.text, this.ipvsView)) return Promise.resolve(this.text);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        off();
        this.events.off('stop', onStop);
      };
      const off = this.onSync((rules, _version, ipvs) => {
        if (predicate(rules, ipvs)) { done(); resolve(rules); }
      });
      const onStop = (): void => { done(); reject(new KubeProxyError('STOPPED', `${this.name} stopped before the rules matched`)); };
      this.events.once('stop', onStop);
      const timer = setTimeout(() => {
        done();
        reject(new KubeProxyError('TIMEOUT', `${this.name}: rules did not match within ${timeoutMs} ms; current rules:\n${this.text}${this.ipvsView ? `\n${this.ipvsView.ipvsadm}` : ''}`));
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
    this.logger.info({ mode: this.mode, services: this.services.list().length, endpointSlices: this.endpointSlices.list().length }, 'kube-proxy synced');
    return undefined;
  }

  /** syncProxyRules: nothing until both Services and EndpointSlices have been listed once. */
  private sync(): void {
    if (this.lifecycle.closed || !this.synced) return;
    if (this.mode === 'ipvs') return this.syncIpvs();
    const body = renderNatTable(this.servicePorts(), { clusterCIDR: this.clusterCIDR });
    if (body === this.text) return;
    this.text = body;
    this.ruleVersion += 1;
    this.logger.debug({ version: this.ruleVersion }, 'iptables rules synced');
    this.events.emit('sync', body, this.ruleVersion, undefined);
  }

  private get clusterCIDR(): string {
    return this.options.clusterCIDR ?? '10.244.0.0/16';
  }

  /** The ipvs proxier's sync: virtual servers and real servers, kube-ipvs0's addresses, the ipsets, then the iptables rules that match them. */
  private ipvsSnapshot(savedAt?: Date): { rules: string; view: IpvsView } {
    const o = this.options;
    const state = ipvsState(this.servicePorts(), {
      ...(o.ipvsScheduler ? { scheduler: o.ipvsScheduler } : {}),
      nodeIPs: o.nodeIP ? [o.nodeIP] : [],
      localEndpoints: localEndpoints(this.endpointSlices?.list() ?? [], o.nodeName),
    });
    const rules = renderIpvsIptables(state.ipsets, { clusterCIDR: this.clusterCIDR, ...(savedAt ? { savedAt } : {}) });
    const addresses = bindAddresses(this.bound, state.bindAddrs);
    return {
      rules,
      view: {
        ipvsadm: renderIpvsadm(state.virtualServers),
        ipset: renderIpsetList(state.ipsets, rules),
        kubeIpvs0: renderKubeIpvs0(addresses, dummyDeviceIdentity(o.nodeName)),
        state, addresses,
      },
    };
  }

  private syncIpvs(): void {
    const { rules, view } = this.ipvsSnapshot();
    this.bound = [...view.addresses];
    const previous = this.ipvsView;
    if (rules === this.text && previous && previous.ipvsadm === view.ipvsadm && previous.ipset === view.ipset && previous.kubeIpvs0 === view.kubeIpvs0) return;
    this.text = rules;
    this.ipvsView = view;
    this.ruleVersion += 1;
    this.logger.debug({ version: this.ruleVersion, virtualServers: view.state.virtualServers.length }, 'ipvs rules synced');
    this.events.emit('sync', rules, this.ruleVersion, view);
  }

  /** The rules with iptables-save's `# Generated by` / `# Completed on` lines, stamped now. */
  iptablesSave(): string {
    if (this.mode === 'ipvs') return this.ipvsSnapshot(this.clock.now()).rules;
    return renderNatTable(this.servicePorts(), { clusterCIDR: this.clusterCIDR, savedAt: this.clock.now() });
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
