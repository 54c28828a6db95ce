/**
 * What every component is given and what it promises. A component takes typed options (its TLS
 * material, an injected pino logger, a clock), does no I/O in its constructor, resolves `start()` once
 * it is serving (servers: with their real address), and ends in one of two ways, both idempotent and
 * both releasing every socket, agent, watch and timer it opened:
 * - `close()` drains: stop accepting, let the requests in flight finish, then release;
 * - `destroy()` aborts: drop every connection now.
 * After either, `start()` (and a component's request methods) reject with a `ComponentError` coded
 * 'CLOSED'. `stop()` is kept for callers as an alias of `close()` (the embedded etcd's restarts).
 */
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Trace } from './trace.js';
import { KubeSimError } from '../../pki/errors.js';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface ComponentDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly trace?: Trace;
}

export interface Component {
  readonly name: string;
  /** Servers resolve with the address they listen on; pure clients resolve with undefined. */
  start(): Promise<AddressInfo | undefined>;
  /** Drains: stops accepting, lets in-flight requests finish, then releases everything. Idempotent. */
  close(): Promise<void>;
  /** Aborts: drops every connection and request now, then releases everything. Idempotent. */
  destroy(): Promise<void>;
  /**
   * An alias of close(), kept for callers; except etcd's (embedded or a real etcd process), which is a
   * restartable stop (the member goes down and start() brings it back on its port, as the outage and
   * member-restart tests need).
   */
  stop(): Promise<void>;
}

/** CLOSED: the component (or client) was closed or destroyed; NOT_STARTED: it has not started yet. */
export type ComponentErrorCode = 'CLOSED' | 'NOT_STARTED';

export class ComponentError extends KubeSimError<ComponentErrorCode> {
  /** The component's name. */
  readonly component: string;

  constructor(code: ComponentErrorCode, component: string, operation: string) {
    super(code, `${component}: cannot ${operation}: ${code === 'CLOSED' ? 'closed' : 'not started'}`);
    this.component = component;
  }
}

/** How long close() waits for requests in flight before it drops them (ms). */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/**
 * The requests an HTTP server is serving, so a component can drain it (close: stop accepting, answer
 * what is in flight, then close each keep-alive connection as it goes idle) or abort it (destroy).
 * Attach it right after creating the server, before it listens.
 */
export class ServerDrain {
  private readonly server: Server;
  private readonly active = new Set<ServerResponse>();
  private draining = false;
  private closing = false;

  constructor(server: Server) {
    this.server = server;
    server.on('request', (_req, res: ServerResponse) => {
      this.active.add(res);
      // A request that arrives on a kept-alive connection while draining is answered, then its connection closes.
      if (this.draining && !res.headersSent) res.shouldKeepAlive = false;
      res.once('close', () => {
        this.active.delete(res);
        if (this.draining) this.closeIdleSoon();
      });
    });
  }

  /**
   * Closes the connections gone idle, once per turn of the event loop however many requests ended in it:
   * closeIdleConnections walks every connection, and a cluster's apiserver ending 2,000 watches at once
   * would otherwise walk them all 2,000 times.
   */
  private closeIdleSoon(): void {
    if (this.closing) return;
    this.closing = true;
    setImmediate(() => { this.closing = false; this.server.closeIdleConnections(); });
  }

  /** Requests being served now. */
  get inFlight(): number {
    return this.active.size;
  }

  /**
   * Stops accepting connections, lets every request in flight finish, closes each connection once
   * idle; what is still open after `timeoutMs` is dropped. Resolves when the server has closed.
   */
  close(timeoutMs = DEFAULT_DRAIN_TIMEOUT_MS): Promise<void> {
    this.draining = true;
    return new Promise((resolve) => {
      if (!this.server.listening) { this.server.closeAllConnections(); resolve(); return; }
      const deadline = setTimeout(() => this.server.closeAllConnections(), timeoutMs);
      this.server.close(() => { clearTimeout(deadline); resolve(); });
      this.server.closeIdleConnections();
    });
  }

  /** Stops accepting and drops every connection now, requests in flight included. */
  destroy(): Promise<void> {
    this.draining = true;
    return new Promise((resolve) => {
      if (!this.server.listening) { this.server.closeAllConnections(); resolve(); return; }
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/**
 * The state every component keeps for close/destroy: `open` until the first close() or destroy(),
 * which run their release once (a later call returns the same promise); `check` throws CLOSED after.
 */
export class Lifecycle {
  private readonly name: string;
  private ending: Promise<void> | undefined;

  constructor(name: string) {
    this.name = name;
  }

  get closed(): boolean {
    return this.ending !== undefined;
  }

  /** Throws ComponentError CLOSED once close() or destroy() was called. */
  check(operation: string): void {
    if (this.ending) throw new ComponentError('CLOSED', this.name, operation);
  }

  /** Runs `release` once, on the first close() or destroy(); every call resolves when it is done. */
  end(release: () => Promise<void>): Promise<void> {
    this.ending ??= release();
    return this.ending;
  }
}

/** Formats an address for a URL (IPv6 in brackets). */
export const hostPort = (a: AddressInfo): string => (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);

/**
 * Requests (watches aside) one client has open at once. client-go and etcd's gRPC client multiplex
 * their requests on one HTTP/2 connection; over HTTP/1.1 each open request holds a connection, so a
 * burst (a ReplicaSet's 500 creates) would open as many, each with a full handshake.
 */
export const MAX_IN_FLIGHT = 32;

/** A counting semaphore: `run` starts `task` when fewer than `limit` are running, else queues it. */
export class Slots {
  private running = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running++;
        task().then(resolve, reject).finally(() => {
          this.running--;
          this.queue.shift()?.();
        });
      };
      if (this.running < this.limit) start();
      else this.queue.push(start);
    });
  }
}
