/**
 * A token bucket: `capacity` takes at once, refilled evenly at `capacity` per `windowMs`. The
 * session uses it to bound how fast an engineer can start commands, a flood included.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly capacity: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`TokenBucket capacity: received ${capacity}. Give 1 or more.`);
    if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError(`TokenBucket windowMs: received ${windowMs}. Give more than 0.`);
    this.tokens = capacity;
    this.updatedAt = now();
  }

  /** Takes one token: 0 when taken, else the milliseconds until one is available. */
  take(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * this.windowMs) / this.capacity);
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.capacity) / this.windowMs);
    this.updatedAt = now;
  }
}
