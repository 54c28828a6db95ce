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
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

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
  title: EN('scenario.rotate-ca.title'),
  summary: EN('scenario.rotate-ca.summary'),
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
    for (const [name, c] of before.leaves) label.set(c.cert.serialNumber.toUpperCase(), `${name} [${c.cert.issuer.includes('CN=kubernetes') && c.cert.checkIssued(rotation.oldCa.cert) ? ctx.t('scenario.rotate-ca.oldCa') : c.cert.issuer.replace(/^CN=/, '')}]`);
    for (const name of rotation.reissued) label.set(rotation.pki.leaves.get(name)!.cert.serialNumber.toUpperCase(), `${name} [${ctx.t('scenario.rotate-ca.newCa')}]`);
    const show = (c: CertSummary | null): string => (c === null ? ctx.t('scenario.rotate-ca.none') : c.serial ? label.get(c.serial) ?? `${c.cn} (${c.issuer})` : c.cn);
    const bundleName = {
      old: ctx.t('scenario.rotate-ca.bundleOld', { serial: oldCaSerial.slice(0, 8) }), both: ctx.t('scenario.rotate-ca.bundleBoth'),
      new: ctx.t('scenario.rotate-ca.bundleNew', { serial: newCaSerial.slice(0, 8) }),
    };

    const timeline: string[] = [];
    let staleFrom = Number.MAX_SAFE_INTEGER;
    let staleTo = Number.MAX_SAFE_INTEGER;
    const record = (phase: string, trusted: string, events: readonly TraceEvent[]): void => {
      const seen = new Map<string, string>();
      for (const e of events) {
        if (e.type === 'tls-client' && e.handshake === 'ok') {
          seen.set(`${e.client} → ${e.server}`, ctx.t('scenario.rotate-ca.seen', {
            client: show(e.clientCert), server: show(e.serverCert), trusts: e.trusts === 'kubernetes + kubernetes' ? ctx.t('scenario.rotate-ca.trustsBoth') : e.trusts,
          }));
        }
      }
      timeline.push(ctx.t('scenario.rotate-ca.phaseLine', { phase, bundle: trusted }));
      for (const [k, v] of [...seen.entries()].sort()) timeline.push(`  ${k}: ${v}`);
    };

    const work = async (phase: number, pki: Pki, trust: string): Promise<void> => {
      const admin = new KubeClient({ name: 'kubectl', server: cluster.apiserverUrl, identity: identityOf(pki, 'admin.conf'), serverCa: trust, trace: ctx.trace });
      try {
        const r = await deployAndRead(admin, `rotate-${phase}`, 1);
        ctx.expect(ctx.t('scenario.rotate-ca.expectWork'), r.running >= 1 && r.log.length > 0);
      } finally {
        admin.close();
      }
      for (const c of identities(pki)) {
        const o = await probe(ctx.trace, `${c.name} (probe)`, cluster.apiserverUrl, identityOf(pki, c.cred), trust);
        ctx.expect(ctx.t('scenario.rotate-ca.expectIdentity', { client: c.name, cred: c.cred }), o.status === 200, o.message);
      }
    };

    await ctx.step(ctx.t('scenario.rotate-ca.before.title'),
      ctx.t('scenario.rotate-ca.before.lesson'),
      async () => {
        const mark = ctx.events.length;
        await work(0, before, caPem(before, 'ca'));
        record(ctx.t('scenario.rotate-ca.phase0'), bundleName.old, ctx.since(mark));
      }, { show: () => false });

    await ctx.step(ctx.t('scenario.rotate-ca.trustBoth.title'),
      ctx.t('scenario.rotate-ca.trustBoth.lesson'),
      async () => {
        await cluster.reloadPki(before, { ca: rotation.bundle });
        const mark = ctx.events.length;
        await work(1, before, rotation.bundle);
        record(ctx.t('scenario.rotate-ca.phase1'), bundleName.both, ctx.since(mark));
      }, { show: () => false });

    await ctx.step(ctx.t('scenario.rotate-ca.reissue.title'),
      ctx.t('scenario.rotate-ca.reissue.lesson', { count: rotation.reissued.length, leaves: rotation.reissued.join(', ') }),
      async () => {
        await cluster.reloadPki(rotation.pki, { ca: rotation.bundle });
        const mark = ctx.events.length;
        await work(2, rotation.pki, rotation.bundle);
        const events = ctx.since(mark);
        record(ctx.t('scenario.rotate-ca.phase2'), bundleName.both, events);
        const apiCert = events.find((e) => e.type === 'tls-client' && e.server === 'kube-apiserver' && e.handshake === 'ok');
        ctx.expect(ctx.t('scenario.rotate-ca.reissue.expectApiserver'), apiCert?.type === 'tls-client' && apiCert.serverCert?.serial === rotation.pki.leaves.get('apiserver')!.cert.serialNumber.toUpperCase());
        const kubeletHop = events.find((e) => e.type === 'tls-client' && e.client === 'kube-apiserver' && e.server.startsWith('kubelet') && e.handshake === 'ok');
        ctx.expect(ctx.t('scenario.rotate-ca.reissue.expectKubelet'),
          kubeletHop?.type === 'tls-client' && kubeletHop.clientCert?.serial === rotation.pki.leaves.get('apiserver-kubelet-client')!.cert.serialNumber.toUpperCase()
          && label.get(kubeletHop.serverCert?.serial ?? '')?.endsWith(`[${ctx.t('scenario.rotate-ca.newCa')}]`) === true, JSON.stringify(kubeletHop));
      }, { show: () => false });

    await ctx.step(ctx.t('scenario.rotate-ca.drop.title'),
      ctx.t('scenario.rotate-ca.drop.lesson'),
      async () => {
        await cluster.reloadPki(rotation.pki);
        const mark = ctx.events.length;
        await work(3, rotation.pki, caPem(rotation.pki, 'ca'));
        record(ctx.t('scenario.rotate-ca.phase3'), bundleName.new, ctx.since(mark));
        staleFrom = ctx.events.length;
        const stale = await probe(ctx.trace, 'kubectl (old admin.conf)', cluster.apiserverUrl, identityOf(before, 'admin.conf'), caPem(rotation.pki, 'ca'));
        staleTo = ctx.events.length;
        const seen = ctx.since(mark).find((e) => e.type === 'tls-server' && e.server === 'kube-apiserver' && e.clientCert?.serial === before.leaves.get('admin.conf')!.cert.serialNumber.toUpperCase());
        ctx.expect(ctx.t('scenario.rotate-ca.drop.expectStale'),
          stale.status === 401 && seen?.type === 'tls-server' && seen.reason === 'x509: certificate signed by unknown authority', `${stale.message} ${JSON.stringify(seen)}`);
      }, { show: () => false });

    await ctx.step(ctx.t('scenario.rotate-ca.noFailure.title'), ctx.t('scenario.rotate-ca.noFailure.lesson'), async () => {
      // The one deliberate refusal (the stale old-CA probe) is left out.
      const during = ctx.since(start).filter((_, i) => start + i < staleFrom || start + i >= staleTo);
      const refused = during.filter((e) => (e.type === 'tls-client' || e.type === 'tls-server') && e.handshake === 'refused');
      const unverified = during.filter((e) => e.type === 'tls-server' && e.clientCert !== null && !e.verified);
      const denied = during.filter((e) => e.type === 'request' && (e.status === 401 || e.status === 403));
      ctx.expect(ctx.t('scenario.rotate-ca.noFailure.expectHandshakes'), refused.length === 0, JSON.stringify(refused[0]));
      ctx.expect(ctx.t('scenario.rotate-ca.noFailure.expectVerified'), unverified.length === 0, JSON.stringify(unverified[0]));
      ctx.expect(ctx.t('scenario.rotate-ca.noFailure.expectStatus'), denied.length === 0, JSON.stringify(denied[0]));
      for (const l of ctx.t('scenario.rotate-ca.noFailure.timeline').split('\n')) ctx.say(l);
      for (const l of timeline) ctx.say(l);
    });
  },
};
