import type { Clock } from './clock';

/**
 * How many machines are worked on at once, adapting to Azure's throttling the way TCP adapts to
 * congestion: start at min(8, max), add one slot per window of successes (additive increase),
 * halve on a 429 and start nothing new until its Retry-After has passed (multiplicative decrease).
 * A burst of 429s from one throttling episode halves only once.
 */
export class AdaptiveLimiter {
  private limit: number;
  /** Successes since the limit last grew. */
  private successes = 0;
  private active = 0;
  private pausedUntil = 0;
  private timerArmed = false;
  private readonly queue: Array<() => void> = [];

  constructor(
    private readonly max: number,
    private readonly clock: Clock,
    /** Pause after a 429 that names no Retry-After. */
    private readonly defaultPauseMs = 1000,
  ) {
    this.limit = Math.min(8, max);
  }

  /** Slots available now. */
  get concurrency(): number {
    return this.limit;
  }

  get running(): number {
    return this.active;
  }

  get pausedForMs(): number {
    return Math.max(0, this.pausedUntil - this.clock.now());
  }

  /** Resolves when the caller may start; callers start in the order they asked. */
  acquire(): Promise<void> {
    return new Promise((resolve) => {
      this.queue.push(resolve);
      this.pump();
    });
  }

  release(): void {
    this.active -= 1;
    this.pump();
  }

  /** One more slot per `concurrency` successes. */
  succeeded(): void {
    this.successes += 1;
    if (this.successes >= this.limit) {
      this.successes = 0;
      this.limit = Math.min(this.max, this.limit + 1);
    }
    this.pump();
  }

  throttled(retryAfterMs: number | undefined): void {
    const now = this.clock.now();
    const until = now + (retryAfterMs ?? this.defaultPauseMs);
    if (now >= this.pausedUntil) {
      this.limit = Math.max(1, Math.floor(this.limit / 2));
      this.successes = 0;
    }
    this.pausedUntil = Math.max(this.pausedUntil, until);
  }

  private pump(): void {
    const wait = this.pausedUntil - this.clock.now();
    if (wait > 0) {
      if (!this.timerArmed && this.queue.length > 0) {
        this.timerArmed = true;
        void this.clock.sleep(wait).then(() => {
          this.timerArmed = false;
          this.pump();
        });
      }
      return;
    }
    while (this.active < this.concurrency && this.queue.length > 0) {
      this.active += 1;
      this.queue.shift()!();
    }
  }
}
