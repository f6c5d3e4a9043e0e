/** ARM's per-subscription write limit: a token bucket that refills continuously. */

export interface WriteBucket {
  burst: number;
  refillPerSecond: number;
}

export type ThrottleDecision = { allowed: true; remaining: number | undefined } | { allowed: false; retryAfterSeconds: number };

export class WriteThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private bucket: WriteBucket | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.change(bucket);
  }

  /** A new limit (or none), every subscription starting with a full bucket. */
  change(bucket: WriteBucket | undefined): void {
    if (bucket && (bucket.burst < 1 || bucket.refillPerSecond <= 0)) {
      throw new Error(`writeBucket needs burst >= 1 and refillPerSecond > 0, got ${JSON.stringify(bucket)}`);
    }
    this.bucket = bucket;
    this.buckets.clear();
  }

  /** Takes one write token for the subscription, or says how long until the next one. */
  take(subscriptionId: string): ThrottleDecision {
    if (!this.bucket) return { allowed: true, remaining: undefined };
    const key = subscriptionId.toLowerCase();
    const now = this.now();
    const state = this.buckets.get(key) ?? { tokens: this.bucket.burst, at: now };
    state.tokens = Math.min(this.bucket.burst, state.tokens + ((now - state.at) / 1000) * this.bucket.refillPerSecond);
    state.at = now;
    this.buckets.set(key, state);
    if (state.tokens >= 1) {
      state.tokens -= 1;
      return { allowed: true, remaining: Math.floor(state.tokens) };
    }
    // Whole seconds, as ARM sends them; never 0, which would invite an immediate retry.
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - state.tokens) / this.bucket.refillPerSecond)) };
  }
}
