/**
 * A loopback TCP proxy in front of Azurite that injects faults: reset the connection once after N
 * bytes sent upstream, answer 403 to the Nth request, or drop the answer to a request (the request
 * reaches storage, the client never hears back). Counts what goes upstream.
 */
import net from 'net';

export interface FaultProxy {
  origin: string;
  /** Bytes forwarded to storage. */
  bytesUp: number;
  /** Request lines seen, in order (`PUT /devstoreaccount1/c/b?comp=block...`). */
  requests: string[];
  /** Resets the connection carrying the byte that passes this total, once. */
  cutAfterBytes(bytes: number): void;
  /** Answers the Nth request from now (1 = the next) with 403 without forwarding it, once. */
  forbidRequest(n: number): void;
  /** Forwards the next request matching, then drops its answer and the connection, once. */
  loseAnswerTo(match: RegExp): void;
  /** Stops forwarding once this many more bytes have gone up (the upload hangs), until release(). */
  stallAfterBytes(bytes: number): void;
  /** Forwards what a stall held back, and everything after. */
  release(): void;
  close(): Promise<void>;
}

const REQUEST_LINE = /(?:^|\r\n)(GET|PUT|POST|HEAD|DELETE) (\S+) HTTP\/1\.1\r\n/g;

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let cutAt: number | null = null;
  let forbidAt: number | null = null;
  let loseMatch: RegExp | null = null;
  let stallAt: number | null = null;
  const held: Array<() => void> = [];
  const sockets = new Set<net.Socket>();
  const state: Partial<FaultProxy> = { bytesUp: 0, requests: [] };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let losing = false;
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      for (const match of text.matchAll(REQUEST_LINE)) {
        state.requests!.push(`${match[1]} ${match[2]}`);
        if (forbidAt !== null && state.requests!.length >= forbidAt) {
          forbidAt = null;
          client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nx-ms-error-code: AuthorizationFailure\r\nConnection: close\r\n\r\n');
          upstream.destroy();
          return;
        }
        if (loseMatch && loseMatch.test(`${match[1]} ${match[2]}`)) {
          loseMatch = null;
          losing = true;
        }
      }
      if (stallAt !== null && state.bytesUp! + chunk.length > stallAt) {
        held.push(() => {
          if (upstream.destroyed) return;
          state.bytesUp! += chunk.length;
          upstream.write(chunk);
        });
        return;
      }
      if (cutAt !== null && state.bytesUp! + chunk.length > cutAt) {
        const keep = Math.max(0, cutAt - state.bytesUp!);
        cutAt = null;
        state.bytesUp! += keep;
        upstream.write(chunk.subarray(0, keep));
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      state.bytesUp! += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (losing) {
        kill();
        return;
      }
      client.write(chunk);
    });
    client.on('error', kill);
    upstream.on('error', kill);
    client.on('close', () => (upstream.destroy(), sockets.delete(client)));
    upstream.on('close', () => (client.destroy(), sockets.delete(upstream)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return Object.assign(state as FaultProxy, {
    origin: `http://127.0.0.1:${port}`,
    cutAfterBytes(bytes: number) {
      cutAt = state.bytesUp! + bytes;
    },
    forbidRequest(n: number) {
      forbidAt = state.requests!.length + n;
    },
    loseAnswerTo(match: RegExp) {
      loseMatch = match;
    },
    stallAfterBytes(bytes: number) {
      stallAt = state.bytesUp! + bytes;
    },
    release() {
      stallAt = null;
      for (const forward of held.splice(0)) forward();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}
