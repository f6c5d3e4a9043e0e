/**
 * The sessions one grant may have open at a time. The agent keeps one per grant and gives it to
 * every session host of that grant; a host holds a slot from `ready` to its end.
 */
import { MAX_SESSIONS_PER_GRANT } from './protocol';

export class SessionSlots {
  private taken = 0;

  constructor(readonly max: number = MAX_SESSIONS_PER_GRANT) {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`SessionSlots max: received ${max}. Give a whole number of sessions, 1 or more.`);
  }

  get open(): number {
    return this.taken;
  }

  /** A slot and the function that gives it back (once), or undefined when all are taken. */
  take(): (() => void) | undefined {
    if (this.taken >= this.max) return undefined;
    this.taken += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.taken -= 1;
    };
  }
}
