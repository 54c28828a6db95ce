/**
 * client-go's core/v1 event recorder (tools/record): `EventBroadcaster`, what the controllers and the
 * scheduler use. `record()` returns at once; one writer sends the queued events in order, one at a time
 * (StartRecordingToSink), through the EventCorrelator:
 *   - similar events (same source, object, type and reason; another message) are combined once 10 were
 *     seen within 10 minutes: one Event whose message is "(combined from similar events): <message>";
 *   - an event seen before (the same key) is a strategic-merge PATCH of count, lastTimestamp and message
 *     on the Event first written, not a new Event;
 *   - a source may write 25 events about one object, then one every 5 minutes (a token bucket); the rest
 *     are counted but not sent.
 *   A write the server refused with a Status is not retried (it would be refused again); a write that
 *   never reached it is retried up to 12 times, 10 s apart (the first wait random).
 * Failures are logged, never thrown: a lost event must not fail a sync.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from './common.js';
import { ApiError, type KubeClient, resourcePath } from './kube-client.js';
import type { KubeEvent, KubeObject } from '../api/types.js';

export interface EventTarget {
  readonly kind: string;
  readonly apiVersion?: string;
  readonly object: KubeObject;
}

type EventType = 'Normal' | 'Warning';

const stampOf = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

/** `<object>.<UnixNano hex>`, as the recorder names a new Event. */
const eventName = (object: string, now: Date): string =>
  `${object}.${(BigInt(now.getTime()) * 1_000_000n + BigInt(randomBytes(2).readUInt16BE())).toString(16)}`;

/** recorder.makeEvent: the Event as the recorder builds it, before correlation. */
export function makeEvent(now: Date, component: string, target: EventTarget, type: EventType, reason: string, message: string, host?: string): KubeEvent {
  const md = target.object.metadata;
  const ns = md.namespace ?? 'default';
  const stamp = stampOf(now);
  return {
    apiVersion: 'v1', kind: 'Event',
    metadata: { name: eventName(md.name ?? '', now), namespace: ns },
    involvedObject: {
      kind: target.kind, namespace: ns, name: md.name ?? '', ...(md.uid ? { uid: md.uid } : {}),
      ...(target.apiVersion ? { apiVersion: target.apiVersion } : {}), ...(md.resourceVersion ? { resourceVersion: md.resourceVersion } : {}),
    },
    reason, message, type,
    // generateEvent: ReportingController and ReportingInstance from the source (reportingInstance has no
    // omitempty: an empty host is "").
    source: { component, ...(host ? { host } : {}) }, reportingComponent: component, reportingInstance: host ?? '',
    firstTimestamp: stamp, lastTimestamp: stamp, count: 1,
  };
}

/** groupcache's lru.Cache: at most `size` entries, the least recently used dropped first. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) { this.map.delete(k); this.map.set(k, v); }
    return v;
  }
  add(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value as string);
  }
}

const MAX_LRU_CACHE_ENTRIES = 4096;
const AGGREGATE_MAX_EVENTS = 10;
const AGGREGATE_INTERVAL_MS = 600_000;
const SPAM_BURST = 25;
const SPAM_QPS = 1 / 300;

const objectKey = (e: KubeEvent): string[] => {
  const o = e.involvedObject;
  return [e.source?.component ?? '', e.source?.host ?? '', o.kind ?? '', o.namespace ?? '', o.name ?? ''];
};
/** getSpamKey: the source and the object. */
const spamKey = (e: KubeEvent): string => [...objectKey(e), e.involvedObject.uid ?? '', e.involvedObject.apiVersion ?? ''].join('');
/** getEventKey: the source, the object, type, reason and message. */
const eventKey = (e: KubeEvent): string =>
  [...objectKey(e), e.involvedObject.fieldPath ?? '', e.involvedObject.uid ?? '', e.involvedObject.apiVersion ?? '', e.type ?? '', e.reason ?? '', e.message ?? ''].join('');
/** EventAggregatorByReasonFunc: (aggregate key, local key). */
const aggregateKeys = (e: KubeEvent): [string, string] =>
  [[spamKey(e), e.type ?? '', e.reason ?? '', e.reportingComponent ?? '', e.reportingInstance ?? ''].join(''), e.message ?? ''];

interface EventLog { count: number; firstTimestamp: string; name: string; resourceVersion?: string }

/** One correlation's outcome: the Event to write, whether as a patch of the one first written, or nothing. */
export type Correlated = { skip: true } | { skip: false; event: KubeEvent; patch?: { count: number; lastTimestamp: string; message: string } };

