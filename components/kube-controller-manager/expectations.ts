/**
 * controller.ControllerExpectations: after a sync creates or deletes N pods, the controller waits
 * until its informer has seen those N events (or five minutes pass) before it counts pods again —
 * otherwise a lagging cache would make it create the same pods twice.
 */
import type { Clock } from '../client/common.js';

const TIMEOUT_MS = 5 * 60 * 1000;

export class Expectations {
  private readonly pending = new Map<string, { add: number; del: number; at: number }>();
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  expect(key: string, add: number, del: number): void {
    this.pending.set(key, { add, del, at: this.clock.now().getTime() });
  }

  creationObserved(key: string): void {
    const e = this.pending.get(key);
    if (e) e.add -= 1;
  }

  deletionObserved(key: string): void {
    const e = this.pending.get(key);
    if (e) e.del -= 1;
  }

  satisfied(key: string): boolean {
    const e = this.pending.get(key);
    if (!e) return true;
    return (e.add <= 0 && e.del <= 0) || this.clock.now().getTime() - e.at > TIMEOUT_MS;
  }

  forget(key: string): void {
    this.pending.delete(key);
  }
}
