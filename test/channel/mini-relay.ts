/**
 * A small Hybrid Connections relay over TLS on 127.0.0.1 for the relay client's own tests: listen,
 * accept/reject rendezvous, connect, renewToken, 1008 at listener token expiry, 1001 on delete, the
 * two 404 texts, and fault switches. Its method names follow the shared test relay (sim/relay) so the
 * scenarios read the same; the full, independent relay is that one. Tokens are checked with our own
 * verifySas here, so this server proves the client's behaviour, not the SAS (sas.unit.test.ts does).
 */
import { randomUUID } from 'crypto';
import { promises as fs } from 'fs';
import https from 'https';
import type { IncomingMessage } from 'http';
import os from 'os';
import path from 'path';
import type { Duplex } from 'stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { verifySas } from '../../channel/relay/sas';
import { makeServerCertificate } from '../../sim/arm/tls-certificate';

type Right = 'Listen' | 'Send' | 'Manage';
interface Rule {
  name: string;
  rights: Right[];
  primaryKey: string;
  secondaryKey?: string;
}

export interface MiniRelayOptions {
  rendezvousTimeoutMs?: number;
  /** Serve with this TLS version ceiling (to prove the client refuses anything below 1.2). */
  maxTlsVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
}

interface Pending {
  name: string;
  request: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  timer: NodeJS.Timeout;
}

export interface MiniRelay {
  host: string;
  url: string;
  caPem: string;
  caFile: string;
  createHybridConnection(name: string): void;
  deleteHybridConnection(name: string): void;
  putRule(scope: { hybridConnection?: string }, rule: Rule): void;
  faults: {
    refuseNextListens(count: number, status: 500 | 401 | 403): void;
    dropSilently(): void;
    closeListenersWith(code: 1011): void;
    /** Answers refused handshakes with the received token in the body, as a careless server might. */
    echoTokenInRefusals: boolean;
  };
  counters: {
    listenAttempts: number;
    listenAttemptTimes: number[];
    renewals: number;
    openListeners(name?: string): number;
    openPairs(): number;
    pairsMade: number;
  };
  close(): Promise<void>;
}

const TEXTS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Endpoint does not exist',
  410: 'Gone',
  500: 'Internal Server Error',
};

