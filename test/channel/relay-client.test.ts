/**
 * The relay client against a TLS relay on 127.0.0.1: a listener and a sender exchange data, the
 * sender's failures are typed, a rejected sender gets the listener's status, and only trusted TLS 1.2+
 * connections are made.
 */
import tls from 'tls';
import type WebSocket from 'ws';
import { hybridConnectionResource } from '../../channel/relay/endpoint';
import { RelayListener, type Rendezvous } from '../../channel/relay/listener';
import type { ListenerState } from '../../channel/relay/listener-state';
import { RelayConnectError } from '../../channel/relay/relay-error';
import { signSas } from '../../channel/relay/sas';
import { connectSender } from '../../channel/relay/sender';
import { startMiniRelay, type MiniRelay } from './mini-relay';

let relay: MiniRelay;
const listeners: RelayListener[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  relay = await startMiniRelay({ rendezvousTimeoutMs: 1500 });
  relay.createHybridConnection('hc-1');
  relay.createHybridConnection('hc-idle');
  relay.putRule({ hybridConnection: 'hc-1' }, { name: 'agent-listen', rights: ['Listen'], primaryKey: 'listen-key-1' });
  relay.putRule({ hybridConnection: 'hc-1' }, { name: 'engineer-send', rights: ['Send'], primaryKey: 'send-key-1' });
  relay.putRule({}, { name: 'ns-send', rights: ['Send'], primaryKey: 'ns-send-key' });
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await Promise.all(listeners.splice(0).map((listener) => listener.stop()));
});

afterAll(() => relay.close());

const endpoint = (name = 'hc-1') => ({ namespace: relay.host, name });
const token = (name: string, keyName: string, key: string, lifetimeMs = 3_600_000) =>
  signSas({ resourceUri: hybridConnectionResource(endpoint(name)), keyName, key, expiresAt: new Date(Date.now() + lifetimeMs) });
const listenToken = () => token('hc-1', 'agent-listen', 'listen-key-1');
const sendToken = () => token('hc-1', 'engineer-send', 'send-key-1');

function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate()) return resolve();
      if (Date.now() > deadline) return reject(new Error('condition not met in time'));
      setTimeout(check, 10);
    };
    check();
  });
}

function nextMessage(socket: WebSocket): Promise<string> {
  return new Promise((resolve) => socket.once('message', (data) => resolve(data.toString())));
}

async function startListener(
  onRendezvous: (rendezvous: Rendezvous) => void,
  { trusted = true } = {},
): Promise<{ listener: RelayListener; states: ListenerState[] }> {
  const states: ListenerState[] = [];
  const listener = new RelayListener({
    endpoint: endpoint(),
    token: listenToken,
    onRendezvous,
    onStateChange: (state) => states.push(state),
    transport: { ca: trusted ? relay.caPem : undefined, proxy: { explicit: null } },
  });
  listeners.push(listener);
  listener.start();
  return { listener, states };
}

async function sendError(promise: Promise<unknown>): Promise<RelayConnectError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(RelayConnectError);
  return error as RelayConnectError;
}

const transport = () => ({ ca: relay.caPem, proxy: { explicit: null } });

