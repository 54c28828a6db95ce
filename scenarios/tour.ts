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
import { waitFor } from '../sim/wait.js';

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

const describe = (pki: Pki, name: LeafName): string => {
  const c = credential(pki, name).cert;
  const o = c.subject.split('\n').filter((l) => l.startsWith('O=')).map((l) => l.slice(2));
  const cn = /CN=([^\n]*)/.exec(c.subject)?.[1] ?? '';
  const issuer = /CN=([^\n]*)/.exec(c.issuer)?.[1] ?? '';
  return cert({ cn, o, issuer });
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
  await ctx.step('The root: the Kubernetes CA',
    'Every component talks HTTPS, and the apiserver must know who each client is, so servers and clients\n' +
    'both hold certificates signed by a CA: Kubernetes builds its own PKI. On the first control-plane node\n' +
    'kubeadm makes ca.key and ca.crt in /etc/kubernetes/pki; ca.crt is handed to every node that joins.',
    async () => {
      const ca = pki.signers.get('ca')!;
      ctx.say(`pki/ca.crt: CN=${ca.subject.cn}, CA:TRUE, valid to ${ca.cert.validTo}`);
      ctx.expect('the Kubernetes CA is self-signed and a CA', ca.cert.ca && ca.cert.verify(ca.cert.publicKey));
    });
  await ctx.step('The second root: the etcd CA',
    'etcd gets a CA of its own, /etc/kubernetes/pki/etcd/ca.{crt,key}, handed to each control-plane node\n' +
    'that joins. Because etcd trusts only this CA, nothing signed by the Kubernetes CA can reach etcd.\n' +
    '(kubeadm also makes front-proxy-ca for the aggregation layer, and sa.key/sa.pub for service-account tokens.)',
    async () => {
      const ca = pki.signers.get('etcd/ca')!;
      ctx.say(`pki/etcd/ca.crt: CN=${ca.subject.cn}, CA:TRUE`);
      ctx.expect('the etcd CA is a different key from the Kubernetes CA',
        !ca.cert.publicKey.export({ type: 'spki', format: 'der' }).equals(pki.signers.get('ca')!.cert.publicKey.export({ type: 'spki', format: 'der' })));
    });
  await ctx.step('Server certificates: kube-apiserver, kubelet, etcd',
    'Each server makes its own key and a CSR; the apiserver and the kubelets are signed by the Kubernetes\n' +
    'CA, etcd by the etcd CA. The SANs list the names and IPs clients dial.',
    async () => {
      const serving = [['apiserver', 'ca'], ['etcd/server', 'etcd/ca'], ...pki.plan.nodes.map((n) => [kubeletServingName(n.name), 'ca'] as const)] as const;
      for (const [name, ca] of serving) {
        const c = credential(pki, name).cert;
        ctx.say(`${name}: ${describe(pki, name)}; SANs ${c.subjectAltName ?? '-'}`);
        ctx.expect(`${name} is signed by ${ca} and is for serverAuth`, c.verify(pki.signers.get(ca)!.cert.publicKey) && (c.keyUsage ?? []).includes('1.3.6.1.5.5.7.3.1'));
      }
    });
  await ctx.step('Client certificates: kubectl, scheduler, controller-manager, kube-proxy, kubelet',
    'Every client of the apiserver gets its own key and certificate from the Kubernetes CA. The apiserver\n' +
    'reads the user from the CN and the groups from the O values. The kubelet is both a server (above) and\n' +
    'a client (here).',
    async () => {
      for (const name of ['admin.conf', 'scheduler.conf', 'controller-manager.conf', 'kube-proxy.conf', ...pki.plan.nodes.map((n) => kubeletClientName(n.name))] as const) {
        ctx.say(`${name}: ${describe(pki, name)}`);
        const c = credential(pki, name).cert;
        ctx.expect(`${name} is signed by the Kubernetes CA for clientAuth`, c.verify(pki.signers.get('ca')!.cert.publicKey) && (c.keyUsage ?? []).includes('1.3.6.1.5.5.7.3.2'));
      }
    });
  await ctx.step("The apiserver's two client certificates",
    'The apiserver is a client too: of the kubelets (apiserver-kubelet-client, Kubernetes CA) and of etcd\n' +
    '(apiserver-etcd-client, etcd CA).',
    async () => {
      for (const [name, ca] of [['apiserver-kubelet-client', 'ca'], ['apiserver-etcd-client', 'etcd/ca']] as const) {
        ctx.say(`${name}: ${describe(pki, name)}`);
        ctx.expect(`${name} is signed by the ${ca === 'ca' ? 'Kubernetes' : 'etcd'} CA`, credential(pki, name).cert.verify(pki.signers.get(ca)!.cert.publicKey));
      }
    });
}

