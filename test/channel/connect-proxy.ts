/**
 * A loopback HTTP CONNECT proxy for the relay client's proxy tests: it counts tunnels, can demand
 * Basic credentials (407), tunnels only to 127.0.0.1, and records the bytes it carried so a test can
 * check that TLS ran end to end inside the tunnel.
 */
import http from 'http';
import net from 'net';

export interface ConnectProxy {
  url: string;
  /** `host:port` of every tunnel opened, in order. */
  tunnels: string[];
  /** Requests refused (wrong credentials, non-loopback target). */
  refusals: number;
  /** Everything the client sent through tunnels. */
  carried(): Buffer;
  close(): Promise<void>;
}

export async function startConnectProxy(options: { credentials?: { user: string; password: string } } = {}): Promise<ConnectProxy> {
  const tunnels: string[] = [];
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  let refusals = 0;
  const expected = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`
    : undefined;
  const server = http.createServer((_request, response) => {
    response.writeHead(405);
    response.end();
  });
  server.on('connect', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (expected && request.headers['proxy-authorization'] !== expected) {
      refusals += 1;
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = (request.url ?? '').split(':');
    if (host !== '127.0.0.1') {
      refusals += 1;
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    tunnels.push(request.url ?? '');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      client.on('data', (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
      client.pipe(upstream);
      upstream.pipe(client);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    tunnels,
    get refusals() {
      return refusals;
    },
    carried: () => Buffer.concat(chunks),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