describe('listener and sender through the relay', () => {
  it('pair up over TLS with our CA and relay text and binary frames both ways', async () => {
    const accepted: WebSocket[] = [];
    const { listener } = await startListener(async (rendezvous) => {
      const socket = await rendezvous.accept();
      sockets.push(socket);
      accepted.push(socket);
      socket.on('message', (data, isBinary) =>
        socket.send(isBinary ? Buffer.concat([Buffer.from('echo:'), data as Buffer]) : `echo:${data.toString()}`, { binary: isBinary }),
      );
    });
    await until(() => listener.state.status === 'connected');
    expect(relay.counters.openListeners('hc-1')).toBe(1);

    const sender = await connectSender({ endpoint: endpoint(), token: sendToken(), transport: transport(), trackingId: 'session-42' });
    sockets.push(sender);
    const reply = nextMessage(sender);
    sender.send('hello node');
    expect(await reply).toBe('echo:hello node');
    const binaryReply = new Promise<Buffer>((resolve) => sender.once('message', (data) => resolve(data as Buffer)));
    sender.send(Buffer.from([0, 1, 2, 255]));
    expect([...(await binaryReply)]).toEqual([...Buffer.from('echo:'), 0, 1, 2, 255]);
    expect(relay.counters.pairsMade).toBe(1);
    expect(accepted).toHaveLength(1);
  });

  it('hands the listener the relay id and the sender headers, without the token', async () => {
    const seen: Rendezvous[] = [];
    const { listener } = await startListener((rendezvous) => {
      seen.push(rendezvous);
      void rendezvous.accept().then((socket) => sockets.push(socket));
    });
    await until(() => listener.state.status === 'connected');
    const sender = await connectSender({
      endpoint: endpoint(),
      token: sendToken(),
      transport: transport(),
      trackingId: 'ticket-7',
      headers: { 'X-Engineer': 'alias' },
    });
    sockets.push(sender);
    expect(seen[0]?.id).toBe('ticket-7');
    expect(seen[0]?.connectHeaders['x-engineer']).toBe('alias');
    expect(JSON.stringify(seen[0]?.connectHeaders)).not.toMatch(/SharedAccessSignature|servicebusauthorization/i);
  });

  it('a rejected sender receives the listener status and description; the reject completes on 410', async () => {
    let rejected: Promise<void> | undefined;
    const { listener } = await startListener((rendezvous) => {
      rejected = rendezvous.reject(403, 'grant revoked');
    });
    await until(() => listener.state.status === 'connected');
    const error = await sendError(connectSender({ endpoint: endpoint(), token: sendToken(), transport: transport() }));
    expect(error).toMatchObject({ kind: 'forbidden', status: 403 });
    expect(error.message).toContain('grant revoked');
    await expect(rejected).resolves.toBeUndefined();
  });

  it('a rendezvous address works once', async () => {
    const second: Array<Promise<unknown>> = [];
    const { listener } = await startListener(async (rendezvous) => {
      sockets.push(await rendezvous.accept());
      second.push(rendezvous.accept().catch((error: Error) => error.message));
    });
    await until(() => listener.state.status === 'connected');
    sockets.push(await connectSender({ endpoint: endpoint(), token: sendToken(), transport: transport() }));
    await until(() => second.length === 1);
    expect(await second[0]).toMatch(/already accepted or rejected/);
  });
});

