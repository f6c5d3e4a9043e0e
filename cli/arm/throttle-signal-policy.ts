import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { retryAfterMs } from './retry-after';

/**
 * Sits after the SDK's retry policy, so it sees every 429 before the SDK waits out its
 * Retry-After and sends again. It tells the fleet's concurrency limiter, which slows down.
 */
export function throttleSignalPolicy(onThrottled: (retryAfterMs: number | undefined) => void): PipelinePolicy {
  return {
    name: 'arcRemoteSupportThrottleSignal',
    async sendRequest(request, next) {
      const response = await next(request);
      if (response.status === 429) onThrottled(retryAfterMs(response));
      return response;
    },
  };
}
