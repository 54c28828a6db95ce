/**
 * Node join, the two halves of it:
 *
 * 1. Discovery (kubeadm join, cmd/kubeadm/app/discovery/token): with only the apiserver's address, a
 *    bootstrap token and `--discovery-token-ca-cert-hash`, read `kube-public/cluster-info` anonymously
 *    WITHOUT verifying TLS; check the detached JWS the bootstrap signer put there for this token
 *    (HS256 keyed by the token's secret: only someone holding the token could have made it); pin the CA
 *    it carries by the SHA-256 of its public key; then read cluster-info again over TLS verified against
 *    that CA and make sure it is the same.
 * 2. TLS bootstrap (pkg/kubelet/certificate/bootstrap): authenticated by the token (user
 *    system:bootstrap:<id>), make a key pair and a CSR (CN system:node:<name>, O system:nodes, signer
 *    kubernetes.io/kube-apiserver-client-kubelet), wait for the controller-manager to approve and sign
 *    it, write kubelet.conf and the client certificate (atomically, 0600).
 *
 * Errors carry kubeadm's and the kubelet's words.
 */
import { createHash, generateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import YAML from 'yaml';
import { derToPem, privateKeyPem } from '../../pki/issue.js';
import { renderKubeconfig } from '../../pki/kubeconfig.js';
import { writeAtomically } from '../../pki/store.js';
import { createCsr, type Subject, type SubjectAltNames } from '../../pki/x509.js';
import type { Trace } from '../client/trace.js';
import { CLUSTER_INFO, detachedTokenIsValid, JWS_SIGNATURE_PREFIX, parseBootstrapToken } from '../api/bootstrap-token.js';
import type { Clock } from '../client/common.js';
import { KUBE_APISERVER_CLIENT_KUBELET_SIGNER, type CertificateSigningRequest } from '../api/certificates.js';
import { ApiError, KubeClient, resourcePath } from '../client/kube-client.js';
import type { Identity } from '../client/tls.js';
import type { KubeObject } from '../api/types.js';
import { KubeSimError } from '../../pki/errors.js';

const generate = promisify(generateKeyPair);

export type JoinErrorCode =
  | 'TOKEN_FORMAT' | 'CA_HASH_FORMAT' | 'CLUSTER_INFO_UNAVAILABLE' | 'JWS_MISSING' | 'JWS_INVALID' | 'CA_NOT_PINNED'
  | 'CLUSTER_INFO_CHANGED' | 'CSR_CREATE' | 'CSR_DENIED' | 'CSR_FAILED' | 'CSR_TIMEOUT';

export class JoinError extends KubeSimError<JoinErrorCode> {}

export interface DiscoveryOptions {
  /** `https://host:port`: the apiserver endpoint given to `kubeadm join`. */
  readonly apiserver: string;
  /** `<id>.<secret>`. */
  readonly token: string;
  /** `--discovery-token-ca-cert-hash` values (`sha256:<hex>`); empty = unsafe skip of pinning. */
  readonly caCertHashes: readonly string[];
  /** How long to keep asking for a cluster-info signed for this token (kubeadm: 5 min). */
  readonly timeoutMs?: number;
  /** Between attempts (kubeadm's DiscoveryRetryInterval: 5 s). */
  readonly intervalMs?: number;
  readonly trace?: Trace;
  readonly logger?: Logger;
  /** The client name in the trace; default `kubeadm join`. */
  readonly name?: string;
}

export interface DiscoveredCluster {
  /** The server named in cluster-info. */
  readonly server: string;
  /** The pinned CA bundle. */
  readonly caPem: string;
}

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const pemCerts = (pem: string): string[] => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) ?? [];
const spkiHash = (certPem: string): string =>
  `sha256:${createHash('sha256').update(new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;

const CLUSTER_INFO_PATH = resourcePath({ resource: 'configmaps', namespace: 'kube-public', name: CLUSTER_INFO });

/** getClusterInfo: polls until cluster-info carries a JWS for this token id, or the timeout. */
async function getClusterInfo(client: KubeClient, tokenId: string, intervalMs: number, timeoutMs: number): Promise<ConfigMap> {
  const deadline = Date.now() + timeoutMs;
  let lastError: JoinError;
  for (;;) {
    try {
      const cm = await client.get<ConfigMap>(CLUSTER_INFO_PATH);
      if (cm.data?.[`${JWS_SIGNATURE_PREFIX}${tokenId}`] !== undefined) return cm;
      lastError = new JoinError('JWS_MISSING', `could not find a JWS signature in the cluster-info ConfigMap for token ID "${tokenId}"`);
    } catch (err) {
      lastError = new JoinError('CLUSTER_INFO_UNAVAILABLE', `failed to request the cluster-info ConfigMap: ${(err as Error).message}`, { cause: err });
    }
    if (Date.now() + intervalMs > deadline) throw lastError;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** RetrieveValidatedConfigInfo. */
export async function discover(o: DiscoveryOptions): Promise<DiscoveredCluster> {
  const token = parseBootstrapToken(o.token);
  if (!token) throw new JoinError('TOKEN_FORMAT', `the bootstrap token "${o.token}" was not of the form "[a-z0-9]{6}.[a-z0-9]{16}"`);
  for (const h of o.caCertHashes) {
    if (!/^sha256:[0-9a-f]{64}$/.test(h)) {
      throw new JoinError('CA_HASH_FORMAT', `invalid discovery token CA certificate hash: invalid hash "${h}", expected "sha256:" followed by 64 hex characters`);
    }
  }
  const intervalMs = o.intervalMs ?? 5000;
  const timeoutMs = o.timeoutMs ?? 5 * 60_000;
  const name = o.name ?? 'kubeadm join';
  const common = { server: o.apiserver, ...(o.trace ? { trace: o.trace } : {}) };
  const insecure = new KubeClient({ ...common, name: `${name} (discovery, TLS unverified)`, serverCa: '', insecureSkipTLSVerify: true });
  let first: ConfigMap;
  try {
    o.logger?.info({ endpoint: o.apiserver }, '[discovery] Created cluster-info discovery client, requesting info');
    first = await getClusterInfo(insecure, token.id, intervalMs, timeoutMs);
  } finally {
    insecure.close();
  }
  const kubeconfig = first.data?.kubeconfig;
  if (!kubeconfig) throw new JoinError('JWS_MISSING', "there is no kubeconfig key in the cluster-info ConfigMap. This API Server isn't set up for token bootstrapping, can't connect");
  const jws = first.data?.[`${JWS_SIGNATURE_PREFIX}${token.id}`];
  if (!jws) {
    throw new JoinError('JWS_MISSING', `token id "${token.id}" is invalid for this cluster or it has expired. Use "kubeadm token create" on the control-plane node to create a new valid token`);
  }
  if (!detachedTokenIsValid(jws, kubeconfig, token.id, token.secret)) {
    throw new JoinError('JWS_INVALID', "failed to verify JWS signature of received cluster info object, can't trust this API Server");
  }
  const parsed = YAML.parse(kubeconfig) as { clusters?: { cluster?: Record<string, string> }[] };
  const cluster = parsed.clusters?.[parsed.clusters.length - 1]?.cluster ?? {};
  const caPem = Buffer.from(cluster['certificate-authority-data'] ?? '', 'base64').toString();
  const server = cluster.server ?? o.apiserver;
  if (o.caCertHashes.length === 0) return { server, caPem };
  const hashes = pemCerts(caPem).map(spkiHash);
  if (!hashes.some((h) => o.caCertHashes.includes(h))) {
    throw new JoinError('CA_NOT_PINNED', `cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${hashes.join(':')}" are pinned`);
  }
  o.logger?.info('[discovery] Requesting info again to validate TLS against the pinned public key');
  const secure = new KubeClient({ ...common, name: `${name} (discovery, TLS pinned)`, serverCa: caPem });
  try {
    const second = await getClusterInfo(secure, token.id, intervalMs, timeoutMs);
    if (second.data?.kubeconfig !== kubeconfig) {
      throw new JoinError('CLUSTER_INFO_CHANGED', 'the second kubeconfig from the cluster-info ConfigMap (using validated TLS) was different from the first');
    }
  } finally {
    secure.close();
  }
  o.logger?.info('[discovery] Cluster info signature and contents are valid and TLS certificate validates against pinned roots');
  return { server, caPem };
}

