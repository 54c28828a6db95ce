/**
 * `npm run scenario -- kubelet-serving-csr`: serverTLSBootstrap. The kubelet asks for its serving
 * certificate with a kubernetes.io/kubelet-serving CSR (CN system:node:<n>, O system:nodes, its name
 * and IP as SANs). Nothing approves those automatically (a node could claim any SAN), so it stays
 * Pending and the kubelet has no certificate: every handshake to :10250 fails and `kubectl logs`
 * fails with it — the classic symptom. `kubectl certificate approve` (approve on the signer) lets
 * csrsigning sign it; the kubelet installs it without a restart and logs work.
 */
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CertificateSigningRequest } from '../components/api/certificates.js';
import { resourcePath } from '../components/client/kube-client.js';
import { runKubectl } from '../components/kubectl/index.js';
import type { KubeObject, Pod } from '../components/api/types.js';
import { renderKubeconfig } from '../pki/kubeconfig.js';
import { nodePlan } from '../pki/spec.js';
import { caPem, credential } from '../pki/store.js';
import type { JoinedNode } from '../sim/join.js';
import type { Scenario } from '../sim/scenario.js';
import type { TlsServerEvent } from '../components/client/trace.js';
import { waitFor } from '../sim/wait.js';
import { inJoinWorkspace } from './node-join.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

