/**
 * `npm run scenario -- kubelet-dead-end`: a node switched off past its client certificate's expiry
 * cannot come back by itself (kubeadm#2054), and kubeadm's documented recovery ("Kubelet client
 * certificate rotation fails", kubeadm's troubleshooting page) restores it.
 *
 * The signer issues 6-second certificates (--cluster-signing-duration=6s, no backdate), so "past its
 * expiry" is seconds, not a year. kubeadm join deleted bootstrap-kubelet.conf after the TLS bootstrap,
 * so at start the kubelet finds an expired kubelet.conf and no bootstrap kubeconfig, and exits
 * (components/kubelet/client-config.ts, as LoadClientConfig). The apiserver refuses the expired
 * certificate with 401. The recovery, step by step as documented:
 *   1. back up and delete kubelet.conf and pki/kubelet-client*;
 *   2. on a control-plane node holding ca.key: kubeadm kubeconfig user --org system:nodes --client-name system:node:NODE;
 *   3. copy it to the node as kubelet.conf;
 *   4. restart the kubelet, wait for kubelet-client-current.pem to be recreated (the store is empty, so
 *      the kubeconfig's certificate is the bootstrap one and is rotated at once);
 *   5. point kubelet.conf at kubelet-client-current.pem (client-certificate / client-key);
 *   6. restart the kubelet;
 *   7. the node is Ready.
 */
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { Node } from '../components/api/types.js';
import { resourcePath } from '../components/client/kube-client.js';
import { Kubelet, type KubeletOptions } from '../components/kubelet/index.js';
import { KubeletStartError, loadClientConfig } from '../components/kubelet/client-config.js';
import type { Identity } from '../components/client/tls.js';
import { generateKey, privateKeyPem, selfSignCa, signCsr } from '../pki/issue.js';
import { renderKubeconfig } from '../pki/kubeconfig.js';
import { nodePlan } from '../pki/spec.js';
import { caPem } from '../pki/store.js';
import { createCsr } from '../pki/x509.js';
import { createLogger } from '../sim/logger.js';
import { probe } from '../sim/probe.js';
import type { Scenario } from '../sim/scenario.js';
import { waitFor } from '../sim/wait.js';
import { inJoinWorkspace } from './node-join.js';
import { expectVerdict } from './refusals.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

const NODE = 'node-3';
const LIFETIME_MS = 6000;
const REASON = 'x509: certificate has expired or is not yet valid';

/** The self-signed serving pair kubeadm's kubelet makes for itself (as sim/join.ts does). */
async function selfSignedServing(node: string, ip: string): Promise<Identity> {
  const now = new Date();
  const stamp = Math.floor(now.getTime() / 1000);
  const [caKey, key] = await Promise.all([generateKey('ecdsa-p256'), generateKey('ecdsa-p256')]);
  const own = selfSignCa({ name: `${node}-ca`, cn: `${node}-ca@${stamp}` }, caKey, now);
  const cert = signCsr(createCsr({ cn: `${node}@${stamp}`, o: [] }, { dns: [node], ip: [ip] }, key), own, { usages: ['serverAuth'], now });
  return { cert: cert.toString() + own.cert.toString(), key: privateKeyPem(key.privateKey) };
}

const readPem = async (file: string): Promise<X509Certificate> => new X509Certificate(await fs.readFile(file, 'utf8'));

