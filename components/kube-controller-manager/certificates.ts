/**
 * The controller-manager's certificate controllers:
 *
 * - csrapproving (pkg/controller/certificates/approver/sarapprove.go): a CSR for
 *   kubernetes.io/kube-apiserver-client-kubelet that passes ValidateKubeletClientCSR (O exactly
 *   [system:nodes], CN system:node:<n>, no SANs, the kubelet client usages) is approved if a
 *   SubjectAccessReview says its requester may `create certificatesigningrequests/selfnodeclient`
 *   (the requester is the node named in the CN: a renewal) or `.../nodeclient` (a bootstrap token).
 *   Anything else stays Pending: kubelet-serving CSRs are never auto-approved.
 * - csrsigning (pkg/controller/certificates/signer): approved CSRs of kube-apiserver-client-kubelet and
 *   kubelet-serving are checked again and signed with --cluster-signing-cert-file/--cluster-signing-key-file
 *   (ca.crt/ca.key); notBefore = now - 5 min, notAfter = now + TTL (TTL < 8 h) or now + TTL - 5 min,
 *   never past the CA's own notAfter. A request that fails the signer's check gets a Failed condition.
 * - bootstrapsigner (pkg/controller/bootstrap/bootstrapsigner.go): for every token Secret marked
 *   usage-bootstrap-signing=true and not expired, kube-public/cluster-info carries
 *   `jws-kubeconfig-<id>`: a detached HS256 JWS of its kubeconfig; stale signatures are removed.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { randomSerial } from '../../pki/issue.js';
import { createCertificate, keyIdentifier, type ExtKeyUsage, type KeyUsage, type ParsedCsr, type Subject } from '../../pki/x509.js';
import { computeDetachedSignature, JWS_SIGNATURE_PREFIX, CLUSTER_INFO, validTokenSecret, type BootstrapTokenSecret } from '../api/bootstrap-token.js';
import type { Clock } from '../client/common.js';
import {
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER, KUBE_APISERVER_CLIENT_SIGNER, KUBELET_SERVING_SIGNER, parseCsrRequest, type CertificateSigningRequest, type CsrCondition,
} from '../api/certificates.js';
import { ApiError, type KubeClient, resourcePath } from '../client/kube-client.js';
import type { KubeObject } from '../api/types.js';
import { type Lister, keyOf, splitKey } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';

const CSR_PATH = resourcePath({ group: 'certificates.k8s.io', resource: 'certificatesigningrequests' });
const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && new Set(a).size === a.length && a.every((x) => b.includes(x));

/** certificates.ValidateKubeletClientCSR: undefined when the request is a kubelet client certificate, else why not. */
export function validateKubeletClientCsr(req: ParsedCsr, usages: readonly string[]): string | undefined {
  if (req.subject.o.length !== 1 || req.subject.o[0] !== 'system:nodes') return 'subject organization is not system:nodes';
  if (req.sans.dns.length > 0) return 'DNS subjectAltNames are not allowed';
  if (req.sans.ip.length > 0) return 'IP subjectAltNames are not allowed';
  if (!req.subject.cn.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  if (!sameSet(usages, ['digital signature', 'key encipherment', 'client auth']) && !sameSet(usages, ['digital signature', 'client auth'])) {
    return 'usages did not match [client auth digital signature key encipherment]';
  }
  return undefined;
}

/**
 * signer.go's isKubeAPIServerClient (validAPIServerClientUsages): any subject (the admission plugin
 * CertificateSubjectRestriction already refused system:masters), client auth required, and only
 * digital signature and key encipherment besides.
 */
export function validateApiserverClientCsr(usages: readonly string[]): string | undefined {
  const other = usages.find((u) => u !== 'client auth' && u !== 'digital signature' && u !== 'key encipherment');
  if (other !== undefined) return `invalid usage for client certificate: ${other}`;
  if (!usages.includes('client auth')) return 'missing required usage for client certificate: client auth';
  return undefined;
}

/** certificates.ValidateKubeletServingCSR. */
export function validateKubeletServingCsr(req: ParsedCsr, usages: readonly string[]): string | undefined {
  if (req.subject.o.length !== 1 || req.subject.o[0] !== 'system:nodes') return 'subject organization is not system:nodes';
  if (req.sans.dns.length === 0 && req.sans.ip.length === 0) return 'DNS or IP subjectAltName is required';
  if (!sameSet(usages, ['digital signature', 'key encipherment', 'server auth']) && !sameSet(usages, ['digital signature', 'server auth'])) {
    return 'usages did not match [digital signature key encipherment server auth]';
  }
  if (!req.subject.cn.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  return undefined;
}

/**
 * The signers the controller-manager serves, each with its request checks. kubeadm passes it
 * --cluster-signing-cert-file/--cluster-signing-key-file (ca.crt, ca.key): one CA for all three
 * (kubernetes.io/legacy-unknown is not served).
 */
const SIGNERS: Readonly<Record<string, (req: ParsedCsr, usages: readonly string[]) => string | undefined>> = {
  [KUBE_APISERVER_CLIENT_KUBELET_SIGNER]: validateKubeletClientCsr,
  [KUBELET_SERVING_SIGNER]: validateKubeletServingCsr,
  [KUBE_APISERVER_CLIENT_SIGNER]: (_req, usages) => validateApiserverClientCsr(usages),
};

const conditionOf = (csr: CertificateSigningRequest, t: string): CsrCondition | undefined => csr.status?.conditions?.find((c) => c.type === t && c.status === 'True');
const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export type ApprovalDecision =
  | { readonly outcome: 'approved'; readonly as: 'selfnodeclient' | 'nodeclient' }
  | { readonly outcome: 'not-recognized'; readonly reason: string }
  | { readonly outcome: 'sar-denied'; readonly tried: readonly string[] };

/** csrapproving. */
export class CsrApprovingController {
  readonly name = 'csrapproving';
  readonly queue: WorkQueue;
  private readonly client: KubeClient;
  private readonly csrs: Lister<CertificateSigningRequest>;
  private readonly logger: Logger;
  private readonly clock: Clock;
  /** What the controller concluded for each CSR it looked at (for narration and tests). */
  readonly decisions = new Map<string, ApprovalDecision>();

  constructor(o: { client: KubeClient; csrs: Lister<CertificateSigningRequest>; logger: Logger; clock: Clock }) {
    this.client = o.client;
    this.csrs = o.csrs;
    this.logger = o.logger;
    this.clock = o.clock;
    this.queue = new WorkQueue({ name: this.name, logger: o.logger, handler: (k) => this.sync(k) });
    o.csrs.addHandlers({ add: (c) => this.queue.add(keyOf(c)), update: (_o, c) => this.queue.add(keyOf(c)) });
  }

  private async sync(key: string): Promise<void> {
    const csr = this.csrs.get(key);
    if (!csr || csr.status?.certificate || conditionOf(csr, 'Approved') || conditionOf(csr, 'Denied')) return;
    const name = splitKey(key).name;
    let req: ParsedCsr;
    try {
      req = parseCsrRequest(csr.spec.request);
    } catch (err) {
      throw new Error(`unable to parse csr "${name}": ${(err as Error).message}`);
    }
    if (csr.spec.signerName !== KUBE_APISERVER_CLIENT_KUBELET_SIGNER) {
      this.decisions.set(name, { outcome: 'not-recognized', reason: `signerName ${csr.spec.signerName} is not auto-approved` });
      return;
    }
    const why = validateKubeletClientCsr(req, csr.spec.usages ?? []);
    if (why) {
      this.logger.warn({ csr: name, err: why }, "couldn't validate kubelet client csr");
      this.decisions.set(name, { outcome: 'not-recognized', reason: why });
      return;
    }
    const recognizers: { sub: 'selfnodeclient' | 'nodeclient'; message: string; applies: boolean }[] = [
      { sub: 'selfnodeclient', message: 'Auto approving self kubelet client certificate after SubjectAccessReview.', applies: csr.spec.username === req.subject.cn },
      { sub: 'nodeclient', message: 'Auto approving kubelet client certificate after SubjectAccessReview.', applies: true },
    ];
    const tried: string[] = [];
    for (const r of recognizers.filter((x) => x.applies)) {
      tried.push(r.sub);
      const sar = await this.client.create<KubeObject & { status?: { allowed?: boolean } }>('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {},
        spec: {
          user: csr.spec.username ?? '', groups: csr.spec.groups ?? [], ...(csr.spec.uid ? { uid: csr.spec.uid } : {}), ...(csr.spec.extra ? { extra: csr.spec.extra } : {}),
          resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource: r.sub },
        },
      } as KubeObject);
      if (!sar.status?.allowed) continue;
      const now = rfc3339(this.clock.now());
      const approved: CertificateSigningRequest = {
        ...csr,
        status: { ...csr.status, conditions: [...(csr.status?.conditions ?? []), { type: 'Approved', status: 'True', reason: 'AutoApproved', message: r.message, lastUpdateTime: now, lastTransitionTime: now }] },
      };
      await this.client.update(`${CSR_PATH}/${encodeURIComponent(name)}/approval`, approved);
      this.decisions.set(name, { outcome: 'approved', as: r.sub });
      this.logger.info({ csr: name, as: r.sub }, 'approved');
      return;
    }
    this.decisions.set(name, { outcome: 'sar-denied', tried });
    this.logger.info({ csr: name }, `recognized csr "${name}" as [${tried.join(' ')}] but subject access review was not approved`);
  }
}

