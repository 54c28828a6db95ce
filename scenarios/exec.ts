/**
 * `kubectl exec` across both hops: kubectl → kube-apiserver (admin.conf's certificate, the Kubernetes
 * CA; RBAC on pods/exec) and kube-apiserver → kubelet (apiserver-kubelet-client; the kubelet verifies it
 * against its clientCAFile and asks the apiserver whether that user may create nodes/proxy). Then the
 * refusals: a user with no rights on pods/exec stops at the apiserver (403), and a node's certificate
 * sent straight to another node's kubelet stops at that kubelet (403): only the apiserver's identity
 * may run commands in pods there.
 */
import { wsExec } from '../components/client/exec.js';
import { createTlsAgent } from '../components/client/tls.js';
import type { RequestEvent, TlsClientEvent, TraceEvent } from '../components/client/trace.js';
import { kubeletClientName } from '../pki/spec.js';
import { caPem, credential } from '../pki/store.js';
import { probe } from '../sim/probe.js';
import type { Scenario } from '../sim/scenario.js';
import { clientCertFor, expectVerdict, runningPodOn } from './refusals.js';

const POD = 'exec-demo';
const CONTAINER = 'app';

const requestOf = (events: readonly TraceEvent[], server: string, pathPart: string): RequestEvent | undefined =>
  events.find((e): e is RequestEvent => e.type === 'request' && e.server === server && e.path.includes(pathPart));

