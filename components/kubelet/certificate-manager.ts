/**
 * The kubelet's certificate manager (k8s.io/client-go/util/certificate/certificate_manager.go), for
 * its client certificate (rotateCertificates, signer kube-apiserver-client-kubelet) and its serving
 * certificate (serverTLSBootstrap, signer kubelet-serving):
 *
 * - the rotation deadline is notBefore + 70-90% of the certificate's lifetime (jitteryDuration:
 *   wait.Jitter(total, 0.2) - 0.3 * total), or now when there is no certificate yet;
 * - at the deadline: a new ECDSA P-256 key, a CSR (generateName `csr-`), wait for it to be signed,
 *   store the pair, switch to it (the callback), and compute the next deadline;
 * - a failed attempt is retried with exponential backoff.
 */
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { privateKeyPem } from '../../pki/issue.js';
import type { Subject, SubjectAltNames } from '../../pki/x509.js';
import type { Clock } from '../client/common.js';
import type { KubeClient } from '../client/kube-client.js';
import type { Identity } from '../client/tls.js';
import { newKubeletKey, requestCertificate, waitForCertificate } from './bootstrap.js';

export interface CertificateManagerOptions {
  /** For logs: `kubernetes.io/kube-apiserver-client-kubelet` or `kubernetes.io/kubelet-serving`. */
  readonly signerName: string;
  /** The client that posts the CSRs (the kubelet's own, whose identity the manager may be rotating). */
  readonly client: () => KubeClient;
  readonly subject: Subject;
  readonly sans: SubjectAltNames;
  readonly usages: readonly string[];
  /** The certificate in use, if any. */
  readonly current?: Identity;
  /** Called with each new certificate and key, after `store`. */
  readonly onRotate: (identity: Identity) => void;
  /** Persists a new pair (the kubelet's certificate store: kubelet-client-current.pem and friends). */
  readonly store?: (identity: Identity) => Promise<void>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** certificateWaitTimeout (15 min). */
  readonly waitTimeoutMs?: number;
  /** First retry delay after a failure; default 2 s, doubling to 30 s. */
  readonly retryMs?: number;
  /** The random source of the jitter, [0, 1). */
  readonly random?: () => number;
  /**
   * getCurrentCertificateOrBootstrap found no certificate in the store and took `current` from the
   * kubeconfig as the bootstrap one: it is rotated at once (forceRotation).
   */
  readonly forceRotation?: boolean;
}

export interface Rotation {
  readonly at: Date;
  readonly csr: string;
  readonly previousSerial: string | undefined;
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The deadline that triggered it (undefined for the first certificate). */
  readonly deadline: Date | undefined;
}

export class CertificateManager {
  private readonly o: CertificateManagerOptions;
  private current: Identity | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private stopped = false;
  private failures = 0;
  private running: Promise<void> | undefined;
  /** The deadline computed for the current certificate. */
  deadline: Date | undefined;
  /** Every rotation so far. */
  readonly rotations: Rotation[] = [];

  constructor(options: CertificateManagerOptions) {
    this.o = options;
    this.current = options.current;
  }

  get identity(): Identity | undefined {
    return this.current;
  }

  /** nextRotationDeadline. */
  nextRotationDeadline(): Date {
    if (!this.current) return this.o.clock.now();
    const cert = new X509Certificate(this.current.cert);
    const notBefore = Date.parse(cert.validFrom);
    const total = Date.parse(cert.validTo) - notBefore;
    const jittered = total * (1 + (this.o.random ?? Math.random)() * 0.2) - total * 0.3;
    return new Date(notBefore + jittered);
  }

  start(): void {
    this.schedule(this.o.forceRotation ? this.o.clock.now() : this.nextRotationDeadline());
  }

  private schedule(deadline: Date): void {
    if (this.stopped) return;
    this.deadline = deadline;
    const notAfter = this.current ? new X509Certificate(this.current.cert).validTo : undefined;
    this.o.logger.info({ signer: this.o.signerName, expiration: notAfter, deadline: deadline.toISOString() }, 'Certificate expiration and rotation deadline');
    this.arm(deadline);
  }

  /** setTimeout holds at most 2^31-1 ms (24.8 days): a year-long wait is taken in steps. */
  private arm(deadline: Date): void {
    if (this.stopped) return;
    const wait = Math.max(0, deadline.getTime() - this.o.clock.now().getTime());
    const MAX = 2 ** 31 - 1;
    if (wait > MAX) {
      this.timer = setTimeout(() => { this.timer = undefined; this.arm(deadline); }, MAX);
      return;
    }
    this.timer = setTimeout(() => { this.timer = undefined; this.running = this.rotate(deadline); }, wait);
  }

  private async rotate(deadline: Date): Promise<void> {
    if (this.stopped) return;
    this.o.logger.info({ signer: this.o.signerName }, 'Rotating certificates');
    try {
      const key = await newKubeletKey();
      const client = this.o.client();
      const csr = await requestCertificate(client, key, { signerName: this.o.signerName, subject: this.o.subject, sans: this.o.sans, usages: this.o.usages });
      const certPem = await waitForCertificate(client, csr, this.o.waitTimeoutMs ?? 15 * 60_000, this.abort.signal);
      if (this.stopped) return;
      const identity = { cert: certPem, key: privateKeyPem(key.privateKey) };
      await this.o.store?.(identity);
      const previousSerial = this.current ? new X509Certificate(this.current.cert).serialNumber : undefined;
      this.current = identity;
      const x = new X509Certificate(certPem);
      this.rotations.push({
        at: this.o.clock.now(), csr: csr.metadata.name ?? '', previousSerial, serial: x.serialNumber,
        notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo), deadline: previousSerial === undefined ? undefined : deadline,
      });
      this.failures = 0;
      this.o.onRotate(identity);
      this.schedule(this.nextRotationDeadline());
    } catch (err) {
      if (this.stopped) return;
      this.failures++;
      const delay = Math.min(30_000, (this.o.retryMs ?? 2000) * 2 ** (this.failures - 1));
      this.o.logger.warn({ signer: this.o.signerName, err: (err as Error).message, retryInMs: delay }, 'certificate request failed');
      this.schedule(new Date(this.o.clock.now().getTime() + delay));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }
}
