/**
 * What the refusal scenarios share: their shape (a story on the cluster the runner starts, about the
 * plan's first node), checking a probe's verdict (layer, decision, OpenSSL code and the reason in Go's
 * words) as expectations, a pod pinned to a node, client certificates from the cluster CA (for any
 * user, or admin.conf's names with chosen validity), and a second kube-apiserver on the cluster's etcd
 * configured differently (no kubelet client certificate; kubeadm's default of not verifying kubelets).
 */
import { KubeApiserver } from '../components/kube-apiserver/index.js';
import { KubeClient, resourcePath } from '../components/client/kube-client.js';
import type { Identity } from '../components/client/tls.js';
import type { Pod } from '../components/api/types.js';
import { createCsr } from '../pki/x509.js';
import { generateKey, privateKeyPem, signCsr } from '../pki/issue.js';
import { caPem, type Pki } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { createLogger } from '../sim/logger.js';
import type { Decision, Layer, ProbeOutcome } from '../sim/probe.js';
import type { Cluster } from '../sim/cluster.js';
import type { Scenario, ScenarioContext } from '../sim/scenario.js';
import { waitFor } from '../sim/wait.js';

/** What a refusal's story is told on: the running cluster, its PKI, and the node it is about (the plan's first, node-1). */
export interface RefusalSetting {
  readonly pki: Pki;
  readonly cluster: Cluster;
  readonly node: string;
}

export interface RefusalDefinition {
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  run(ctx: ScenarioContext, setting: RefusalSetting): Promise<void>;
}

/** A refusal scenario: the runner starts a cluster for it, and its story runs with the setting above. */
export function refusalScenario(definition: RefusalDefinition): Scenario {
  const { name, title, summary, run } = definition;
  return {
    name, title, summary, needsCluster: true,
    run: (ctx) => run(ctx, { pki: ctx.pki, cluster: ctx.cluster, node: ctx.pki.plan.nodes[0]?.name ?? 'node-1' }),
  };
}

export interface Verdict {
  readonly layer: Layer;
  readonly decision: Decision;
  readonly refusedBy?: 'client' | 'server';
  readonly status?: number;
  readonly code?: string;
  readonly reason: string | RegExp;
  readonly user?: string;
}

/** Prints what happened and records one expectation per part of the verdict. */
export function expectVerdict(ctx: ScenarioContext, who: string, o: ProbeOutcome, want: Verdict): void {
  const { t } = ctx;
  const side = (s: 'client' | 'server' | undefined): string => (s === undefined ? '?' : t(s === 'client' ? 'verdict.client' : 'verdict.server'));
  // The layer in the reader's language; the trace and the detail keep Kubernetes' token.
  const layerWord = (l: Exclude<Layer, 'tls' | 'none'>): string => t(`verdict.layer.${l}`);
  const where = o.layer === 'tls' ? t('verdict.tlsRefused', { side: side(o.refusedBy) }) : o.status === undefined ? o.decision : `HTTP ${o.status} (${o.layer === 'none' ? t('verdict.allowed') : layerWord(o.layer)})`;
  ctx.say(`${who}: ${where}${o.code ? ` [${o.code}]` : ''}${o.user ? t('verdict.as', { user: o.user }) : ''}${o.reason ? `: ${o.reason}` : ''}`);
  const detail = `got ${JSON.stringify({ layer: o.layer, decision: o.decision, refusedBy: o.refusedBy, status: o.status, code: o.code, reason: o.reason, user: o.user })}`;
  const layerText = want.layer === 'tls' ? t('verdict.layerTls', { side: side(want.refusedBy ?? 'server') }) : want.layer === 'none' ? t('verdict.layerNone') : `${layerWord(want.layer)} (${want.status ?? ''})`;
  ctx.expect(t('verdict.decidedAt', { who, layer: layerText }),
    o.layer === want.layer && o.decision === want.decision && (want.refusedBy === undefined || o.refusedBy === want.refusedBy) && (want.status === undefined || o.status === want.status), detail);
  if (want.code !== undefined) ctx.expect(t('verdict.code', { who, code: want.code }), o.code === want.code, detail);
  const reasonOk = typeof want.reason === 'string' ? o.reason === want.reason : want.reason.test(o.reason);
  ctx.expect(t('verdict.reason', { who, reason: typeof want.reason === 'string' ? `"${want.reason}"` : want.reason.toString() }), reasonOk, detail);
  if (want.user !== undefined) ctx.expect(t('verdict.user', { who, user: want.user }), o.user === want.user, detail);
}

