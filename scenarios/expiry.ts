/**
 * `npm run scenario -- expiry`: a year passes. The clock is moved honestly: the PKI is made as kubeadm
 * would have made it 366 days ago (notBefore/notAfter from that date), so OpenSSL, with the real
 * clock, finds every leaf expired while the 10-year CAs are still valid. `pki check-expiration` shows
 * it; each flow fails with Go's `x509: certificate has expired or is not yet valid`; `pki renew`
 * re-signs the leaves (new keys, same CN/O/SANs/usages, CAs untouched); the running etcd and apiserver
 * pick the renewed files up without a restart; the rest of the cluster starts and everything works.
 * Then ten years and a day: the CAs themselves have expired, renew refuses, and even a leaf that is
 * still within its own dates fails because its CA in the chain has expired.
 */
import { Etcd } from '../components/etcd/index.js';
import { EtcdClient } from '../components/client/etcd-client.js';
import { KubeApiserver } from '../components/kube-apiserver/index.js';
import { PkiError } from '../pki/errors.js';
import { createCsr } from '../pki/x509.js';
import { CA_VALIDITY_MS, generateKey, notAfter, privateKeyPem, signCsr } from '../pki/issue.js';
import { checkExpiration, renderExpiration, renderRenew, renewCertificates } from '../pki/renew.js';
import { caPem, initPki, loadPki, type LeafName, type Pki } from '../pki/store.js';
import { Cluster, identityOf } from '../sim/cluster.js';
import { createLogger } from '../sim/logger.js';
import type { Scenario, ScenarioContext } from '../sim/scenario.js';
import { DAY_MS, YEAR_MS, deployAndRead, probe, refusal, tempClusterDir } from './lifecycle.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

const EXPIRED = 'x509: certificate has expired or is not yet valid';

const startEtcd = async (pki: Pki, ctx: ScenarioContext): Promise<Etcd> => {
  const etcd = new Etcd({ host: pki.plan.advertiseAddress, port: 0, identity: identityOf(pki, 'etcd/server'), trustedCa: caPem(pki, 'etcd/ca'), logger: createLogger(), trace: ctx.trace });
  await etcd.start();
  return etcd;
};

const newApiserver = (pki: Pki, etcd: Etcd, ctx: ScenarioContext): KubeApiserver => new KubeApiserver({
  host: pki.plan.advertiseAddress, port: 0, identity: identityOf(pki, 'apiserver'), clientCa: caPem(pki, 'ca'),
  etcd: { endpoints: [etcd.clientUrl], identity: identityOf(pki, 'apiserver-etcd-client'), ca: caPem(pki, 'etcd/ca') },
  kubeletClient: { identity: identityOf(pki, 'apiserver-kubelet-client'), ca: caPem(pki, 'ca') },
  serviceAccount: pki.serviceAccount, advertiseAddress: pki.plan.advertiseAddress, logger: createLogger(), trace: ctx.trace,
});

const CLIENTS: readonly { name: string; cred: LeafName }[] = [
  { name: 'kubectl', cred: 'admin.conf' },
  { name: 'kube-controller-manager', cred: 'controller-manager.conf' },
  { name: 'kube-scheduler', cred: 'scheduler.conf' },
  { name: 'kubelet (node-1)', cred: 'nodes/node-1/kubelet.conf' },
  { name: 'kube-proxy (node-1)', cred: 'kube-proxy.conf' },
];

