/**
 * The apiserver's etcd compactor (`--etcd-compaction-interval`, default 5m;
 * staging/src/k8s.io/apiserver/pkg/storage/etcd3/compact.go), so etcd's history does not grow forever.
 *
 * Every interval: `Txn(If(version("compact_rev_key") == t).Then(put("compact_rev_key", rev)).Else(get))`.
 * If it succeeds this apiserver owns this round: it compacts to `rev`, the revision it saw at the
 * previous tick (never on the first tick: "We don't compact on bootstrap"). If another apiserver got
 * there first it adopts that one's compact time. Either way `rev` becomes the current header revision,
 * so a watcher always has at least one interval of history to resume from.
 */
import type { Logger } from 'pino';
import type { EtcdClient } from '../client/etcd-client.js';

export const COMPACT_REV_KEY = 'compact_rev_key';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export class Compactor {
  private readonly client: EtcdClient;
  private readonly intervalMs: number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The compact time (compact_rev_key's version) this apiserver knows, and the revision of its last tick. */
  private compactTime = 0;
  private rev = 0;

  constructor(client: EtcdClient, intervalMs: number, logger: Logger) {
    this.client = client;
    this.intervalMs = intervalMs;
    this.logger = logger;
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick().finally(() => { this.running = undefined; this.schedule(); });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One round of compact.go's compact(); errors are logged and the next tick tries again. */
  async tick(): Promise<void> {
    const t = this.compactTime;
    const rev = this.rev;
    try {
      const r = await this.client.txn(
        [{ key: b64(COMPACT_REV_KEY), target: 'VERSION', result: 'EQUAL', version: String(t) }],
        [{ request_put: { key: b64(COMPACT_REV_KEY), value: b64(String(rev)) } }],
        [{ request_range: { key: b64(COMPACT_REV_KEY) } }],
      );
      const curRev = Number((r['header'] as Record<string, unknown> | undefined)?.['revision'] ?? 0);
      if (r['succeeded'] !== true) {
        const responses = Array.isArray(r['responses']) ? r['responses'] as Record<string, unknown>[] : [];
        const kvs = (responses[0]?.['response_range'] as Record<string, unknown> | undefined)?.['kvs'];
        this.compactTime = Number((Array.isArray(kvs) ? (kvs[0] as Record<string, unknown>) : undefined)?.['version'] ?? 0);
        this.rev = curRev;
        return;
      }
      this.compactTime = t + 1;
      this.rev = curRev;
      if (rev === 0) return;
      await this.client.compact(rev);
      this.logger.info({ rev }, 'etcd: compacted rev');
    } catch (err) {
      this.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'etcd: compact failed');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
