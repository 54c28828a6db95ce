/**
 * Leader election on a coordination.k8s.io Lease (client-go's leaderelection with resourcelock.LeaseLock),
 * as kube-scheduler and kube-controller-manager run it with --leader-elect=true: take the Lease when it
 * is absent, expired or already ours; otherwise try again every retry period; once leader, renew every
 * retry period.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from './common.js';
import { ApiError, type KubeClient, resourcePath } from './kube-client.js';
import type { Lease } from '../api/types.js';

export interface LeaderElectorOptions {
  readonly client: KubeClient;
  /** `kube-scheduler`, `kube-controller-manager` (in kube-system). */
  readonly lease: string;
  /** The holder identity: `<host>_<uuid>` as the real components make it. */
  readonly identity?: string;
  readonly leaseDurationSeconds?: number;
  readonly retryPeriodSeconds?: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

const microTime = (d: Date): string => `${d.toISOString().slice(0, 23)}000Z`;

export class LeaderElector {
  readonly identity: string;
  private readonly o: LeaderElectorOptions;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;

  constructor(o: LeaderElectorOptions) {
    this.o = o;
    this.identity = o.identity ?? `cp-1_${randomUUID()}`;
  }

  private get path(): string {
    return resourcePath({ group: 'coordination.k8s.io', resource: 'leases', namespace: 'kube-system' });
  }

  /** One try: true when we hold the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { client, lease: name, clock } = this.o;
    const duration = this.o.leaseDurationSeconds ?? 15;
    const now = clock.now();
    let lease: Lease | undefined;
    try {
      lease = await client.get<Lease>(`${this.path}/${name}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.httpStatus === 404)) throw err;
    }
    if (!lease) {
      await client.create<Lease>(this.path, {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-system' },
        spec: { holderIdentity: this.identity, leaseDurationSeconds: duration, acquireTime: microTime(now), renewTime: microTime(now) },
      });
      return true;
    }
    const other = lease.spec.holderIdentity && lease.spec.holderIdentity !== this.identity;
    const renewedAt = Date.parse(lease.spec.renewTime ?? '') || 0;
    if (other && renewedAt + (lease.spec.leaseDurationSeconds ?? duration) * 1000 > now.getTime()) return false;
    await client.update<Lease>(`${this.path}/${name}`, {
      ...lease, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      spec: {
        ...lease.spec, holderIdentity: this.identity, leaseDurationSeconds: duration, renewTime: microTime(now),
        ...(other || !lease.spec.acquireTime ? { acquireTime: microTime(now) } : {}),
      },
    });
    return true;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  /** Resolves once leader (then keeps renewing); rejects if stopped first. */
  async acquire(): Promise<void> {
    const retry = (this.o.retryPeriodSeconds ?? 2) * 1000;
    while (!this.stopped) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (err) {
        if (this.stopped) break;
        this.o.logger.warn({ err: err instanceof Error ? err.message : String(err), lease: this.o.lease }, 'error retrieving or updating the lease');
      }
      if (ok) {
        this.o.logger.info({ lease: `kube-system/${this.o.lease}`, identity: this.identity }, 'successfully acquired lease');
        this.renewLoop(retry);
        return;
      }
      await this.sleep(retry);
    }
    throw new Error(`stopped while waiting for the ${this.o.lease} lease`);
  }

  private renewLoop(retry: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tryAcquireOrRenew().then(
        (ok) => { if (!ok) this.o.logger.error({ lease: this.o.lease }, 'leaderelection lost'); },
        (err: unknown) => { if (!this.stopped) this.o.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'failed to renew the lease'); },
      ).finally(() => this.renewLoop(retry));
    }, retry);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
  }
}
