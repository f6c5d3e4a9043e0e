/**
 * Every Azure call runs under a deadline. The SDK's pollers sleep between polls without watching
 * the abort signal, so the wait is raced against it too: the caller gets control back on time.
 */
export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';

  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
    /** A write that Azure accepted keeps running there after the CLI stops waiting. */
    readonly mayStillRun: boolean,
  ) {
    super(`${operation} did not finish within ${describeMs(timeoutMs)}`);
  }
}

export function isDeadlineExceeded(error: unknown): error is DeadlineExceeded {
  return (
    error instanceof Error && error.name === 'DeadlineExceeded' && typeof (error as Partial<DeadlineExceeded>).mayStillRun === 'boolean'
  );
}

export async function withDeadline<T>(
  operation: string,
  timeoutMs: number,
  mayStillRun: boolean,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const signal = AbortSignal.timeout(timeoutMs);
  const work = run(signal);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new DeadlineExceeded(operation, timeoutMs, mayStillRun));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // Whichever loses the race must not surface later as an unhandled rejection.
  work.catch(() => undefined);
  aborted.catch(() => undefined);
  try {
    return await Promise.race([work, aborted]);
  } catch (error) {
    if (signal.aborted) throw new DeadlineExceeded(operation, timeoutMs, mayStillRun);
    throw error;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

export function describeMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
