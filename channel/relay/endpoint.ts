/**
 * The addresses of one hybrid connection: `wss://{namespace}/$hc/{name}` with `sb-hc-action=listen`
 * or `connect`, and the audience its tokens are signed for. Tokens travel in the
 * `ServiceBusAuthorization` header, never in these URLs, so they cannot leak through a logged URL.
 */

export interface HybridConnectionEndpoint {
  /** The namespace host, e.g. `contoso.servicebus.windows.net` (a port is allowed, for a test relay). */
  namespace: string;
  /** The hybrid connection's name. */
  name: string;
}

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$/i;
/** Hybrid connection names: letters, digits, periods, hyphens, underscores; a letter or digit at each end. */
const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,258}[A-Za-z0-9])?$/;

/** Throws an error naming the field, the value and the fix when an endpoint is unusable. */
export function checkEndpoint(endpoint: HybridConnectionEndpoint): void {
  if (!HOST.test(endpoint.namespace)) {
    throw new RangeError(
      `Relay namespace: received '${endpoint.namespace.slice(0, 100)}'. Give a host name such as 'contoso.servicebus.windows.net', with no scheme or path.`,
    );
  }
  if (!NAME.test(endpoint.name)) {
    throw new RangeError(
      `Hybrid connection name: received '${endpoint.name.slice(0, 100)}'. Give the name as created in the namespace (letters, digits, '.', '-', '_').`,
    );
  }
}

function base(endpoint: HybridConnectionEndpoint): URL {
  checkEndpoint(endpoint);
  return new URL(`wss://${endpoint.namespace}/$hc/${endpoint.name}`);
}

/** The control channel a listener opens. `id` is an optional tracking id the relay logs. */
export function listenUrl(endpoint: HybridConnectionEndpoint, id?: string): URL {
  const url = base(endpoint);
  url.searchParams.set('sb-hc-action', 'listen');
  if (id) url.searchParams.set('sb-hc-id', id);
  return url;
}

/** The address a sender dials. */
export function connectUrl(endpoint: HybridConnectionEndpoint, id?: string): URL {
  const url = base(endpoint);
  url.searchParams.set('sb-hc-action', 'connect');
  if (id) url.searchParams.set('sb-hc-id', id);
  return url;
}

/** The audience to sign tokens for, in the .NET client's form `http://{namespace}/{name}/` (no port). */
export function hybridConnectionResource(endpoint: HybridConnectionEndpoint): string {
  checkEndpoint(endpoint);
  const host = endpoint.namespace.replace(/:\d+$/, '');
  return `http://${host}/${endpoint.name}/`;
}
