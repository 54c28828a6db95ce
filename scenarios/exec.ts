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
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

const POD = 'exec-demo';
const CONTAINER = 'app';

const requestOf = (events: readonly TraceEvent[], server: string, pathPart: string): RequestEvent | undefined =>
  events.find((e): e is RequestEvent => e.type === 'request' && e.server === server && e.path.includes(pathPart));

export const exec: Scenario = {
  name: 'exec',
  title: EN('scenario.exec.title'),
  summary: EN('scenario.exec.summary'),
  needsCluster: true,
  async run(ctx) {
    const { cluster, pki } = ctx;
    const nodes = pki.plan.nodes.map((n) => n.name);
    const node = nodes[0] ?? 'node-1';
    const admin = cluster.client('admin.conf', 'kubectl');
    const podPath = `/api/v1/namespaces/default/pods/${POD}/exec`;
    const execUrl = `${cluster.apiserverUrl}${podPath}?command=hostname&container=${CONTAINER}&stdout=true&stderr=true`;
    await ctx.step(ctx.t('scenario.exec.pod.title', { node }), ctx.t('scenario.exec.pod.lesson'), async () => {
      await runningPodOn(admin, node, POD);
      ctx.expect(ctx.t('scenario.exec.pod.expectRunning', { pod: POD, node }), true);
    });

    await ctx.step(ctx.t('scenario.exec.run.title', { pod: POD }),
      ctx.t('scenario.exec.run.lesson'),
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
        ctx.say(ctx.t('scenario.exec.run.say', { stdout: JSON.stringify(r.stdout), status: JSON.stringify(r.status), protocol: r.protocol }));
        ctx.expect(ctx.t('scenario.exec.run.expectStdout'), r.stdout === `${POD}\n`, JSON.stringify(r));
        ctx.expect(ctx.t('scenario.exec.run.expectSuccess'), r.status?.status === 'Success', JSON.stringify(r.status));
        const events = ctx.since(mark);
        const hop1 = events.find((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === 'kubectl' && e.server === 'kube-apiserver');
        ctx.expect(ctx.t('scenario.exec.run.expectHop1'),
          hop1?.handshake === 'ok' && hop1.clientCert?.cn === 'kubernetes-admin' && hop1.trusts === 'kubernetes', JSON.stringify(hop1));
        const atApiserver = requestOf(events, 'kube-apiserver', podPath);
        ctx.expect(ctx.t('scenario.exec.run.expectApiserver'),
          atApiserver?.user === 'kubernetes-admin' && atApiserver.verb === 'get' && atApiserver.resource === 'pods/exec' && atApiserver.status === 101, JSON.stringify(atApiserver));
        const hop2 = events.find((e): e is TlsClientEvent => e.type === 'tls-client' && e.server === `kubelet (${node})`);
        ctx.expect(ctx.t('scenario.exec.run.expectHop2'),
          hop2?.handshake === 'ok' && hop2.clientCert?.cn === 'kube-apiserver-kubelet-client', JSON.stringify(hop2));
        const atKubelet = requestOf(events, `kubelet (${node})`, `/exec/default/${POD}/${CONTAINER}`);
        ctx.expect(ctx.t('scenario.exec.run.expectKubelet'),
          atKubelet?.user === 'kube-apiserver-kubelet-client' && atKubelet.verb === 'create' && atKubelet.resource === 'nodes/proxy' && atKubelet.status === 101, JSON.stringify(atKubelet));
      });

    await ctx.step(ctx.t('scenario.exec.noRights.title'),
      ctx.t('scenario.exec.noRights.lesson'),
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
        ctx.say(ctx.t('scenario.exec.noRights.say', { status: r.refused?.status ?? 101, message: message ?? '' }));
        ctx.expect(ctx.t('scenario.exec.noRights.expect403'), r.refused?.status === 403, JSON.stringify(r.refused));
        ctx.expect(ctx.t('scenario.exec.noRights.expectMessage'), message === `pods "${POD}" is forbidden: User "dev" cannot get resource "pods/exec" in API group "" in the namespace "default"`, message);
        const at = requestOf(ctx.since(mark), 'kube-apiserver', podPath);
        ctx.expect(ctx.t('scenario.exec.noRights.expectAuthorization'), at?.decision === 'deny' && at.layer === 'authorization', JSON.stringify(at));
        ctx.expect(ctx.t('scenario.exec.noRights.expectKubeletNothing'), !ctx.since(mark).some((e) => (e.type === 'request' || e.type === 'tls-server') && e.server === `kubelet (${node})`));
      });

    const other = nodes.find((n) => n !== node) ?? node;
    await ctx.step(ctx.t('scenario.exec.otherNode.title', { other, node }),
      ctx.t('scenario.exec.otherNode.lesson', { other }),
      async () => {
        const url = cluster.endpoints.kubelets[node];
        if (!url) { ctx.expect(ctx.t('scenario.exec.otherNode.expectAddress', { node }), false); return; }
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