const CSRS = resourcePath({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests' });

export const kubeletServingCsr: Scenario = {
  name: 'kubelet-serving-csr',
  title: EN('scenario.kubelet-serving-csr.title'),
  summary: EN('scenario.kubelet-serving-csr.summary'),
  needsCluster: false,
  async run(ctx) {
    await inJoinWorkspace(ctx, 'k8s-serving-', async (w) => {
      const node = 'node-3';
      let joined: JoinedNode | undefined;
      const plan = nodePlan(node, 2, ctx.pki.plan.loopback);
      const kubeconfig = path.join(w.dir, 'admin.conf');
      const kubectl = (...args: string[]): ReturnType<typeof runKubectl> => runKubectl(['--kubeconfig', kubeconfig, ...args], { trace: ctx.trace });
      const csrName = await ctx.step(ctx.t('kubeletServingCsr.nodeJoinsServertlsbootstrap.title'),
        ctx.t('kubeletServingCsr.nodeJoinsServertlsbootstrap.lesson'),
        async () => {
          const s = await w.startCluster();
          const a = credential(ctx.pki, 'admin.conf');
          await fs.writeFile(kubeconfig, renderKubeconfig({ server: s.cluster.apiserverUrl, clusterName: 'kubernetes', user: 'kubernetes-admin', caPem: caPem(ctx.pki, 'ca'), certPem: a.certPem, keyPem: a.keyPem }), { mode: 0o600 });
          joined = await w.join(node, { kubelet: { serverTLSBootstrap: true } });
          const csr = await waitFor('the kubelet-serving CSR', async () => (await s.admin.list<CertificateSigningRequest>(CSRS)).items
            .find((c) => c.spec.signerName === 'kubernetes.io/kubelet-serving' && c.spec.username === `system:node:${node}`), 10_000);
          const name = csr.metadata.name ?? '';
          await s.cluster.controllerManager!.idle();
          const decision = s.cluster.controllerManager!.csrApprover!.decisions.get(name);
          const listed = await kubectl('get', 'csr');
          ctx.say(`$ kubectl get csr\n${listed.stdout.trimEnd()}`); // verbatim: kubectl's output
          ctx.expect(ctx.t('kubeletServingCsr.nodeJoinsServertlsbootstrap.expectLeft', { csr: name, reason: decision?.outcome === 'not-recognized' ? decision.reason : '?' }), decision?.outcome === 'not-recognized');
          ctx.expect(ctx.t('kubeletServingCsr.nodeJoinsServertlsbootstrap.expectPending', { csr: name, node }), new RegExp(`${name}\\s+\\S+\\s+kubernetes.io/kubelet-serving\\s+system:node:${node}\\s+<none>\\s+Pending`).test(listed.stdout));
          return name;
        }, { show: () => false });

      const logsPath = resourcePath({ resource: 'pods', namespace: 'default', name: 'web', subresource: 'log' });
      await ctx.step(ctx.t('kubeletServingCsr.kubectlLogsFails.title'),
        ctx.t('kubeletServingCsr.kubectlLogsFails.lesson'),
        async () => {
          const admin = w.cluster.client('admin.conf', 'kubectl');
          await admin.create(resourcePath({ resource: 'pods', namespace: 'default' }), {
            apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
          } as KubeObject);
          await waitFor('pod web running', async () => ((await admin.get<Pod>(resourcePath({ resource: 'pods', namespace: 'default', name: 'web' }))).status?.phase === 'Running' ? true : undefined), 20_000);
          const mark = ctx.events.length;
          const r = await kubectl('logs', 'web');
          ctx.say(`$ kubectl logs web\n${r.stderr.trimEnd()}`); // verbatim: kubectl's output
          const refused = ctx.since(mark).find((e): e is TlsServerEvent => e.type === 'tls-server' && e.server === `kubelet (${node})` && e.handshake === 'refused');
          ctx.expect(ctx.t('kubeletServingCsr.kubectlLogsFails.expectFails'), r.code === 1 && r.stderr.includes('remote error: tls: handshake failure'));
          ctx.expect(ctx.t('kubeletServingCsr.kubectlLogsFails.expectNoCert', { reason: refused?.reason ?? '-' }), refused !== undefined && refused.serverCert === null);
        }, { show: (client, server) => server === `kubelet (${node})` || (client === 'kubectl' && server === 'kube-apiserver') });

      await ctx.step(ctx.t('kubeletServingCsr.kubectlCertificateApprove.title'),
        ctx.t('kubeletServingCsr.kubectlCertificateApprove.lesson'),
        async () => {
          const r = await kubectl('certificate', 'approve', csrName);
          ctx.say(`$ kubectl certificate approve ${csrName}\n${r.stdout.trimEnd()}`); // verbatim: kubectl's output
          ctx.expect(`"certificatesigningrequest.certificates.k8s.io/${csrName} approved"`, // verbatim: kubectl's output
            r.code === 0 && r.stdout.trim() === `certificatesigningrequest.certificates.k8s.io/${csrName} approved`);
          const m = joined!.kubelet.servingCertificates!;
          await waitFor('the kubelet to install its serving certificate', () => (m.rotations.length > 0 ? true : undefined), 10_000);
          const cert = new X509Certificate(m.identity!.cert);
          ctx.say(ctx.t('kubeletServingCsr.kubectlCertificateApprove.sayCert', { subject: cert.subject.replace('\n', ', '), sans: cert.subjectAltName ?? '', issuer: cert.issuer }));
          const listed = await kubectl('get', 'csr', csrName);
          ctx.say(`$ kubectl get csr ${csrName}\n${listed.stdout.trimEnd()}`); // verbatim: kubectl's output
          ctx.expect(ctx.t('kubeletServingCsr.kubectlCertificateApprove.expectIssued'), /Approved,Issued/.test(listed.stdout));
          ctx.expect(ctx.t('kubeletServingCsr.kubectlCertificateApprove.expectNames', { node, ip: plan.ip }),
            (cert.subjectAltName ?? '').includes(`DNS:${node}`) && (cert.subjectAltName ?? '').includes(`IP Address:${plan.ip}`) && cert.issuer === 'CN=kubernetes');
        }, { show: (client) => client === 'kubectl' });

      await ctx.step(ctx.t('kubeletServingCsr.kubectlLogsWorks.title'),
        ctx.t('kubeletServingCsr.kubectlLogsWorks.lesson'),
        async () => {
          const r = await kubectl('logs', 'web');
          ctx.say(`$ kubectl logs web\n${r.stdout.trimEnd().split('\n').slice(0, 3).join('\n')}`); // verbatim: kubectl's output
          ctx.expect(ctx.t('kubeletServingCsr.kubectlLogsWorks.expectAnswers'), r.code === 0 && r.stdout.length > 0);
          const raw = await w.cluster.client('admin.conf', 'kubectl').raw('GET', logsPath, undefined, undefined, '*/*');
          ctx.expect(ctx.t('kubeletServingCsr.kubectlLogsWorks.expect200'), raw.status === 200);
        }, { show: (_client, server) => server === `kubelet (${node})` });
    });
  },
};
