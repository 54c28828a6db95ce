/**
 * `npm run bench -- fanout [--proxies 100] [--trials 20] [--runs N]`
 *
 * Watch fan-out latency: how long a Service change takes to reach every kube-proxy's rules. The
 * apiserver (with the embedded etcd) runs in a child process; here, K kube-proxies (kube-proxy.conf,
 * each its own client and TLS connections, its Service and EndpointSlice informers) watch it. A
 * selector-less Service `default/fanout` with one hand-made EndpointSlice gives every proxy a
 * KUBE-SVC chain; each trial PATCHes the Service's port and times, per proxy, from just before the
 * PATCH until its nat table carries `--dport <new port>`.
 *   ours      K kube-proxies: p50, p99 and max over every proxy and trial
 *   baseline  one kube-proxy alone, the same trials
 * Runs alternate which goes first; each phase starts its proxies afresh.
 */
import type { EndpointSlice, Service } from '../components/api/types.js';
import { KubeClient } from '../components/client/kube-client.js';
import { KubeProxy } from '../components/kube-proxy/index.js';
import { loadPki } from '../pki/store.js';
import { silentLogger } from '../sim/logger.js';
import { clusterTls } from '../sim/wiring.js';
import { forkServer } from './child.js';
import type { Row } from './table.js';
import { quantile } from './timing.js';

export interface FanoutOptions { readonly runs: number; readonly proxies: number; readonly trials: number }

const SERVICE = '/api/v1/namespaces/default/services/fanout';

export async function benchFanout(pkiDir: string, o: FanoutOptions): Promise<Row[]> {
  const pki = await loadPki(pkiDir);
  const wiring = clusterTls(pki, { kubeletCertificateAuthority: true });
  const server = await forkServer('apiserver', pkiDir);
  const admin = new KubeClient({ name: 'bench', server: server.url, ...wiring.client('admin.conf') });
  let port = 20000;
  const ports = (p: number): Service['spec']['ports'] => [{ name: 'http', port: p, targetPort: 8080, protocol: 'TCP' }];
  try {
    await admin.create<Service>('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'fanout' }, spec: { ports: ports(port) } } as Service);
    await admin.create<EndpointSlice>('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: 'fanout-bench', labels: { 'kubernetes.io/service-name': 'fanout', 'endpointslice.kubernetes.io/managed-by': 'bench' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.10'], conditions: { ready: true } }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    } as EndpointSlice);
    /** One phase: `k` fresh kube-proxies, `o.trials` changes; every proxy's latency of every trial (ms). */
    const phase = async (k: number): Promise<number[]> => {
      const proxies = Array.from({ length: k }, (_, i) => new KubeProxy({ nodeName: `node-${i + 1}`, apiserver: server.url, ...wiring.kubeProxy }, { logger: silentLogger() }));
      const latencies: number[] = [];
      try {
        await Promise.all(proxies.map((p) => p.start()));
        await Promise.all(proxies.map((p) => p.waitFor((rules) => rules.includes(`--dport ${port} `), 60_000)));
        for (let t = 0; t < o.trials; t++) {
          const next = ++port;
          const t0 = performance.now();
          const seen = proxies.map((p) => p.waitFor((rules) => rules.includes(`--dport ${next} `), 60_000).then(() => performance.now() - t0));
          await admin.patch(SERVICE, { spec: { ports: ports(next) } }, 'merge');
          latencies.push(...await Promise.all(seen));
        }
      } finally {
        await Promise.all(proxies.map((p) => p.stop()));
      }
      return latencies;
    };
    const many: number[] = [];
    const one: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      if (i % 2 === 0) { one.push(...await phase(1)); many.push(...await phase(o.proxies)); } else { many.push(...await phase(o.proxies)); one.push(...await phase(1)); }
    }
    const command = `npm run bench -- fanout --proxies ${o.proxies} --trials ${o.trials} --runs ${o.runs}`;
    const row = (label: string, q: number): Row => {
      const ours = quantile(many, q);
      const base = quantile(one, q);
      return {
        figure: `Service change to all ${o.proxies} kube-proxies' rules, ${label}`, unit: 'ms', ours, baselineLabel: 'one kube-proxy', baseline: base, ratio: ours / base, command,
        ...(q === 1 ? { detail: `PATCH of the Service's port until each proxy's nat table has the new --dport; ${many.length} samples (${o.proxies} proxies x ${o.trials} trials x ${o.runs} runs) vs ${one.length}; proxies in this process, apiserver in a child` } : {}),
      };
    };
    return [row('p50', 0.5), row('p99', 0.99), row('max', 1)];
  } finally {
    admin.close();
    await server.stop();
  }
}
