import type { TokenCredential } from '@azure/core-auth';
import { RelayAPI } from '@azure/arm-relay';
import { MicrosoftSupport } from '@azure/arm-support';
import https from 'https';
import { armScope } from './credential';
import { whatIfPolicy, type RecordedRequest } from './what-if-policy';

/** The Relay control plane's api-version (the SDK release defaults to 2017-04-01). */
export const RELAY_API_VERSION = '2021-11-01';
/** Azure Support's api-version (the SDK release defaults to 2020-04-01). */
export const SUPPORT_API_VERSION = '2024-04-01';

export interface ProviderClientOptions {
  credential: TokenCredential;
  endpoint: string;
  audience: string;
  tlsCa?: string | Buffer;
  /** Set for --what-if: writes are recorded here instead of sent. */
  recordWrite?: (request: RecordedRequest) => void;
}

function common(options: ProviderClientOptions) {
  const endpoint = options.endpoint.replace(/\/+$/, '');
  return {
    endpoint,
    $host: endpoint,
    credentialScopes: [armScope(options.audience)],
    retryOptions: { maxRetries: 6, maxRetryDelayInMs: 60_000 },
    ...(options.tlsCa ? { agent: new https.Agent({ ca: options.tlsCa, keepAlive: true }) } : {}),
    additionalPolicies: options.recordWrite ? [{ policy: whatIfPolicy(options.recordWrite), position: 'perRetry' as const }] : [],
  };
}

/** One Relay client per subscription. */
export function relayClientFactory(options: ProviderClientOptions): (subscriptionId: string) => RelayAPI {
  const clients = new Map<string, RelayAPI>();
  return (subscriptionId) => {
    let client = clients.get(subscriptionId);
    if (!client) {
      client = new RelayAPI(options.credential, subscriptionId, { ...common(options), apiVersion: RELAY_API_VERSION });
      clients.set(subscriptionId, client);
    }
    return client;
  };
}

export function supportClient(options: ProviderClientOptions, subscriptionId: string): MicrosoftSupport {
  return new MicrosoftSupport(options.credential, subscriptionId, { ...common(options), apiVersion: SUPPORT_API_VERSION });
}