function refuse(socket: Duplex, status: number, text: string, body = text): void {
  const payload = Buffer.from(body, 'utf8');
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${payload.length}\r\n\r\n${payload.toString('utf8')}`,
  );
}

export async function startMiniRelay(options: MiniRelayOptions = {}): Promise<MiniRelay> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mini-relay-'));
  const certificate = await makeServerCertificate(dir);
  const server = https.createServer({
    key: certificate.keyPem,
    cert: certificate.certPem,
    minVersion: options.maxTlsVersion === 'TLSv1.1' ? 'TLSv1' : 'TLSv1.2',
    maxVersion: options.maxTlsVersion ?? 'TLSv1.3',
    // OpenSSL 3 refuses TLS < 1.2 at its default security level; level 0 lets the old server offer it.
    ciphers: options.maxTlsVersion === 'TLSv1.1' ? 'DEFAULT@SECLEVEL=0' : undefined,
  });
  const wss = new WebSocketServer({ noServer: true, autoPong: false, perMessageDeflate: false });
  const names = new Set<string>();
  const rules = new Map<string, Rule[]>(); // '' = namespace scope
  const listeners = new Map<string, Set<WebSocket>>();
  const pending = new Map<string, Pending>();
  const pairs = new Map<[WebSocket, WebSocket], string>();
  const silent = new WeakSet<WebSocket>();
  const all = new Set<WebSocket>();
  let refusals: { count: number; status: number } = { count: 0, status: 500 };
  const rendezvousTimeoutMs = options.rendezvousTimeoutMs ?? 30_000;
  let host = '';

  const counters = {
    listenAttempts: 0,
    listenAttemptTimes: [] as number[],
    renewals: 0,
    pairsMade: 0,
    openListeners: (name?: string) =>
      name ? (listeners.get(name)?.size ?? 0) : [...listeners.values()].reduce((sum, set) => sum + set.size, 0),
    openPairs: () => pairs.size,
  };
  const faults = {
    echoTokenInRefusals: false,
    refuseNextListens(count: number, status: 500 | 401 | 403) {
      refusals = { count, status };
    },
    dropSilently() {
      for (const socket of all) silent.add(socket);
    },
    closeListenersWith(code: 1011) {
      for (const set of listeners.values()) for (const socket of set) socket.close(code, 'relay error');
    },
  };

  function track(socket: WebSocket): void {
    all.add(socket);
    socket.on('ping', (data) => {
      if (!silent.has(socket)) socket.pong(data);
    });
    socket.on('close', () => all.delete(socket));
  }

  /** 401 for a bad token, 403 for a good one without the right; undefined when allowed. */
  function authorize(name: string, token: string | undefined, right: Right): { status: number; reason: string } | { expiresAt: Date } {
    if (!token) return { status: 401, reason: 'missing token' };
    const candidates = [...(rules.get(name) ?? []), ...(rules.get('') ?? [])];
    const result = verifySas(token, {
      resourceUri: `http://${host}/${name}`,
      keys: (keyName) => candidates.filter((rule) => rule.name === keyName).flatMap((rule) => [rule.primaryKey, rule.secondaryKey ?? '']),
      now: Date.now(),
    });
    if (!result.ok) return { status: result.reason === 'wrong-audience' ? 403 : 401, reason: result.reason };
    const rule = candidates.find((candidate) => candidate.name === result.keyName);
    if (!rule || !(rule.rights.includes(right) || rule.rights.includes('Manage'))) return { status: 403, reason: `no ${right} right` };
    return { expiresAt: result.expiresAt };
  }

  function refuseWith(socket: Duplex, status: number, token: string | undefined, text = TEXTS[status] ?? 'Error'): void {
    refuse(socket, status, text, faults.echoTokenInRefusals && token ? `${text}: received ${token}` : text);
  }

  function onListen(name: string, request: IncomingMessage, socket: Duplex, head: Buffer, token: string | undefined): void {
    counters.listenAttempts += 1;
    counters.listenAttemptTimes.push(Date.now());
    if (refusals.count > 0) {
      refusals.count -= 1;
      refuseWith(socket, refusals.status, token);
      return;
    }
    if (!names.has(name)) return refuseWith(socket, 404, token);
    const auth = authorize(name, token, 'Listen');
    if ('status' in auth) return refuseWith(socket, auth.status, token);
    wss.handleUpgrade(request, socket, head, (ws) => {
      track(ws);
      const set = listeners.get(name) ?? new Set<WebSocket>();
      listeners.set(name, set);
      set.add(ws);
      let expiry: NodeJS.Timeout;
      const expireAt = (at: Date) => {
        clearTimeout(expiry);
        expiry = setTimeout(() => ws.close(1008, 'token expired'), Math.max(0, at.getTime() - Date.now()));
      };
      expireAt(auth.expiresAt);
      ws.on('message', (data, isBinary) => {
        if (isBinary || silent.has(ws)) return;
        const message = JSON.parse(data.toString()) as { renewToken?: { token?: string } };
        if (!message.renewToken) return;
        counters.renewals += 1;
        const renewed = authorize(name, message.renewToken.token, 'Listen');
        if ('status' in renewed) ws.close(1008, 'invalid token');
        else expireAt(renewed.expiresAt);
      });
      ws.on('close', () => {
        clearTimeout(expiry);
        set.delete(ws);
      });
    });
  }

  function onConnect(name: string, url: URL, request: IncomingMessage, socket: Duplex, head: Buffer, token: string | undefined): void {
    if (!names.has(name)) return refuseWith(socket, 404, token);
    const auth = authorize(name, token, 'Send');
    if ('status' in auth) return refuseWith(socket, auth.status, token);
    const open = [...(listeners.get(name) ?? [])].filter((listener) => !silent.has(listener));
    const listener = open[Math.floor(Math.random() * open.length)];
    if (!listener) return refuseWith(socket, 404, token, 'There are no listeners connected for the endpoint');
    const id = url.searchParams.get('sb-hc-id') ?? randomUUID();
    const timer = setTimeout(() => {
      pending.delete(id);
      refuse(socket, 404, 'ConnectionNotEstablished');
    }, rendezvousTimeoutMs);
    pending.set(id, { name, request, socket, head, timer });
    const connectHeaders = Object.fromEntries(
      Object.entries(request.headers)
        .filter(([header]) => header !== 'servicebusauthorization')
        .map(([header, value]) => [header, String(value)]),
    );
    const address = `wss://${host}/$hc/${name}?sb-hc-action=accept&sb-hc-id=${encodeURIComponent(id)}`;
    listener.send(JSON.stringify({ accept: { address, id, connectHeaders } }));
  }

  function onAccept(url: URL, request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const id = url.searchParams.get('sb-hc-id') ?? '';
    const waiting = pending.get(id);
    if (!waiting) return refuse(socket, 403, 'Forbidden', 'rendezvous address used or expired');
    pending.delete(id);
    clearTimeout(waiting.timer);
    const status = url.searchParams.get('sb-hc-statusCode');
    if (status) {
      refuse(waiting.socket, Number(status), url.searchParams.get('sb-hc-statusDescription') ?? 'Rejected');
      refuse(socket, 410, 'Gone');
      return;
    }
    wss.handleUpgrade(request, socket, head, (listenerSide) => {
      wss.handleUpgrade(waiting.request, waiting.socket, waiting.head, (senderSide) => {
        track(listenerSide);
        track(senderSide);
        const pair: [WebSocket, WebSocket] = [listenerSide, senderSide];
        pairs.set(pair, waiting.name);
        counters.pairsMade += 1;
        const forward = (from: WebSocket, to: WebSocket) => {
          from.on('message', (data, isBinary) => {
            if (!silent.has(from) && to.readyState === to.OPEN) to.send(data, { binary: isBinary });
          });
          from.on('close', (code) => {
            pairs.delete(pair);
            if (to.readyState === to.OPEN) to.close(code === 1001 || code === 1011 || code >= 3000 ? code : 1000);
          });
        };
        forward(listenerSide, senderSide);
        forward(senderSide, listenerSide);
      });
    });
  }

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', `https://${host}`);
    const match = /^\/\$hc\/([^/]+)/.exec(url.pathname);
    const name = match ? decodeURIComponent(match[1] as string) : '';
    const header = request.headers.servicebusauthorization;
    const token = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('sb-hc-token') ?? undefined;
    const action = url.searchParams.get('sb-hc-action');
    if (action === 'listen') return onListen(name, request, socket, head, token);
    if (action === 'connect') return onConnect(name, url, request, socket, head, token);
    if (action === 'accept') return onAccept(url, request, socket, head);
    refuse(socket, 400, 'Bad Request');
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  host = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  return {
    host,
    url: `wss://${host}`,
    caPem: certificate.certPem,
    caFile: certificate.caFile,
    createHybridConnection: (name) => {
      names.add(name);
    },
    deleteHybridConnection: (name) => {
      names.delete(name);
      for (const socket of listeners.get(name) ?? []) socket.close(1001, 'hybrid connection deleted');
      for (const [pair, pairName] of pairs)
        if (pairName === name) for (const socket of pair) socket.close(1001, 'hybrid connection deleted');
    },
    putRule: (scope, rule) => {
      const key = scope.hybridConnection ?? '';
      rules.set(key, [...(rules.get(key) ?? []).filter((existing) => existing.name !== rule.name), rule]);
    },
    faults,
    counters,
    close: async () => {
      for (const entry of pending.values()) {
        clearTimeout(entry.timer);
        entry.socket.destroy();
      }
      for (const socket of all) socket.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
