/**
 * What every component is given and what it promises. A component takes typed options (its TLS
 * material, an injected pino logger, a clock), does no I/O in its constructor, resolves `start()` once
 * it is serving (servers: with their real address), and `stop()` is idempotent and closes every
 * socket, agent, watch and timer it opened.
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Trace } from './trace.js';

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
  stop(): Promise<void>;
}

/** Formats an address for a URL (IPv6 in brackets). */
export const hostPort = (a: AddressInfo): string => (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
