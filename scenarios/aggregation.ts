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
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

type MetricsList = KubeObject & { items: { metadata: { name?: string; namespace?: string }; usage?: { cpu: string; memory: string }; containers?: { name: string; usage: { cpu: string; memory: string } }[] }[] };

export const aggregation: Scenario = {
  name: 'aggregation',
  title: EN('scenario.aggregation.title'),
  summary: EN('scenario.aggregation.summary'),
  needsCluster: true,
  async run(ctx) {
    const { cluster, pki } = ctx;
    const admin = cluster.client('admin.conf', 'kubectl');
    await ctx.step(ctx.t('scenario.aggregation.publish.title'),
      ctx.t('scenario.aggregation.publish.lesson'),
      async () => {
        const cm = await admin.get<KubeObject & { data?: Record<string, string> }>('/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication');
        const d = cm.data ?? {};
        ctx.say(ctx.t('scenario.aggregation.publish.sayKeys', { keys: Object.keys(d).sort().join(', ') }));
        ctx.expect(ctx.t('scenario.aggregation.publish.expectClientCa'), d['client-ca-file'] === caPem(pki, 'ca'));
        ctx.expect(ctx.t('scenario.aggregation.publish.expectRequestheaderCa'), d['requestheader-client-ca-file'] === caPem(pki, 'front-proxy-ca'));
        ctx.expect(ctx.t('scenario.aggregation.publish.expectAllowedNames'), d['requestheader-allowed-names'] === '["front-proxy-client"]');
        ctx.expect(ctx.t('scenario.aggregation.publish.expectHeaders'),
          d['requestheader-username-headers'] === '["X-Remote-User"]' && d['requestheader-group-headers'] === '["X-Remote-Group"]' && d['requestheader-extra-headers-prefix'] === '["X-Remote-Extra-"]');
      });
    const { ms, stop } = await ctx.step(ctx.t('scenario.aggregation.install.title'),
      ctx.t('scenario.aggregation.install.lesson'),
      async () => {
        const installed = await withMetricsServer(ctx, cluster);
        const c = await availability(admin, METRICS_APISERVICE, (s) => s === 'True');
        ctx.say(`APIService ${METRICS_APISERVICE}: Available=${c.status} (${c.reason}: ${c.message})`); // verbatim: the APIService's condition
        ctx.expect(ctx.t('scenario.aggregation.install.expectAvailable'), c.status === 'True' && c.reason === 'Passed');
        return installed;
      });
    try {
      await ctx.step(ctx.t('scenario.aggregation.top.title'),
        ctx.t('scenario.aggregation.top.lesson'),
        async () => {
          await twoScrapes(ms);
          const mark = ctx.events.length;
          const list = await admin.request<MetricsList>('GET', NODE_METRICS);
          for (const n of list.items) ctx.say(`${n.metadata.name ?? ''}: cpu ${n.usage?.cpu ?? '?'}, memory ${n.usage?.memory ?? '?'}`); // verbatim: the NodeMetrics' fields
          ctx.expect(ctx.t('scenario.aggregation.top.expectNodeMetrics'), pki.plan.nodes.every((n) => list.items.some((i) => i.metadata.name === n.name && /^\d+n$/.test(i.usage?.cpu ?? ''))));
          const hop2 = ctx.since(mark).find((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === 'kube-apiserver (aggregator)');
          ctx.expect(ctx.t('scenario.aggregation.top.expectHop2Cert'), hop2?.clientCert?.cn === 'front-proxy-client' && hop2.clientCert.issuer === 'front-proxy-ca',
            JSON.stringify(hop2?.clientCert));
          ctx.expect(ctx.t('scenario.aggregation.top.expectHop2Verified'), hop2?.handshake === 'ok' && /^localhost-ca@\d+$/.test(hop2.serverCert?.issuer ?? ''),
            JSON.stringify(hop2?.serverCert));
          // Keep-alive: the aggregator may reuse a connection made by the availability check, so read the request, not the handshake.
          const seen = ctx.since(mark).find((e): e is RequestEvent => e.type === 'request' && e.server === 'metrics-server' && e.path.startsWith(NODE_METRICS));
          ctx.expect(ctx.t('scenario.aggregation.top.expectHeaders'), seen?.user === 'kubernetes-admin' && seen.reason === 'authenticated by requestheader' && seen.status === 200,
            JSON.stringify(seen));
        }, { show: (client, server) => client === 'kubectl' || server === 'metrics-server' || client.startsWith('kube-apiserver (aggregator)') });
      await ctx.step(ctx.t('scenario.aggregation.scrape.title'),
        ctx.t('scenario.aggregation.scrape.lesson'),
        async () => {
          const mark = ctx.events.length;
          await ms.nextScrape();
          const scraped = ctx.since(mark).filter((e): e is RequestEvent => e.type === 'request' && e.server.startsWith('kubelet') && e.path === '/metrics/resource');
          ctx.expect(ctx.t('scenario.aggregation.scrape.expectAllowed'),
            scraped.length === pki.plan.nodes.length && scraped.every((e) => e.user === 'system:serviceaccount:kube-system:metrics-server' && e.resource === 'nodes/metrics' && e.status === 200),
            JSON.stringify(scraped.map((e) => [e.server, e.user, e.resource, e.status])));
          ctx.expect(ctx.t('scenario.aggregation.scrape.expectNoFailure'), [...ms.scrapeErrors.values()].every((x) => x === ''));
        });
      await ctx.step(ctx.t('scenario.aggregation.topPods.title'), ctx.t('scenario.aggregation.topPods.lesson'), async () => {
        const node = pki.plan.nodes[0]?.name ?? 'node-1';
        await runningPodOn(admin, node, 'busy');
        await twoScrapes(ms);
        const list = await admin.request<MetricsList>('GET', '/apis/metrics.k8s.io/v1beta1/pods');
        for (const p of list.items) ctx.say(`${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}: ${(p.containers ?? []).map((c) => `${c.name} cpu ${c.usage.cpu} memory ${c.usage.memory}`).join('; ')}`);
        ctx.expect(ctx.t('scenario.aggregation.topPods.expectPodMetrics'), list.items.some((p) => p.metadata.name === 'busy' && (p.containers ?? []).length > 0));
      });
    } finally {
      await stop();
    }
  },
};