export const kubeletDeadEnd: Scenario = {
  name: 'kubelet-dead-end',
  title: EN('scenario.kubelet-dead-end.title'),
  summary: EN('scenario.kubelet-dead-end.summary'),
  needsCluster: false,
  async run(ctx) {
    await inJoinWorkspace(ctx, 'k8s-dead-end-', async (w) => {
      const plan = nodePlan(NODE, 2, ctx.pki.plan.loopback);
      const kubeconfig = path.join(w.dir, 'kubelet.conf');
      const bootstrapKubeconfig = path.join(w.dir, 'bootstrap-kubelet.conf');
      const currentPem = path.join(w.dir, 'pki/kubelet-client-current.pem');
      const servingIdentity = await selfSignedServing(NODE, plan.ip);
      let kubelet: Kubelet | undefined;
      w.defer(async () => { await kubelet?.stop(); });
      const options = (identity: Identity, server: string, ca: string, force: boolean): KubeletOptions => ({
        nodeName: NODE, nodeIP: plan.ip, podCIDR: plan.podCIDR, apiserver: server, identity, serverCa: ca, clientCa: ca, port: 0,
        servingIdentity, certificateDir: w.dir, rotateCertificates: true, ...(force ? { forceClientRotation: true } : {}),
      });
      /** What systemd does on `systemctl restart kubelet`: the kubelet's start-up, then the kubelet. */
      const startKubelet = async (): Promise<Kubelet> => {
        const loaded = await loadClientConfig(kubeconfig, bootstrapKubeconfig);
        if (loaded.source !== 'kubeconfig' || !loaded.identity) throw new Error(`unexpected ${loaded.source} start`);
        const storeEmpty = !(await fs.stat(currentPem).then(() => true, () => false));
        const k = new Kubelet(options(loaded.identity, loaded.server, loaded.caPem, storeEmpty), { logger: createLogger(), trace: ctx.trace });
        await k.start();
        return k;
      };

      const firstNotAfter = await ctx.step(ctx.t('scenario.kubelet-dead-end.join.title'),
        ctx.t('scenario.kubelet-dead-end.join.lesson', { node: NODE }),
        async () => {
          await w.startCluster({ durationMs: LIFETIME_MS, backdateMs: 0 });
          const joined = await w.join(NODE, { kubelet: { rotateCertificates: true, servingIdentity }, writeFiles: true });
          kubelet = joined.kubelet;
          const cert = await readPem(currentPem);
          ctx.say(ctx.t('scenario.kubelet-dead-end.join.say', { subject: cert.subject.replace(/\n/g, ', '), from: cert.validFrom, to: cert.validTo }));
          ctx.expect(ctx.t('scenario.kubelet-dead-end.join.expect'), !(await fs.stat(bootstrapKubeconfig).then(() => true, () => false)));
          return new Date(cert.validTo);
        }, { show: () => false });

      const expired = await ctx.step(ctx.t('scenario.kubelet-dead-end.off.title'),
        ctx.t('scenario.kubelet-dead-end.off.lesson'),
        async () => {
          await kubelet!.stop();
          kubelet = undefined;
          const cert = await readPem(currentPem);
          const notAfter = new Date(cert.validTo);
          await waitFor('the client certificate to expire', () => (Date.now() > notAfter.getTime() + 1000 ? true : undefined), LIFETIME_MS + 5000);
          ctx.say(ctx.t('scenario.kubelet-dead-end.off.say', { now: new Date().toISOString(), notAfter: notAfter.toISOString(), first: firstNotAfter.toISOString() }));
          ctx.expect(ctx.t('scenario.kubelet-dead-end.off.expect'), Date.now() > notAfter.getTime());
          return { cert, key: await fs.readFile(currentPem, 'utf8') };
        });

      await ctx.step(ctx.t('scenario.kubelet-dead-end.back.title'),
        ctx.t('scenario.kubelet-dead-end.back.lesson'),
        async () => {
          const err = await loadClientConfig(kubeconfig, bootstrapKubeconfig).then(() => undefined, (e: unknown) => e);
          ctx.say(ctx.t('scenario.kubelet-dead-end.back.say', { result: err instanceof Error ? err.message : ctx.t('scenario.kubelet-dead-end.back.started') }));
          ctx.expect(ctx.t('scenario.kubelet-dead-end.back.expectExits', { message: `failed to run Kubelet: unable to load bootstrap kubeconfig: stat ${bootstrapKubeconfig}: no such file or directory` }),
            err instanceof KubeletStartError && err.code === 'BOOTSTRAP_KUBECONFIG_MISSING' && err.message === `failed to run Kubelet: unable to load bootstrap kubeconfig: stat ${bootstrapKubeconfig}: no such file or directory`);
          const identity = { cert: expired.cert.toString(), key: expired.key };
          const o = await probe(ctx.trace, { client: `kubelet (${NODE})`, server: 'kube-apiserver', url: w.cluster.apiserverUrl, identity, serverCa: caPem(ctx.pki, 'ca'), method: 'GET', path: `/api/v1/nodes/${NODE}` });
          expectVerdict(ctx, ctx.t('scenario.kubelet-dead-end.back.who', { client: `kubelet (${NODE})` }), o, { layer: 'authentication', decision: 'unauthenticated', status: 401, code: 'CERT_HAS_EXPIRED', reason: REASON });
        });

      await ctx.step(ctx.t('scenario.kubelet-dead-end.recover13.title'),
        ctx.t('scenario.kubelet-dead-end.recover13.lesson', { node: NODE }),
        async () => {
          const backup = path.join(w.dir, 'backup');
          await fs.mkdir(backup, { recursive: true });
          for (const f of ['kubelet.conf', ...(await fs.readdir(path.join(w.dir, 'pki'))).filter((n) => n.startsWith('kubelet-client')).map((n) => `pki/${n}`)]) {
            await fs.rename(path.join(w.dir, f), path.join(backup, path.basename(f)));
          }
          const ca = ctx.pki.signers.get('ca')!;
          const key = await generateKey('rsa-2048');
          const cert = signCsr(createCsr({ cn: `system:node:${NODE}`, o: ['system:nodes'] }, { dns: [], ip: [] }, key), ca, { usages: ['clientAuth'], now: new Date() });
          await fs.writeFile(kubeconfig, renderKubeconfig({ server: w.cluster.apiserverUrl, clusterName: 'kubernetes', user: `system:node:${NODE}`, caPem: caPem(ctx.pki, 'ca'), certPem: cert.toString(), keyPem: privateKeyPem(key.privateKey) }), { mode: 0o600 });
          ctx.say(ctx.t('scenario.kubelet-dead-end.recover13.say', { node: NODE, ca: ca.subject.cn, validTo: cert.validTo }));
          ctx.expect(ctx.t('scenario.kubelet-dead-end.recover13.expectMode'), ((await fs.stat(kubeconfig)).mode & 0o777) === 0o600);
          ctx.expect(ctx.t('scenario.kubelet-dead-end.recover13.expectNoPem'), !(await fs.readdir(path.join(w.dir, 'pki'))).some((n) => n.startsWith('kubelet-client')));
        }, { show: () => false });

      await ctx.step(ctx.t('scenario.kubelet-dead-end.recover4.title'),
        ctx.t('scenario.kubelet-dead-end.recover4.lesson'),
        async () => {
          kubelet = await startKubelet();
          const m = kubelet.clientCertificates!;
          await waitFor('kubelet-client-current.pem', async () => (m.rotations.length >= 1 && await fs.stat(currentPem).then(() => true, () => false) ? true : undefined), 20_000);
          const r = m.rotations[0]!;
          ctx.say(ctx.t('scenario.kubelet-dead-end.recover4.say', { csr: r.csr, previous: r.previousSerial ?? '-', serial: r.serial }));
          ctx.expect(ctx.t('scenario.kubelet-dead-end.recover4.expectForced'), r.previousSerial !== undefined);
          ctx.expect(ctx.t('scenario.kubelet-dead-end.recover4.expectCurrent'), (await readPem(currentPem)).serialNumber === r.serial);
        }, { show: (client) => client === `kubelet (${NODE})` });

      await ctx.step(ctx.t('scenario.kubelet-dead-end.recover57.title'),
        ctx.t('scenario.kubelet-dead-end.recover57.lesson'),
        async () => {
          const m = kubelet!.clientCertificates!;
          const before = m.rotations.length;
          const raw = YAML.parse(await fs.readFile(kubeconfig, 'utf8')) as { users: { user: Record<string, string> }[] };
          const user = raw.users[0]!.user;
          delete user['client-certificate-data'];
          delete user['client-key-data'];
          user['client-certificate'] = user['client-key'] = currentPem;
          await fs.writeFile(kubeconfig, YAML.stringify(raw), { mode: 0o600 });
          await waitFor('a rotation', () => (m.rotations.length > before ? true : undefined), 20_000);
          const admin = w.cluster.client('admin.conf', 'kubectl');
          const bootBefore = (await admin.get<Node>(resourcePath({ resource: 'nodes', name: NODE }))).status?.nodeInfo?.bootID;
          await kubelet!.stop();
          const mark = ctx.events.length;
          kubelet = await startKubelet();
          const serial = (await readPem(currentPem)).serialNumber.toUpperCase();
          const node = await waitFor('the node Ready after the restart', async () => {
            const n = await admin.get<Node>(resourcePath({ resource: 'nodes', name: NODE }));
            return n.status?.nodeInfo?.bootID !== bootBefore && n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? n : undefined;
          }, 20_000);
          ctx.expect(ctx.t('scenario.kubelet-dead-end.recover57.expectReady', { node: NODE }), node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True');
          const presented = ctx.since(mark).some((e) => e.type === 'tls-server' && e.server === 'kube-apiserver' && e.clientCert?.serial === serial && e.verified);
          ctx.expect(ctx.t('scenario.kubelet-dead-end.recover57.expectVerified'), presented);
          ctx.expect(ctx.t('scenario.kubelet-dead-end.recover57.expectNames'), /client-certificate: /.test(await fs.readFile(kubeconfig, 'utf8')));
        }, { show: () => false });
    });
  },
};
