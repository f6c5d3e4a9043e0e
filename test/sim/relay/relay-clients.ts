/**
 * Plain `ws` 8 clients for the test relay's tests, with SAS tokens signed here with node:crypto: on
 * purpose independent of the product's relay client (channel/) and of the relay's own verifier.
 */
import { createHmac } from 'crypto';
import type { IncomingMessage } from 'http';
import WebSocket from 'ws';
import type { TestRelay } from '../../../sim/relay';

export const KEY = 'listen-key-0123456789abcdefghij+/=';
export const SEND_KEY = 'send-key-ABCDEFGHIJ0123456789+/=';

/** A SAS token as Service Bus defines it; `resource` is signed in its URL-encoded form. */
export function signSas(resource: string, keyName: string, key: string, expiresAtSeconds: number): string {
  const encoded = encodeURIComponent(resource);
  const signature = createHmac('sha256', Buffer.from(key, 'utf8')).update(`${encoded}\n${expiresAtSeconds}`).digest('base64');
  return `SharedAccessSignature sr=${encoded}&sig=${encodeURIComponent(signature)}&se=${expiresAtSeconds}&skn=${encodeURIComponent(keyName)}`;
}

export function inSeconds(seconds: number): number {
  return Math.floor(Date.now() / 1000) + seconds;
}

/** The hybrid connection's URI as a token's resource (port-less, as the .NET SDK signs it without the slash). */
export function resourceOf(name: string): string {
  return `http://127.0.0.1/${name}`;
}

export function relayUrl(relay: TestRelay, name: string, action: string, extra = ''): string {
  return `${relay.url}/$hc/${name}?sb-hc-action=${action}${extra}`;
}

export interface Refusal {
  status: number;
  statusMessage: string;
  body: string;
}

export interface OpenOptions {
  /** Sent in the ServiceBusAuthorization header (the way the .NET SDK and hyco-ws send it). */
  token?: string;
  headers?: Record<string, string>;
  protocols?: string[];
  ca?: string | null;
}

export function connectSocket(relay: TestRelay, url: string, options: OpenOptions = {}): WebSocket {
  const headers = { ...(options.headers ?? {}), ...(options.token ? { ServiceBusAuthorization: options.token } : {}) };
  return new WebSocket(url, options.protocols ?? [], {
    headers,
    ca: options.ca === null ? undefined : (options.ca ?? relay.caPem),
    handshakeTimeout: 10_000,
  });
}

/** Opens a WebSocket through the relay; rejects with the Refusal when the handshake is refused. */
export function open(relay: TestRelay, url: string, options: OpenOptions = {}): Promise<Peer> {
  const ws = connectSocket(relay, url, options);
  const peer = new Peer(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(peer));
    ws.once('unexpected-response', (request, response: IncomingMessage) => {
      readBody(response)
        .finally(() => request.destroy())
        .then(
          (body) =>
            reject(
              Object.assign(new Error(`refused ${response.statusCode}`), {
                status: response.statusCode!,
                statusMessage: response.statusMessage ?? '',
                body,
              }),
            ),
          reject,
        );
    });
    ws.once('error', reject);
  });
}

/** The refusal a handshake meets; fails the test if the handshake succeeds. */
export async function refusal(relay: TestRelay, url: string, options: OpenOptions = {}): Promise<Refusal> {
  try {
    const peer = await open(relay, url, options);
    peer.ws.terminate();
  } catch (error) {
    const { status, statusMessage, body } = error as Partial<Refusal>;
    if (status === undefined) throw error;
    return { status, statusMessage: statusMessage!, body: body! };
  }
  throw new Error(`the relay accepted ${url.replace(/sb-hc-token=[^&]*/, 'sb-hc-token=***')}`);
}

export interface Received {
  text: string;
  data: Buffer;
  isBinary: boolean;
}

/** A WebSocket whose messages and close are recorded as they come, so none is missed between awaits. */
export class Peer {
  private readonly inbox: Received[] = [];
  private readonly waiters: Array<(message: Received) => void> = [];
  private readonly closing: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const buffer = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      const message = { text: buffer.toString('utf8'), data: buffer, isBinary };
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.inbox.push(message);
    });
    ws.on('error', () => undefined);
    this.closing = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
    this.opened = new Promise((resolve) => (ws.readyState === WebSocket.OPEN ? resolve() : ws.once('open', () => resolve())));
  }

  next(timeoutMs = 5000): Promise<Received> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const waiter = (message: Received) => {
        clearTimeout(timer);
        resolve(message);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The next accept message on a listener's control channel. */
  async nextAccept(timeoutMs = 5000): Promise<{ address: string; id: string; connectHeaders: Record<string, string> }> {
    const message = await this.next(timeoutMs);
    return JSON.parse(message.text).accept;
  }

  /** The close, within 5 s: a test waiting for a close that never comes fails instead of hanging. */
  get closed(): Promise<{ code: number; reason: string }> {
    return this.closedWithin(5000);
  }

  closedWithin(timeoutMs: number): Promise<{ code: number; reason: string }> {
    return within(this.closing, timeoutMs, 'close');
  }

  /** True when nothing arrived (no message, no close) for `ms`. */
  async quietFor(ms: number): Promise<boolean> {
    const outcome = await Promise.race([this.closing.then(() => 'closed'), delay(ms).then(() => 'quiet')]);
    return outcome === 'quiet' && this.inbox.length === 0;
  }
}

export async function openListener(relay: TestRelay, name: string, token: string): Promise<Peer> {
  return open(relay, relayUrl(relay, name, 'listen'), { token });
}

/**
 * Connects a sender and lets `listener` accept it; resolves both ends and the accept message.
 * The sender's handshake stays open until the listener's accept completes it.
 */
export async function pair(relay: TestRelay, name: string, listener: Peer, senderToken: string, extra = '') {
  const sending = open(relay, relayUrl(relay, name, 'connect', extra), { token: senderToken });
  const accept = await listener.nextAccept();
  const accepted = await open(relay, accept.address);
  const sender = await sending;
  return { sender, accepted, accept };
}

export async function waitUntil(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${condition.toString()}`);
    await delay(10);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    }),
  ]);
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}
