import type { Timers } from '../../channel/relay/timers';

/** Timers that fire only when the test moves time on, in due order; `now` starts at the real time so SAS expiries make sense. */
export class FakeTimers implements Timers {
  private time = Date.now();
  private nextId = 1;
  private readonly due = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.due.set(id, { at: this.time + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }

  /** The time of the earliest pending timer, if any. */
  nextDueAt(): number | undefined {
    const times = [...this.due.values()].map((entry) => entry.at);
    return times.length ? Math.min(...times) : undefined;
  }

  /** Moves time to `to`, firing every timer due by then (including ones scheduled while firing). */
  advanceTo(to: number): void {
    for (;;) {
      const next = [...this.due.entries()].filter(([, entry]) => entry.at <= to).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.due.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].callback();
    }
    this.time = Math.max(this.time, to);
  }

  advance(ms: number): void {
    this.advanceTo(this.time + ms);
  }
}