describe('sender errors are typed', () => {
  it('"no such hybrid connection" differs from "no listener connected"', async () => {
    const missing = await sendError(
      connectSender({ endpoint: endpoint('hc-missing'), token: token('hc-missing', 'ns-send', 'ns-send-key'), transport: transport() }),
    );
    expect(missing).toMatchObject({ kind: 'no-endpoint', status: 404 });
    const idle = await sendError(
      connectSender({ endpoint: endpoint('hc-idle'), token: token('hc-idle', 'ns-send', 'ns-send-key'), transport: transport() }),
    );
    expect(idle).toMatchObject({ kind: 'no-listener', status: 404 });
    expect(idle.message).toMatch(/There are no listeners connected/);
  });

  it('a listener that never answers leaves the sender with "not established" within the rendezvous timeout', async () => {
    const { listener } = await startListener(() => undefined);
    await until(() => listener.state.status === 'connected');
    const started = Date.now();
    const error = await sendError(connectSender({ endpoint: endpoint(), token: sendToken(), transport: transport() }));
    expect(error.kind).toBe('not-established');
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('401 for a bad key and 403 for a token without the Send right; an expired token is not even sent', async () => {
    const attemptsBefore = relay.counters.listenAttempts;
    const bad = await sendError(
      connectSender({ endpoint: endpoint(), token: token('hc-1', 'engineer-send', 'wrong-key'), transport: transport() }),
    );
    expect(bad).toMatchObject({ kind: 'unauthorized', status: 401 });
    const listenOnly = await sendError(connectSender({ endpoint: endpoint(), token: listenToken(), transport: transport() }));
    expect(listenOnly).toMatchObject({ kind: 'forbidden', status: 403 });
    const expired = await sendError(
      connectSender({ endpoint: endpoint(), token: token('hc-1', 'engineer-send', 'send-key-1', -1000), transport: transport() }),
    );
    expect(expired.kind).toBe('unauthorized');
    expect(expired.status).toBeUndefined();
    expect(expired.message).toMatch(/expired at .*ask for a new access ticket/);
    expect(relay.counters.listenAttempts).toBe(attemptsBefore);
  });

  it('never quotes the token, even when the relay echoes it back', async () => {
    relay.faults.echoTokenInRefusals = true;
    try {
      const sent = token('hc-1', 'engineer-send', 'wrong-key');
      const error = await sendError(connectSender({ endpoint: endpoint(), token: sent, transport: transport() }));
      const signature = decodeURIComponent(/sig=([^&]+)/.exec(sent)?.[1] ?? '');
      expect(error.message).toContain('received SharedAccessSignature');
      expect(error.message).toContain('sig=[redacted]');
      expect(error.message).not.toContain(signature);
      expect(error.message).not.toContain(encodeURIComponent(signature));
    } finally {
      relay.faults.echoTokenInRefusals = false;
    }
  });
});

describe('TLS', () => {
  it('refuses a relay whose certificate is not trusted, and says so', async () => {
    const error = await sendError(connectSender({ endpoint: endpoint(), token: sendToken(), transport: { proxy: { explicit: null } } }));
    expect(error.kind).toBe('tls');
    expect(error.message).toMatch(/certificate.*not trusted/);
  });

  it('the listener reports an untrusted relay as its last error and keeps backing off', async () => {
    const { listener, states } = await startListener(() => undefined, { trusted: false });
    await until(() => listener.state.status === 'disconnected' && listener.state.lastError !== null);
    expect(listener.state).toMatchObject({ status: 'disconnected', lastError: { kind: 'tls' } });
    expect(states.map((state) => state.status)).toEqual(['connecting', 'disconnected']);
  });

  it('will not speak TLS below 1.2', async () => {
    const old = await startMiniRelay({ maxTlsVersion: 'TLSv1.1' });
    try {
      old.createHybridConnection('hc-1');
      const error = await sendError(
        connectSender({
          endpoint: { namespace: old.host, name: 'hc-1' },
          token: sendToken(),
          transport: { ca: old.caPem, proxy: { explicit: null } },
        }),
      );
      expect(error.kind).toBe('tls');
      expect(`${error.code} ${error.message}`).toMatch(/PROTOCOL_VERSION|protocol version/i);
      // The same server does complete a handshake with a client that accepts TLS 1.1.
      const [host, port] = old.host.split(':');
      const negotiated = await new Promise<string | null>((resolve, reject) => {
        const socket = tls.connect(
          { host, port: Number(port), ca: old.caPem, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
          () => {
            resolve(socket.getProtocol());
            socket.destroy();
          },
        );
        socket.on('error', reject);
      });
      expect(negotiated).toBe('TLSv1.1');
    } finally {
      await old.close();
    }
  });

  it('will not dial a rendezvous address that is not wss', async () => {
    const { listener } = await startListener(() => undefined);
    await until(() => listener.state.status === 'connected');
    const { rejectRendezvous } = await import('../../channel/relay/rendezvous');
    const outcome: unknown = await rejectRendezvous(
      `ws://${relay.host}/$hc/hc-1?sb-hc-action=accept&sb-hc-id=x`,
      403,
      'no',
      transport(),
    ).catch((error: unknown) => error);
    expect(outcome).toMatchObject({ kind: 'tls' });
  });
});
