import type { PipelineResponse } from '@azure/core-rest-pipeline';

/**
 * The wait an answer asks for: `retry-after-ms`, `x-ms-retry-after-ms` (milliseconds) or
 * `Retry-After` (seconds or an HTTP date). Undefined when the answer names none.
 */
export function retryAfterMs(response: Pick<PipelineResponse, 'headers'> | undefined, now: () => number = Date.now): number | undefined {
  if (!response) return undefined;
  for (const header of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const value = Number(response.headers.get(header));
    if (response.headers.get(header) && Number.isFinite(value) && value >= 0) return value;
  }
  const retryAfter = response.headers.get('retry-after');
  if (!retryAfter) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(retryAfter)) return Number(retryAfter) * 1000;
  const date = Date.parse(retryAfter);
  return Number.isFinite(date) ? Math.max(0, date - now()) : undefined;
}

/** A wait that ends early, with the abort reason, when the request is cancelled (timeout). */
export function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
