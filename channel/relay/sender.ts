/**
 * The engineer's side: dial a hybrid connection (`sb-hc-action=connect`, Send token in the
 * `ServiceBusAuthorization` header) and get the WebSocket the node's listener accepted. Failures are
 * RelayConnectError values whose kind tells the cases apart: 'no-endpoint' (no such hybrid
 * connection), 'no-listener' (nobody listening: no grant in force on the node), 'not-established'
 * (the listener did not accept in time), 'unauthorized'/'forbidden' (the token), 'refused' (the
 * listener turned us away; its status and description are in the message), 'tls', 'proxy',
 * 'network', 'timeout'.
 */
import type WebSocket from 'ws';
import { connectUrl, type HybridConnectionEndpoint } from './endpoint';
import { describeTarget, openRelaySocket, type RelayTransport } from './open-socket';
import { RelayConnectError } from './relay-error';
import { sasExpiry } from './sas';

export interface SenderOptions {
  endpoint: HybridConnectionEndpoint;
  /** A Send token for this hybrid connection. */
  token: string;
  transport?: RelayTransport;
  /** Sent as `sb-hc-id`; the listener sees it as the connection id. */
  trackingId?: string;
  /** Extra headers the listener receives in `connectHeaders`. */
  headers?: Record<string, string>;
  /** The relay holds a sender up to about 30 s while a listener accepts; default 40 s. */
  timeoutMs?: number;
  maxPayload?: number;
  now?: () => number;
}

export async function connectSender(options: SenderOptions): Promise<WebSocket> {
  const url = connectUrl(options.endpoint, options.trackingId);
  const expiry = sasExpiry(options.token);
  if (!expiry) {
    throw new RelayConnectError(
      'unauthorized',
      `The Send token for ${describeTarget(url)} is not a SharedAccessSignature token; ask for a new access ticket.`,
    );
  }
  const now = options.now ?? Date.now;
  if (expiry.getTime() <= now()) {
    throw new RelayConnectError(
      'unauthorized',
      `The Send token for ${describeTarget(url)} expired at ${expiry.toISOString()}; ask for a new access ticket.`,
    );
  }
  return openRelaySocket(url, {
    transport: options.transport ?? {},
    headers: { ...options.headers, ServiceBusAuthorization: options.token },
    timeoutMs: options.timeoutMs ?? 40_000,
    maxPayload: options.maxPayload,
  });
}
