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
  title: 'A second control-plane node joins: the CAs travel encrypted in kubeadm-certs, cp-2 issues its own leaves',
  summary: 'kubeadm init --upload-certs, then kubeadm join --control-plane --certificate-key on cp-2 (127.0.1.2).',
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
      const key = await ctx.step('kubeadm init phase upload-certs --upload-certs',
        'A certificate key (32 random bytes, 64 hex characters) encrypts each CA file with AES-GCM\n' +
        '(nonce || ciphertext || tag); the Secret kube-system/kubeadm-certs holds them, owned by a bootstrap\n' +
        'token that lives 2 hours; Role kubeadm:kubeadm-certs lets the bootstrap-token group get that Secret.',
        async () => {
          const { certificateKey, token } = await uploadCerts(superAdmin, pki);
          ctx.say('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace');
          ctx.say(`[upload-certs] Using certificate key:\n${certificateKey}`);
          const stored = await superAdmin.get<KubeadmCertsSecret & KubeObject>(resourcePath({ resource: 'secrets', namespace: 'kube-system', name: KUBEADM_CERTS_SECRET }));
          const names = Object.keys(stored.data ?? {}).sort();
          ctx.expect(`the Secret holds kubeadm's keys (${names.join(', ')})`, names.join() === CERTS_TO_TRANSFER.map(secretDataKey).sort().join());
          const plain = Object.values(stored.data ?? {}).some((v) => Buffer.from(v, 'base64').toString('latin1').includes('-----BEGIN'));
          ctx.expect('no value is readable PEM: each is encrypted', !plain);
          ctx.expect('the Secret is owned by the short-lived bootstrap token', stored.metadata.ownerReferences?.[0]?.uid === token.uid);
          ctx.expect('the key is 32 bytes of hex', /^[0-9a-f]{64}$/.test(certificateKey));
          return certificateKey;
        });

      const fetchSecret = (): Promise<KubeadmCertsSecret> => joiner.get<KubeadmCertsSecret & KubeObject>(resourcePath({ resource: 'secrets', namespace: 'kube-system', name: KUBEADM_CERTS_SECRET }));
      await ctx.step('kubeadm join --control-plane with a wrong certificate key',
        'The Secret is read (a real join reads it with its bootstrap token; the bootstrap-token authenticator is\n' +
        'another part of this issue, so the read here uses admin.conf), but AES-GCM\'s tag check fails: kubeadm\n' +
        'stops before writing anything.',
        async () => {
          const secret = await fetchSecret();
          for (const [what, wrong, words] of [
            ['another valid-looking key', createCertificateKey(), 'error decoding secret data with provided key: cipher: message authentication failed'],
            ['a key that is not hex', `${key.slice(0, 62)}zz`, "error decoding certificate key: encoding/hex: invalid byte: U+007A 'z'"],
            ['a truncated key', key.slice(0, 20), 'crypto/aes: invalid key size 10'],
          ] as const) {
            const err = (() => { try { downloadCerts(secret, wrong); return undefined; } catch (e) { return e; } })();
            ctx.say(`${what}: ${err instanceof Error ? err.message : 'accepted'}`);
            ctx.expect(`${what} fails: "${words}"`, err instanceof PkiError && err.code === 'CERT_KEY_INVALID' && err.message.endsWith(words), String(err));
          }
          const written = await fs.readdir(tmp.dir);
          ctx.expect('nothing was written on cp-2', written.length === 0, written.join(', '));
        });

      const cp2 = await ctx.step('kubeadm join --control-plane with the right key: cp-2 issues its own leaves',
        'cp-2 decrypts the CAs and the service-account key, writes them, and signs its own certificates:\n' +
        `an apiserver certificate for cp-2 and ${cp2Address}, etcd server and peer for cp-2, its client certificates.`,
        async () => {
          const files = downloadCerts(await fetchSecret(), key);
          ctx.say('[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace');
          const joined = await joinControlPlanePki(files, { plan: pki.plan, nodeName: 'cp-2', advertiseAddress: cp2Address }, tmp.dir);
          for (const n of ['ca', 'etcd/ca', 'front-proxy-ca'] as const) {
            ctx.expect(`${n} on cp-2 is the cluster's (same certificate)`, caPem(joined, n) === caPem(pki, n));
          }
          ctx.expect("sa.key on cp-2 is the cluster's (tokens from either apiserver verify on both)", joined.serviceAccount.publicKeyPem === pki.serviceAccount.publicKeyPem);
          const api = joined.leaves.get('apiserver')!.cert;
          ctx.say(`cp-2 apiserver.crt SANs: ${api.subjectAltName ?? ''}`);
          ctx.expect(`cp-2's apiserver certificate names cp-2 and ${cp2Address}`, api.checkHost('cp-2') !== undefined && api.checkIP(cp2Address) !== undefined);
          const peer = joined.leaves.get('etcd/peer')!.cert;
          ctx.expect("cp-2's etcd peer certificate is CN=cp-2 with its address", /CN=cp-2/.test(peer.subject) && peer.checkIP(cp2Address) !== undefined);
          ctx.expect("cp-2's leaves are its own (new keys, not cp-1's)", [...joined.leaves.keys()].every((n) => joined.leaves.get(n)!.certPem !== pki.leaves.get(n)?.certPem));
          const modes = await Promise.all(['pki/ca.key', 'pki/etcd/ca.key', 'pki/sa.key', 'pki/apiserver.key', 'pki/etcd/peer.key', 'admin.conf'].map(async (f) => (await fs.stat(path.join(tmp.dir, f))).mode & 0o777));
          ctx.expect('keys and kubeconfigs on cp-2 are 0600', modes.every((m) => m === 0o600), modes.map((m) => m.toString(8)).join(','));
          return joined;
        });

      await ctx.step("Why cp-2 needs its own apiserver certificate",
        `cp-1's apiserver certificate names ${pki.plan.advertiseAddress}, not ${cp2Address}: served from cp-2, clients refuse it.`,
        async () => {
          if (cp2Address === pki.plan.advertiseAddress) { ctx.say('(single loopback address: both nodes share 127.0.0.1, so the SAN check cannot tell them apart)'); return; }
          const srv = createTlsServer({ name: 'kube-apiserver (cp-2, with cp-1\'s certificate)', identity: identityOf(pki, 'apiserver'), clientCa: caPem(pki, 'ca'), mode: 'request' }, (_q, r) => { r.end('{}'); }, ctx.trace);
          const addr = await listen(srv, cp2Address, 0, 'kube-apiserver (cp-2)');
          try {
            const o = await probe(ctx.trace, 'kubectl', `https://${cp2Address}:${addr.port}`, identityOf(pki, 'admin.conf'), caPem(pki, 'ca'));
            ctx.expect(`kubectl refuses it: x509: certificate is valid for ..., not ${cp2Address}`, o.code === 'ERR_TLS_CERT_ALTNAME_INVALID', o.message);
          } finally {
            await closeServer(srv);
          }
        });

      apiserver2 = await ctx.step('cp-2 starts its apiserver; it reaches etcd with its own apiserver-etcd-client',
        `A second kube-apiserver on ${cp2Address} with cp-2's certificates, against the cluster's etcd.`,
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
          ctx.expect("etcd verified cp-2's apiserver-etcd-client against the etcd CA", seen !== undefined);
          return a;
        });

      await ctx.step('Both apiservers serve one cluster',
        "kubectl writes through cp-2 and reads through cp-1; a pod's log comes through cp-2 from its kubelet\n" +
        "(cp-2's apiserver-kubelet-client, verified by the kubelet against the Kubernetes CA).",
        async () => {
          const via2 = new KubeClient({ name: 'kubectl (via cp-2)', server: apiserver2!.url, identity: identityOf(cp2, 'admin.conf'), serverCa: caPem(cp2, 'ca'), trace: ctx.trace });
          try {
            await via2.create(resourcePath({ resource: 'configmaps', namespace: 'default' }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'written-via-cp-2' }, data: { from: 'cp-2' } } as KubeObject);
            const admin1 = cluster.client('admin.conf', 'kubectl (via cp-1)');
            const back = await admin1.get<KubeObject & { data?: Record<string, string> }>(resourcePath({ resource: 'configmaps', namespace: 'default', name: 'written-via-cp-2' }));
            ctx.expect('a ConfigMap written through cp-2 is read through cp-1', back.data?.['from'] === 'cp-2');
            await deployAndRead(admin1, 'cp-join', 1);
            const pods = await via2.list<KubeObject & { spec?: { nodeName?: string } }>('/api/v1/namespaces/default/pods', { labelSelector: 'app=cp-join' });
            const pod = pods.items[0]!;
            const mark = ctx.events.length;
            const res = await via2.raw('GET', `/api/v1/namespaces/default/pods/${pod.metadata.name}/log?container=app`, undefined, undefined, 'text/plain');
            ctx.expect('kubectl logs through cp-2 works', res.status === 200 && res.body.length > 0, `HTTP ${res.status} ${res.body.slice(0, 200)}`);
            const serial = cp2.leaves.get('apiserver-kubelet-client')!.cert.serialNumber.toUpperCase();
            const hop = ctx.since(mark).find((e) => e.type === 'tls-server' && e.server.startsWith('kubelet') && e.clientCert?.serial === serial && e.verified);
            ctx.expect("the kubelet verified cp-2's apiserver-kubelet-client", hop !== undefined);
          } finally {
            via2.close();
          }
        });

      await ctx.step('etcd peer TLS between cp-1 and cp-2',
        'etcd members talk raft on port 2380 with etcd/peer certificates, each verified against the etcd CA\n' +
        '(--peer-client-cert-auth). The embedded etcd is single-member, so no raft runs here: this is the\n' +
        "peer-port handshake itself, both directions, and a Kubernetes-CA certificate refused on it.",
        async () => {
          const etcdCa = caPem(pki, 'etcd/ca');
          const cp1Peer = { name: 'etcd (cp-1) peer', identity: identityOf(pki, 'etcd/peer') };
          const cp2Peer = { name: 'etcd (cp-2) peer', identity: identityOf(cp2, 'etcd/peer') };
          const a = await peerHandshake(ctx, cp2Address, cp2Peer, cp1Peer, etcdCa);
          ctx.expect('cp-1 → cp-2 peer handshake: both certificates verified', a === 'HTTP 200', a);
          const b = await peerHandshake(ctx, pki.plan.advertiseAddress, cp1Peer, cp2Peer, etcdCa);
          ctx.expect('cp-2 → cp-1 peer handshake: both certificates verified', b === 'HTTP 200', b);
          const mark = ctx.events.length;
          const c = await peerHandshake(ctx, cp2Address, cp2Peer, { name: 'kube-apiserver (wrong CA)', identity: identityOf(pki, 'apiserver-kubelet-client') }, etcdCa);
          const refused = ctx.since(mark).find((e) => e.type === 'tls-server' && e.server === 'etcd (cp-2) peer' && e.handshake === 'refused');
          ctx.expect('a Kubernetes-CA certificate is refused on the peer port (x509: certificate signed by unknown authority)',
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
