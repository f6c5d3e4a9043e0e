import type { TokenCredential } from '@azure/core-auth';
import { AdaptiveLimiter } from '../fleet/adaptive-limiter';
import type { Clock } from '../fleet/clock';
import { ArcMachines } from './arc-machines';
import { armClientFactory } from './arm-client';
import type { ConflictRetryOptions } from './conflict-retry-policy';
import type { RecordedRequest } from './what-if-policy';

/** What one run uses to talk to Azure: the machines API, the limiter its 429s slow down, what-if's record. */
export interface AzureSession {
  api: ArcMachines;
  limiter: AdaptiveLimiter;
  /** Writes --what-if kept instead of sending. */
  requests: RecordedRequest[];
  /** 429 answers seen so far. */
  throttled(): number;
}

export function openAzureSession(options: {
  credential: TokenCredential;
  endpoint: string;
  audience: string;
  extensionName: string;
  timeoutMs: number;
  concurrency: number;
  whatIf: boolean;
  clock: Clock;
  tlsCa?: string | Buffer;
  pollIntervalMs?: number;
  conflictRetry?: ConflictRetryOptions;
}): AzureSession {
  const limiter = new AdaptiveLimiter(options.concurrency, options.clock);
  const requests: RecordedRequest[] = [];
  let throttled = 0;
  const clientFor = armClientFactory({
    credential: options.credential,
    endpoint: options.endpoint,
    audience: options.audience,
    ...(options.tlsCa ? { tlsCa: options.tlsCa } : {}),
    ...(options.conflictRetry ? { conflictRetry: options.conflictRetry } : {}),
    onThrottled: (retryAfterMs) => {
      throttled += 1;
      limiter.throttled(retryAfterMs);
    },
    ...(options.whatIf ? { recordWrite: (request: RecordedRequest) => void requests.push(request) } : {}),
  });
  return {
    api: new ArcMachines(clientFor, options.endpoint, options.timeoutMs, options.extensionName, options.pollIntervalMs),
    limiter,
    requests,
    throttled: () => throttled,
  };
}
