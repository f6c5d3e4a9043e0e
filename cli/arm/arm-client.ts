import type { TokenCredential } from '@azure/core-auth';
import { HybridComputeManagementClient } from '@azure/arm-hybridcompute';
import https from 'https';
import { apiVersionPolicy, ARM_API_VERSION } from './api-version-policy';
import { conflictRetryPolicy, type ConflictRetryOptions } from './conflict-retry-policy';
import { armScope } from './credential';
import { extensionBodyPolicy } from './extension-body-policy';
import { throttleSignalPolicy } from './throttle-signal-policy';
import { whatIfPolicy, type RecordedRequest } from './what-if-policy';

export interface ArmClientOptions {
  credential: TokenCredential;
  endpoint: string;
  /** The token audience; default the endpoint. */
  audience?: string;
  /** Extra CA certificates to trust (the emulator's own CA in in-process tests). */
  tlsCa?: string | Buffer;
  onThrottled?: (retryAfterMs: number | undefined) => void;
  conflictRetry?: ConflictRetryOptions;
  /** Set for --what-if: writes are recorded here instead of sent. */
  recordWrite?: (request: RecordedRequest) => void;
}

/** One HybridCompute client per subscription, all sharing the same policies and connections. */
export function armClientFactory(options: ArmClientOptions): (subscriptionId: string) => HybridComputeManagementClient {
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const agent = options.tlsCa ? new https.Agent({ ca: options.tlsCa, keepAlive: true }) : undefined;
  const clients = new Map<string, HybridComputeManagementClient>();
  return (subscriptionId) => {
    let client = clients.get(subscriptionId);
    if (!client) {
      client = new HybridComputeManagementClient(options.credential, subscriptionId, {
        endpoint,
        $host: endpoint,
        apiVersion: ARM_API_VERSION,
        credentialScopes: [armScope(options.audience ?? endpoint)],
        // The SDK retries 429 with Retry-After and 5xx; a fleet can be throttled more than 3 times.
        retryOptions: { maxRetries: 6, maxRetryDelayInMs: 60_000 },
        ...(agent ? { agent } : {}),
        additionalPolicies: [
          { policy: apiVersionPolicy(), position: 'perCall' },
          { policy: conflictRetryPolicy(options.conflictRetry), position: 'perCall' },
          // After serialization (perCall runs after the Serialize phase), so it sees the JSON body.
          { policy: extensionBodyPolicy(), position: 'perCall' },
          ...(options.onThrottled ? [{ policy: throttleSignalPolicy(options.onThrottled), position: 'perRetry' as const }] : []),
          ...(options.recordWrite ? [{ policy: whatIfPolicy(options.recordWrite), position: 'perRetry' as const }] : []),
        ],
      });
      clients.set(subscriptionId, client);
    }
    return client;
  };
}
