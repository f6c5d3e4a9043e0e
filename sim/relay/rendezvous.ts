/**
 * Senders waiting for a listener. Each gets a rendezvous address, sent to one listener in an
 * `accept` message; the address is the capability (an unguessable key in it), works once, and only
 * while the sender waits. When no listener comes within the rendezvous timeout, the sender gets 404
 * ConnectionNotEstablished and the address is dead.
 */
import { randomBytes } from 'crypto';
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import { refuseHandshake, TEXT } from './handshake';
import type { HybridConnection, ListenerSocket, WaitingSender } from './relay-namespace';

/** The query parameter that carries the address's key. */
export const RENDEZVOUS_KEY = 'sb-hc-rendezvous';

export interface SenderHandshake {
  request: IncomingMessage;
  socket: Duplex;
  head: Buffer;
}

export interface RendezvousRequest {
  entity: HybridConnection;
  listener: ListenerSocket;
  sender: SenderHandshake;
  id: string;
  /** 'wss://127.0.0.1:<port>/$hc/<name>[/suffix]', as the sender wrote the path. */
  base: string;
  /** The sender's own query parameters (its sb-hc-* ones removed), passed on to the listener. */
  applicationQuery: URLSearchParams;
  slowAcceptMs: number;
}

export class PendingRendezvous implements WaitingSender {
  readonly key = randomBytes(16).toString('hex');
  readonly address: string;
  private readonly timeout: NodeJS.Timeout;
  private acceptDelay: NodeJS.Timeout | undefined;

  constructor(
    private readonly book: RendezvousBook,
    readonly details: RendezvousRequest,
    timeoutMs: number,
  ) {
    const query = new URLSearchParams({ 'sb-hc-action': 'accept', 'sb-hc-id': details.id, [RENDEZVOUS_KEY]: this.key });
    for (const [name, value] of details.applicationQuery) query.append(name, value);
    this.address = `${details.base}?${query.toString()}`;
    this.timeout = setTimeout(() => this.refuse(404, TEXT.notEstablished), timeoutMs);
    details.sender.socket.once('close', () => this.end());
  }

  /** Sends the listener its accept message, after the slow-accept fault's delay if one is set. */
  offer(): void {
    const send = () =>
      this.details.listener.sendAccept({
        accept: { address: this.address, id: this.details.id, connectHeaders: connectHeaders(this.details.sender.request) },
      });
    if (this.details.slowAcceptMs > 0) this.acceptDelay = setTimeout(send, this.details.slowAcceptMs);
    else send();
  }

  refuse(status: number, text: string): void {
    this.end();
    refuseHandshake(this.details.sender.socket, status, text);
  }

  dropSilently(): void {
    this.end();
    this.details.sender.socket.pause();
  }

  /** Single use: after this, the address answers 403. */
  end(): void {
    clearTimeout(this.timeout);
    if (this.acceptDelay) clearTimeout(this.acceptDelay);
    this.book.remove(this);
  }
}

export class RendezvousBook {
  private readonly waiting = new Map<string, PendingRendezvous>();

  constructor(private readonly timeoutMs: number) {}

  open(details: RendezvousRequest): PendingRendezvous {
    const pending = new PendingRendezvous(this, details, this.timeoutMs);
    this.waiting.set(pending.key, pending);
    details.entity.waitingSenders.add(pending);
    pending.offer();
    return pending;
  }

  find(key: string | null): PendingRendezvous | undefined {
    return key === null ? undefined : this.waiting.get(key);
  }

  remove(pending: PendingRendezvous): void {
    this.waiting.delete(pending.key);
    pending.details.entity.waitingSenders.delete(pending);
  }

  all(): PendingRendezvous[] {
    return [...this.waiting.values()];
  }
}

/** All the sender's headers, names as it wrote them, except the token (the service strips it). */
function connectHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index]!;
    const value = request.rawHeaders[index + 1]!;
    if (name.toLowerCase() === 'servicebusauthorization') continue;
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}
