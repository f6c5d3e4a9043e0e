/**
 * The plain-HTTP side of a WebSocket handshake the relay does not complete: an error status whose
 * reason phrase carries the service's text and a tracking id, as Azure Relay answers (clients tell the
 * two 404s apart by that text), and the same text as the body.
 */
import { randomUUID } from 'crypto';
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';

export const TEXT = {
  noEndpoint: 'Endpoint does not exist',
  noListener: 'There are no listeners connected for the endpoint',
  notEstablished: 'ConnectionNotEstablished: none of the connected listeners accepted the connection within the allowed timeout',
  badAddress: 'The rendezvous address is not valid: it was already used, has expired, or was never issued',
  rejected: 'Gone: the connection was rejected, its sender has the rejection',
} as const;

const LONGEST_REASON = 512;

export function refuseHandshake(socket: Duplex, status: number, text: string): void {
  if (socket.destroyed) return;
  const description = `${text}. TrackingId:${randomUUID()}, Timestamp:${new Date().toISOString()}`;
  const phrase = reasonPhrase(description);
  const body = Buffer.from(`${description}\n`, 'utf8');
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${phrase}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString('utf8')}`,
  );
}

/** A reason phrase is one line of visible ASCII (RFC 9112); what a listener wrote is cleaned to fit. */
export function reasonPhrase(text: string): string {
  const clean = text
    .replace(/[^\x20-\x7e]/g, ' ')
    .trim()
    .slice(0, LONGEST_REASON);
  return clean === '' ? 'Rejected' : clean;
}

/** Refused here rather than by ws later: a sender's handshake is completed long after it arrives. */
export function webSocketUpgradeProblem(request: IncomingMessage): string | undefined {
  if (request.method !== 'GET') return `the method is ${request.method}, a WebSocket upgrade is a GET`;
  if ((request.headers.upgrade ?? '').toLowerCase() !== 'websocket') return "the Upgrade header is not 'websocket'";
  const key = request.headers['sec-websocket-key'] ?? '';
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) return 'the Sec-WebSocket-Key header is missing or not 16 bytes of base64';
  if (request.headers['sec-websocket-version'] !== '13') return 'the Sec-WebSocket-Version header is not 13';
  return undefined;
}

/** The token from the sb-hc-token query parameter (already URL-decoded once) or the ServiceBusAuthorization header. */
export function presentedToken(request: IncomingMessage, query: URLSearchParams): string | undefined {
  const fromQuery = query.get('sb-hc-token');
  if (fromQuery !== null) return fromQuery;
  const header = request.headers.servicebusauthorization;
  return Array.isArray(header) ? header[0] : header;
}
