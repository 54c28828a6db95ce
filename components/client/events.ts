/**
 * client-go's event recorder, reduced: one core/v1 Event per call, named `<object>.<UnixNano hex>`, with
 * the reporting component as its source. Failures are logged, never thrown (a lost event must not fail
 * a sync).
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
    source: { component },
    firstTimestamp: stamp, lastTimestamp: stamp, count: 1,
  };
  try {
    await client.create(resourcePath({ resource: 'events', namespace: ns }), event);
  } catch (err) {
    logger.warn({ err: err instanceof Error ? err.message : String(err), reason }, 'could not record event');
  }
}
