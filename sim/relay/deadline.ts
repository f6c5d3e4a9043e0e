/** A timer for an instant that may lie further ahead than setTimeout can wait (about 24.8 days). */
const LONGEST_TIMEOUT_MS = 2 ** 31 - 1;

export class Deadline {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private atMs: number,
    private readonly onPass: () => void,
  ) {
    this.arm();
  }

  /** Moves the instant (a renewed token); the old one no longer fires. */
  moveTo(atMs: number): void {
    this.atMs = atMs;
    this.arm();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.clear();
    const remaining = this.atMs - Date.now();
    if (remaining <= 0) {
      this.timer = setTimeout(this.onPass, 0);
      return;
    }
    this.timer = setTimeout(() => (this.atMs - Date.now() <= 0 ? this.onPass() : this.arm()), Math.min(remaining, LONGEST_TIMEOUT_MS));
  }
}