export interface CsrRequest {
  readonly signerName: string;
  readonly subject: Subject;
  readonly sans: SubjectAltNames;
  readonly usages: readonly string[];
  /** `metadata.name`; absent: generateName `csr-`. */
  readonly name?: string;
  readonly expirationSeconds?: number;
}

/** A fresh ECDSA P-256 key, as the kubelet makes (keyutil.MakeEllipticPrivateKeyPEM). */
export async function newKubeletKey(): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  return generate('ec', { namedCurve: 'prime256v1' });
}

/** csr.RequestCertificate: creates the CSR (reusing one of the same name and request). */
export async function requestCertificate(client: KubeClient, key: { privateKey: KeyObject; publicKey: KeyObject }, r: CsrRequest): Promise<CertificateSigningRequest> {
  const pem = derToPem(createCsr(r.subject, r.sans, key), 'CERTIFICATE REQUEST');
  const request = Buffer.from(pem).toString('base64');
  const path = resourcePath({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests' });
  const body: CertificateSigningRequest = {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest',
    metadata: r.name ? { name: r.name } : { generateName: 'csr-' },
    spec: { request, signerName: r.signerName, usages: [...r.usages], ...(r.expirationSeconds !== undefined ? { expirationSeconds: r.expirationSeconds } : {}) },
  };
  try {
    return await client.create<CertificateSigningRequest>(path, body);
  } catch (err) {
    if (err instanceof ApiError && err.httpStatus === 409 && r.name) {
      const existing = await client.get<CertificateSigningRequest>(`${path}/${encodeURIComponent(r.name)}`);
      if (existing.spec.request === request) return existing;
      throw new JoinError('CSR_CREATE', `retrieved csr is not compatible: ${r.name}`, { cause: err });
    }
    throw new JoinError('CSR_CREATE', `cannot create certificate signing request: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * csr.WaitForCertificate: watches the CSR until it carries a certificate (then returns its PEM), is
 * Denied or Failed (an error with the condition's reason and message), or the timeout passes.
 */
export async function waitForCertificate(client: KubeClient, csr: CertificateSigningRequest, timeoutMs: number, stopped?: AbortSignal): Promise<string> {
  const name = csr.metadata.name ?? '';
  const path = resourcePath({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests' });
  const verdict = (c: CertificateSigningRequest): { pem: string } | { error: JoinError } | undefined => {
    if (c.metadata.uid !== csr.metadata.uid) return { error: new JoinError('CSR_FAILED', `csr ${name} was deleted and recreated`) };
    for (const cond of c.status?.conditions ?? []) {
      if (cond.type === 'Denied' && cond.status === 'True') return { error: new JoinError('CSR_DENIED', `certificate signing request is denied, reason: ${cond.reason ?? ''}, message: ${cond.message ?? ''}`) };
      if (cond.type === 'Failed' && cond.status === 'True') return { error: new JoinError('CSR_FAILED', `certificate signing request failed, reason: ${cond.reason ?? ''}, message: ${cond.message ?? ''}`) };
    }
    const approved = c.status?.conditions?.some((x) => x.type === 'Approved' && x.status === 'True');
    if (approved && c.status?.certificate) return { pem: Buffer.from(c.status.certificate, 'base64').toString() };
    return undefined;
  };
  const list = await client.list<CertificateSigningRequest>(path, { fieldSelector: `metadata.name=${name}` });
  const now = list.items[0] ? verdict(list.items[0]) : undefined;
  if (now) { if ('error' in now) throw now.error; return now.pem; }
  return new Promise<string>((resolve, reject) => {
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stopped?.removeEventListener('abort', onAbort);
      watch.stop();
      f();
    };
    const onAbort = (): void => finish(() => reject(new JoinError('CSR_TIMEOUT', `certificate request was not signed: context canceled (csr ${name})`)));
    const timer = setTimeout(() => finish(() => reject(new JoinError('CSR_TIMEOUT', `certificate request was not signed: context deadline exceeded (csr ${name} still ${'Pending'})`))), timeoutMs);
    stopped?.addEventListener('abort', onAbort);
    const watch = client.watch<CertificateSigningRequest>(path, { fieldSelector: `metadata.name=${name}`, ...(list.metadata.resourceVersion ? { resourceVersion: list.metadata.resourceVersion } : {}) }, (e) => {
      if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
      const v = verdict(e.object);
      if (!v) return;
      finish(() => ('error' in v ? reject(v.error) : resolve(v.pem)));
    });
    watch.done.then(() => finish(() => reject(new JoinError('CSR_TIMEOUT', `watch of csr ${name} ended before it was signed`))), (err: unknown) => finish(() => reject(err)));
  });
}

/** digestedName: `node-csr-` + base64url(SHA-512 over the public key, subject and usages). */
function digestedName(publicKey: KeyObject, subject: Subject, usages: readonly string[]): string {
  const h = createHash('sha512');
  h.update(publicKey.export({ type: 'spki', format: 'der' }));
  h.update(`${subject.cn}|${subject.o.join(',')}|${usages.join(',')}`);
  return `node-csr-${h.digest('base64url').slice(0, 43)}`;
}

export interface TlsBootstrapOptions {
  readonly nodeName: string;
  readonly server: string;
  readonly caPem: string;
  readonly token: string;
  /** Where kubelet.conf and pki/kubelet-client-current.pem go (/etc/kubernetes + /var/lib/kubelet here in one). Absent: nothing is written. */
  readonly dir?: string;
  /** How long to wait for the certificate (the kubelet's certificateWaitTimeout: 15 min). */
  readonly waitTimeoutMs?: number;
  readonly trace?: Trace;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

export interface Bootstrapped {
  readonly identity: Identity;
  readonly csrName: string;
  /** The files written (kubelet.conf, the certificate), when a dir was given. */
  readonly files: readonly string[];
}

/** Writes kubelet.conf (embedded client certificate) and pki/kubelet-client-current.pem, 0600, atomically. */
export async function writeKubeletCredentials(dir: string, server: string, caPem: string, identity: Identity): Promise<string[]> {
  const writes = [
    { rel: 'pki/kubelet-client-current.pem', data: `${identity.cert}${identity.key}`, mode: 0o600 },
    { rel: 'kubelet.conf', data: renderKubeconfig({ server, clusterName: 'default-cluster', user: 'default-auth', caPem, certPem: identity.cert, keyPem: identity.key }), mode: 0o600 },
  ];
  await writeAtomically(dir, writes);
  return writes.map((w) => w.rel);
}

/** LoadClientCert: the kubelet's TLS bootstrap with a bootstrap token. */
export async function tlsBootstrap(o: TlsBootstrapOptions): Promise<Bootstrapped> {
  const client = new KubeClient({
    name: `kubelet (${o.nodeName}, bootstrap)`, server: o.server, serverCa: o.caPem, token: o.token,
    ...(o.trace ? { trace: o.trace } : {}),
  });
  try {
    const key = await newKubeletKey();
    const subject: Subject = { cn: `system:node:${o.nodeName}`, o: ['system:nodes'] };
    const usages = ['digital signature', 'client auth'];
    const csr = await requestCertificate(client, key, {
      name: digestedName(key.publicKey, subject, usages), signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER, subject, sans: { dns: [], ip: [] }, usages,
    });
    o.logger?.info({ csr: csr.metadata.name }, 'waiting for client certificate to be issued');
    const certPem = await waitForCertificate(client, csr, o.waitTimeoutMs ?? 15 * 60_000);
    const cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(key.privateKey)) throw new JoinError('CSR_FAILED', 'the issued certificate does not match the private key');
    const identity = { cert: certPem, key: privateKeyPem(key.privateKey) };
    const files = o.dir ? await writeKubeletCredentials(o.dir, o.server, o.caPem, identity) : [];
    return { identity, csrName: csr.metadata.name ?? '', files };
  } finally {
    client.close();
  }
}
