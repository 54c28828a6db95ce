/**
 * `npm run scenario -- rotate-ca`: a new Kubernetes CA is rolled into a running cluster without any flow
 * failing, in the phases of kubernetes.io's "Manual Rotation of CA Certificates":
 *   1. every party trusts a bundle of old + new CA (apiserver --client-ca-file, kubelet clientCAFile,
 *      every kubeconfig's certificate-authority-data, --kubelet-certificate-authority);
 *   2. every leaf the old CA signed is re-issued by the new one and handed over (no restart);
 *   3. the old CA is dropped from every bundle.
 * Each phase runs real work (a Deployment to Running pods, a log through the apiserver from a kubelet)
 * and every component's identity is probed; the run prints a timeline of the certificate each side
 * presented (by serial) and the bundle it trusted, from the trace.
 */
import { KubeClient } from '../components/client/kube-client.js';
import { caPem, kubeletClientName, type LeafName, type Pki } from '../pki/store.js';
import { rotateKubernetesCa } from '../pki/rotate.js';
import { identityOf } from '../sim/cluster.js';
import type { Scenario } from '../sim/scenario.js';
import type { CertSummary, TraceEvent } from '../components/client/trace.js';
import { deployAndRead, probe } from './lifecycle.js';

/** Every client identity of the cluster and who uses it. */
const identities = (pki: Pki): { name: string; cred: LeafName }[] => [
  { name: 'kubectl', cred: 'admin.conf' },
  { name: 'kube-controller-manager', cred: 'controller-manager.conf' },
  { name: 'kube-scheduler', cred: 'scheduler.conf' },
  ...pki.plan.nodes.map((n) => ({ name: `kubelet (${n.name})`, cred: kubeletClientName(n.name) })),
  { name: 'kube-proxy', cred: 'kube-proxy.conf' }, // the same kube-proxy.conf on every node
];

