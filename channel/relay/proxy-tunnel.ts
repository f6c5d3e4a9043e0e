/**
 * An https.Agent that reaches its target through an HTTP proxy's CONNECT tunnel, then runs TLS end
 * to end inside it (the proxy sees only the host and port). One tunnel per connection: relay
 * WebSockets are long-lived, so nothing is pooled.
 */
import http from 'http';
import https from 'https';
import { isIP } from 'net';
import type { Duplex } from 'stream';
import tls from 'tls';
import { RelayConnectError } from './relay-error';

export class ProxyTunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    private readonly connectTimeoutMs: number,
  ) {
    super({ keepAlive: false });
  }

  /** The proxy as it may be shown: without credentials. */
  get proxyName(): string {
    return `${this.proxy.protocol}//${this.proxy.host}`;
  }

  override createConnection(options: https.RequestOptions, callback?: (error: Error | null, stream: Duplex) => void): undefined {
    const host = String(options.host ?? options.hostname ?? 'localhost').replace(/^\[|\]$/g, '');
    const port = Number(options.port ?? 443);
    const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    const headers: Record<string, string> = { Host: authority };
    if (this.proxy.username || this.proxy.password) {
      const credentials = `${decodeURIComponent(this.proxy.username)}:${decodeURIComponent(this.proxy.password)}`;
      headers['Proxy-Authorization'] = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
    }

    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (error: Error | null, stream?: Duplex): void => {
      clearTimeout(timer);
      if (settled) {
        stream?.destroy();
        return;
      }
      settled = true;
      callback?.(error, stream as Duplex);
    };

    const request = http.request({
      host: this.proxy.hostname,
      port: Number(this.proxy.port || 80),
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
    });
    timer = setTimeout(() => {
      request.destroy();
      settle(
        new RelayConnectError(
          'proxy',
          `The proxy ${this.proxyName} did not open a tunnel to ${authority} within ${this.connectTimeoutMs} ms.`,
        ),
      );
    }, this.connectTimeoutMs);

    request.once('connect', (response, socket, head) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        settle(
          new RelayConnectError(
            'proxy',
            `The proxy ${this.proxyName} refused the tunnel to ${authority}: ${response.statusCode} ${response.statusMessage ?? ''}`.trim() +
              `. Allow ${host} on port ${port} through it${response.statusCode === 407 ? ', or give the proxy credentials in its URL' : ''}.`,
            response.statusCode,
          ),
        );
        return;
      }
      if (head.length > 0) socket.unshift(head);
      const secure = tls.connect({
        socket,
        host,
        servername: isIP(host) ? '' : String(options.servername || host),
        ca: options.ca,
        minVersion: options.minVersion ?? 'TLSv1.2',
        rejectUnauthorized: true,
      });
      settle(null, secure);
    });
    request.once('error', (error: NodeJS.ErrnoException) => {
      settle(
        new RelayConnectError(
          'proxy',
          `Cannot reach the proxy ${this.proxyName} (${error.code ?? error.message}). Check its address and that it is running.`,
          undefined,
          error.code,
        ),
      );
    });
    request.end();
    return undefined;
  }
}