export interface ClusterSigning {
  /** --cluster-signing-cert-file (ca.crt) and --cluster-signing-key-file (ca.key), as PEM. */
  readonly certPem: string;
  readonly keyPem: string;
  /** --cluster-signing-duration; default one year (8760 h). */
  readonly durationMs?: number;
  /** The signer's backdate, 5 min in Kubernetes (a sim knob, so that short-lived certificates in a scenario rotate at 70-90% of a few seconds). */
  readonly backdateMs?: number;
}

const USAGE_KEY: Readonly<Record<string, KeyUsage>> = { 'digital signature': 'digitalSignature', signing: 'digitalSignature', 'key encipherment': 'keyEncipherment', 'cert sign': 'keyCertSign' };
const USAGE_EXT: Readonly<Record<string, ExtKeyUsage>> = { 'server auth': 'serverAuth', 'client auth': 'clientAuth' };

function subjectOf(cert: X509Certificate): Subject {
  const lines = cert.subject.split('\n');
  return { cn: lines.find((l) => l.startsWith('CN='))?.slice(3) ?? '', o: lines.filter((l) => l.startsWith('O=')).map((l) => l.slice(2)) };
}

/** csrsigning for kube-apiserver-client-kubelet and kubelet-serving, with the cluster CA. */
export class CsrSigningController {
  readonly name = 'csrsigning';
  readonly queue: WorkQueue;
  private readonly client: KubeClient;
  private readonly csrs: Lister<CertificateSigningRequest>;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly ca: { cert: X509Certificate; key: KeyObject; subject: Subject; keyId: Buffer };
  private readonly durationMs: number;
  private readonly backdateMs: number;