export const rotateCa: Scenario = {
  name: 'rotate-ca',
  title: 'Rotating the Kubernetes CA in a running cluster: trust both, switch the leaves, drop the old',
  summary: 'Three phases, each handed to the running components without a restart; no flow may fail at any step.',
  needsCluster: true,
  async run(ctx) {
    const cluster = ctx.cluster;
    const before = cluster.pki;
    const rotation = await rotateKubernetesCa(before);
    const start = ctx.events.length;

    // Serial → what it is, so the timeline can tell old-CA and new-CA certificates apart (both CAs are CN=kubernetes).
    const label = new Map<string, string>();
    const oldCaSerial = rotation.oldCa.cert.serialNumber.toUpperCase();
    const newCaSerial = rotation.newCa.cert.serialNumber.toUpperCase();
    for (const [name, c] of before.leaves) label.set(c.cert.serialNumber.toUpperCase(), `${name} [${c.cert.issuer.includes('CN=kubernetes') && c.cert.checkIssued(rotation.oldCa.cert) ? 'old CA' : c.cert.issuer.replace(/^CN=/, '')}]`);
    for (const name of rotation.reissued) label.set(rotation.pki.leaves.get(name)!.cert.serialNumber.toUpperCase(), `${name} [new CA]`);
    const show = (c: CertSummary | null): string => (c === null ? '(none)' : c.serial ? label.get(c.serial) ?? `${c.cn} (${c.issuer})` : c.cn);
    const bundleName = { old: `old CA (serial ${oldCaSerial.slice(0, 8)}…)`, both: 'old + new CA bundle', new: `new CA (serial ${newCaSerial.slice(0, 8)}…)` };

    const timeline: string[] = [];
    let staleFrom = Number.MAX_SAFE_INTEGER;
    let staleTo = Number.MAX_SAFE_INTEGER;
    const record = (phase: string, trusted: string, events: readonly TraceEvent[]): void => {
      const seen = new Map<string, string>();
      for (const e of events) {
        if (e.type === 'tls-client' && e.handshake === 'ok') {
          seen.set(`${e.client} → ${e.server}`, `presented ${show(e.clientCert)}; got ${show(e.serverCert)}; trusts ${e.trusts === 'kubernetes + kubernetes' ? 'old+new bundle' : e.trusts}`);
        }
      }
      timeline.push(`${phase} (bundle handed out: ${trusted})`);
      for (const [k, v] of [...seen.entries()].sort()) timeline.push(`  ${k}: ${v}`);
    };

    const work = async (phase: number, pki: Pki, trust: string): Promise<void> => {
      const admin = new KubeClient({ name: 'kubectl', server: cluster.apiserverUrl, identity: identityOf(pki, 'admin.conf'), serverCa: trust, trace: ctx.trace });
      try {
        const r = await deployAndRead(admin, `rotate-${phase}`, 1);
        ctx.expect('a Deployment becomes a Running pod (controller-manager, scheduler, kubelet) and its log comes back (apiserver → kubelet)', r.running >= 1 && r.log.length > 0);
      } finally {
        admin.close();
      }
      for (const c of identities(pki)) {
        const o = await probe(ctx.trace, `${c.name} (probe)`, cluster.apiserverUrl, identityOf(pki, c.cred), trust);
        ctx.expect(`${c.name} with ${c.cred} → kube-apiserver: 200`, o.status === 200, o.message);
      }
    };

    await ctx.step('Before: everyone uses the old CA',
      'The cluster as `kubeadm init` made it: one Kubernetes CA, every leaf signed by it.',
      async () => {
        const mark = ctx.events.length;
        await work(0, before, caPem(before, 'ca'));
        record('phase 0, before', bundleName.old, ctx.since(mark));
      }, { show: () => false });

    await ctx.step('Phase 1: trust old + new everywhere',
      'The new CA (same name "kubernetes", new key) is appended to every trust store: the apiserver\'s\n' +
      'client CA file, each kubelet\'s clientCAFile, the CA data of every kubeconfig, the apiserver\'s\n' +
      '--kubelet-certificate-authority. Leaves are still the old ones; they verify against the bundle.',
      async () => {
        await cluster.reloadPki(before, { ca: rotation.bundle });
        const mark = ctx.events.length;
        await work(1, before, rotation.bundle);
        record('phase 1, trust both', bundleName.both, ctx.since(mark));
      }, { show: () => false });

    await ctx.step('Phase 2: re-issue every leaf from the new CA',
      `${rotation.reissued.length} leaves (${rotation.reissued.join(', ')}) are re-issued by the new CA and\n` +
      'handed to the running components; the bundle is still old + new, so old and new leaves both verify\n' +
      'while the switch is in progress.',
      async () => {
        await cluster.reloadPki(rotation.pki, { ca: rotation.bundle });
        const mark = ctx.events.length;
        await work(2, rotation.pki, rotation.bundle);
        const events = ctx.since(mark);
        record('phase 2, new leaves', bundleName.both, events);
        const apiCert = events.find((e) => e.type === 'tls-client' && e.server === 'kube-apiserver' && e.handshake === 'ok');
        ctx.expect('the apiserver now presents its new-CA certificate', apiCert?.type === 'tls-client' && apiCert.serverCert?.serial === rotation.pki.leaves.get('apiserver')!.cert.serialNumber.toUpperCase());
        const kubeletHop = events.find((e) => e.type === 'tls-client' && e.client === 'kube-apiserver' && e.server.startsWith('kubelet') && e.handshake === 'ok');
        ctx.expect('the apiserver reaches the kubelet with its new-CA apiserver-kubelet-client and sees the new kubelet serving certificate',
          kubeletHop?.type === 'tls-client' && kubeletHop.clientCert?.serial === rotation.pki.leaves.get('apiserver-kubelet-client')!.cert.serialNumber.toUpperCase()
          && label.get(kubeletHop.serverCert?.serial ?? '')?.endsWith('[new CA]') === true, JSON.stringify(kubeletHop));
      }, { show: () => false });

    await ctx.step('Phase 3: drop the old CA',
      'Every bundle now holds only the new CA. Everything still works; a certificate from the old CA is\n' +
      'now refused by the apiserver (401), which shows the old CA is really gone.',
      async () => {
        await cluster.reloadPki(rotation.pki);
        const mark = ctx.events.length;
        await work(3, rotation.pki, caPem(rotation.pki, 'ca'));
        record('phase 3, old CA dropped', bundleName.new, ctx.since(mark));
        staleFrom = ctx.events.length;
        const stale = await probe(ctx.trace, 'kubectl (old admin.conf)', cluster.apiserverUrl, identityOf(before, 'admin.conf'), caPem(rotation.pki, 'ca'));
        staleTo = ctx.events.length;
        const seen = ctx.since(mark).find((e) => e.type === 'tls-server' && e.server === 'kube-apiserver' && e.clientCert?.serial === before.leaves.get('admin.conf')!.cert.serialNumber.toUpperCase());
        ctx.expect('an old-CA client certificate now gets 401 (x509: certificate signed by unknown authority)',
          stale.status === 401 && seen?.type === 'tls-server' && seen.reason === 'x509: certificate signed by unknown authority', `${stale.message} ${JSON.stringify(seen)}`);
      }, { show: () => false });

    await ctx.step('No flow failed at any step', 'Every handshake and request of the components during the rotation.', async () => {
      // The one deliberate refusal (the stale old-CA probe) is left out.
      const during = ctx.since(start).filter((_, i) => start + i < staleFrom || start + i >= staleTo);
      const refused = during.filter((e) => (e.type === 'tls-client' || e.type === 'tls-server') && e.handshake === 'refused');
      const unverified = during.filter((e) => e.type === 'tls-server' && e.clientCert !== null && !e.verified);
      const denied = during.filter((e) => e.type === 'request' && (e.status === 401 || e.status === 403));
      ctx.expect('no handshake was refused', refused.length === 0, JSON.stringify(refused[0]));
      ctx.expect('every client certificate verified', unverified.length === 0, JSON.stringify(unverified[0]));
      ctx.expect('no request got 401 or 403', denied.length === 0, JSON.stringify(denied[0]));
      ctx.say('Timeline: the certificate each side presented and the bundle it trusted, by phase. New handshakes only:');
      ctx.say('connections opened earlier, such as long-lived watches, keep the certificates they began with. A "(probe)"');
      ctx.say('is a one-shot client with exactly that component\'s current certificate and bundle, for components that');
      ctx.say('opened no new connection in the phase.');
      for (const l of timeline) ctx.say(l);
    });
  },
};