/** EventCorrelator with its defaults (NewEventCorrelator). */
export class EventCorrelator {
  private readonly spam = new Lru<{ tokens: number; at: number }>(MAX_LRU_CACHE_ENTRIES);
  private readonly aggregates = new Lru<{ localKeys: Set<string>; last: number }>(MAX_LRU_CACHE_ENTRIES);
  private readonly logs = new Lru<EventLog>(MAX_LRU_CACHE_ENTRIES);

  constructor(private readonly clock: Clock) {}

  correlate(incoming: KubeEvent): Correlated {
    const now = this.clock.now();
    const [event, key] = this.aggregate(incoming, now);
    const observed = this.observe(event, key);
    if (this.filtered(observed.event, now.getTime())) return { skip: true };
    return { skip: false, ...observed };
  }

  /** After a write: what the server holds now (its name and resourceVersion for the next patch). */
  updateState(e: KubeEvent): void {
    this.logs.add(eventKey(e), { count: e.count ?? 1, firstTimestamp: e.firstTimestamp ?? '', name: e.metadata.name ?? '', ...(e.metadata.resourceVersion ? { resourceVersion: e.metadata.resourceVersion } : {}) });
  }

  /** EventAggregate: past the threshold of distinct messages, a combined Event keyed without its message. */
  private aggregate(e: KubeEvent, now: Date): [KubeEvent, string] {
    const [aggKey, localKey] = aggregateKeys(e);
    let rec = this.aggregates.get(aggKey);
    if (!rec || now.getTime() - rec.last > AGGREGATE_INTERVAL_MS) rec = { localKeys: new Set(), last: 0 };
    rec.localKeys.add(localKey);
    rec.last = now.getTime();
    this.aggregates.add(aggKey, rec);
    if (rec.localKeys.size < AGGREGATE_MAX_EVENTS) return [e, eventKey(e)];
    // Do not grow the set past the threshold (PopAny).
    rec.localKeys.delete(rec.localKeys.values().next().value as string);
    const stamp = stampOf(now);
    return [{
      apiVersion: 'v1', kind: 'Event',
      metadata: { name: eventName(e.involvedObject.name ?? '', now), namespace: e.metadata.namespace ?? 'default' },
      involvedObject: e.involvedObject, reason: e.reason, message: `(combined from similar events): ${e.message ?? ''}`,
      type: e.type, ...(e.source ? { source: e.source } : {}),
      // The combined Event is built afresh, as EventAggregate's copy: no reporting fields.
      firstTimestamp: stamp, lastTimestamp: stamp, count: 1,
    }, aggKey];
  }

  /** eventObserve: an Event seen before becomes a patch of the first one's count. */
  private observe(e: KubeEvent, key: string): { event: KubeEvent; patch?: { count: number; lastTimestamp: string; message: string } } {
    const last = this.logs.get(key);
    if (!last || last.count === 0) {
      this.logs.add(key, { count: e.count ?? 1, firstTimestamp: e.firstTimestamp ?? '', name: e.metadata.name ?? '' });
      return { event: e };
    }
    const event: KubeEvent = {
      ...e,
      metadata: { ...e.metadata, name: last.name, ...(last.resourceVersion ? { resourceVersion: last.resourceVersion } : {}) },
      firstTimestamp: last.firstTimestamp, count: last.count + 1,
    };
    this.logs.add(key, { ...last, count: last.count + 1 });
    return { event, patch: { count: last.count + 1, lastTimestamp: event.lastTimestamp ?? '', message: event.message ?? '' } };
  }

  /** EventSourceObjectSpamFilter: a token bucket per source and object. */
  private filtered(e: KubeEvent, nowMs: number): boolean {
    const k = spamKey(e);
    const b = this.spam.get(k) ?? { tokens: SPAM_BURST, at: nowMs };
    b.tokens = Math.min(SPAM_BURST, b.tokens + ((nowMs - b.at) / 1000) * SPAM_QPS);
    b.at = nowMs;
    const take = b.tokens >= 1;
    if (take) b.tokens -= 1;
    this.spam.add(k, b);
    return !take;
  }
}

export interface EventBroadcasterOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** source.component of every Event. */
  readonly component: string;
  /** Wait between attempts of a write that did not reach the server (client-go: 10 s). */
  readonly retryMs?: number;
}

const MAX_TRIES_PER_EVENT = 12;

