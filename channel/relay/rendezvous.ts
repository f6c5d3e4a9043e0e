/**
 * The listener's answer to one `accept` message. The address is a single-use capability valid only
 * while the sender waits (at most about 30 s): accepting opens it as-is (no token); rejecting opens it
 * with `sb-hc-statusCode` and `sb-hc-statusDescription`, which the relay answers, by design, with
 * HTTP 410 while the sender receives the given status.
 */
import type WebSocket from 'ws';
import { openRelaySocket, type RelayTransport } from './open-socket';
import { RelayConnectError } from './relay-error';

export interface AcceptMessage {
  address: string;
  /** The relay's connection id (the sender's `sb-hc-id`), for the audit record. */
  id: string;
  /** The sender's HTTP headers, as the relay forwarded them (tokens already stripped by the relay). */
  connectHeaders: Record<string, string>;
}

/** Reads `{"accept":{"address":…,"id":…,"connectHeaders":{…}}}`; anything else is not an accept. */
export function parseAcceptMessage(text: string): AcceptMessage | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  const accept = (message as { accept?: unknown } | null)?.accept as Record<string, unknown> | undefined;
  if (typeof accept !== 'object' || accept === null || typeof accept.address !== 'string') return undefined;
  const headers: Record<string, string> = {};
  if (typeof accept.connectHeaders === 'object' && accept.connectHeaders !== null) {
    for (const [name, value] of Object.entries(accept.connectHeaders as Record<string, unknown>)) {
      if (typeof value === 'string') headers[name] = value;
    }
  }
  return { address: accept.address, id: typeof accept.id === 'string' ? accept.id : '', connectHeaders: headers };
}

function rendezvousUrl(address: string): URL {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new RelayConnectError('refused', 'The relay sent a rendezvous address that is not a URL; the connection was dropped.');
  }
  if (url.protocol !== 'wss:')
    throw new RelayConnectError('tls', `The relay sent a rendezvous address with ${url.protocol}; only wss:// is used.`);
  return url;
}

/** Opens the rendezvous: the returned socket is the sender's, relayed frame for frame. */
export function acceptRendezvous(address: string, transport: RelayTransport, maxPayload?: number): Promise<WebSocket> {
  try {
    return openRelaySocket(rendezvousUrl(address), { transport, maxPayload });
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Turns the sender away with an HTTP status (4xx or 5xx) and a short description. Resolves when the
 * relay confirms with 410; rejects with the RelayConnectError of any other outcome.
 */
export async function rejectRendezvous(address: string, status: number, description: string, transport: RelayTransport): Promise<void> {
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError(`Rendezvous reject status: received ${status}. Give an HTTP error status from 400 to 599.`);
  }
  const url = rendezvousUrl(address);
  url.searchParams.set('sb-hc-statusCode', String(status));
  // The description travels in a URL and a reason phrase: printable ASCII, bounded.
  url.searchParams.set('sb-hc-statusDescription', description.replace(/[^\x20-\x7e]/g, ' ').slice(0, 128));
  let opened: WebSocket;
  try {
    opened = await openRelaySocket(url, { transport });
  } catch (error) {
    if (error instanceof RelayConnectError && error.kind === 'gone') return;
    throw error;
  }
  // A relay that opened the socket did not take the reject: close it so no session can start.
  opened.terminate();
  throw new RelayConnectError('refused', 'The relay opened the rendezvous instead of answering the reject with 410; it was closed.');
}
