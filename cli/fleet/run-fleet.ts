import { errorText } from '../errors';
import type { AdaptiveLimiter } from './adaptive-limiter';
import type { TargetOutcome, TargetResult } from './outcome';
import type { FleetProgress } from './progress';

/**
 * Runs one piece of work per target under the adaptive limiter. A target's failure is its own:
 * it is recorded and the others go on. Results come back in the targets' order.
 */
export async function runFleet<T>(
  targets: T[],
  work: (target: T) => Promise<TargetOutcome>,
  options: { limiter: AdaptiveLimiter; progress: FleetProgress; onOutcome?: (target: T, outcome: TargetOutcome) => void | Promise<void> },
): Promise<TargetOutcome[]> {
  const { limiter, progress } = options;
  const counts: Record<TargetResult, number> = { ok: 0, failed: 0, skipped: 0 };
  let done = 0;
  progress.start(targets.length);
  try {
    return await Promise.all(
      targets.map(async (target) => {
        await limiter.acquire();
        let outcome: TargetOutcome;
        try {
          outcome = await work(target);
        } catch (error) {
          outcome = { result: 'failed', detail: errorText(error) };
        } finally {
          limiter.release();
        }
        if (outcome.result === 'ok') limiter.succeeded();
        counts[outcome.result] += 1;
        done += 1;
        progress.update(done, counts, limiter.concurrency);
        await options.onOutcome?.(target, outcome);
        return outcome;
      }),
    );
  } finally {
    progress.stop();
  }
}
