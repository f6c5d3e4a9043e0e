/**
 * Opens one WebSocket to the relay: wss only, TLS 1.2 or later, optional extra CA, through the
 * chosen proxy, with a deadline; a refused handshake becomes a RelayConnectError whose kind comes
 * from the HTTP status and its text. Every relay connection of the channel goes through here.
 */
import WebSocket from 'ws';
import { chooseProxy, type ProxyChoice, type ProxySources } from './proxy-settings';
import { ProxyTunnelAgent } from './proxy-tunnel';
import { kindOfStatus, RelayConnectError, transportFailure } from './relay-error';

export interface RelayTransport {
  /** Extra trusted CA certificates (PEM), e.g. a test relay's; the system store is used otherwise. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Where the proxy setting comes from (see proxy-settings.ts). */
  proxy?: ProxySources;
  /** Deadline for TCP, proxy tunnel, TLS and the WebSocket handshake. */
  handshakeTimeoutMs?: number;
}

export interface OpenSocketOptions {
  transport: RelayTransport;
  /** Request headers, e.g. `ServiceBusAuthorization`. */
  headers?: Record<string, string>;
  /** Defaults to the transport's handshake timeout, else 30 s. */
  timeoutMs?: number;
  /** Largest message accepted on this socket. */
  maxPayload?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Enough of a refusal's body to read the relay's text; the rest is dropped. */
const MAX_REFUSAL_BODY = 4096;

/** The target as it may be shown in messages: host and path, never the query (it may carry a token). */
export function describeTarget(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** The proxy a connection to this URL will use, or null (exported for status reporting and tests). */
export function proxyFor(url: URL, transport: RelayTransport): ProxyChoice | null {
  return chooseProxy(url.hostname, Number(url.port || 443), transport.proxy);
}

export function openRelaySocket(url: URL, options: OpenSocketOptions): Promise<WebSocket> {
  const target = describeTarget(url);
  if (url.protocol !== 'wss:') {
    return Promise.reject(new RelayConnectError('tls', `Refusing ${target}: relay connections use wss:// (TLS) only.`));
  }
  const timeoutMs = options.timeoutMs ?? options.transport.handshakeTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  let proxy: ProxyChoice | null;
  try {
    proxy = proxyFor(url, options.transport);
  } catch (error) {
    return Promise.reject(transportFailure(error, target));
  }

  return new Promise<WebSocket>((resolve, reject) => {
    let settled = false;
    const socket = new WebSocket(url, {
      headers: options.headers,
      ca: options.transport.ca,
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
      agent: proxy ? new ProxyTunnelAgent(proxy.url, timeoutMs) : undefined,
      handshakeTimeout: timeoutMs,
      perMessageDeflate: false,
      followRedirects: false,
      maxPayload: options.maxPayload ?? 1024 * 1024,
    });
    const fail = (error: RelayConnectError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.terminate();
      reject(error);
    };
    const timer = setTimeout(
      () => fail(new RelayConnectError('timeout', `${target} did not complete the WebSocket handshake within ${timeoutMs} ms.`)),
      timeoutMs,
    );
    // Errors after a settled outcome (e.g. the aborted request of a refusal) are expected: a socket
    // that opened reports later failures through 'close'.
    socket.on('error', (error) => fail(transportFailure(error, target)));
    socket.once('open', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('unexpected-response', (request, response) => {
      const status = response.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void => {
        clearTimeout(bodyTimer);
        const body = Buffer.concat(chunks).toString('utf8');
        const text = `${response.statusMessage ?? ''} ${body}`.replace(/\s+/g, ' ').trim();
        request.destroy();
        fail(
          new RelayConnectError(kindOfStatus(status, text), `${target} answered ${status}${text ? ` ${text.slice(0, 300)}` : ''}`, status),
        );
      };
      const bodyTimer = setTimeout(done, Math.min(2000, timeoutMs));
      response.on('data', (chunk: Buffer) => {
        if (size < MAX_REFUSAL_BODY) chunks.push(chunk.subarray(0, MAX_REFUSAL_BODY - size));
        size += chunk.length;
      });
      response.once('end', done);
      response.once('error', done);
      response.once('close', done);
    });
  });
}
