/**
 * `npm run scenario -- rotate-kubelet`: the kubelet's client certificate rotates by itself.
 *
 * The signer issues certificates that live 4 seconds (--cluster-signing-duration=4s, no backdate: the
 * sim's clock is the real one, so a short life is how time passes). The kubelet's certificate manager
 * computes its rotation deadline as notBefore + 70-90% of the lifetime (jittered), makes a new key and a
 * CSR as system:node:<name>; csrapproving recognises it as selfnodeclient (the requester is the node
 * in the CN) and, after a SubjectAccessReview (kubeadm:node-autoapprove-certificate-rotation), approves
 * it; csrsigning signs it. New connections present the new certificate; the pod watch opened with the
 * first one is not dropped.
 */
import { X509Certificate } from 'node:crypto';
import type { CertificateSigningRequest } from '../components/api/certificates.js';
import { resourcePath } from '../components/client/kube-client.js';
import type { KubeObject, Pod } from '../components/api/types.js';
import type { JoinedNode } from '../sim/join.js';
import type { Scenario } from '../sim/scenario.js';
import type { RequestEvent, TlsClientEvent } from '../components/client/trace.js';
import { waitFor } from '../sim/wait.js';
import { inJoinWorkspace } from './node-join.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

const CSRS = resourcePath({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests' });
const LIFETIME_MS = 4000;
const hhmmss = (d: Date): string => d.toISOString().slice(11, 23);

export const rotateKubelet: Scenario = {
  name: 'rotate-kubelet',
  title: EN('scenario.rotate-kubelet.title'),
  summary: EN('scenario.rotate-kubelet.summary'),
  needsCluster: false,
  async run(ctx) {
    await inJoinWorkspace(ctx, 'k8s-rotate-', async (w) => {
      const node = 'node-3';
      let joined: JoinedNode | undefined;
      await ctx.step(ctx.t('scenario.rotate-kubelet.join.title'),
        ctx.t('scenario.rotate-kubelet.join.lesson'),
        async () => {
          await w.startCluster({ durationMs: LIFETIME_MS, backdateMs: 0 });
          joined = await w.join(node, { kubelet: { rotateCertificates: true }, writeFiles: true });
          const cert = new X509Certificate(joined.bootstrapped.identity.cert);
          const m = joined.kubelet.clientCertificates!;
          const nb = Date.parse(cert.validFrom);
          const fraction = (m.deadline!.getTime() - nb) / (Date.parse(cert.validTo) - nb);
          ctx.say(ctx.t('scenario.rotate-kubelet.join.sayFirst', { serial: cert.serialNumber, from: cert.validFrom, to: cert.validTo }));
          ctx.say(ctx.t('scenario.rotate-kubelet.join.sayDeadline', { deadline: m.deadline!.toISOString(), percent: (fraction * 100).toFixed(1) }));
          ctx.expect(ctx.t('scenario.rotate-kubelet.join.expectLifetime'), Date.parse(cert.validTo) - nb <= LIFETIME_MS + 1000);
          ctx.expect(ctx.t('scenario.rotate-kubelet.join.expectDeadline'), fraction >= 0.7 - 0.001 && fraction <= 0.9 + 0.001);
        }, { show: () => false });

      const mark = ctx.events.length;
      await ctx.step(ctx.t('scenario.rotate-kubelet.rotations.title'),
        ctx.t('scenario.rotate-kubelet.rotations.lesson'),
        async () => {
          const m = joined!.kubelet.clientCertificates!;
          await waitFor('two rotations', () => (m.rotations.length >= 2 ? true : undefined), 20_000);
          for (const r of m.rotations.slice(0, 2)) {
            ctx.say(ctx.t('scenario.rotate-kubelet.rotations.say', { at: hhmmss(r.at), csr: r.csr, previous: r.previousSerial ?? '-', serial: r.serial, deadline: hhmmss(r.deadline!), notAfter: hhmmss(r.notAfter) }));
            const csr = await w.cluster.client('admin.conf', 'kubectl').get<CertificateSigningRequest>(`${CSRS}/${r.csr}`);
            const approved = csr.status?.conditions?.find((c) => c.type === 'Approved');
            ctx.expect(ctx.t('scenario.rotate-kubelet.rotations.expectApproved', { csr: r.csr, message: approved?.message ?? '' }),
              csr.spec.username === 'system:node:node-3' && approved?.reason === 'AutoApproved' && approved.message === 'Auto approving self kubelet client certificate after SubjectAccessReview.');
            ctx.expect(ctx.t('scenario.rotate-kubelet.rotations.expectDeadline', { csr: r.csr }), r.at.getTime() >= r.deadline!.getTime() - 5);
          }
          const r1 = m.rotations[0]!;
          const sar = ctx.since(mark).some((e) => e.type === 'request' && e.path === '/apis/authorization.k8s.io/v1/subjectaccessreviews' && e.user === 'system:serviceaccount:kube-system:certificate-controller');
          ctx.expect(ctx.t('scenario.rotate-kubelet.rotations.expectSar'), sar);
          const presented = ctx.since(mark).filter((e): e is TlsClientEvent => e.type === 'tls-client' && e.client === `kubelet (${node})`).map((e) => e.clientCert?.serial);
          ctx.expect(ctx.t('scenario.rotate-kubelet.rotations.expectPresented'), presented.includes(r1.serial.toUpperCase()));
        }, { show: (client) => client === `kubelet (${node})` || client.includes('certificate-controller') });

      await ctx.step(ctx.t('scenario.rotate-kubelet.watch.title'),
        ctx.t('scenario.rotate-kubelet.watch.lesson'),
        async () => {
          const admin = w.cluster.client('admin.conf', 'kubectl');
          const watches = ctx.events.filter((e): e is RequestEvent => e.type === 'request' && e.user === `system:node:${node}` && e.path.startsWith('/api/v1/pods?') && e.path.includes('watch=true'));
          await admin.create(resourcePath({ resource: 'pods', namespace: 'default' }), {
            apiVersion: 'v1', kind: 'Pod', metadata: { name: 'after-rotation', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
          } as KubeObject);
          const pod = await waitFor('the pod to run', async () => {
            const p = await admin.get<Pod>(resourcePath({ resource: 'pods', namespace: 'default', name: 'after-rotation' }));
            return p.status?.phase === 'Running' ? p : undefined;
          }, 20_000);
          const later = ctx.events.filter((e): e is RequestEvent => e.type === 'request' && e.user === `system:node:${node}` && e.path.startsWith('/api/v1/pods?') && e.path.includes('watch=true'));
          ctx.expect(ctx.t('scenario.rotate-kubelet.watch.expectOne'), watches.length === 1 && later.length === 1);
          ctx.expect(ctx.t('scenario.rotate-kubelet.watch.expectPod', { node: pod.spec.nodeName ?? '' }), pod.status?.phase === 'Running' && pod.spec.nodeName === node);
        }, { show: () => false });
    });
  },
};
