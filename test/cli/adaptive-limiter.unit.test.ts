/** The fleet's concurrency: additive increase, halve on 429, no new start until Retry-After has passed. */
import { AdaptiveLimiter } from '../../cli/fleet/adaptive-limiter';
import { runFleet } from '../../cli/fleet/run-fleet';
import { noProgress } from '../../cli/fleet/progress';
import { exitCodeFor } from '../../cli/fleet/outcome';
import { SimulatedClock, settle } from '../support/simulated-clock';

/** Starts `count` acquisitions and tells how many got a slot. */
function contenders(limiter: AdaptiveLimiter, count: number) {
  let started = 0;
  const all = Array.from({ length: count }, () => limiter.acquire().then(() => void (started += 1)));
  return { started: () => started, all };
}

describe('the adaptive limiter', () => {
  it('starts at min(8, max)', async () => {
    const clock = new SimulatedClock();
    expect(new AdaptiveLimiter(16, clock).concurrency).toBe(8);
    expect(new AdaptiveLimiter(3, clock).concurrency).toBe(3);
    const limiter = new AdaptiveLimiter(16, clock);
    const run = contenders(limiter, 20);
    await settle();
    expect(run.started()).toBe(8);
    expect(limiter.running).toBe(8);
  });

  it('grows by one slot per window of successes, up to the maximum', async () => {
    const limiter = new AdaptiveLimiter(10, new SimulatedClock());
    for (let i = 0; i < 8; i += 1) limiter.succeeded();
    expect(limiter.concurrency).toBe(9);
    for (let i = 0; i < 9; i += 1) limiter.succeeded();
    expect(limiter.concurrency).toBe(10);
    for (let i = 0; i < 100; i += 1) limiter.succeeded();
    expect(limiter.concurrency).toBe(10);
  });

  it('halves on a 429 and starts nothing until Retry-After has passed', async () => {
    const clock = new SimulatedClock();
    const limiter = new AdaptiveLimiter(16, clock);
    const run = contenders(limiter, 30);
    await settle();
    expect(run.started()).toBe(8);

    limiter.throttled(5000);
    expect(limiter.concurrency).toBe(4);
    // Everything in flight finishes, but the pause holds new starts.
    for (let i = 0; i < 8; i += 1) limiter.release();
    await settle();
    expect(run.started()).toBe(8);
    await clock.advance(4999);
    expect(run.started()).toBe(8);
    await clock.advance(1);
    expect(run.started()).toBe(12);
    expect(limiter.running).toBe(4);
  });

  it('halves once per throttling episode, however many 429s it brings', async () => {
    const clock = new SimulatedClock();
    const limiter = new AdaptiveLimiter(16, clock);
    limiter.throttled(2000);
    limiter.throttled(2000);
    limiter.throttled(3000);
    expect(limiter.concurrency).toBe(4);
    expect(limiter.pausedForMs).toBe(3000);
    await clock.advance(3000);
    limiter.throttled(undefined);
    expect(limiter.concurrency).toBe(2);
    expect(limiter.pausedForMs).toBe(1000);
    limiter.throttled(1000);
    await clock.advance(1000);
    limiter.throttled(1000);
    expect(limiter.concurrency).toBe(1);
    limiter.throttled(1000);
    await clock.advance(1000);
    limiter.throttled(1000);
    expect(limiter.concurrency).toBe(1);
  });

  it('serves waiters in the order they asked', async () => {
    const limiter = new AdaptiveLimiter(1, new SimulatedClock());
    const order: number[] = [];
    const all = [1, 2, 3].map((n) => limiter.acquire().then(() => order.push(n)));
    await settle();
    limiter.release();
    await settle();
    limiter.release();
    await Promise.all(all);
    expect(order).toEqual([1, 2, 3]);
  });
});

describe('running a fleet', () => {
  it("keeps each target's failure its own and returns results in order", async () => {
    const limiter = new AdaptiveLimiter(2, new SimulatedClock());
    const seen: string[] = [];
    const outcomes = await runFleet(
      ['a', 'b', 'c'],
      async (name) => {
        if (name === 'b') throw new Error('b broke');
        return { result: 'ok', detail: name };
      },
      { limiter, progress: noProgress, onOutcome: (name, outcome) => void seen.push(`${name}:${outcome.result}`) },
    );
    expect(outcomes).toEqual([
      { result: 'ok', detail: 'a' },
      { result: 'failed', detail: 'b broke' },
      { result: 'ok', detail: 'c' },
    ]);
    expect(seen.sort()).toEqual(['a:ok', 'b:failed', 'c:ok']);
    expect(limiter.running).toBe(0);
  });

  it('never runs more at once than the limiter allows', async () => {
    const limiter = new AdaptiveLimiter(3, new SimulatedClock());
    let running = 0;
    let peak = 0;
    await runFleet(
      Array.from({ length: 12 }, (_, i) => i),
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running -= 1;
        return { result: 'ok', detail: '' };
      },
      { limiter, progress: noProgress },
    );
    expect(peak).toBe(3);
  });

  it('maps results to exit codes: 0 all ok, 3 some failed, 4 none ok', () => {
    expect(exitCodeFor(['ok', 'ok'])).toBe(0);
    expect(exitCodeFor(['ok', 'failed'])).toBe(3);
    expect(exitCodeFor(['ok', 'skipped'])).toBe(3);
    expect(exitCodeFor(['failed', 'skipped'])).toBe(4);
  });
});