  constructor(o: { client: KubeClient; csrs: Lister<CertificateSigningRequest>; logger: Logger; clock: Clock; signing: ClusterSigning }) {
    this.client = o.client;
    this.csrs = o.csrs;
    this.logger = o.logger;
    this.clock = o.clock;
    const cert = new X509Certificate(o.signing.certPem);
    const key = createPrivateKey(o.signing.keyPem);
    if (!cert.checkPrivateKey(key)) throw new Error('kube-controller-manager: --cluster-signing-key-file does not match --cluster-signing-cert-file');
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    this.ca = { cert, key, subject: subjectOf(cert), keyId: keyIdentifier(spki) };
    this.durationMs = o.signing.durationMs ?? 365 * 24 * 3600_000;
    this.backdateMs = o.signing.backdateMs ?? 5 * 60_000;
    this.queue = new WorkQueue({ name: this.name, logger: o.logger, handler: (k) => this.sync(k) });
    o.csrs.addHandlers({ add: (c) => this.queue.add(keyOf(c)), update: (_o, c) => this.queue.add(keyOf(c)) });
  }

  private async sync(key: string): Promise<void> {
    const csr = this.csrs.get(key);
    if (!csr || !conditionOf(csr, 'Approved') || conditionOf(csr, 'Denied') || conditionOf(csr, 'Failed') || csr.status?.certificate) return;
    const signer = csr.spec.signerName;
    const check = SIGNERS[signer];
    if (!check) return;
    const name = splitKey(key).name;
    const req = parseCsrRequest(csr.spec.request);
    const usages = csr.spec.usages ?? [];
    const why = check(req, usages);
    const path = `${CSR_PATH}/${encodeURIComponent(name)}/status`;
    if (why) {
      const now = rfc3339(this.clock.now());
      await this.client.update(path, { ...csr, status: { ...csr.status, conditions: [...(csr.status?.conditions ?? []), { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: why, lastUpdateTime: now, lastTransitionTime: now }] } });
      this.logger.warn({ csr: name, reason: why }, 'signer validation failed');
      return;
    }
    const pem = this.sign(req, usages, csr.spec.expirationSeconds);
    try {
      await this.client.update(path, { ...csr, status: { ...csr.status, certificate: Buffer.from(pem).toString('base64') } });
    } catch (err) {
      if (err instanceof ApiError && err.httpStatus === 409) { this.queue.addAfter(key, 50); return; }
      throw err;
    }
    this.logger.info({ csr: name, signer }, 'signed');
  }

