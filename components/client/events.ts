/**
 * client-go's event recorder, reduced: one core/v1 Event per call, named `<object>.<UnixNano hex>`, with
 * the reporting component as its source. Failures are logged, never thrown (a lost event must not fail
 * a sync). `recordEvent` writes one and resolves when it is written; `EventBroadcaster` is the
 * asynchronous broadcaster (tools/record) for a component that must not wait on its events.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from './common.js';
import { type KubeClient, resourcePath } from './kube-client.js';
import type { KubeEvent, KubeObject } from '../api/types.js';

export interface EventTarget {
  readonly kind: string;
  readonly apiVersion?: string;
  readonly object: KubeObject;
}

export async function recordEvent(
  client: KubeClient, clock: Clock, logger: Logger, component: string,
  target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string,
): Promise<void> {
  await writeEvent(client, logger, makeEvent(clock, component, target, type, reason, message));
}

/** The Event as the recorder makes it (generateEvent/makeEvent): stamped when it is recorded, not when it is written. */
function makeEvent(clock: Clock, component: string, target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): KubeEvent {
  const now = clock.now();
  const md = target.object.metadata;
  const ns = md.namespace ?? 'default';
  const nano = BigInt(now.getTime()) * 1_000_000n + BigInt(randomBytes(2).readUInt16BE());
  const stamp = `${now.toISOString().slice(0, 19)}Z`;
  const event: KubeEvent = {
    apiVersion: 'v1', kind: 'Event',
    metadata: { name: `${md.name ?? ''}.${nano.toString(16)}`, namespace: ns },
    involvedObject: {
      kind: target.kind, namespace: ns, name: md.name ?? '', ...(md.uid ? { uid: md.uid } : {}),
      ...(target.apiVersion ? { apiVersion: target.apiVersion } : {}), ...(md.resourceVersion ? { resourceVersion: md.resourceVersion } : {}),
    } as KubeEvent['involvedObject'],
    reason, message, type,
    // generateEvent: ReportingController and ReportingInstance from the source (no host: an empty instance, as the real JSON has it).
    source: { component }, reportingComponent: component, reportingInstance: '',
    firstTimestamp: stamp, lastTimestamp: stamp, count: 1,
  };
  return event;
}

async function writeEvent(client: KubeClient, logger: Logger, event: KubeEvent): Promise<void> {
  try {
    await client.create(resourcePath({ resource: 'events', namespace: event.metadata.namespace ?? 'default' }), event);
  } catch (err) {
    logger.warn({ err: err instanceof Error ? err.message : String(err), reason: event.reason }, 'could not record event');
  }
}

/**
 * record.NewBroadcaster with StartRecordingToSink: `record` stamps the Event and queues it without
 * waiting; one writer sends the queued Events to the apiserver one at a time, in order (the sink's
 * watcher goroutine runs recordToSink for each in turn). The broadcaster is
 * watch.NewLongQueueBroadcaster(maxQueuedEvents = 1000, DropIfChannelFull): 1000 Events wait in its
 * incoming queue and 1000 in the sink watcher's channel; beyond that the recorder's ActionOrDrop drops
 * the Event and logs "Unable to record event: too many queued events, dropped event". An Event the
 * apiserver refuses is logged and dropped, as recordEvent's "Server rejected event (will not retry!)".
 */
export class EventBroadcaster {
  static readonly MAX_QUEUED = 2 * 1000;
  private readonly queue: KubeEvent[] = [];
  private writing: Promise<void> | undefined;
  private stopped = false;
  private dropped = 0;

  constructor(private readonly o: { readonly client: KubeClient; readonly clock: Clock; readonly logger: Logger; readonly component: string }) {}

  /** Queues one Event (the recorder's Eventf); returns at once. */
  record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.stopped) return;
    const event = makeEvent(this.o.clock, this.o.component, target, type, reason, message);
    if (this.queue.length >= EventBroadcaster.MAX_QUEUED) {
      this.dropped++;
      this.o.logger.error({ reason, involvedObject: `${event.involvedObject.namespace ?? ''}/${event.involvedObject.name}` }, 'Unable to record event: too many queued events, dropped event');
      return;
    }
    this.queue.push(event);
    this.writing ??= this.drain();
  }

  /** Events dropped because the queue was full. */
  get droppedEvents(): number {
    return this.dropped;
  }

  /** Events recorded and not yet written (the one being written included). */
  get pending(): number {
    return this.queue.length + (this.writing ? 1 : 0);
  }

  /** Resolves once every Event recorded so far has been written (or refused). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Shutdown: no more Events are taken; `drop` discards the queued ones (the one being written finishes or fails). */
  async shutdown(drop: boolean): Promise<void> {
    this.stopped = true;
    if (drop) this.queue.length = 0;
    await this.flush();
  }

  private async drain(): Promise<void> {
    try {
      for (let e = this.queue.shift(); e !== undefined; e = this.queue.shift()) await writeEvent(this.o.client, this.o.logger, e);
    } finally {
      this.writing = undefined;
    }
  }
}