/**
 * record.EventBroadcaster started with StartRecordingToSink, and its one recorder. The broadcaster is
 * watch.NewLongQueueBroadcaster(maxQueuedEvents = 1000, DropIfChannelFull): 1000 Events wait in its incoming
 * queue and 1000 in the sink watcher's channel; beyond that the recorder's ActionOrDrop drops the Event and
 * logs "Unable to record event: too many queued events, dropped event".
 */
export class EventBroadcaster {
  static readonly MAX_QUEUED = 2 * 1000;
  private readonly correlator: EventCorrelator;
  private readonly queue: KubeEvent[] = [];
  private writing: Promise<void> | undefined;
  /** No more Events are taken (shutdown). */
  private closed = false;
  /** Queued Events are dropped and a pending retry ends (shutdown with drop). */
  private stopped = false;
  private dropped = 0;
  private sleep: { timer: NodeJS.Timeout; wake: () => void } | undefined;

  constructor(private readonly o: EventBroadcasterOptions) {
    this.correlator = new EventCorrelator(o.clock);
  }

  /** recorder.Event: stamped and queued now, never waited for. */
  record(target: EventTarget, type: EventType, reason: string, message: string): void {
    if (this.closed) return;
    const event = makeEvent(this.o.clock.now(), this.o.component, target, type, reason, message);
    if (this.queue.length >= EventBroadcaster.MAX_QUEUED) {
      this.dropped++;
      this.o.logger.error({ reason, involvedObject: `${event.involvedObject.namespace ?? ''}/${event.involvedObject.name}` }, 'Unable to record event: too many queued events, dropped event');
      return;
    }
    this.queue.push(event);
    this.writing ??= this.drain().finally(() => { this.writing = undefined; });
  }

  /** Events dropped because the queue was full. */
  get droppedEvents(): number {
    return this.dropped;
  }

  /** Events recorded and not yet written (the one being written included). */
  get pending(): number {
    return this.queue.length + (this.writing ? 1 : 0);
  }

  /** Resolves once every Event recorded so far has been written or given up. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Shutdown: no more Events are taken; `drop` discards the queued ones (the one being written finishes or fails), else they are written first. */
  async shutdown(drop: boolean): Promise<void> {
    this.closed = true;
    if (drop) this.stop();
    await this.flush();
  }

  /** Shutdown at once: queued Events are dropped, a pending retry ends. */
  stop(): void {
    this.closed = true;
    this.stopped = true;
    this.queue.length = 0;
    if (this.sleep) { clearTimeout(this.sleep.timer); this.sleep.wake(); }
  }

  private async drain(): Promise<void> {
    for (let e = this.queue.shift(); e && !this.stopped; e = this.queue.shift()) await this.recordToSink(e);
  }

  private async recordToSink(e: KubeEvent): Promise<void> {
    const result = this.correlator.correlate(e);
    if (result.skip) return;
    const retryMs = this.o.retryMs ?? 10_000;
    for (let tries = 1; !this.stopped; tries++) {
      if (await this.write(result.event, result.patch)) return;
      if (tries >= MAX_TRIES_PER_EVENT) { this.o.logger.error({ reason: e.reason }, 'unable to write event (retry limit exceeded)'); return; }
      // The first wait is random, so that clients do not all come back at once.
      await new Promise<void>((wake) => { this.sleep = { timer: setTimeout(wake, tries === 1 ? Math.random() * retryMs : retryMs), wake }; });
      this.sleep = undefined;
    }
  }

  /** recordEvent: true when done (written, or refused for good), false to try again. */
  private async write(event: KubeEvent, patch: { count: number; lastTimestamp: string; message: string } | undefined): Promise<boolean> {
    const events = resourcePath({ resource: 'events', namespace: event.metadata.namespace ?? 'default' });
    try {
      let written: KubeEvent | undefined;
      if (patch) {
        try {
          written = await this.o.client.patch<KubeEvent>(`${events}/${encodeURIComponent(event.metadata.name ?? '')}`, patch, 'strategic');
        } catch (err) {
          // The Event first written is gone (expired after an hour): write a new one.
          if (!(err instanceof ApiError && err.httpStatus === 404)) throw err;
        }
      }
      if (!written) {
        const { resourceVersion: _rv, ...metadata } = event.metadata;
        written = await this.o.client.create<KubeEvent>(events, { ...event, metadata });
      }
      this.correlator.updateState(written);
      return true;
    } catch (err) {
      if (err instanceof ApiError) {
        this.o.logger.warn({ err: err.message, reason: event.reason }, 'server rejected event (will not retry)');
        return true;
      }
      this.o.logger.warn({ err: err instanceof Error ? err.message : String(err), reason: event.reason }, 'could not write event (may retry after sleeping)');
      return false;
    }
  }
}
