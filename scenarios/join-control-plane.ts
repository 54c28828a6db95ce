/**
 * `npm run scenario -- join-control-plane`: a second control-plane node, cp-2, joins as
 * `kubeadm join --control-plane --certificate-key KEY` does.
 *   - upload-certs: the CAs (Kubernetes, etcd, front-proxy) and the service-account key pair, encrypted
 *     with AES-GCM under a 32-byte certificate key, go into the Secret kube-system/kubeadm-certs, owned
 *     by a 2-hour bootstrap token; a Role lets the bootstrap-token group read exactly that Secret;
 *   - a wrong key fails with kubeadm's words and writes nothing;
 *   - with the right key cp-2 gets the CAs and issues its own leaves (apiserver for cp-2 / its own
 *     address, etcd server and peer, client certificates), starts a second apiserver that reaches etcd
 *     with its own apiserver-etcd-client, and serves the same cluster state.
 * What is not simulated: the embedded etcd is a single member (no raft, no member add). cp-2's etcd peer
 * certificate is shown on a real peer-TLS handshake with cp-1's (both ways verified against the etcd CA),
 * and cp-2's apiserver shares cp-1's etcd.
 */
import https from 'node:https';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { KubeApiserver } from '../components/kube-apiserver/index.js';
import { KubeClient, resourcePath } from '../components/client/kube-client.js';
import { closeServer, createTlsAgent, createTlsServer, listen, type Identity } from '../components/client/tls.js';
import type { KubeObject } from '../components/api/types.js';
import {
  CERTS_TO_TRANSFER, createCertificateKey, downloadCerts, secretDataKey, KUBEADM_CERTS_SECRET, type KubeadmCertsSecret,
} from '../pki/copycerts.js';
import { PkiError } from '../pki/errors.js';
import { joinControlPlanePki } from '../pki/join.js';
import { caPem } from '../pki/store.js';
import { identityOf } from '../sim/cluster.js';
import { createLogger } from '../sim/logger.js';
import { uploadCerts } from '../sim/upload-certs.js';
import type { Scenario, ScenarioContext } from '../sim/scenario.js';
import { deployAndRead, probe, tempClusterDir } from './lifecycle.js';
import { translator } from '../sim/i18n/index.js';

/** English, the source: the title and summary `--list` and the runner fall back to. */
const EN = translator('en');

/** One handshake between two etcd peer certificates, on a peer-port listener with etcd's peer TLS settings. */
async function peerHandshake(ctx: ScenarioContext, host: string, server: { name: string; identity: Identity }, client: { name: string; identity: Identity }, etcdCa: string): Promise<string> {
  const srv = createTlsServer({ name: server.name, identity: server.identity, clientCa: etcdCa, mode: 'require' }, (_req, res) => { res.end('ok'); }, ctx.trace);
  const addr = await listen(srv, host, 0, server.name);
  const agent = createTlsAgent({ name: client.name, target: server.name, identity: client.identity, serverCa: etcdCa }, ctx.trace);
  try {
    return await new Promise<string>((resolve) => {
      const req = https.request({ host, port: addr.port, path: '/members', agent }, (res) => { res.resume(); res.on('end', () => resolve(`HTTP ${res.statusCode}`)); });
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end();
    });
  } finally {
    agent.destroy();
    await closeServer(srv);
  }
}

