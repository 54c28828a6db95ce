/**
 * What the aggregation scenarios share: metrics-server installed on the running cluster (as its
 * manifest does, sim/metrics-server.ts), waiting until the aggregator says Available and metrics
 * are in, and client certificates from any of the CAs (or a foreign one) with any CN.
 */
import type { Identity } from '../components/client/tls.js';
import type { KubeClient } from '../components/client/kube-client.js';
import type { APIService } from '../components/api/apiregistration.js';
import type { MetricsServer } from '../components/metrics-server/index.js';
import { createCsr } from '../pki/x509.js';
import { generateKey, privateKeyPem, selfSignCa, signCsr } from '../pki/issue.js';
import { caPem, type Pki } from '../pki/store.js';
import type { Cluster } from '../sim/cluster.js';
import { silentLogger } from '../sim/logger.js';
import { installMetricsServer, type MetricsServerInstall } from '../sim/metrics-server.js';
import type { ScenarioContext } from '../sim/scenario.js';
import { waitFor } from '../sim/wait.js';

export const METRICS_APISERVICE = 'v1beta1.metrics.k8s.io';
export const NODE_METRICS = '/apis/metrics.k8s.io/v1beta1/nodes';

/** A clientAuth certificate for `cn` from the PKI's `ca` or `front-proxy-ca`, or from a fresh CA named `foreignCaName`. */
export async function clientCert(pki: Pki, from: 'ca' | 'front-proxy-ca' | { foreignCaName: string }, cn: string, o: string[] = []): Promise<Identity> {
  const now = new Date();
  const ca = typeof from === 'string' ? pki.signers.get(from) : selfSignCa({ name: 'foreign', cn: from.foreignCaName }, await generateKey(pki.plan.keyAlgorithm), now);
  if (!ca) throw new Error(`the PKI has no ${String(from)}`);
  const key = await generateKey(pki.plan.keyAlgorithm);
  const cert = signCsr(createCsr({ cn, o }, { dns: [], ip: [] }, key), ca, { usages: ['clientAuth'], now });
  return { cert: cert.toString(), key: privateKeyPem(key.privateKey) };
}

/** The APIService's Available condition once the aggregator has checked it (and it satisfies `until`). */
export async function availability(admin: KubeClient, name: string, until: (status: string, reason: string) => boolean): Promise<{ status: string; reason: string; message: string }> {
  return waitFor(`APIService ${name} to be checked`, async () => {
    const s = await admin.get<APIService>(`/apis/apiregistration.k8s.io/v1/apiservices/${name}`);
    const c = s.status?.conditions?.find((x) => x.type === 'Available');
    return c && until(c.status, c.reason ?? '') ? { status: c.status, reason: c.reason ?? '', message: c.message ?? '' } : undefined;
  }, 20_000, 100);
}

/** Installs metrics-server on the cluster (stopped by `stop`). */
export async function withMetricsServer(ctx: ScenarioContext, cluster: Cluster, install: Partial<MetricsServerInstall> = {}): Promise<{ ms: MetricsServer; admin: KubeClient; stop: () => Promise<void> }> {
  const admin = cluster.client('admin.conf', 'kubectl apply (metrics-server)');
  const ms = await installMetricsServer(admin, cluster.apiserverUrl, caPem(ctx.pki, 'ca'), { host: '127.0.1.4', port: 0, metricResolutionMs: 500, ...install }, { logger: silentLogger(), trace: ctx.trace });
  return { ms, admin, stop: () => ms.close() };
}

/** Two scrape rounds: enough points for a rate. */
export async function twoScrapes(ms: MetricsServer): Promise<void> {
  await ms.nextScrape();
  await ms.nextScrape();
}