/** A pod bound straight to `node` (no scheduler), waited for until its kubelet reports it Running. */
export async function runningPodOn(admin: KubeClient, node: string, name: string, extra: Partial<Pod['spec']> = {}): Promise<Pod> {
  await admin.create(resourcePath({ resource: 'pods', namespace: 'default' }), {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { nodeName: node, containers: [{ name: 'app', image: 'nginx:1.27' }], ...extra },
  });
  return waitFor(`pod ${name} Running on ${node}`, async () => {
    const p = await admin.get<Pod>(resourcePath({ resource: 'pods', namespace: 'default', name }));
    return p.status?.phase === 'Running' ? p : undefined;
  });
}

/**
 * A client certificate (clientAuth) signed by the Kubernetes CA for `subject`: the user is the CN, the
 * groups the O values. `validity` narrows its dates; by default it is valid now, as kubeadm's leaves are.
 */
export async function clientCertFor(pki: Pki, subject: { cn: string; o: string[] }, validity?: { notBefore: Date; notAfter: Date }): Promise<Identity> {
  const ca = pki.signers.get('ca');
  if (!ca) throw new Error('the PKI has no Kubernetes CA');
  const key = await generateKey(pki.plan.keyAlgorithm);
  const csr = createCsr(subject, { dns: [], ip: [] }, key);
  const now = new Date();
  const cert = signCsr(csr, ca, { usages: ['clientAuth'], now, ...(validity ? { notBefore: validity.notBefore, validityMs: validity.notAfter.getTime() - now.getTime() } : {}) });
  return { cert: cert.toString(), key: privateKeyPem(key.privateKey) };
}

/**
 * A client certificate signed by the Kubernetes CA with the given validity window: the names and
 * usages of admin.conf, only the dates differ.
 */
export function adminCertWithValidity(pki: Pki, notBefore: Date, notAfter: Date): Promise<Identity> {
  return clientCertFor(pki, { cn: 'kubernetes-admin', o: ['kubeadm:cluster-admins'] }, { notBefore, notAfter });
}

/**
 * A second kube-apiserver on the cluster's etcd (its own port on the advertise address), configured
 * differently from the cluster's: `kubeletClientCert: false` leaves out --kubelet-client-certificate,
 * `verifyKubelets: false` leaves out --kubelet-certificate-authority (kubeadm's default).
 */
export async function extraApiserver(ctx: ScenarioContext, options: { kubeletClientCert: boolean; verifyKubelets: boolean }): Promise<{ apiserver: KubeApiserver; admin: KubeClient; stop: () => Promise<void> }> {
  const { pki, cluster } = ctx;
  const apiserver = new KubeApiserver({
    host: pki.plan.advertiseAddress, port: 0, identity: identityOf(pki, 'apiserver'), clientCa: caPem(pki, 'ca'),
    etcd: { endpoints: [cluster.endpoints.etcd], identity: identityOf(pki, 'apiserver-etcd-client'), ca: caPem(pki, 'etcd/ca') },
    kubeletClient: {
      ...(options.kubeletClientCert ? { identity: identityOf(pki, 'apiserver-kubelet-client') } : {}),
      ...(options.verifyKubelets ? { ca: caPem(pki, 'ca') } : {}),
    },
    serviceAccount: pki.serviceAccount, advertiseAddress: pki.plan.advertiseAddress, logger: createLogger({ level: 'silent' }), trace: ctx.trace,
  });
  await apiserver.start();
  const admin = new KubeClient({ name: 'kubectl', server: apiserver.url, identity: identityOf(pki, 'admin.conf'), serverCa: caPem(pki, 'ca'), trace: ctx.trace });
  return { apiserver, admin, stop: async () => { admin.close(); await apiserver.stop(); } };
}

/** `kubectl logs <pod>` through `admin`'s apiserver: the status and the body (text, or a Status). */
export async function podLogs(admin: KubeClient, pod: string): Promise<{ status: number; body: string }> {
  const r = await admin.raw('GET', `/api/v1/namespaces/default/pods/${pod}/log?container=app`, undefined, undefined, 'text/plain');
  return { status: r.status, body: r.body };
}
