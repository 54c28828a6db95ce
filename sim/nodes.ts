/**
 * A node of the cluster: its kubelet and its kube-proxy, started the same way wherever they run (in the
 * cluster's process, or in a node worker process, sim/node-worker.ts), and the handles scenarios hold
 * them by: `NodeKubelet` and `NodeProxy` are what a scenario may do with a node whether it is an object
 * here or in another process (there, each call is a message over IPC and returns a promise).
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Kubelet } from '../components/kubelet/index.js';
import { KubeProxy, type IpvsView, type ProxyMode } from '../components/kube-proxy/index.js';
import type { Trace } from '../components/client/trace.js';
import type { ApiClientTls, KubeletTls } from './wiring.js';

/** New TLS material for a running kubelet (Kubelet.reloadTls). */
export type KubeletReload = Parameters<Kubelet['reloadTls']>[0];
/** New TLS material for a running kube-proxy (KubeProxy.reloadTls). */
export type ProxyReload = Parameters<KubeProxy['reloadTls']>[0];

/** A node's kubelet as scenarios use it: a `Kubelet` in this process, or a handle on one in a worker. */
export interface NodeKubelet {
  readonly name: string;
  reloadTls(material: KubeletReload): void | Promise<void>;
}

/**
 * A node's kube-proxy as scenarios use it: `rules()` is its `iptables-save` after the latest sync (the
 * nat table in iptables mode; filter and nat in ipvs mode), `ipvs()` its `ipvsadm -Ln`, `ipset list` and
 * `ip addr show kube-ipvs0` in ipvs mode (undefined in iptables mode).
 */
export interface NodeProxy {
  readonly name: string;
  readonly mode: ProxyMode;
  rules(): string | Promise<string>;
  ipvs(): IpvsView | undefined | Promise<IpvsView | undefined>;
  reloadTls(material: ProxyReload): void | Promise<void>;
}

/** One node to run: its name, address, pod range and its own kubelet certificates (client and serving). */
export interface NodeSpec {
  readonly name: string;
  readonly ip: string;
  readonly podCIDR: string;
  readonly kubelet: KubeletTls;
}

/** What every node of a cluster shares: the apiserver, kube-proxy.conf's identity, the port choice. */
export interface NodeCommon {
  readonly apiserver: string;
  readonly kubeProxy: ApiClientTls;
  /** kube-proxy's --cluster-cidr (default: its own, 10.244.0.0/16). */
  readonly clusterCIDR?: string;
  /** kube-proxy's mode (KubeProxyConfiguration `mode`, --proxy-mode); default iptables. */
  readonly proxyMode?: ProxyMode;
  /** `real`: each kubelet on 10250 at its node IP where free, else any free port; `ephemeral`: any free port. */
  readonly ports: 'real' | 'ephemeral';
}

export interface RunningNode {
  readonly name: string;
  readonly kubelet: Kubelet;
  readonly proxy: KubeProxy;
  /** The kubelet API, `https://<node ip>:<port>`. */
  readonly url: string;
}

/**
 * Starts a node's kubelet (on 10250 where free, with `ports: 'real'`) and then its kube-proxy; if the
 * kube-proxy fails, the kubelet is stopped again and the error names the node.
 */
export async function startNode(spec: NodeSpec, common: NodeCommon, deps: { readonly logger: Logger; readonly trace: Trace }): Promise<RunningNode> {
  const ports = common.ports === 'real' ? [10250, 0] : [0];
  let kubelet: Kubelet | undefined;
  let address: AddressInfo | undefined;
  let last: unknown;
  for (const port of ports) {
    const k = new Kubelet({ nodeName: spec.name, nodeIP: spec.ip, podCIDR: spec.podCIDR, apiserver: common.apiserver, ...spec.kubelet, port }, deps);
    try {
      address = await k.start();
      kubelet = k;
      break;
    } catch (err) {
      last = err;
      await k.stop().catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
      deps.logger.info({ component: k.name, port }, 'port taken, falling back to any free port');
    }
  }
  if (!kubelet || !address) throw last;
  const proxy = new KubeProxy({
    nodeName: spec.name, nodeIP: spec.ip, apiserver: common.apiserver, ...common.kubeProxy, ...(common.clusterCIDR ? { clusterCIDR: common.clusterCIDR } : {}),
    ...(common.proxyMode ? { mode: common.proxyMode } : {}),
  }, deps);
  try {
    await proxy.start();
  } catch (err) {
    await kubelet.stop().catch(() => undefined);
    throw err;
  }
  return { name: spec.name, kubelet, proxy, url: `https://${spec.ip}:${address.port}` };
}

/** Stops a node: its kube-proxy, then its kubelet (the reverse of startNode). `destroy` aborts instead of draining. */
export async function stopNode(node: RunningNode, mode: 'close' | 'destroy' = 'close'): Promise<void> {
  await (mode === 'close' ? node.proxy.close() : node.proxy.destroy());
  await (mode === 'close' ? node.kubelet.close() : node.kubelet.destroy());
}
