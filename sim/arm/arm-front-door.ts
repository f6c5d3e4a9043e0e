/**
 * What Resource Manager checks before a request reaches the resource provider, in ARM's order:
 * the bearer token, the api-version, then the subscription's write limit.
 */
import type { TokenIssuer } from './access-tokens';
import { armError, type ArmReply, type ArmRequest } from './arm-reply';
import { providerOfPath, type EmulatedProvider } from './spec-location';
import type { ArmEmulatorCounters } from './types';
import type { WriteThrottle } from './write-throttle';

const WRITE_METHODS = new Set(['PUT', 'PATCH', 'DELETE', 'POST']);
const REMAINING_WRITES_HEADER = 'x-ms-ratelimit-remaining-subscription-writes';

export interface FrontDoorOptions {
  tokens: TokenIssuer;
  throttle: WriteThrottle;
  /** Per provider, as its API documents publish them. */
  apiVersions: Record<EmulatedProvider, string[]>;
  counters: ArmEmulatorCounters;
}

export function frontDoor(options: FrontDoorOptions, provider: (request: ArmRequest) => ArmReply): (request: ArmRequest) => ArmReply {
  const { tokens, throttle, apiVersions, counters } = options;
  return (request) => {
    const auth = tokens.check(request.headers.authorization);
    if (!auth.ok) {
      counters.unauthorized += 1;
      return armError(401, auth.code, auth.message, {
        'WWW-Authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/${tokens.tenantId}", error="invalid_token", error_description="${auth.message.replace(/"/g, "'")}"`,
      });
    }
    const apiVersionProblem = checkApiVersion(request, apiVersions);
    if (apiVersionProblem) return apiVersionProblem;
    if (request.unreadableBody !== undefined)
      return armError(
        400,
        'InvalidRequestContent',
        `The request content was invalid and could not be deserialized: ${request.unreadableBody}`,
      );
    if (!WRITE_METHODS.has(request.method)) return provider(request);

    const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(request.path)?.[1];
    const decision = subscriptionId === undefined ? { allowed: true as const, remaining: undefined } : throttle.take(subscriptionId);
    if (!decision.allowed) {
      counters.throttled += 1;
      return armError(
        429,
        'SubscriptionRequestsThrottled',
        `Number of 'write' requests for subscription '${subscriptionId}' exceeded. Please try again after '${decision.retryAfterSeconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.`,
        { 'Retry-After': String(decision.retryAfterSeconds), [REMAINING_WRITES_HEADER]: '0' },
      );
    }
    counters.writes += 1;
    const reply = provider(request);
    if (decision.remaining === undefined) return reply;
    return { ...reply, headers: { ...reply.headers, [REMAINING_WRITES_HEADER]: String(decision.remaining) } };
  };
}

function checkApiVersion(request: ArmRequest, apiVersions: Record<EmulatedProvider, string[]>): ArmReply | undefined {
  const apiVersion = request.query.get('api-version');
  if (!apiVersion) {
    return armError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  }
  // A path naming no provider the emulator serves is answered by the router (404), whatever its version.
  const provider = providerOfPath(request.path);
  if (provider === undefined || apiVersions[provider].includes(apiVersion)) return undefined;
  return armError(
    400,
    'InvalidApiVersionParameter',
    `The api-version '${apiVersion}' is invalid for namespace '${provider}'. The supported api-versions are '${apiVersions[provider].join(', ')}'.`,
  );
}