/** The pods of the web Deployment: those its ReplicaSet (web-<hash>) owns. */
const webPods = (l: KubeList<Pod>): Pod[] => l.items.filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'ReplicaSet' && o.name.startsWith('web-')));

async function flowSteps(ctx: ScenarioContext): Promise<void> {
  const { pki, cluster } = ctx;
  const nodeNames = pki.plan.nodes.map((n) => n.name);
  const admin = cluster.client('admin.conf', 'kubectl');

  await ctx.step('Start-up',
    'etcd, then kube-apiserver, kube-controller-manager, kube-scheduler, and on every node a kubelet and a\n' +
    'kube-proxy: each a real TLS server or client on its own loopback address, with its own certificate.',
    async () => {
      const nodes = await waitFor('every node to register and be Ready', async () => {
        const l = await admin.list<Node>('/api/v1/nodes');
        const ready = l.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return ready.length === nodeNames.length ? ready : undefined;
      });
      ctx.say(`apiserver ${cluster.endpoints.apiserver}, etcd ${cluster.endpoints.etcd}; kubelets ${Object.entries(cluster.endpoints.kubelets).map(([n, u]) => `${n} ${u}`).join(', ')}`);
      ctx.expect(`nodes ${nodeNames.join(', ')} registered and Ready`, nodes.map((n) => n.metadata.name).sort().join() === [...nodeNames].sort().join());
    }, { show: () => false });

  await ctx.step('kube-apiserver → etcd',
    'The apiserver is the only component that reaches etcd. It stores the cluster state as key-value\n' +
    'pairs under /registry/, presenting apiserver-etcd-client (etcd CA); etcd checks it against the etcd CA.\n' +
    'Here etcdctl (with etcd/healthcheck-client, also from the etcd CA) reads what the apiserver wrote.',
    async () => {
      await admin.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tour' } });
      const etcdctl = new EtcdClient({
        endpoints: [cluster.endpoints.etcd], identity: identityOf(pki, 'etcd/healthcheck-client'), ca: caPem(pki, 'etcd/ca'), name: 'etcdctl', trace: ctx.trace,
      });
      try {
        const { kv } = await etcdctl.get('/registry/namespaces/tour');
        const value = kv ? JSON.parse(kv.value) as { kind?: string } : undefined;
        ctx.say(`etcd holds /registry/namespaces/tour = ${kv ? kv.value.slice(0, 90) : '(nothing)'}…`);
        ctx.expect('the Namespace created through the apiserver is in etcd under /registry/namespaces/tour', value?.kind === 'Namespace');
      } finally {
        etcdctl.close();
      }
    }, { show: (client, server) => server === 'etcd' || client === 'kubectl' });

  await ctx.step('kubelet → kube-apiserver',
    'Each kubelet, as system:node:<node> in group system:nodes, registered its Node, renews its Lease in\n' +
    'kube-node-lease, and watches the pods bound to its node. The Node authorizer lets it touch only its own:\n' +
    'its pod list and watch must name its node (fieldSelector spec.nodeName=<node>), or they are refused.',
    async () => {
      const leases = await admin.list<Lease>('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases');
      ctx.say(`leases: ${leases.items.map((l) => `${l.metadata.name} (holder ${l.spec.holderIdentity ?? '-'})`).join(', ')}`);
      ctx.expect('every kubelet holds its Lease', nodeNames.every((n) => leases.items.some((l) => l.metadata.name === n && l.spec.holderIdentity === n)));
      const seen = ctx.events.filter((e) => e.type === 'request' && e.user.startsWith('system:node:') && e.decision === 'allow');
      ctx.expect('the apiserver authenticated the kubelets by their client certificates and allowed them', nodeNames.every((n) => seen.some((e) => e.type === 'request' && e.user === `system:node:${n}`)));
    }, { show: (client, server) => client.startsWith('kubelet') && server === 'kube-apiserver', from: 0 });

  await ctx.step('kube-apiserver → kubelet',
    'The apiserver also calls the kubelets, on port 10250, for node and pod state (and logs, exec,\n' +
    'port-forward). It presents apiserver-kubelet-client (Kubernetes CA, O=kubeadm:cluster-admins); the\n' +
    'kubelet checks it against its client CA, then asks the apiserver (SubjectAccessReview) whether that\n' +
    "user may get nodes/proxy. The apiserver verifies the kubelet's serving certificate against the\n" +
    'Kubernetes CA (--kubelet-certificate-authority). kubectl reaches it as nodes/<node>/proxy/<path>.',
    async () => {
      const node = nodeNames[0]!;
      const get = (path: string): Promise<{ status: number; body: string }> => admin.raw('GET', `/api/v1/nodes/${node}/proxy${path}`, undefined, undefined, 'application/json');
      const spec = await get('/spec');
      const facts = spec.status === 200 ? JSON.parse(spec.body) as { num_cores?: number; memory_capacity?: number } : {};
      ctx.say(`kubectl get --raw /api/v1/nodes/${node}/proxy/spec: ${facts.num_cores ?? '?'} cores, ${Math.round((facts.memory_capacity ?? 0) / 2 ** 30)} GiB`);
      const pods = await get('/pods');
      const list = pods.status === 200 ? JSON.parse(pods.body) as KubeList<Pod> : undefined;
      ctx.say(`kubectl get --raw /api/v1/nodes/${node}/proxy/pods: ${list ? `a PodList of ${list.items.length} (kubectl sends the first pods next)` : `HTTP ${pods.status}`}`);
      ctx.expect(`the kubelet of ${node} answered /spec and /pods through the apiserver`, spec.status === 200 && list?.kind === 'PodList', `HTTP ${spec.status}, ${pods.status}`);
      await cluster.settleTrace(); // the kubelet's half of the handshake, from its node worker if it runs in one
      const hop = ctx.events.some((e) => e.type === 'tls-server' && e.server === `kubelet (${node})` && e.clientCert?.cn === 'kube-apiserver-kubelet-client' && e.verified);
      ctx.expect('the kubelet verified apiserver-kubelet-client against the Kubernetes CA', hop);
      const review = ctx.events.find((e) => e.type === 'request' && e.resource === 'subjectaccessreviews' && e.user === `system:node:${node}`);
      ctx.expect(`the kubelet asked the apiserver whether kube-apiserver-kubelet-client may get nodes/proxy`, review !== undefined);
    }, { show: (client, server) => client === 'kubectl' || server.startsWith('kubelet') || client.startsWith('kube-apiserver') || (client === `kubelet (${nodeNames[0]!})` && server === 'kube-apiserver') });

  const applied = ctx.events.length;
  await ctx.step('kubectl → kube-apiserver',
    'kubectl turns the manifest (YAML) into JSON and sends it with admin.conf: CN=kubernetes-admin,\n' +
    'O=kubeadm:cluster-admins, a group kubeadm binds to cluster-admin. `kubectl auth whoami` (a\n' +
    'SelfSubjectReview) shows who the apiserver made of that certificate.',
    async () => {
      const me = await admin.create<SelfSubjectReview>('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} });
      const user = me.status?.userInfo ?? {};
      ctx.say(`kubectl auth whoami: Username ${user.username ?? '?'}, Groups [${(user.groups ?? []).join(' ')}]`);
      ctx.expect('the apiserver sees admin.conf as kubernetes-admin in kubeadm:cluster-admins',
        user.username === 'kubernetes-admin' && (user.groups ?? []).join() === 'kubeadm:cluster-admins,system:authenticated');
      for (const doc of YAML.parseAllDocuments(MANIFEST)) {
        const obj = doc.toJSON() as Deployment | Service;
        const path = obj.kind === 'Deployment'
          ? resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default' })
          : resourcePath({ resource: 'services', namespace: 'default' });
        const created = await admin.create(path, obj);
        ctx.say(`${obj.kind?.toLowerCase()}${obj.kind === 'Deployment' ? '.apps' : ''}/${created.metadata.name} created (resourceVersion ${created.metadata.resourceVersion})`);
      }
      const d = await admin.get<Deployment>(resourcePath({ group: 'apps', resource: 'deployments', namespace: 'default', name: 'web' }));
      ctx.expect('the Deployment is stored', d.spec.replicas === 3);
    }, { show: (client) => client === 'kubectl' });

  await ctx.step('kube-scheduler → kube-apiserver',
    'The scheduler (scheduler.conf, CN=system:kube-scheduler) watches pods with no node (spec.nodeName\n' +
    'empty): here the three pods of web, which the controller-manager (next) made from the Deployment.\n' +
    'For each it picks a Ready node with room (least allocated first) and POSTs a Binding to\n' +
    'pods/<name>/binding.',
    async () => {
      const pods = await waitFor('every web pod to be bound to a node', async () => {
        const p = webPods(await admin.list<Pod>('/api/v1/namespaces/default/pods', { labelSelector: 'app=web' }));
        return p.length === 3 && p.every((x) => x.spec.nodeName) ? p : undefined;
      });
      for (const p of pods) ctx.say(`${p.metadata.name} → ${p.spec.nodeName}`);
      ctx.expect('all 3 pods are bound to nodes of the cluster', pods.every((p) => nodeNames.includes(p.spec.nodeName ?? '')));
      if (nodeNames.length > 1) ctx.expect('least-allocated scoring spreads them over more than one node', new Set(pods.map((p) => p.spec.nodeName)).size > 1);
    }, { show: (client) => client === 'kube-scheduler', from: applied });

  await ctx.step('kube-controller-manager → kube-apiserver',
    'The controller-manager compares desired and current state. As kubeadm runs it\n' +
    '(--use-service-account-credentials), it authenticates with controller-manager.conf only to get a\n' +
    'service-account token for each controller, and each controller then acts as its own service account:\n' +
    'the deployment controller creates a ReplicaSet, the replicaset controller creates the pods. A 409 on\n' +
    'the wire is an update that lost a race with another write (optimistic concurrency): the controller\n' +
    'reads the object again and retries.',
    async () => {
      const rs = await waitFor('the ReplicaSet of web', async () => {
        const l = await admin.list<ReplicaSet>('/apis/apps/v1/namespaces/default/replicasets', { labelSelector: 'app=web' });
        return l.items[0];
      });
      const pods = await waitFor('3 pods of web', async () => {
        const p = webPods(await admin.list<Pod>('/api/v1/namespaces/default/pods', { labelSelector: 'app=web' }));
        return p.length === 3 ? p : undefined;
      });
      ctx.say(`replicaset.apps/${rs.metadata.name ?? ''}; pods ${pods.map((p) => p.metadata.name).join(', ')}`);
      ctx.expect('the ReplicaSet asks for 3 replicas', rs.spec.replicas === 3);
      const creators = new Set(ctx.events.filter((e) => e.type === 'request' && e.method === 'POST' && /\/pods$/.test(e.path.split('?')[0]!) && e.status === 201).map((e) => (e.type === 'request' ? e.user : '')));
      ctx.expect('the pods were created by system:serviceaccount:kube-system:replicaset-controller', creators.has('system:serviceaccount:kube-system:replicaset-controller'), [...creators].join(', '));
    }, { show: (client) => client.startsWith('kube-controller-manager'), from: applied });

  await ctx.step('kubelet runs the pods and reports their status',
    'Each kubelet sees the pods bound to it on its watch, "runs" them (simulated containers, an IP from\n' +
    "the node's pod range) and reports their status back through pods/<name>/status.",
    async () => {
      const pods = await waitFor('every web pod to be Running', async () => {
        const p = webPods(await admin.list<Pod>('/api/v1/namespaces/default/pods', { labelSelector: 'app=web' }));
        return p.length === 3 && p.every((x) => x.status?.phase === 'Running' && x.status.podIP) ? p : undefined;
      });
      for (const p of pods) ctx.say(`${p.metadata.name}: ${p.status?.phase} on ${p.spec.nodeName}, IP ${p.status?.podIP}`);
      ctx.expect('all 3 pods Running with pod IPs', pods.length === 3);
    }, { show: (client) => client.startsWith('kubelet') });

  await ctx.step('kube-controller-manager: endpoints and EndpointSlices',
    "Two controllers turn the Service's selector and its pods into addresses, each as its own service\n" +
    'account: the endpoints controller writes the Endpoints object web (the legacy API), and the\n' +
    'endpointslice controller writes an EndpointSlice web-<5 random characters>, labelled\n' +
    'kubernetes.io/service-name=web and owned by the Service, with each pod\'s ready/serving/terminating\n' +
    'conditions. The slice is what kube-proxy reads.',
    async () => {
      const ep = await waitFor('3 ready endpoints for web', async () => {
        const e = await admin.get<Endpoints>('/api/v1/namespaces/default/endpoints/web').catch(() => undefined);
        return (e?.subsets?.[0]?.addresses?.length ?? 0) === 3 ? e : undefined;
      });
      ctx.say(`endpoints/web: ${ep.subsets![0]!.addresses!.map((a) => `${a.ip}:${ep.subsets![0]!.ports?.[0]?.port ?? '?'}`).join(', ')}`);
      ctx.expect('the Endpoints list the 3 pods on port 80', ep.subsets![0]!.ports?.[0]?.port === 80);
      const slice = await waitFor('an EndpointSlice of web with 3 ready endpoints', async () => {
        const l = await admin.list<EndpointSlice>('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { labelSelector: 'kubernetes.io/service-name=web' });
        return l.items.length === 1 && (l.items[0]!.endpoints ?? []).filter((e) => e.conditions?.ready).length === 3 ? l.items[0] : undefined;
      });
      ctx.say(`endpointslice.discovery.k8s.io/${slice.metadata.name ?? ''} (${slice.addressType}, port ${slice.ports?.map((p) => `${p.name ?? ''} ${p.port ?? '*'}/${p.protocol ?? 'TCP'}`).join(', ')}):`);
      for (const e of slice.endpoints ?? []) ctx.say(`  ${e.addresses.join(',')} on ${e.nodeName ?? '?'} (${e.targetRef?.name ?? '?'}): ready=${String(e.conditions?.ready)}`);
      ctx.expect('the slice is named web-<5 characters> and labelled with its service and its manager',
        /^web-[a-z0-9]{5}$/.test(slice.metadata.name ?? '') && slice.metadata.labels?.['kubernetes.io/service-name'] === 'web'
        && slice.metadata.labels['endpointslice.kubernetes.io/managed-by'] === 'endpointslice-controller.k8s.io');
      ctx.expect('the slice is owned by the Service (controller, blockOwnerDeletion)',
        slice.metadata.ownerReferences?.some((r) => r.kind === 'Service' && r.name === 'web' && r.controller === true && r.blockOwnerDeletion === true) ?? false);
      const writers = new Set(ctx.events.filter((e) => e.type === 'request' && e.method === 'POST' && e.resource === 'endpointslices' && e.status === 201).map((e) => (e.type === 'request' ? e.user : '')));
      ctx.expect('the slice was written by system:serviceaccount:kube-system:endpointslice-controller', writers.has('system:serviceaccount:kube-system:endpointslice-controller'), [...writers].join(', '));
    }, { show: (client) => client.includes('endpoint') });

  await ctx.step('kube-proxy → kube-apiserver',
    "Each kube-proxy (kube-proxy.conf, CN=system:kube-proxy, bound to system:node-proxier) lists and watches\n" +
    'services and EndpointSlices (not Endpoints), gathers the ready endpoints of every slice labelled with\n' +
    "a service's name, and turns them into its node's netfilter rules (iptables mode, shown as iptables-save).",
    async () => {
      const node = nodeNames[0]!;
      const proxy = cluster.proxies.get(node)!;
      const svc = await admin.get<Service>('/api/v1/namespaces/default/services/web');
      const rules = await waitFor(`kube-proxy on ${node} to program default/web`, async () => {
        const r = await proxy.rules();
        return (r.match(/-A KUBE-SEP-\S+ .*DNAT --to-destination/g) ?? []).length >= 4 && r.includes('default/web:http') ? r : undefined;
      });
      const lines = rules.split('\n').filter((l) => l.includes('default/web'));
      ctx.say(`${node} nat rules for default/web (ClusterIP ${svc.spec.clusterIP}):`);
      for (const l of lines) ctx.say(`  ${l}`);
      ctx.expect('a KUBE-SERVICES rule sends the ClusterIP to a KUBE-SVC chain', lines.some((l) => l.startsWith('-A KUBE-SERVICES') && l.includes(`-d ${svc.spec.clusterIP}/32`)));
      const slices = await admin.list<EndpointSlice>('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { labelSelector: 'kubernetes.io/service-name=web' });
      const port = slices.items[0]?.ports?.[0]?.port;
      const fromSlice = slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready).map((e) => `${e.addresses[0] ?? ''}:${port ?? '?'}`)).sort();
      const dnat = lines.map((l) => / DNAT --to-destination (\S+)/.exec(l)?.[1]).filter((x): x is string => x !== undefined).sort();
      ctx.expect("three KUBE-SEP chains DNAT to the slice's ready endpoints", dnat.length === 3 && dnat.join() === fromSlice.join(), `DNAT ${dnat.join(', ')}; slice ${fromSlice.join(', ')}`);
      const reads = new Set(ctx.events.filter((e) => e.type === 'request' && e.user === 'system:kube-proxy' && e.decision === 'allow').map((e) => (e.type === 'request' ? e.resource : '')));
      ctx.expect('kube-proxy read endpointslices, never endpoints', reads.has('endpointslices') && !reads.has('endpoints'), [...reads].join(', '));
    }, { show: (client) => client.startsWith('kube-proxy') });

  await ctx.step('kube-apiserver → kubelet: kubectl logs',
    'kubectl logs is the same hop: kubectl asks the apiserver for pods/<pod>/log, and the apiserver calls\n' +
    "the pod's kubelet at /containerLogs/<namespace>/<pod>/<container> with apiserver-kubelet-client.",
    async () => {
      const pods = webPods(await admin.list<Pod>('/api/v1/namespaces/default/pods', { labelSelector: 'app=web' }));
      const pod = pods[0]!;
      const res = await admin.raw('GET', `/api/v1/namespaces/default/pods/${pod.metadata.name}/log?container=nginx`, undefined, undefined, 'text/plain');
      ctx.say(`kubectl logs ${pod.metadata.name} (on ${pod.spec.nodeName}):`);
      for (const l of res.body.trim().split('\n').slice(0, 3)) ctx.say(`  ${l}`);
      ctx.expect('the log came back through the apiserver from the kubelet', res.status === 200 && res.body.length > 0, `HTTP ${res.status} ${res.body.slice(0, 120)}`);
      await cluster.settleTrace();
      const hop = ctx.events.some((e) => e.type === 'tls-server' && e.server.startsWith('kubelet') && e.clientCert?.cn === 'kube-apiserver-kubelet-client' && e.verified);
      ctx.expect('the kubelet verified apiserver-kubelet-client against the Kubernetes CA', hop);
    }, { show: (client, server) => client === 'kubectl' || server.startsWith('kubelet') || client.startsWith('kube-apiserver') });

  await ctx.step('Refused: a kubelet dialling etcd',
    'The etcd CA is the access control: a certificate from the Kubernetes CA (here node-1\'s kubelet\n' +
    'client certificate) does not verify against the etcd CA, so etcd refuses the handshake itself.',
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
      ctx.say(`the kubelet sees: ${outcome}`);
      ctx.expect('etcd refused the handshake: x509: certificate signed by unknown authority',
        refusal.type === 'tls-server' && refusal.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' && refusal.reason === 'x509: certificate signed by unknown authority', refusal.type === 'tls-server' ? `${refusal.code}` : '');
      ctx.expect('no request reached etcd', !outcome.startsWith('HTTP'));
    }, { wire: true });

  await ctx.step('Refused: kubectl with a certificate from a foreign CA',
    'A client certificate from a CA the apiserver does not trust completes the TLS handshake (the apiserver\n' +
    'asks for a certificate but lets its authenticators decide) and gets 401 Unauthorized, which kubectl\n' +
    'prints as "error: You must be logged in to the server (Unauthorized)". The foreign CA here is also\n' +
    'called "kubernetes" (another kubeadm cluster\'s CA would be): names are not trust, the CA\'s key is.',
    async () => {
      const client = new KubeClient({ name: 'kubectl (foreign CA)', server: cluster.apiserverUrl, identity: await foreignAdmin(pki), serverCa: caPem(pki, 'ca'), trace: ctx.trace });
      try {
        await client.list('/api/v1/namespaces/default/pods');
        ctx.expect('the apiserver answered 401', false, 'the request was allowed');
      } catch (err) {
        ctx.say(`the apiserver answers ${err instanceof ApiError ? `${err.httpStatus} ${err.reason}: ${err.message}` : String(err)}`);
        ctx.expect('the apiserver answered 401 Unauthorized', err instanceof ApiError && err.httpStatus === 401 && err.reason === 'Unauthorized');
      } finally {
        client.close();
      }
      const seen = ctx.events.find((e) => e.type === 'tls-server' && e.server === 'kube-apiserver' && !e.verified && e.clientCert?.cn === 'kubernetes-admin');
      ctx.expect('the apiserver recorded why: x509: certificate signed by unknown authority', seen?.type === 'tls-server' && seen.reason === 'x509: certificate signed by unknown authority');
    }, { show: (client) => client.includes('foreign'), wire: true });
}

export const tour: Scenario = {
  name: 'tour',
  title: "The tour: Kubernetes' PKI and every control-plane flow over mutual TLS",
  summary: 'Follows the seed document: the two roots, server and client certificates, then each component\n' +
    'talking to the next, each connection with its certificates, the CAs that checked them, and the verdict.',
  needsCluster: true,
  async run(ctx) {
    await pkiSteps(ctx);
    await flowSteps(ctx);
  },
};

export const pkiTour: Scenario = {
  name: 'pki',
  title: "The PKI alone: kubeadm's two roots and every certificate they sign",
  summary: 'The first half of the tour, without starting the cluster.',
  needsCluster: false,
  run: pkiSteps,
};
