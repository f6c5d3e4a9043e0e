import { isRestError, type PipelinePolicy, type PipelineResponse } from '@azure/core-rest-pipeline';
import { abortableDelay, retryAfterMs } from './retry-after';

export interface ConflictRetryOptions {
  /** Attempts after the first; bounded so a stuck operation ends in a clear failure. */
  maxRetries?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  onConflict?: (waitMs: number) => void;
}

/**
 * ARM answers 409 Conflict while another operation on the same extension is in progress, and the
 * SDK does not retry it. Waits as Retry-After says, else exponentially with full jitter (so a fleet
 * does not retry in lock step), then sends again.
 */
export function conflictRetryPolicy(options: ConflictRetryOptions = {}): PipelinePolicy {
  const maxRetries = options.maxRetries ?? 8;
  const base = options.baseDelayMs ?? 1000;
  const cap = options.maxDelayMs ?? 30_000;
  const random = options.random ?? Math.random;
  return {
    name: 'arcRemoteSupportConflictRetry',
    async sendRequest(request, next) {
      for (let attempt = 0; ; attempt += 1) {
        let response: PipelineResponse | undefined;
        let failure: unknown;
        try {
          response = await next(request);
        } catch (error) {
          // core-client turns error answers into RestError on the way back up.
          if (!isRestError(error) || error.statusCode !== 409) throw error;
          failure = error;
          response = error.response;
        }
        if ((response?.status !== 409 && failure === undefined) || attempt >= maxRetries) {
          if (failure !== undefined) throw failure;
          return response!;
        }
        const wait = retryAfterMs(response) ?? backoffMs(attempt, base, cap, random);
        options.onConflict?.(wait);
        await abortableDelay(wait, request.abortSignal as AbortSignal | undefined);
      }
    },
  };
}

/** Full jitter: a random wait between half and all of base * 2^attempt, capped. */
export function backoffMs(attempt: number, base: number, cap: number, random: () => number): number {
  const ceiling = Math.min(cap, base * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
