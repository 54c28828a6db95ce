/**
 * The aggregation layer, the whole path: kubectl → kube-apiserver (kubectl's certificate, the
 * Kubernetes CA) → metrics-server (front-proxy-client, the front-proxy CA; the identity in
 * X-Remote-* headers; the extension's serving certificate checked against the APIService's caBundle)
 * → each kubelet (metrics-server's service-account token, TokenReview and SubjectAccessReview).
 */
import type { RequestEvent, TlsClientEvent } from '../components/client/trace.js';
import type { KubeObject } from '../components/api/types.js';
import { caPem } from '../pki/store.js';
import type { Scenario } from '../sim/scenario.js';
import { runningPodOn } from './refusals.js';
import { availability, METRICS_APISERVICE, NODE_METRICS, twoScrapes, withMetricsServer } from './metrics-server-setup.js';

type MetricsList = KubeObject & { items: { metadata: { name?: string; namespace?: string }; usage?: { cpu: string; memory: string }; containers?: { name: string; usage: { cpu: string; memory: string } }[] }[] };

export const aggregation: Scenario = {
  name: 'aggregation',
  title: 'The aggregation layer: kubectl top through the apiserver to metrics-server and the kubelets',
  summary: 'kubeadm makes a third CA, front-proxy-ca, and one certificate from it, front-proxy-client: the apiserver\n' +
    'presents it when it proxies a request to an extension apiserver such as metrics-server, and tells the\n' +
    'extension who the caller is in X-Remote-User/X-Remote-Group headers. The extension believes those headers\n' +
    'only from a certificate of that CA with an allowed name; everyone else is authenticated as usual.',
  needsCluster: true,
  async run(ctx) {
    const { cluster, pki } = ctx;
    const admin = cluster.client('admin.conf', 'kubectl');
    await ctx.step('The apiserver publishes how to authenticate its requests',
      'kubeadm gives the apiserver --requestheader-client-ca-file=front-proxy-ca.crt,\n' +
      '--requestheader-allowed-names=front-proxy-client and the X-Remote-* header names, and the apiserver writes\n' +
      'them (with --client-ca-file) into kube-system/extension-apiserver-authentication for extensions to read.',
      async () => {
        const cm = await admin.get<KubeObject & { data?: Record<string, string> }>('/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication');
        const d = cm.data ?? {};
        ctx.say(`keys: ${Object.keys(d).sort().join(', ')}`);
        ctx.expect('client-ca-file is the Kubernetes CA', d['client-ca-file'] === caPem(pki, 'ca'));
        ctx.expect('requestheader-client-ca-file is the front-proxy CA', d['requestheader-client-ca-file'] === caPem(pki, 'front-proxy-ca'));
        ctx.expect('requestheader-allowed-names is ["front-proxy-client"]', d['requestheader-allowed-names'] === '["front-proxy-client"]');
        ctx.expect('the headers are X-Remote-User, X-Remote-Group, X-Remote-Extra-',
          d['requestheader-username-headers'] === '["X-Remote-User"]' && d['requestheader-group-headers'] === '["X-Remote-Group"]' && d['requestheader-extra-headers-prefix'] === '["X-Remote-Extra-"]');
      });
    const { ms, stop } = await ctx.step('metrics-server is installed as its manifest does',
      'A ServiceAccount, RBAC (system:aggregated-metrics-reader, system:metrics-server, the auth-delegator and\n' +
      'auth-reader bindings), a Service and the APIService v1beta1.metrics.k8s.io. metrics-server makes its own\n' +
      'self-signed serving certificate at start; the APIService carries its CA as caBundle. The aggregator then\n' +
      'checks the Service, its endpoints and GET /apis/metrics.k8s.io/v1beta1 before it calls it Available.',
      async () => {
        const installed = await withMetricsServer(ctx, cluster);
        const c = await availability(admin, METRICS_APISERVICE, (s) => s === 'True');
        ctx.say(`APIService ${METRICS_APISERVICE}: Available=${c.status} (${c.reason}: ${c.message})`);
        ctx.expect('the APIService is Available: all checks passed', c.status === 'True' && c.reason === 'Passed');
        return installed;
      });
    try {
      await ctx.step('kubectl top nodes: two hops, two sets of certificates',
        'Hop 1, kubectl → kube-apiserver: admin.conf\'s certificate against the Kubernetes CA, authorized by RBAC for\n' +
        'list nodes.metrics.k8s.io. Hop 2, kube-apiserver → metrics-server: front-proxy-client (front-proxy CA) as\n' +
        'the client, metrics-server\'s serving certificate checked against the caBundle for metrics-server.kube-system.svc,\n' +
        'and the caller in X-Remote-User: kubernetes-admin, X-Remote-Group: kubeadm:cluster-admins. metrics-server then\n' +
        'asks the apiserver (SubjectAccessReview) whether kubernetes-admin may list nodes.metrics.k8s.io.',
        async () => {
          await twoScrapes(ms);
          const mark = ctx.events.length;
          const list = await admin.request<MetricsList>('GET', NODE_METRICS);
          for (const n of list.items) ctx.say(`${n.metadata.name ?? ''}: cpu ${n.usage?.cpu ?? '?'}, memory ${n.usage?.memory ?? '?'}`);
          ctx.expect('NodeMetrics for every node', pki.plan.nodes.every((n) => list.items.some((i) => i.metadata.name === n.name && /^\d+n$/.test(i.usage?.cpu ?? ''))));
          const hop2 = ctx.since(mark).find((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === 'kube-apiserver (aggregator)');
          ctx.expect('hop 2 presents front-proxy-client, from front-proxy-ca', hop2?.clientCert?.cn === 'front-proxy-client' && hop2.clientCert.issuer === 'front-proxy-ca',
            JSON.stringify(hop2?.clientCert));
          ctx.expect('hop 2 verified metrics-server\'s self-signed certificate against the caBundle', hop2?.handshake === 'ok' && /^localhost-ca@\d+$/.test(hop2.serverCert?.issuer ?? ''),
            JSON.stringify(hop2?.serverCert));
          // Keep-alive: the aggregator may reuse a connection made by the availability check, so read the request, not the handshake.
          const seen = ctx.since(mark).find((e): e is RequestEvent => e.type === 'request' && e.server === 'metrics-server' && e.path.startsWith(NODE_METRICS));
          ctx.expect('metrics-server took the user from the headers of a front-proxy certificate', seen?.user === 'kubernetes-admin' && seen.reason === 'authenticated by requestheader' && seen.status === 200,
            JSON.stringify(seen));
        }, { show: (client, server) => client === 'kubectl' || server === 'metrics-server' || client.startsWith('kube-apiserver (aggregator)') });
      await ctx.step('metrics-server scrapes each kubelet as its service account',
        'GET https://<node>:10250/metrics/resource with a bearer token, no client certificate: the kubelet sends the\n' +
        'token to the apiserver (TokenReview: system:serviceaccount:kube-system:metrics-server) and asks whether it may\n' +
        'get nodes/metrics (SubjectAccessReview; system:metrics-server grants it). The kubelet\'s serving certificate is\n' +
        'checked against the cluster CA, which signed it here.',
        async () => {
          const mark = ctx.events.length;
          await ms.nextScrape();
          const scraped = ctx.since(mark).filter((e): e is RequestEvent => e.type === 'request' && e.server.startsWith('kubelet') && e.path === '/metrics/resource');
          ctx.expect('every kubelet allowed system:serviceaccount:kube-system:metrics-server to get nodes/metrics',
            scraped.length === pki.plan.nodes.length && scraped.every((e) => e.user === 'system:serviceaccount:kube-system:metrics-server' && e.resource === 'nodes/metrics' && e.status === 200),
            JSON.stringify(scraped.map((e) => [e.server, e.user, e.resource, e.status])));
          ctx.expect('no scrape failed', [...ms.scrapeErrors.values()].every((x) => x === ''));
        });
      await ctx.step('kubectl top pods -A', 'PodMetrics: each container\'s CPU rate between two scrapes and its working set.', async () => {
        const node = pki.plan.nodes[0]?.name ?? 'node-1';
        await runningPodOn(admin, node, 'busy');
        await twoScrapes(ms);
        const list = await admin.request<MetricsList>('GET', '/apis/metrics.k8s.io/v1beta1/pods');
        for (const p of list.items) ctx.say(`${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}: ${(p.containers ?? []).map((c) => `${c.name} cpu ${c.usage.cpu} memory ${c.usage.memory}`).join('; ')}`);
        ctx.expect('PodMetrics for the pod', list.items.some((p) => p.metadata.name === 'busy' && (p.containers ?? []).length > 0));
      });
    } finally {
      await stop();
    }
  },
};
