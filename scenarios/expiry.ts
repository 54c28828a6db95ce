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
  title: 'A year later: leaf certificates expire, are renewed and picked up without a restart; ten years later the CAs expire',
  summary: 'The PKI is made as if `kubeadm init` ran 366 days ago; TLS checks it against the real clock.',
  needsCluster: false,
  async run(ctx) {
    const tmp = await tempClusterDir('k8s-expiry-');
    const running: { stop(): Promise<void> }[] = [];
    try {
      const now = new Date();
      const yearAgo = new Date(now.getTime() - 366 * DAY_MS);
      const dir = tmp.dir;
      const before = await ctx.step('A cluster installed 366 days ago',
        '`pki init` with the clock of 366 days ago: leaves are valid for a year (to 1 day ago), CAs for ten.',
        async () => {
          const r = await initPki(dir, { nodes: ['node-1'], now: () => yearAgo });
          const e = await checkExpiration(dir, now);
          for (const l of renderExpiration(e).split('\n')) ctx.say(l);
          ctx.expect('check-expiration shows every kubeadm leaf <invalid>', e.certificates.every((c) => c.residual === '<invalid>'));
          ctx.expect('check-expiration shows every CA still valid (8y left)', e.authorities.every((c) => c.residual === '8y'));
          return r.pki;
        });

      const etcd = await startEtcd(before, ctx);
      running.push(etcd);
      await ctx.step('etcd serves an expired certificate; the apiserver cannot reach it',
        'etcd starts (a server does not check its own certificate). The apiserver, as its first act, talks to\n' +
        'etcd and OpenSSL refuses etcd/server.crt: the apiserver crash-loops, as a real one does.',
        async () => {
          const mark = ctx.events.length;
          const api = newApiserver(before, etcd, ctx);
          const err = await api.start().then(() => undefined, (e: unknown) => e as Error);
          await api.stop();
          ctx.expect('the apiserver does not start', err !== undefined, 'it started');
          const r = refusal(ctx.since(mark), (e) => e.type === 'tls-client' && e.client === 'kube-apiserver' && e.server === 'etcd');
          ctx.say(`kube-apiserver → etcd: ${r?.type === 'tls-client' ? r.reason ?? '' : 'no refusal seen'}`);
          ctx.expect(`kube-apiserver → etcd fails with "${EXPIRED}"`, r?.type === 'tls-client' && r.code === 'CERT_HAS_EXPIRED' && r.reason === EXPIRED, JSON.stringify(r));
          const hc = new EtcdClient({ endpoints: [etcd.clientUrl], identity: identityOf(before, 'etcd/healthcheck-client'), ca: caPem(before, 'etcd/ca'), name: 'etcdctl (healthcheck)', trace: ctx.trace });
          const health = await hc.health().then(() => 'healthy', (e: Error) => e.message);
          hc.close();
          ctx.expect('the etcd health check fails the same way', /CERT_HAS_EXPIRED|expired/.test(health), health);
        });

      const api = await ctx.step('Renew etcd-server and apiserver-etcd-client; etcd reloads them',
        '`pki renew DIR etcd-server apiserver-etcd-client`: new keys, same names. etcd (not restarted: same\n' +
        'object, same port) is handed the renewed files; the apiserver\'s next attempt comes up.',
        async () => {
          const r = await renewCertificates(dir, ['etcd-server', 'apiserver-etcd-client'], { now });
          for (const l of renderRenew(r).split('\n').slice(4)) if (l) ctx.say(l);
          const partial = await loadPki(dir);
          const port = etcd.address?.port;
          etcd.reloadTls({ identity: identityOf(partial, 'etcd/server') });
          ctx.expect('etcd kept running on the same port', etcd.address?.port === port);
          const a = newApiserver(partial, etcd, ctx);
          await a.start();
          running.push(a);
          ctx.expect('the apiserver starts and reaches etcd', a.address !== undefined);
          return a;
        });

      await ctx.step('Every client still fails: the apiserver\'s serving certificate has expired',
        'Each client checks apiserver.crt against ca.crt and the real clock, and hangs up.',
        async () => {
          for (const c of CLIENTS) {
            const mark = ctx.events.length;
            const o = await probe(ctx.trace, c.name, api.url, identityOf(before, c.cred), caPem(before, 'ca'));
            const r = refusal(ctx.since(mark), (e) => e.type === 'tls-client' && e.client === c.name);
            ctx.expect(`${c.name} → kube-apiserver: ${EXPIRED}`, !o.ok && o.code === 'CERT_HAS_EXPIRED' && r?.type === 'tls-client' && r.reason === EXPIRED, o.message);
          }
        });

      await ctx.step('Renew the apiserver certificate; the apiserver reloads it; now the clients\' own certificates fail',
        'With a valid serving certificate the handshake completes, and the apiserver\'s x509 authenticator\n' +
        'finds each client certificate expired: 401 Unauthorized, the reason in its log (and the trace).',
        async () => {
          await renewCertificates(dir, ['apiserver'], { now });
          api.reloadTls({ serving: identityOf(await loadPki(dir), 'apiserver') });
          for (const c of CLIENTS) {
            const mark = ctx.events.length;
            const o = await probe(ctx.trace, c.name, api.url, identityOf(before, c.cred), caPem(before, 'ca'));
            const seen = ctx.since(mark).find((e) => e.type === 'tls-server' && e.server === 'kube-apiserver' && e.clientCert?.cn !== undefined);
            ctx.expect(`${c.name}: 401, the apiserver found its certificate expired`, o.status === 401 && seen?.type === 'tls-server' && seen.code === 'CERT_HAS_EXPIRED' && seen.reason === EXPIRED, `${o.message} ${JSON.stringify(seen)}`);
          }
        });

      const renewed = await ctx.step('`pki renew DIR all`, and every component picks up the renewed files',
        'kubeadm re-signs each leaf with its CA and a new key, keeping subject, SANs and usages; the CAs\n' +
        'are untouched. etcd and the apiserver reload (no restart); the other components start on them.',
        async () => {
          const r = await renewCertificates(dir, ['all'], { now });
          for (const l of renderRenew(r).split('\n').slice(4)) if (l) ctx.say(l);
          const after = await loadPki(dir);
          const e = await checkExpiration(dir, now);
          ctx.expect('check-expiration: every leaf has 364d left', e.certificates.every((c) => c.residual === '364d'), e.certificates.map((c) => c.residual).join(','));
          const caSame = (['ca', 'etcd/ca', 'front-proxy-ca'] as const).every((n) => caPem(after, n) === caPem(before, n));
          ctx.expect('the CAs are untouched', caSame);
          const keep = [...after.leaves.values()].every((l) => {
            const old = before.leaves.get(l.name)!.cert;
            return l.cert.subject === old.subject && l.cert.subjectAltName === old.subjectAltName && String(l.cert.keyUsage) === String(old.keyUsage);
          });
          ctx.expect('every leaf keeps its subject (CN, O), SANs and usages', keep);
          const newKeys = [...after.leaves.values()].every((l) => !l.cert.publicKey.export({ type: 'spki', format: 'der' }).equals(before.leaves.get(l.name)!.cert.publicKey.export({ type: 'spki', format: 'der' })));
          ctx.expect('every leaf has a new key pair (kubeadm\'s renewal makes new keys)', newKeys);
          etcd.reloadTls({ identity: identityOf(after, 'etcd/server') });
          api.reloadTls({
            serving: identityOf(after, 'apiserver'), etcd: { identity: identityOf(after, 'apiserver-etcd-client') },
            kubeletClient: { identity: identityOf(after, 'apiserver-kubelet-client') },
          });
          return after;
        });

      await ctx.step('Everything works again',
        'The rest of the cluster starts on the renewed files against the same etcd and apiserver: a\n' +
        'Deployment becomes Running pods and a log comes back through the apiserver from the kubelet.',
        async () => {
          const cluster = new Cluster({ pki: renewed, trace: ctx.trace, logger: createLogger(), ports: 'ephemeral', running: { etcd, apiserver: api } });
          running.push(cluster);
          await cluster.start();
          const admin = cluster.client('admin.conf', 'kubectl');
          const r = await deployAndRead(admin, 'after-renewal');
          ctx.expect('2 pods Running and their log read through the apiserver', r.running >= 2 && r.log.length > 0);
          for (const c of CLIENTS) {
            const o = await probe(ctx.trace, c.name, api.url, identityOf(renewed, c.cred), caPem(renewed, 'ca'));
            ctx.expect(`${c.name} → kube-apiserver: 200`, o.status === 200, o.message);
          }
        });
      for (const r of running.splice(0).reverse()) await r.stop();

      await ctx.step('Ten years and a day later: the CAs have expired',
        'A PKI made ten years and a day ago: the CAs themselves are past notAfter. Renewal needs a valid CA,\n' +
        'so `pki renew` refuses; and even a leaf still within its own dates fails, because OpenSSL checks\n' +
        'the dates of every certificate in the chain, the CA included.',
        async () => {
          const old = await tempClusterDir('k8s-ca-expiry-');
          try {
            // The CAs' ten years ended yesterday.
            const decade = new Date(now.getTime() - CA_VALIDITY_MS - DAY_MS);
            const r = await initPki(old.dir, { nodes: ['node-1'], now: () => decade });
            const e = await checkExpiration(old.dir, now);
            ctx.expect('check-expiration shows every CA <invalid>', e.authorities.every((c) => c.residual === '<invalid>'));
            const err = await renewCertificates(old.dir, ['all'], { now }).then(() => undefined, (x: unknown) => x);
            ctx.say(`pki renew: ${err instanceof Error ? err.message : 'renewed'}`);
            ctx.expect('renew refuses with CA_EXPIRED', err instanceof PkiError && err.code === 'CA_EXPIRED', String(err));
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
            ctx.expect('the new leaves are themselves valid now', notAfter(server.x) > now && notAfter(client.x) > now);
            const etcd2 = new Etcd({ host: r.pki.plan.advertiseAddress, port: 0, identity: { cert: server.cert, key: server.key }, trustedCa: caPem(r.pki, 'etcd/ca'), logger: createLogger(), trace: ctx.trace });
            await etcd2.start();
            try {
              const mark = ctx.events.length;
              const c = new EtcdClient({ endpoints: [etcd2.clientUrl], identity: { cert: client.cert, key: client.key }, ca: caPem(r.pki, 'etcd/ca'), name: 'kube-apiserver', trace: ctx.trace });
              const out = await c.health().then(() => 'healthy', (x: Error) => x.message);
              c.close();
              const seen = refusal(ctx.since(mark), (x) => x.type === 'tls-client' && x.client === 'kube-apiserver');
              ctx.say(`kube-apiserver → etcd: ${seen?.type === 'tls-client' ? seen.reason ?? '' : out}`);
              ctx.expect(`kube-apiserver → etcd fails with "${EXPIRED}" (the CA in the chain)`, seen?.type === 'tls-client' && seen.code === 'CERT_HAS_EXPIRED', out);
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