export const exec: Scenario = {
  name: 'exec',
  title: 'kubectl exec: two hops, two identities, and who may run commands in a pod',
  summary: 'kubectl exec opens a stream to a container: kubectl asks the apiserver (WebSocket, v5.channel.k8s.io), the\n' +
    'apiserver authorizes pods/exec and opens its own stream to the pod\'s kubelet, presenting\n' +
    'apiserver-kubelet-client; the kubelet authenticates that certificate and authorizes nodes/proxy with a\n' +
    'SubjectAccessReview. The kubelet API runs commands in any pod of its node, so nobody else gets through.',
  needsCluster: true,
  async run(ctx) {
    const { cluster, pki } = ctx;
    const nodes = pki.plan.nodes.map((n) => n.name);
    const node = nodes[0] ?? 'node-1';
    const admin = cluster.client('admin.conf', 'kubectl');
    const podPath = `/api/v1/namespaces/default/pods/${POD}/exec`;
    const execUrl = `${cluster.apiserverUrl}${podPath}?command=hostname&container=${CONTAINER}&stdout=true&stderr=true`;
    await ctx.step(`A pod on ${node}`, 'A pod bound to the node, Running once its kubelet has started it.', async () => {
      await runningPodOn(admin, node, POD);
      ctx.expect(`pod ${POD} is Running on ${node}`, true);
    });

    await ctx.step('kubectl exec exec-demo -- hostname',
      'Hop 1: kubectl presents admin.conf (CN=kubernetes-admin, O=kubeadm:cluster-admins) and verifies the apiserver\n' +
      'against the Kubernetes CA. A WebSocket upgrade is a GET, so 1.32 authorizes `get` on pods/exec (the\n' +
      'AuthorizePodWebsocketUpgradeCreatePermission gate adds `create` from 1.35; SPDY, a POST, is `create`).\n' +
      'Hop 2: the apiserver dials the kubelet on 10250 with apiserver-kubelet-client (CN=kube-apiserver-kubelet-client,\n' +
      'O=kubeadm:cluster-admins), and the kubelet authorizes `create` on nodes/proxy by a SubjectAccessReview.',
      async () => {
        const mark = ctx.events.length;
        const agent = createTlsAgent({
          name: 'kubectl', target: 'kube-apiserver', serverCa: caPem(pki, 'ca'),
          identity: { cert: credential(pki, 'admin.conf').certPem, key: credential(pki, 'admin.conf').keyPem },
        }, ctx.trace);
        let r;
        try {
          r = await wsExec(execUrl, { ca: caPem(pki, 'ca'), agent });
        } finally {
          agent.destroy();
        }
        ctx.say(`stdout: ${JSON.stringify(r.stdout)}; status: ${JSON.stringify(r.status)}; protocol ${r.protocol}`);
        ctx.expect('the container answers its hostname (the pod\'s name) on stdout', r.stdout === `${POD}\n`, JSON.stringify(r));
        ctx.expect('the exec ends with a Success Status on the error channel', r.status?.status === 'Success', JSON.stringify(r.status));
        const events = ctx.since(mark);
        const hop1 = events.find((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === 'kubectl' && e.server === 'kube-apiserver');
        ctx.expect('hop 1 TLS: kubectl presented kubernetes-admin and verified the apiserver against the Kubernetes CA',
          hop1?.handshake === 'ok' && hop1.clientCert?.cn === 'kubernetes-admin' && hop1.trusts === 'kubernetes', JSON.stringify(hop1));
        const atApiserver = requestOf(events, 'kube-apiserver', podPath);
        ctx.expect('the apiserver authorized kubernetes-admin for get on pods/exec and switched protocols (101)',
          atApiserver?.user === 'kubernetes-admin' && atApiserver.verb === 'get' && atApiserver.resource === 'pods/exec' && atApiserver.status === 101, JSON.stringify(atApiserver));
        const hop2 = events.find((e): e is TlsClientEvent => e.type === 'tls-client' && e.server === `kubelet (${node})`);
        ctx.expect('hop 2 TLS: the apiserver presented apiserver-kubelet-client to the kubelet',
          hop2?.handshake === 'ok' && hop2.clientCert?.cn === 'kube-apiserver-kubelet-client', JSON.stringify(hop2));
        const atKubelet = requestOf(events, `kubelet (${node})`, `/exec/default/${POD}/${CONTAINER}`);
        ctx.expect('the kubelet authorized kube-apiserver-kubelet-client for create on nodes/proxy (SubjectAccessReview) and switched protocols',
          atKubelet?.user === 'kube-apiserver-kubelet-client' && atKubelet.verb === 'create' && atKubelet.resource === 'nodes/proxy' && atKubelet.status === 101, JSON.stringify(atKubelet));
      });

    await ctx.step('Refused at the apiserver: a user with no rights on pods/exec',
      'A certificate from the cluster CA for user "dev" authenticates, but no Role grants it pods/exec: RBAC\n' +
      'says no, the apiserver answers 403 and never dials the kubelet.',
      async () => {
        const dev = await clientCertFor(pki, { cn: 'dev', o: [] });
        const mark = ctx.events.length;
        const agent = createTlsAgent({ name: 'kubectl (dev)', target: 'kube-apiserver', serverCa: caPem(pki, 'ca'), identity: dev }, ctx.trace);
        let r;
        try {
          r = await wsExec(execUrl, { ca: caPem(pki, 'ca'), agent });
        } finally {
          agent.destroy();
        }
        const message = r.refused ? (JSON.parse(r.refused.body) as { message?: string }).message : undefined;
        ctx.say(`kubectl exec as dev: HTTP ${r.refused?.status ?? 101}: ${message ?? ''}`);
        ctx.expect('the upgrade is refused with 403 Forbidden', r.refused?.status === 403, JSON.stringify(r.refused));
        ctx.expect('the message is RBAC\'s', message === `pods "${POD}" is forbidden: User "dev" cannot get resource "pods/exec" in API group "" in the namespace "default"`, message);
        const at = requestOf(ctx.since(mark), 'kube-apiserver', podPath);
        ctx.expect('the apiserver decided it at authorization', at?.decision === 'deny' && at.layer === 'authorization', JSON.stringify(at));
        ctx.expect('the kubelet saw nothing', !ctx.since(mark).some((e) => (e.type === 'request' || e.type === 'tls-server') && e.server === `kubelet (${node})`));
      });

    const other = nodes.find((n) => n !== node) ?? node;
    await ctx.step(`Refused at the kubelet: ${other}'s certificate straight to ${node}'s kubelet`,
      `The kubelet trusts every certificate of the Kubernetes CA, so system:node:${other} authenticates; then it asks the\n` +
      'apiserver whether that user may create nodes/proxy on this node. The Node authorizer and RBAC give a node no\n' +
      'such right (only the apiserver\'s identity has it), so the kubelet answers 403 before any stream opens.',
      async () => {
        const url = cluster.endpoints.kubelets[node];
        if (!url) { ctx.expect(`${node}'s kubelet has an address`, false); return; }
        const o = await probe(ctx.trace, {
          client: `kubelet (${other}) credentials`, server: `kubelet (${node})`, url, serverCa: caPem(pki, 'ca'),
          identity: { cert: credential(pki, kubeletClientName(other)).certPem, key: credential(pki, kubeletClientName(other)).keyPem },
          method: 'POST', path: `/exec/default/${POD}/${CONTAINER}?command=hostname&output=1`,
        });
        expectVerdict(ctx, `system:node:${other} → kubelet (${node}) /exec`, o, {
          layer: 'authorization', decision: 'forbidden', status: 403, user: `system:node:${other}`,
          reason: `Forbidden (user=system:node:${other}, verb=create, resource=nodes, subresource=proxy)`,
        });
      });
  },
};