export const joinControlPlane: Scenario = {
  name: 'join-control-plane',
  title: EN('scenario.join-control-plane.title'),
  summary: EN('scenario.join-control-plane.summary'),
  needsCluster: true,
  async run(ctx) {
    const cluster = ctx.cluster;
    const pki = cluster.pki;
    const cp2Address = pki.plan.loopback === 'single' ? '127.0.0.1' : '127.0.1.2';
    const tmp = await tempClusterDir('k8s-cp-2-');
    const superAdmin = cluster.client('super-admin.conf', 'kubeadm init');
    const joiner = cluster.client('admin.conf', 'kubeadm join (cp-2)');
    let apiserver2: KubeApiserver | undefined;
    try {
      const key = await ctx.step(ctx.t('scenario.join-control-plane.upload.title'),
        ctx.t('scenario.join-control-plane.upload.lesson'),
        async () => {
          const { certificateKey, token } = await uploadCerts(superAdmin, pki);
          ctx.say('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace'); // verbatim: kubeadm's output
          ctx.say(`[upload-certs] Using certificate key:\n${certificateKey}`); // verbatim: kubeadm's output
          const stored = await superAdmin.get<KubeadmCertsSecret & KubeObject>(resourcePath({ resource: 'secrets', namespace: 'kube-system', name: KUBEADM_CERTS_SECRET }));
          const names = Object.keys(stored.data ?? {}).sort();
          ctx.expect(ctx.t('scenario.join-control-plane.upload.expectKeys', { keys: names.join(', ') }), names.join() === CERTS_TO_TRANSFER.map(secretDataKey).sort().join());
          const plain = Object.values(stored.data ?? {}).some((v) => Buffer.from(v, 'base64').toString('latin1').includes('-----BEGIN'));
          ctx.expect(ctx.t('scenario.join-control-plane.upload.expectEncrypted'), !plain);
          ctx.expect(ctx.t('scenario.join-control-plane.upload.expectOwner'), stored.metadata.ownerReferences?.[0]?.uid === token.uid);
          ctx.expect(ctx.t('scenario.join-control-plane.upload.expectHex'), /^[0-9a-f]{64}$/.test(certificateKey));
          return certificateKey;
        });

      const fetchSecret = (): Promise<KubeadmCertsSecret> => joiner.get<KubeadmCertsSecret & KubeObject>(resourcePath({ resource: 'secrets', namespace: 'kube-system', name: KUBEADM_CERTS_SECRET }));
      await ctx.step(ctx.t('scenario.join-control-plane.wrongKey.title'),
        ctx.t('scenario.join-control-plane.wrongKey.lesson'),
        async () => {
          const secret = await fetchSecret();
          for (const [what, wrong, words] of [
            [ctx.t('scenario.join-control-plane.wrongKey.anotherKey'), createCertificateKey(), 'error decoding secret data with provided key: cipher: message authentication failed'],
            [ctx.t('scenario.join-control-plane.wrongKey.notHex'), `${key.slice(0, 62)}zz`, "error decoding certificate key: encoding/hex: invalid byte: U+007A 'z'"],
            [ctx.t('scenario.join-control-plane.wrongKey.truncated'), key.slice(0, 20), 'crypto/aes: invalid key size 10'],
          ] as const) {
            const err = (() => { try { downloadCerts(secret, wrong); return undefined; } catch (e) { return e; } })();
            ctx.say(ctx.t('scenario.join-control-plane.wrongKey.say', { what, result: err instanceof Error ? err.message : ctx.t('scenario.join-control-plane.wrongKey.accepted') }));
            ctx.expect(ctx.t('scenario.join-control-plane.wrongKey.expectFails', { what, words }), err instanceof PkiError && err.code === 'CERT_KEY_INVALID' && err.message.endsWith(words), String(err));
          }
          const written = await fs.readdir(tmp.dir);
          ctx.expect(ctx.t('scenario.join-control-plane.wrongKey.expectNothing'), written.length === 0, written.join(', '));
        });

      const cp2 = await ctx.step(ctx.t('scenario.join-control-plane.rightKey.title'),
        ctx.t('scenario.join-control-plane.rightKey.lesson', { address: cp2Address }),
        async () => {
          const files = downloadCerts(await fetchSecret(), key);
          ctx.say('[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace'); // verbatim: kubeadm's output
          const joined = await joinControlPlanePki(files, { plan: pki.plan, nodeName: 'cp-2', advertiseAddress: cp2Address }, tmp.dir);
          for (const n of ['ca', 'etcd/ca', 'front-proxy-ca'] as const) {
            ctx.expect(ctx.t('scenario.join-control-plane.rightKey.expectCa', { ca: n }), caPem(joined, n) === caPem(pki, n));
          }
          ctx.expect(ctx.t('scenario.join-control-plane.rightKey.expectSa'), joined.serviceAccount.publicKeyPem === pki.serviceAccount.publicKeyPem);
          const api = joined.leaves.get('apiserver')!.cert;
          ctx.say(ctx.t('scenario.join-control-plane.rightKey.saySans', { sans: api.subjectAltName ?? '' }));
          ctx.expect(ctx.t('scenario.join-control-plane.rightKey.expectSans', { address: cp2Address }), api.checkHost('cp-2') !== undefined && api.checkIP(cp2Address) !== undefined);
          const peer = joined.leaves.get('etcd/peer')!.cert;
          ctx.expect(ctx.t('scenario.join-control-plane.rightKey.expectPeer'), /CN=cp-2/.test(peer.subject) && peer.checkIP(cp2Address) !== undefined);
          ctx.expect(ctx.t('scenario.join-control-plane.rightKey.expectOwn'), [...joined.leaves.keys()].every((n) => joined.leaves.get(n)!.certPem !== pki.leaves.get(n)?.certPem));
          const modes = await Promise.all(['pki/ca.key', 'pki/etcd/ca.key', 'pki/sa.key', 'pki/apiserver.key', 'pki/etcd/peer.key', 'admin.conf'].map(async (f) => (await fs.stat(path.join(tmp.dir, f))).mode & 0o777));
          ctx.expect(ctx.t('scenario.join-control-plane.rightKey.expectModes'), modes.every((m) => m === 0o600), modes.map((m) => m.toString(8)).join(','));
          return joined;
        });

      await ctx.step(ctx.t('scenario.join-control-plane.whyOwn.title'),
        ctx.t('scenario.join-control-plane.whyOwn.lesson', { cp1: pki.plan.advertiseAddress, cp2: cp2Address }),
        async () => {
          if (cp2Address === pki.plan.advertiseAddress) { ctx.say(ctx.t('scenario.join-control-plane.whyOwn.single')); return; }
          const srv = createTlsServer({ name: 'kube-apiserver (cp-2, with cp-1\'s certificate)', identity: identityOf(pki, 'apiserver'), clientCa: caPem(pki, 'ca'), mode: 'request' }, (_q, r) => { r.end('{}'); }, ctx.trace);
          const addr = await listen(srv, cp2Address, 0, 'kube-apiserver (cp-2)');
          try {
            const o = await probe(ctx.trace, 'kubectl', `https://${cp2Address}:${addr.port}`, identityOf(pki, 'admin.conf'), caPem(pki, 'ca'));
            ctx.expect(ctx.t('scenario.join-control-plane.whyOwn.expect', { address: cp2Address }), o.code === 'ERR_TLS_CERT_ALTNAME_INVALID', o.message);
          } finally {
            await closeServer(srv);
          }
        });

      apiserver2 = await ctx.step(ctx.t('scenario.join-control-plane.apiserver2.title'),
        ctx.t('scenario.join-control-plane.apiserver2.lesson', { address: cp2Address }),
        async () => {
          const a = new KubeApiserver({
            host: cp2Address, port: 0, identity: identityOf(cp2, 'apiserver'), clientCa: caPem(cp2, 'ca'),
            etcd: { endpoints: [cluster.endpoints.etcd], identity: identityOf(cp2, 'apiserver-etcd-client'), ca: caPem(cp2, 'etcd/ca') },
            kubeletClient: { identity: identityOf(cp2, 'apiserver-kubelet-client'), ca: caPem(cp2, 'ca') },
            serviceAccount: cp2.serviceAccount, advertiseAddress: cp2Address, logger: createLogger(), trace: ctx.trace,
          });
          const mark = ctx.events.length;
          await a.start();
          const serial = cp2.leaves.get('apiserver-etcd-client')!.cert.serialNumber.toUpperCase();
          const seen = ctx.since(mark).find((e) => e.type === 'tls-server' && e.server === 'etcd' && e.clientCert?.serial === serial && e.verified);
          ctx.expect(ctx.t('scenario.join-control-plane.apiserver2.expect'), seen !== undefined);
          return a;
        });

      await ctx.step(ctx.t('scenario.join-control-plane.oneCluster.title'),
        ctx.t('scenario.join-control-plane.oneCluster.lesson'),
        async () => {
          const via2 = new KubeClient({ name: 'kubectl (via cp-2)', server: apiserver2!.url, identity: identityOf(cp2, 'admin.conf'), serverCa: caPem(cp2, 'ca'), trace: ctx.trace });
          try {
            await via2.create(resourcePath({ resource: 'configmaps', namespace: 'default' }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'written-via-cp-2' }, data: { from: 'cp-2' } } as KubeObject);
            const admin1 = cluster.client('admin.conf', 'kubectl (via cp-1)');
            const back = await admin1.get<KubeObject & { data?: Record<string, string> }>(resourcePath({ resource: 'configmaps', namespace: 'default', name: 'written-via-cp-2' }));
            ctx.expect(ctx.t('scenario.join-control-plane.oneCluster.expectConfigMap'), back.data?.['from'] === 'cp-2');
            await deployAndRead(admin1, 'cp-join', 1);
            const pods = await via2.list<KubeObject & { spec?: { nodeName?: string } }>('/api/v1/namespaces/default/pods', { labelSelector: 'app=cp-join' });
            const pod = pods.items[0]!;
            const mark = ctx.events.length;
            const res = await via2.raw('GET', `/api/v1/namespaces/default/pods/${pod.metadata.name}/log?container=app`, undefined, undefined, 'text/plain');
            ctx.expect(ctx.t('scenario.join-control-plane.oneCluster.expectLogs'), res.status === 200 && res.body.length > 0, `HTTP ${res.status} ${res.body.slice(0, 200)}`);
            const serial = cp2.leaves.get('apiserver-kubelet-client')!.cert.serialNumber.toUpperCase();
            const hop = ctx.since(mark).find((e) => e.type === 'tls-server' && e.server.startsWith('kubelet') && e.clientCert?.serial === serial && e.verified);
            ctx.expect(ctx.t('scenario.join-control-plane.oneCluster.expectKubelet'), hop !== undefined);
          } finally {
            via2.close();
          }
        });

      await ctx.step(ctx.t('scenario.join-control-plane.peer.title'),
        ctx.t('scenario.join-control-plane.peer.lesson'),
        async () => {
          const etcdCa = caPem(pki, 'etcd/ca');
          const cp1Peer = { name: 'etcd (cp-1) peer', identity: identityOf(pki, 'etcd/peer') };
          const cp2Peer = { name: 'etcd (cp-2) peer', identity: identityOf(cp2, 'etcd/peer') };
          const a = await peerHandshake(ctx, cp2Address, cp2Peer, cp1Peer, etcdCa);
          ctx.expect(ctx.t('scenario.join-control-plane.peer.expect', { from: 'cp-1', to: 'cp-2' }), a === 'HTTP 200', a);
          const b = await peerHandshake(ctx, pki.plan.advertiseAddress, cp1Peer, cp2Peer, etcdCa);
          ctx.expect(ctx.t('scenario.join-control-plane.peer.expect', { from: 'cp-2', to: 'cp-1' }), b === 'HTTP 200', b);
          const mark = ctx.events.length;
          const c = await peerHandshake(ctx, cp2Address, cp2Peer, { name: 'kube-apiserver (wrong CA)', identity: identityOf(pki, 'apiserver-kubelet-client') }, etcdCa);
          const refused = ctx.since(mark).find((e) => e.type === 'tls-server' && e.server === 'etcd (cp-2) peer' && e.handshake === 'refused');
          ctx.expect(ctx.t('scenario.join-control-plane.peer.expectRefused'),
            c !== 'HTTP 200' && refused?.type === 'tls-server' && refused.reason === 'x509: certificate signed by unknown authority', `${c} ${JSON.stringify(refused)}`);
        });
    } finally {
      await apiserver2?.stop();
      superAdmin.close();
      joiner.close();
      await tmp.remove();
    }
  },
};
