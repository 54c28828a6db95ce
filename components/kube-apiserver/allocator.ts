/**
 * ClusterIP and NodePort allocation. The real allocators keep a bitmap in etcd
 * (/registry/ranges/serviceips, /registry/ranges/servicenodeports); here the used set is read from
 * the stored Services at allocation time, and allocations are serialized so that two concurrent
 * creates cannot pick the same address. The first address of the range is the `kubernetes` Service.
 * A dry run (`?dryRun=All`) allocates through `dryRun()`, which reserves nothing.
 */
import type { Service } from '../api/types.js';
import { failure } from '../api/errors.js';
import { resourceByName } from '../api/resources.js';
import type { Store } from './storage.js';

const SERVICES = resourceByName('services');

const ipToInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

export class IpAllocator {
  private readonly base: number;
  private readonly size: number;
  private readonly store: Store;
  private queue: Promise<unknown> = Promise.resolve();
  /** Handed out but perhaps not stored yet. */
  private readonly pendingIPs = new Set<string>();
  private readonly pendingPorts = new Set<number>();

  constructor(cidr: string, store: Store) {
    const [ip, bits] = cidr.split('/');
    const prefix = Number(bits);
    if (!ip || !(prefix >= 8 && prefix <= 30)) throw new Error(`service-cluster-ip-range ${cidr}: not an IPv4 CIDR between /8 and /30`);
    this.size = 2 ** (32 - prefix);
    this.base = ipToInt(ip) - (ipToInt(ip) % this.size);
    this.store = store;
  }

  /** The range's first usable address (10.96.0.1): the `kubernetes` Service's ClusterIP. */
  get firstIP(): string {
    return intToIp(this.base + 1);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async services(): Promise<Service[]> {
    return (await this.store.list<Service>(SERVICES, undefined)).items;
  }

  allocateClusterIP(): Promise<string> {
    return this.serial(async () => {
      const used = new Set<string>([...this.pendingIPs, this.firstIP]);
      for (const s of await this.services()) if (s.spec.clusterIP) used.add(s.spec.clusterIP);
      // Random within the range, as the real allocator picks, skipping network and broadcast.
      const usable = this.size - 2;
      const start = Math.floor(Math.random() * usable);
      for (let i = 0; i < usable; i++) {
        const ip = intToIp(this.base + 1 + ((start + i) % usable));
        if (!used.has(ip)) {
          this.pendingIPs.add(ip);
          if (this.pendingIPs.size > 64) this.pendingIPs.delete(this.pendingIPs.values().next().value!);
          return ip;
        }
      }
      throw failure(500, 'InternalError', 'Internal error occurred: failed to allocate a serviceIP: range is full');
    });
  }

  /**
   * The allocators of one dry-run request, which reserve nothing, as Kubernetes' are: a ClusterIP is
   * the range's network address (ipallocator's dry run: "Don't bother finding a free value. It's racy
   * and not worth the effort to plumb any further."), and NodePorts are 32769, 32770, ... in the order
   * the request asks for them (portallocator.PortAllocationOperation.AllocateNext with dryRun).
   */
  dryRun(): { allocateClusterIP(): Promise<string>; allocateNodePort(): Promise<number> } {
    let lastPort = 32768;
    return {
      allocateClusterIP: () => Promise.resolve(intToIp(this.base)),
      allocateNodePort: () => Promise.resolve(++lastPort),
    };
  }

  allocateNodePort(): Promise<number> {
    return this.serial(async () => {
      const used = new Set<number>(this.pendingPorts);
      for (const s of await this.services()) for (const p of s.spec.ports ?? []) if (p.nodePort) used.add(p.nodePort);
      const start = Math.floor(Math.random() * 2768);
      for (let i = 0; i < 2768; i++) {
        const port = 30000 + ((start + i) % 2768);
        if (!used.has(port)) {
          this.pendingPorts.add(port);
          if (this.pendingPorts.size > 64) this.pendingPorts.delete(this.pendingPorts.values().next().value!);
          return port;
        }
      }
      throw failure(500, 'InternalError', 'Internal error occurred: failed to allocate a nodePort: range is full');
    });
  }
}
