/**
 * Reconnect delays: exponential with full jitter, never below the base nor above the cap (1 s and
 * 60 s by default), so a relay that is down sees a bounded number of attempts per minute and many
 * nodes do not reconnect in step.
 */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 60_000 };

/** The delay before retry number `failures` (1 for the first retry); `random` returns [0, 1). */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  return Math.round(Math.min(policy.capMs, Math.max(policy.baseMs, random() * ceiling)));
}
