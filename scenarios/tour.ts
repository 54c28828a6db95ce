/**
 * The tour `npm run scenario` plays, in the seed document's order: the PKI (Kubernetes CA, etcd CA,
 * server certificates, client certificates, the apiserver's two client certificates), the start-up,
 * then each flow over real mutual TLS, then two refusals, and the table of every connection seen.
 */
import https from 'node:https';
import YAML from 'yaml';
import { EtcdClient } from '../components/client/etcd-client.js';
import { KubeClient, ApiError, resourcePath } from '../components/client/kube-client.js';
import { createTlsAgent } from '../components/client/tls.js';
import type { Deployment, EndpointSlice, Endpoints, KubeList, Lease, Node, Pod, ReplicaSet, SelfSubjectReview, Service } from '../components/api/types.js';
import { issueLeaf, privateKeyPem, selfSignCa, generateKey } from '../pki/issue.js';
import { caPem, credential, kubeletClientName, kubeletServingName, type LeafName, type Pki } from '../pki/store.js';
import type { LeafSpec } from '../pki/spec.js';
import { identityOf } from '../sim/cluster.js';
import { cert } from '../sim/narrate.js';
import type { Scenario, ScenarioContext } from '../sim/scenario.js';
import { translator, type Translate } from '../sim/i18n/index.js';
import { waitFor } from '../sim/wait.js';
import { tourIpvs } from './tour-ipvs.js';

export const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80, name: http}]
        resources:
          requests: {cpu: 100m, memory: 64Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http, protocol: TCP}]