export const expiry: Scenario = {
  name: 'expiry',
  title: EN('scenario.expiry.title'),
  summary: EN('scenario.expiry.summary'),
  needsCluster: false,
  async run(ctx) {
    const tmp = await tempClusterDir('k8s-expiry-');
    const running: { stop(): Promise<void> }[] = [];
    try {
      const now = new Date();
      const yearAgo = new Date(now.getTime() - 366 * DAY_MS);
      const dir = tmp.dir;
      const before = await ctx.step(ctx.t('scenario.expiry.installed.title'),
        ctx.t('scenario.expiry.installed.lesson'),
        async () => {
          const r = await initPki(dir, { nodes: ['node-1'], now: () => yearAgo });
          const e = await checkExpiration(dir, now);
          for (const l of renderExpiration(e).split('\n')) ctx.say(l);
          ctx.expect(ctx.t('scenario.expiry.installed.expectLeaves'), e.certificates.every((c) => c.residual === '<invalid>'));
          ctx.expect(ctx.t('scenario.expiry.installed.expectCas'), e.authorities.every((c) => c.residual === '8y'));
          return r.pki;
        });

      const etcd = await startEtcd(before, ctx);
      running.push(etcd);
      await ctx.step(ctx.t('scenario.expiry.etcdExpired.title'),
        ctx.t('scenario.expiry.etcdExpired.lesson'),
        async () => {
          const mark = ctx.events.length;
          const api = newApiserver(before, etcd, ctx);
          const err = await api.start().then(() => undefined, (e: unknown) => e as Error);
          await api.stop();
          ctx.expect(ctx.t('scenario.expiry.etcdExpired.expectNoStart'), err !== undefined, ctx.t('scenario.expiry.etcdExpired.started'));
          const r = refusal(ctx.since(mark), (e) => e.type === 'tls-client' && e.client === 'kube-apiserver' && e.server === 'etcd');
          ctx.say(ctx.t('scenario.expiry.toEtcd', { reason: r?.type === 'tls-client' ? r.reason ?? '' : ctx.t('scenario.expiry.noRefusal') }));
          ctx.expect(ctx.t('scenario.expiry.etcdExpired.expectFails', { reason: EXPIRED }), r?.type === 'tls-client' && r.code === 'CERT_HAS_EXPIRED' && r.reason === EXPIRED, JSON.stringify(r));
          const hc = new EtcdClient({ endpoints: [etcd.clientUrl], identity: identityOf(before, 'etcd/healthcheck-client'), ca: caPem(before, 'etcd/ca'), name: 'etcdctl (healthcheck)', trace: ctx.trace });
          const health = await hc.health().then(() => 'healthy', (e: Error) => e.message);
          hc.close();
          ctx.expect(ctx.t('scenario.expiry.etcdExpired.expectHealth'), /CERT_HAS_EXPIRED|expired/.test(health), health);
        });

      const api = await ctx.step(ctx.t('scenario.expiry.renewEtcd.title'),
        ctx.t('scenario.expiry.renewEtcd.lesson'),
        async () => {
          const r = await renewCertificates(dir, ['etcd-server', 'apiserver-etcd-client'], { now });
          for (const l of renderRenew(r).split('\n').slice(4)) if (l) ctx.say(l);
          const partial = await loadPki(dir);
          const port = etcd.address?.port;
          etcd.reloadTls({ identity: identityOf(partial, 'etcd/server') });
          ctx.expect(ctx.t('scenario.expiry.renewEtcd.expectPort'), etcd.address?.port === port);
          const a = newApiserver(partial, etcd, ctx);
          await a.start();
          running.push(a);
          ctx.expect(ctx.t('scenario.expiry.renewEtcd.expectStarts'), a.address !== undefined);
          return a;
        });

      await ctx.step(ctx.t('scenario.expiry.clientsFail.title'),
        ctx.t('scenario.expiry.clientsFail.lesson'),
        async () => {
          for (const c of CLIENTS) {
            const mark = ctx.events.length;
            const o = await probe(ctx.trace, c.name, api.url, identityOf(before, c.cred), caPem(before, 'ca'));
            const r = refusal(ctx.since(mark), (e) => e.type === 'tls-client' && e.client === c.name);
            ctx.expect(ctx.t('scenario.expiry.clientsFail.expect', { client: c.name, reason: EXPIRED }), !o.ok && o.code === 'CERT_HAS_EXPIRED' && r?.type === 'tls-client' && r.reason === EXPIRED, o.message);
          }
        });

      await ctx.step(ctx.t('scenario.expiry.renewApiserver.title'),
        ctx.t('scenario.expiry.renewApiserver.lesson'),
        async () => {
          await renewCertificates(dir, ['apiserver'], { now });
          api.reloadTls({ serving: identityOf(await loadPki(dir), 'apiserver') });
          for (const c of CLIENTS) {
            const mark = ctx.events.length;
            const o = await probe(ctx.trace, c.name, api.url, identityOf(before, c.cred), caPem(before, 'ca'));
            const seen = ctx.since(mark).find((e) => e.type === 'tls-server' && e.server === 'kube-apiserver' && e.clientCert?.cn !== undefined);
            ctx.expect(ctx.t('scenario.expiry.renewApiserver.expect', { client: c.name }), o.status === 401 && seen?.type === 'tls-server' && seen.code === 'CERT_HAS_EXPIRED' && seen.reason === EXPIRED, `${o.message} ${JSON.stringify(seen)}`);
          }
        });

      const renewed = await ctx.step(ctx.t('scenario.expiry.renewAll.title'),
        ctx.t('scenario.expiry.renewAll.lesson'),
        async () => {
          const r = await renewCertificates(dir, ['all'], { now });
          for (const l of renderRenew(r).split('\n').slice(4)) if (l) ctx.say(l);
          const after = await loadPki(dir);
          const e = await checkExpiration(dir, now);
          ctx.expect(ctx.t('scenario.expiry.renewAll.expectResidual'), e.certificates.every((c) => c.residual === '364d'), e.certificates.map((c) => c.residual).join(','));
          const caSame = (['ca', 'etcd/ca', 'front-proxy-ca'] as const).every((n) => caPem(after, n) === caPem(before, n));
          ctx.expect(ctx.t('scenario.expiry.renewAll.expectCas'), caSame);
          const keep = [...after.leaves.values()].every((l) => {
            const old = before.leaves.get(l.name)!.cert;
            return l.cert.subject === old.subject && l.cert.subjectAltName === old.subjectAltName && String(l.cert.keyUsage) === String(old.keyUsage);
          });
          ctx.expect(ctx.t('scenario.expiry.renewAll.expectKeep'), keep);
          const newKeys = [...after.leaves.values()].every((l) => !l.cert.publicKey.export({ type: 'spki', format: 'der' }).equals(before.leaves.get(l.name)!.cert.publicKey.export({ type: 'spki', format: 'der' })));
          ctx.expect(ctx.t('scenario.expiry.renewAll.expectNewKeys'), newKeys);
          etcd.reloadTls({ identity: identityOf(after, 'etcd/server') });
          api.reloadTls({
            serving: identityOf(after, 'apiserver'), etcd: { identity: identityOf(after, 'apiserver-etcd-client') },
            kubeletClient: { identity: identityOf(after, 'apiserver-kubelet-client') },
          });
          return after;
        });

      await ctx.step(ctx.t('scenario.expiry.works.title'),
        ctx.t('scenario.expiry.works.lesson'),
        async () => {
          const cluster = new Cluster({ pki: renewed, trace: ctx.trace, logger: createLogger(), ports: 'ephemeral', running: { etcd, apiserver: api } });
          running.push(cluster);
          await cluster.start();
          const admin = cluster.client('admin.conf', 'kubectl');
          const r = await deployAndRead(admin, 'after-renewal');
          ctx.expect(ctx.t('scenario.expiry.works.expectPods'), r.running >= 2 && r.log.length > 0);
          for (const c of CLIENTS) {
            const o = await probe(ctx.trace, c.name, api.url, identityOf(renewed, c.cred), caPem(renewed, 'ca'));
            ctx.expect(ctx.t('scenario.expiry.works.expectClient', { client: c.name }), o.status === 200, o.message);
          }
        });
      for (const r of running.splice(0).reverse()) await r.stop();

      await ctx.step(ctx.t('scenario.expiry.caExpired.title'),
        ctx.t('scenario.expiry.caExpired.lesson'),
        async () => {
          const old = await tempClusterDir('k8s-ca-expiry-');
          try {
            // The CAs' ten years ended yesterday.
            const decade = new Date(now.getTime() - CA_VALIDITY_MS - DAY_MS);
            const r = await initPki(old.dir, { nodes: ['node-1'], now: () => decade });
            const e = await checkExpiration(old.dir, now);
            ctx.expect(ctx.t('scenario.expiry.caExpired.expectCas'), e.authorities.every((c) => c.residual === '<invalid>'));
            const err = await renewCertificates(old.dir, ['all'], { now }).then(() => undefined, (x: unknown) => x);
            ctx.say(ctx.t('scenario.expiry.caExpired.sayRenew', { result: err instanceof Error ? err.message : ctx.t('scenario.expiry.caExpired.renewed') }));
            ctx.expect(ctx.t('scenario.expiry.caExpired.expectRefuses'), err instanceof PkiError && err.code === 'CA_EXPIRED', String(err));
            // A leaf signed while the etcd CA was still valid, valid itself until next year.
            const etcdCa = r.pki.signers.get('etcd/ca')!;
            const signedAt = new Date(notAfter(etcdCa.cert).getTime() - DAY_MS);
            const mk = async (cn: string, usages: ('serverAuth' | 'clientAuth')[], sans = { dns: ['localhost'], ip: ['127.0.0.1', r.pki.plan.advertiseAddress] }) => {
              const key = await generateKey('rsa-2048');
              const cert = signCsr(createCsr({ cn, o: [] }, sans, key), etcdCa, { usages, now: signedAt, validityMs: YEAR_MS });
              return { cert: cert.toString(), key: privateKeyPem(key.privateKey), x: cert };
            };
            const server = await mk('cp-1', ['serverAuth', 'clientAuth']);
            const client = await mk('kube-apiserver-etcd-client', ['clientAuth'], { dns: [], ip: [] });
            ctx.expect(ctx.t('scenario.expiry.caExpired.expectLeavesValid'), notAfter(server.x) > now && notAfter(client.x) > now);
            const etcd2 = new Etcd({ host: r.pki.plan.advertiseAddress, port: 0, identity: { cert: server.cert, key: server.key }, trustedCa: caPem(r.pki, 'etcd/ca'), logger: createLogger(), trace: ctx.trace });
            await etcd2.start();
            try {
              const mark = ctx.events.length;
              const c = new EtcdClient({ endpoints: [etcd2.clientUrl], identity: { cert: client.cert, key: client.key }, ca: caPem(r.pki, 'etcd/ca'), name: 'kube-apiserver', trace: ctx.trace });
              const out = await c.health().then(() => 'healthy', (x: Error) => x.message);
              c.close();
              const seen = refusal(ctx.since(mark), (x) => x.type === 'tls-client' && x.client === 'kube-apiserver');
              ctx.say(ctx.t('scenario.expiry.toEtcd', { reason: seen?.type === 'tls-client' ? seen.reason ?? '' : out }));
              ctx.expect(ctx.t('scenario.expiry.caExpired.expectChain', { reason: EXPIRED }), seen?.type === 'tls-client' && seen.code === 'CERT_HAS_EXPIRED', out);
            } finally {
              await etcd2.stop();
            }
          } finally {
            await old.remove();
          }
        });
    } finally {
      for (const r of running.reverse()) await r.stop().catch(() => undefined);
      await tmp.remove();
    }
  },
};