  /** signer.sign with PermissiveSigningPolicy. */
  private sign(req: ParsedCsr, usages: readonly string[], expirationSeconds: number | undefined): string {
    let ttl = this.durationMs;
    if (expirationSeconds !== undefined) ttl = Math.min(ttl, Math.max(expirationSeconds * 1000, 10 * 60_000));
    const now = this.clock.now().getTime();
    const caNotAfter = Date.parse(this.ca.cert.validTo);
    const notBefore = new Date(now - this.backdateMs);
    let notAfter = ttl < 8 * 3600_000 ? now + ttl : now + ttl - this.backdateMs;
    if (notAfter >= caNotAfter) notAfter = caNotAfter;
    if (now >= caNotAfter) throw new Error(`refusing to sign a certificate that expired in the past: NotAfter=${this.ca.cert.validTo}`);
    const keyUsage = [...new Set(usages.map((u) => USAGE_KEY[u]).filter((u): u is KeyUsage => u !== undefined))];
    const extKeyUsage = [...new Set(usages.map((u) => USAGE_EXT[u]).filter((u): u is ExtKeyUsage => u !== undefined))];
    const der = createCertificate({
      serial: randomSerial(), issuer: this.ca.subject, subject: req.subject, notBefore, notAfter: new Date(notAfter),
      spki: req.spki, isCA: false, keyUsage, extKeyUsage, sans: req.sans, authorityKeyId: this.ca.keyId,
    }, this.ca.key);
    return new X509Certificate(der).toString();
  }
}

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** bootstrapsigner. */
export class BootstrapSigner {
  readonly name = 'bootstrapsigner';
  readonly queue: WorkQueue;
  private readonly client: KubeClient;
  private readonly secrets: Lister<BootstrapTokenSecret>;
  private readonly configMaps: Lister<ConfigMap>;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | undefined;

  constructor(o: { client: KubeClient; secrets: Lister<BootstrapTokenSecret>; configMaps: Lister<ConfigMap>; logger: Logger; clock: Clock }) {
    this.client = o.client;
    this.secrets = o.secrets;
    this.configMaps = o.configMaps;
    this.logger = o.logger;
    this.clock = o.clock;
    this.queue = new WorkQueue({ name: this.name, logger: o.logger, handler: () => this.sign() });
    const poke = (): void => this.queue.add(CLUSTER_INFO);
    o.secrets.addHandlers({ add: poke, update: poke, delete: poke });
    o.configMaps.addHandlers({ add: poke, update: poke });
  }

  private async sign(): Promise<void> {
    const cm = this.configMaps.get(`kube-public/${CLUSTER_INFO}`);
    if (!cm) return;
    const content = cm.data?.kubeconfig;
    if (!content) return;
    const now = this.clock.now();
    const signatures: Record<string, string> = {};
    let nextExpiry: number | undefined;
    for (const s of this.secrets.list()) {
      if (s.metadata.namespace !== 'kube-system') continue;
      const v = validTokenSecret(s, 'signing', now);
      if ('reason' in v) continue;
      signatures[`${JWS_SIGNATURE_PREFIX}${v.token.id}`] = computeDetachedSignature(content, v.token.id, v.token.secret);
      const exp = Date.parse(Buffer.from(s.data?.expiration ?? '', 'base64').toString());
      if (!Number.isNaN(exp)) nextExpiry = Math.min(nextExpiry ?? exp, exp);
    }
    // A token that expires must lose its signature then, not at the next unrelated change.
    if (this.timer) clearTimeout(this.timer);
    if (nextExpiry !== undefined) {
      this.timer = setTimeout(() => this.queue.add(CLUSTER_INFO), Math.min(2 ** 31 - 1, Math.max(0, nextExpiry - now.getTime()) + 10));
      this.timer.unref();
    }
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(cm.data ?? {})) if (!k.startsWith(JWS_SIGNATURE_PREFIX)) data[k] = v;
    Object.assign(data, signatures);
    if (JSON.stringify(Object.entries(data).sort()) === JSON.stringify(Object.entries(cm.data ?? {}).sort())) return;
    try {
      await this.client.update(resourcePath({ resource: 'configmaps', namespace: 'kube-public', name: CLUSTER_INFO }), { ...cm, data });
      this.logger.info({ signatures: Object.keys(signatures) }, 'cluster-info signed');
    } catch (err) {
      if (err instanceof ApiError && err.httpStatus === 409) { this.queue.addAfter(CLUSTER_INFO, 50); return; }
      throw err;
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