`;

const describe = (pki: Pki, name: LeafName, t: Translate): string => {
  const c = credential(pki, name).cert;
  const o = c.subject.split('\n').filter((l) => l.startsWith('O=')).map((l) => l.slice(2));
  const cn = /CN=([^\n]*)/.exec(c.subject)?.[1] ?? '';
  const issuer = /CN=([^\n]*)/.exec(c.issuer)?.[1] ?? '';
  return cert({ cn, o, issuer }, t);
};

/** A certificate set from a CA nobody in this cluster trusts, with a kubectl-like admin identity. */
export async function foreignAdmin(pki: Pki): Promise<{ cert: string; key: string }> {
  const now = new Date();
  const ca = selfSignCa({ name: 'ca', cn: 'kubernetes' }, await generateKey('ecdsa-p256'), now);
  const spec = pki.table.certs.find((c) => c.name === 'admin.conf') as LeafSpec;
  const leaf = await issueLeaf(spec, ca, 'ecdsa-p256', now);
  return { cert: leaf.certPem, key: privateKeyPem(leaf.key.privateKey) };
}

async function pkiSteps(ctx: ScenarioContext): Promise<void> {
  const { pki } = ctx;
  await ctx.step(ctx.t('tour.root.title'), ctx.t('tour.root.lesson'),
    async () => {
      const ca = pki.signers.get('ca')!;
      ctx.say(ctx.t('tour.root.say', { cn: ca.subject.cn, validTo: ca.cert.validTo }));
      ctx.expect(ctx.t('tour.root.expect'), ca.cert.ca && ca.cert.verify(ca.cert.publicKey));
    });
  await ctx.step(ctx.t('tour.etcdCa.title'), ctx.t('tour.etcdCa.lesson'),
    async () => {
      const ca = pki.signers.get('etcd/ca')!;
      ctx.say(`pki/etcd/ca.crt: CN=${ca.subject.cn}, CA:TRUE`); // verbatim: the certificate's fields
      ctx.expect(ctx.t('tour.etcdCa.expect'),
        !ca.cert.publicKey.export({ type: 'spki', format: 'der' }).equals(pki.signers.get('ca')!.cert.publicKey.export({ type: 'spki', format: 'der' })));
    });
  await ctx.step(ctx.t('tour.serving.title'), ctx.t('tour.serving.lesson'),
    async () => {
      const serving = [['apiserver', 'ca'], ['etcd/server', 'etcd/ca'], ...pki.plan.nodes.map((n) => [kubeletServingName(n.name), 'ca'] as const)] as const;
      for (const [name, ca] of serving) {
        const c = credential(pki, name).cert;
        ctx.say(ctx.t('tour.serving.say', { name, cert: describe(pki, name, ctx.t), sans: c.subjectAltName ?? '-' }));
        ctx.expect(ctx.t('tour.serving.expect', { name, ca }), c.verify(pki.signers.get(ca)!.cert.publicKey) && (c.keyUsage ?? []).includes('1.3.6.1.5.5.7.3.1'));
      }
    });
  await ctx.step(ctx.t('tour.clients.title'), ctx.t('tour.clients.lesson'),
    async () => {
      for (const name of ['admin.conf', 'scheduler.conf', 'controller-manager.conf', 'kube-proxy.conf', ...pki.plan.nodes.map((n) => kubeletClientName(n.name))] as const) {
        ctx.say(`${name}: ${describe(pki, name, ctx.t)}`);
        const c = credential(pki, name).cert;
        ctx.expect(ctx.t('tour.clients.expect', { name }), c.verify(pki.signers.get('ca')!.cert.publicKey) && (c.keyUsage ?? []).includes('1.3.6.1.5.5.7.3.2'));
      }
    });
  await ctx.step(ctx.t('tour.apiserverClients.title'), ctx.t('tour.apiserverClients.lesson'),
    async () => {
      for (const [name, ca] of [['apiserver-kubelet-client', 'ca'], ['apiserver-etcd-client', 'etcd/ca']] as const) {
        ctx.say(`${name}: ${describe(pki, name, ctx.t)}`);
        ctx.expect(ctx.t(ca === 'ca' ? 'tour.apiserverClients.expectK8s' : 'tour.apiserverClients.expectEtcd', { name }), credential(pki, name).cert.verify(pki.signers.get(ca)!.cert.publicKey));
      }
    });
}

/** The pods of the web Deployment: those its ReplicaSet (web-<hash>) owns. */
const webPods = (l: KubeList<Pod>): Pod[] => l.items.filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'ReplicaSet' && o.name.startsWith('web-')));

async function flowSteps(ctx: ScenarioContext): Promise<void> {
  const { pki, cluster } = ctx;
  const nodeNames = pki.plan.nodes.map((n) => n.name);
  const admin = cluster.client('admin.conf', 'kubectl');

  await ctx.step(ctx.t('tour.startup.title'), ctx.t('tour.startup.lesson'),
    async () => {
      const nodes = await waitFor('every node to register and be Ready', async () => {
        const l = await admin.list<Node>('/api/v1/nodes');
        const ready = l.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return ready.length === nodeNames.length ? ready : undefined;
      });
      ctx.say(ctx.t('tour.startup.sayEndpoints', { apiserver: cluster.endpoints.apiserver, etcd: cluster.endpoints.etcd, kubelets: Object.entries(cluster.endpoints.kubelets).map(([n, u]) => `${n} ${u}`).join(', ') }));
      ctx.expect(ctx.t('tour.startup.expect', { nodes: nodeNames.join(', ') }), nodes.map((n) => n.metadata.name).sort().join() === [...nodeNames].sort().join());
    }, { show: () => false });

  await ctx.step(ctx.t('tour.etcd.title'), ctx.t('tour.etcd.lesson'),
    async () => {
      await admin.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tour' } });
      const etcdctl = new EtcdClient({
        endpoints: [cluster.endpoints.etcd], identity: identityOf(pki, 'etcd/healthcheck-client'), ca: caPem(pki, 'etcd/ca'), name: 'etcdctl', trace: ctx.trace,
      });
      try {
        const { kv } = await etcdctl.get('/registry/namespaces/tour');
        const value = kv ? JSON.parse(kv.value) as { kind?: string } : undefined;
        ctx.say(ctx.t('tour.etcd.say', { value: kv ? kv.value.slice(0, 90) : ctx.t('tour.etcd.nothing') }));
        ctx.expect(ctx.t('tour.etcd.expect'), value?.kind === 'Namespace');
      } finally {
        etcdctl.close();
      }
    }, { show: (client, server) => server === 'etcd' || client === 'kubectl' });

  await ctx.step(ctx.t('tour.kubelet.title'), ctx.t('tour.kubelet.lesson'),
    async () => {
      const leases = await admin.list<Lease>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases');
      ctx.say(ctx.t('tour.kubelet.say', { leases: leases.items.map((l) => ctx.t('tour.kubelet.lease', { name: l.metadata.name ?? '', holder: l.spec.holderIdentity ?? '-' })).join(', ') }));
      ctx.expect(ctx.t('tour.kubelet.expectLease'), nodeNames.every((n) => leases.items.some((l) => l.metadata.name === n && l.spec.holderIdentity === n)));
      const seen = ctx.events.filter((e) => e.type === 'request' && e.user.startsWith('system:node:') && e.decision === 'allow');
      ctx.expect(ctx.t('tour.kubelet.expectAuth'), nodeNames.every((n) => seen.some((e) => e.type === 'request' && e.user === `system:node:${n}`)));
    }, { show: (client, server) => client.startsWith('kubelet') && server === 'kube-apiserver', from: 0 });

  await ctx.step(ctx.t('tour.toKubelet.title'), ctx.t('tour.toKubelet.lesson'),
    async () => {
      const node = nodeNames[0]!;
      const get = (path: string): Promise<{ status: number; body: string }> => admin.raw('GET', `/api/v1/nodes/${node}/proxy${path}`, undefined, undefined, 'application/json');
      const spec = await get('/spec');
      const facts = spec.status === 200 ? JSON.parse(spec.body) as { num_cores?: number; memory_capacity?: number } : {};
      ctx.say(ctx.t('tour.toKubelet.saySpec', { node, cores: facts.num_cores ?? '?', gib: Math.round((facts.memory_capacity ?? 0) / 2 ** 30) }));
      const pods = await get('/pods');
      const list = pods.status === 200 ? JSON.parse(pods.body) as KubeList<Pod> : undefined;
      ctx.say(ctx.t('tour.toKubelet.sayPods', { node, answer: list ? ctx.t('tour.toKubelet.podList', { n: list.items.length }) : `HTTP ${pods.status}` }));
      ctx.expect(ctx.t('tour.toKubelet.expectAnswer', { node }), spec.status === 200 && list?.kind === 'PodList', `HTTP ${spec.status}, ${pods.status}`);
      await cluster.settleTrace(); // the kubelet's half of the handshake, from its node worker if it runs in one
      const hop = ctx.events.some((e) => e.type === 'tls-server' && e.server === `kubelet (${node})` && e.clientCert?.cn === 'kube-apiserver-kubelet-client' && e.verified);
      ctx.expect(ctx.t('tour.toKubelet.expectVerified'), hop);
      const review = ctx.events.find((e) => e.type === 'request' && e.resource === 'subjectaccessreviews' && e.user === `system:node:${node}`);
      ctx.expect(ctx.t('tour.toKubelet.expectReview'), review !== undefined);
    }, { show: (client, server) => client === 'kubectl' || server.startsWith('kubelet') || client.startsWith('kube-apiserver') || (client === `kubelet (${nodeNames[0]!})` && server === 'kube-apiserver') });

  const applied = ctx.events.length;
  await ctx.step(ctx.t('tour.kubectl.title'), ctx.t('tour.kubectl.lesson'),
    async () => {
      const me = await admin.create<SelfSubjectReview>('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} });
      const user = me.status?.userInfo ?? {};
      ctx.say(`kubectl auth whoami: Username ${user.username ?? '?'}, Groups [${(user.groups ?? []).join(' ')}]`); // verbatim: kubectl's output
      ctx.expect(ctx.t('tour.kubectl.expectWhoami'),
        user.username === 'kubernetes-admin' && (user.groups ?? []).join() === 'kubeadm:cluster-admins,system:authenticated');
      for (const doc of YAML.parseAllDocuments(MANIFEST)) {
        const obj = doc.toJSON() as Deployment | Service;
        const path = obj.kind === 'Deployment'
          ? resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default' })
          : resourcePath({ resource: 'services', namespace: 'default' });
        const created = await admin.create(path, obj);
        ctx.say(`${obj.kind?.toLowerCase()}${obj.kind === 'Deployment' ? '.apps' : ''}/${created.metadata.name} created (resourceVersion ${created.metadata.resourceVersion})`); // verbatim: kubectl's output
      }
      const d = await admin.get<Deployment>(resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default', name: 'web' }));
      ctx.expect(ctx.t('tour.kubectl.expectStored'), d.spec.replicas === 3);
    }, { show: (client) => client === 'kubectl' });

  await ctx.step(ctx.t('tour.scheduler.title'), ctx.t('tour.scheduler.lesson'),
    async () => {
      const pods = await waitFor('every web pod to be bound to a node', async () => {
        const p = webPods(await admin.list<Pod>('/api/v1/namespaces/default/pods', { labelSelector: 'app=web' }));
        return p.length === 3 && p.every((x) => x.spec.nodeName) ? p : undefined;
      });
      for (const p of pods) ctx.say(`${p.metadata.name} → ${p.spec.nodeName}`);
      ctx.expect(ctx.t('tour.scheduler.expectBound'), pods.every((p) => nodeNames.includes(p.spec.nodeName ?? '')));
      if (nodeNames.length > 1) ctx.expect(ctx.t('tour.scheduler.expectSpread'), new Set(pods.map((p) => p.spec.nodeName)).size > 1);
    }, { show: (client) => client === 'kube-scheduler', from: applied });

  await ctx.step(ctx.t('tour.kcm.title'), ctx.t('tour.kcm.lesson'),
    async () => {
      const rs = await waitFor('the ReplicaSet of web', async () => {
        const l = await admin.list<ReplicaSet>('/apis/apps/v1/namespaces/default/replicasets', { labelSelector: 'app=web' });
        return l.items[0];
      });
      const pods = await waitFor('3 pods of web', async () => {
        const p = webPods(await admin.list<Pod>('/api/v1/namespaces/default/pods', { labelSelector: 'app=web' }));
        return p.length === 3 ? p : undefined;
      });
      ctx.say(ctx.t('tour.kcm.say', { rs: rs.metadata.name ?? '', pods: pods.map((p) => p.metadata.name).join(', ') }));
      ctx.expect(ctx.t('tour.kcm.expectReplicas'), rs.spec.replicas === 3);
      const creators = new Set(ctx.events.filter((e) => e.type === 'request' && e.method === 'POST' && /\/pods$/.test(e.path.split('?')[0]!) && e.status === 201).map((e) => (e.type === 'request' ? e.user : '')));
      ctx.expect(ctx.t('tour.kcm.expectCreator'), creators.has('system:serviceaccount:kube-system:replicaset-controller'), [...creators].join(', '));
    }, { show: (client) => client.startsWith('kube-controller-manager'), from: applied });

  await ctx.step(ctx.t('tour.run.title'), ctx.t('tour.run.lesson'),
    async () => {
      const pods = await waitFor('every web pod to be Running', async () => {
        const p = webPods(await admin.list<Pod>('/api/v1/namespaces/default/pods', { labelSelector: 'app=web' }));
        return p.length === 3 && p.every((x) => x.status?.phase === 'Running' && x.status.podIP) ? p : undefined;
      });
      for (const p of pods) ctx.say(ctx.t('tour.run.say', { pod: p.metadata.name ?? '', phase: String(p.status?.phase), node: String(p.spec.nodeName), ip: String(p.status?.podIP) }));
      ctx.expect(ctx.t('tour.run.expect'), pods.length === 3);
    }, { show: (client) => client.startsWith('kubelet') });

  await ctx.step(ctx.t('tour.endpoints.title'), ctx.t('tour.endpoints.lesson'),
    async () => {
      const ep = await waitFor('3 ready endpoints for web', async () => {
        const e = await admin.get<Endpoints>('/api/v1/namespaces/default/endpoints/web').catch(() => undefined);
        return (e?.subsets?.[0]?.addresses?.length ?? 0) === 3 ? e : undefined;
      });
      ctx.say(`endpoints/web: ${ep.subsets![0]!.addresses!.map((a) => `${a.ip}:${ep.subsets![0]!.ports?.[0]?.port ?? '?'}`).join(', ')}`); // verbatim: kubectl's output
      ctx.expect(ctx.t('tour.endpoints.expectPort'), ep.subsets![0]!.ports?.[0]?.port === 80);
      const slice = await waitFor('an EndpointSlice of web with 3 ready endpoints', async () => {
        const l = await admin.list<EndpointSlice>('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { labelSelector: 'kubernetes.io/service-name=web' });
        return l.items.length === 1 && (l.items[0]!.endpoints ?? []).filter((e) => e.conditions?.ready).length === 3 ? l.items[0] : undefined;
      });
      ctx.say(`endpointslice.discovery.k8s.io/${slice.metadata.name ?? ''} (${slice.addressType}, port ${slice.ports?.map((p) => `${p.name ?? ''} ${p.port ?? '*'}/${p.protocol ?? 'TCP'}`).join(', ')}):`); // verbatim: kubectl's output
      for (const e of slice.endpoints ?? []) ctx.say(ctx.t('tour.endpoints.sayEndpoint', { addresses: e.addresses.join(','), node: e.nodeName ?? '?', pod: e.targetRef?.name ?? '?', ready: String(e.conditions?.ready) }));
      ctx.expect(ctx.t('tour.endpoints.expectName'),
        /^web-[a-z0-9]{5}$/.test(slice.metadata.name ?? '') && slice.metadata.labels?.['kubernetes.io/service-name'] === 'web'
        && slice.metadata.labels['endpointslice.kubernetes.io/managed-by'] === 'endpointslice-controller.k8s.io');
      ctx.expect(ctx.t('tour.endpoints.expectOwner'),
        slice.metadata.ownerReferences?.some((r) => r.kind === 'Service' && r.name === 'web' && r.controller === true && r.blockOwnerDeletion === true) ?? false);
      const writers = new Set(ctx.events.filter((e) => e.type === 'request' && e.method === 'POST' && e.resource === 'endpointslices' && e.status === 201).map((e) => (e.type === 'request' ? e.user : '')));
      ctx.expect(ctx.t('tour.endpoints.expectWriter'), writers.has('system:serviceaccount:kube-system:endpointslice-controller'), [...writers].join(', '));
    }, { show: (client) => client.includes('endpoint') });

  const proxyMode = cluster.proxies.get(nodeNames[0]!)?.mode ?? 'iptables';
  await ctx.step(ctx.t('tour.proxy.title'), ctx.t(proxyMode === 'ipvs' ? 'tour.proxy.lessonIpvs' : 'tour.proxy.lesson'),
    async () => {
      const node = nodeNames[0]!;
      const proxy = cluster.proxies.get(node)!;
      const svc = await admin.get<Service>('/api/v1/namespaces/default/services/web');
      const slices = await admin.list<EndpointSlice>('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { labelSelector: 'kubernetes.io/service-name=web' });
      const port = slices.items[0]?.ports?.[0]?.port;
      const fromSlice = slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready).map((e) => `${e.addresses[0] ?? ''}:${port ?? '?'}`)).sort();
      const reads = (): Set<string> => new Set(ctx.events.filter((e) => e.type === 'request' && e.user === 'system:kube-proxy' && e.decision === 'allow').map((e) => (e.type === 'request' ? e.resource : '')));
      if (proxy.mode === 'ipvs') {
        await tourIpvs(ctx, proxy, node, svc, fromSlice);
        ctx.expect(ctx.t('tour.proxy.expectReads'), reads().has('endpointslices') && !reads().has('endpoints'), [...reads()].join(', '));
        return;
      }
      const rules = await waitFor(`kube-proxy on ${node} to program default/web`, async () => {
        const r = await proxy.rules();
        return (r.match(/-A KUBE-SEP-\S+ .*DNAT --to-destination/g) ?? []).length >= 4 && r.includes('default/web:http') ? r : undefined;
      });
      const lines = rules.split('\n').filter((l) => l.includes('default/web'));
      ctx.say(ctx.t('tour.proxy.say', { node, ip: String(svc.spec.clusterIP) }));
      for (const l of lines) ctx.say(`  ${l}`);
      ctx.expect(ctx.t('tour.proxy.expectService'), lines.some((l) => l.startsWith('-A KUBE-SERVICES') && l.includes(`-d ${svc.spec.clusterIP}/32`)));
      const dnat = lines.map((l) => / DNAT --to-destination (\S+)/.exec(l)?.[1]).filter((x): x is string => x !== undefined).sort();
      ctx.expect(ctx.t('tour.proxy.expectDnat'), dnat.length === 3 && dnat.join() === fromSlice.join(), `DNAT ${dnat.join(', ')}; slice ${fromSlice.join(', ')}`);
      ctx.expect(ctx.t('tour.proxy.expectReads'), reads().has('endpointslices') && !reads().has('endpoints'), [...reads()].join(', '));
    }, { show: (client) => client.startsWith('kube-proxy') });

  await ctx.step(ctx.t('tour.logs.title'), ctx.t('tour.logs.lesson'),
    async () => {
      const pods = webPods(await admin.list<Pod>('/api/v1/namespaces/default/pods', { labelSelector: 'app=web' }));
      const pod = pods[0]!;
      const res = await admin.raw('GET', `/api/v1/namespaces/default/pods/${pod.metadata.name}/log?container=nginx`, undefined, undefined, 'text/plain');
      ctx.say(ctx.t('tour.logs.say', { pod: pod.metadata.name ?? '', node: String(pod.spec.nodeName) }));
      for (const l of res.body.trim().split('\n').slice(0, 3)) ctx.say(`  ${l}`);
      ctx.expect(ctx.t('tour.logs.expect'), res.status === 200 && res.body.length > 0, `HTTP ${res.status} ${res.body.slice(0, 120)}`);
      await cluster.settleTrace();
      const hop = ctx.events.some((e) => e.type === 'tls-server' && e.server.startsWith('kubelet') && e.clientCert?.cn === 'kube-apiserver-kubelet-client' && e.verified);
      ctx.expect(ctx.t('tour.toKubelet.expectVerified'), hop);
    }, { show: (client, server) => client === 'kubectl' || server.startsWith('kubelet') || client.startsWith('kube-apiserver') });

  await ctx.step(ctx.t('tour.refuseEtcd.title'), ctx.t('tour.refuseEtcd.lesson'),
    async () => {
      const node = nodeNames[0] ?? 'node-1';
      const agent = createTlsAgent({ name: `kubelet (${node})`, target: 'etcd', identity: identityOf(pki, kubeletClientName(node)), serverCa: caPem(pki, 'etcd/ca') }, ctx.trace);
      const url = new URL(cluster.endpoints.etcd);
      const mark = ctx.events.length;
      const outcome = await new Promise<string>((resolve) => {
        const req = https.request({ host: url.hostname, port: url.port, path: '/v3/kv/range', method: 'POST', agent }, (res) => { res.resume(); resolve(`HTTP ${res.statusCode}`); });
        req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        req.end(JSON.stringify({ key: Buffer.from('/registry/').toString('base64') }));
      });
      agent.destroy();
      const refusal = await waitFor('etcd to record the refusal', () => ctx.since(mark).find((e) => e.type === 'tls-server' && e.server === 'etcd' && e.handshake === 'refused'));
      ctx.say(ctx.t('tour.refuseEtcd.say', { outcome }));
      ctx.expect(ctx.t('tour.refuseEtcd.expectRefused'),
        refusal.type === 'tls-server' && refusal.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' && refusal.reason === 'x509: certificate signed by unknown authority', refusal.type === 'tls-server' ? `${refusal.code}` : '');
      ctx.expect(ctx.t('tour.refuseEtcd.expectNoRequest'), !outcome.startsWith('HTTP'));
    }, { wire: true });

  await ctx.step(ctx.t('tour.foreign.title'), ctx.t('tour.foreign.lesson'),
    async () => {
      const client = new KubeClient({ name: 'kubectl (foreign CA)', server: cluster.apiserverUrl, identity: await foreignAdmin(pki), serverCa: caPem(pki, 'ca'), trace: ctx.trace });
      try {
        await client.list('/api/v1/namespaces/default/pods');
        ctx.expect(ctx.t('tour.foreign.expect401'), false, ctx.t('tour.foreign.allowed'));
      } catch (err) {
        ctx.say(ctx.t('tour.foreign.say', { answer: err instanceof ApiError ? `${err.httpStatus} ${err.reason}: ${err.message}` : String(err) }));
        ctx.expect(ctx.t('tour.foreign.expectUnauthorized'), err instanceof ApiError && err.httpStatus === 401 && err.reason === 'Unauthorized');
      } finally {
        client.close();
      }
      const seen = ctx.events.find((e) => e.type === 'tls-server' && e.server === 'kube-apiserver' && !e.verified && e.clientCert?.cn === 'kubernetes-admin');
      ctx.expect(ctx.t('tour.foreign.expectWhy'), seen?.type === 'tls-server' && seen.reason === 'x509: certificate signed by unknown authority');
    }, { show: (client) => client.includes('foreign'), wire: true });
}

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

export const tour: Scenario = {
  name: 'tour',
  title: EN('scenario.tour.title'),
  summary: EN('scenario.tour.summary'),
  needsCluster: true,
  async run(ctx) {
    await pkiSteps(ctx);
    await flowSteps(ctx);
  },
};

export const pkiTour: Scenario = {
  name: 'pki',
  title: EN('scenario.pki.title'),
  summary: EN('scenario.pki.summary'),
  needsCluster: false,
  run: pkiSteps,
};
