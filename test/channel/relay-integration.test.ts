/**
 * The product's relay client against the shared test relay (sim/relay), whose SAS verifier and
 * protocol are an implementation independent of ours: listen, send and data; typed sender errors;
 * refusal without a retry storm; renewal keeping a short-token channel alive; a silent drop caught
 * by the ping timeout; 1001 on delete; a disabled or full hybrid connection keeps its token.
 */
import type WebSocket from 'ws';
import { hybridConnectionResource } from '../../channel/relay/endpoint';
import { RelayListener, type RelayListenerOptions, type Rendezvous } from '../../channel/relay/listener';
import type { ListenerState } from '../../channel/relay/listener-state';
import { RelayConnectError } from '../../channel/relay/relay-error';
import { signSas } from '../../channel/relay/sas';
import { connectSender } from '../../channel/relay/sender';
import { startTestRelay, type TestRelay } from '../../sim/relay';
import { FakeTimers } from './fake-timers';

const LISTEN_KEY = 'listen-key-ÄÖ-0123456789+/=';
const SEND_KEY = 'send-key-9876543210+/=';

let relay: TestRelay;
let names = 0;
const cleanup: Array<() => unknown> = [];

beforeAll(async () => {
  relay = await startTestRelay({ rendezvousTimeoutMs: 1000, maxListeners: 2 });
});

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

afterAll(() => relay.close());

/** A fresh hybrid connection per test, with HC-scoped Listen and Send rules. */
function hybridConnection(): { name: string; endpoint: { namespace: string; name: string } } {
  names += 1;
  const name = `rs-node-${names}`;
  relay.createHybridConnection(name, { requiresClientAuthorization: true });
  relay.putRule({ hybridConnection: name }, { name: 'agent-listen', rights: ['Listen'], primaryKey: LISTEN_KEY });
  relay.putRule({ hybridConnection: name }, { name: 'engineer-send', rights: ['Send'], primaryKey: SEND_KEY });
  return { name, endpoint: { namespace: relay.host, name } };
}

function sas(name: string, keyName: string, key: string, lifetimeMs = 3_600_000, now = Date.now()): string {
  return signSas({
    resourceUri: hybridConnectionResource({ namespace: relay.host, name }),
    keyName,
    key,
    expiresAt: new Date(now + lifetimeMs),
  });
}

const transport = () => ({ ca: relay.caPem, proxy: { explicit: null } });

function listen(
  endpoint: { namespace: string; name: string },
  overrides: Partial<RelayListenerOptions> = {},
): { listener: RelayListener; states: ListenerState[] } {
  const states: ListenerState[] = [];
  const listener = new RelayListener({
    endpoint,
    token: () => sas(endpoint.name, 'agent-listen', LISTEN_KEY),
    onRendezvous: () => undefined,
    onStateChange: (state) => states.push(state),
    transport: transport(),
    backoff: { baseMs: 100, capMs: 400 },
    slowRetryMs: 300,
    refusedRetryMs: 200,
    tokenPollMs: 50,
    ...overrides,
  });
  cleanup.push(() => listener.stop());
  listener.start();
  return { listener, states };
}

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function failure(promise: Promise<unknown>): Promise<RelayConnectError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(RelayConnectError);
  return error as RelayConnectError;
}

function track(socket: WebSocket): WebSocket {
  cleanup.push(() => socket.terminate());
  return socket;
}

describe('listen, send and data', () => {
  it('our listener accepts our sender and frames flow both ways', async () => {
    const { name, endpoint } = hybridConnection();
    const { listener } = listen(endpoint, {
      onRendezvous: async (rendezvous: Rendezvous) => {
        const socket = track(await rendezvous.accept());
        socket.on('message', (data) => socket.send(`node:${data.toString()}`));
      },
    });
    await until(() => listener.state.status === 'connected');
    expect(relay.counters.openListeners(name)).toBe(1);
    const sender = track(
      await connectSender({ endpoint, token: sas(name, 'engineer-send', SEND_KEY), transport: transport(), trackingId: 's-1' }),
    );
    const reply = new Promise<string>((resolve) => sender.once('message', (data) => resolve(data.toString())));
    sender.send('Get-Service WinRM');
    expect(await reply).toBe('node:Get-Service WinRM');
    expect(relay.counters.openPairs(name)).toBe(1);
  });

  it('a listener reject reaches the sender with its status; the reject itself ends in 410', async () => {
    const { name, endpoint } = hybridConnection();
    let rejected: Promise<void> | undefined;
    const { listener } = listen(endpoint, { onRendezvous: (rendezvous) => (rejected = rendezvous.reject(403, 'No grant in force')) });
    await until(() => listener.state.status === 'connected');
    const error = await failure(connectSender({ endpoint, token: sas(name, 'engineer-send', SEND_KEY), transport: transport() }));
    expect(error).toMatchObject({ kind: 'forbidden', status: 403 });
    expect(error.message).toContain('No grant in force');
    await expect(rejected).resolves.toBeUndefined();
  });
});

describe('typed sender errors', () => {
  it('tells no hybrid connection, no listener and a rendezvous nobody accepted apart', async () => {
    const { name, endpoint } = hybridConnection();
    const token = sas(name, 'engineer-send', SEND_KEY);
    expect(await failure(connectSender({ endpoint: { ...endpoint, name: 'never-created' }, token, transport: transport() }))).toMatchObject(
      {
        kind: 'no-endpoint',
        status: 404,
      },
    );
    expect(await failure(connectSender({ endpoint, token, transport: transport() }))).toMatchObject({ kind: 'no-listener', status: 404 });
    const { listener } = listen(endpoint);
    await until(() => listener.state.status === 'connected');
    expect(await failure(connectSender({ endpoint, token, transport: transport() }))).toMatchObject({
      kind: 'not-established',
      status: 404,
    });
  });

  it('401 for a wrong key, 403 for a Listen-only token', async () => {
    const { name, endpoint } = hybridConnection();
    const { listener } = listen(endpoint);
    await until(() => listener.state.status === 'connected');
    expect(await failure(connectSender({ endpoint, token: sas(name, 'engineer-send', 'wrong'), transport: transport() }))).toMatchObject({
      kind: 'unauthorized',
      status: 401,
    });
    expect(await failure(connectSender({ endpoint, token: sas(name, 'agent-listen', LISTEN_KEY), transport: transport() }))).toMatchObject({
      kind: 'forbidden',
      status: 403,
    });
  });
});

describe('refusals do not storm the relay', () => {
  it('a refused token: one attempt in ten minutes (fake clock), then a good token connects', async () => {
    const { name, endpoint } = hybridConnection();
    const timers = new FakeTimers();
    const before = relay.counters.listenAttempts;
    let current = sas(name, 'agent-listen', 'not-the-key');
    const { listener } = listen(endpoint, {
      token: () => current,
      timers,
      backoff: { baseMs: 1000, capMs: 60_000 },
      tokenPollMs: 30_000,
      refusedRetryMs: 30_000,
    });
    await until(() => listener.state.status === 'refused');
    expect(listener.state).toMatchObject({ httpStatus: 401, reason: 'unauthorized' });
    for (let step = 0; step < 20; step += 1) {
      timers.advance(30_000);
      await sleep(5);
    }
    expect(relay.counters.listenAttempts - before).toBe(1);

    current = sas(name, 'agent-listen', LISTEN_KEY, 3_600_000);
    listener.tokenChanged();
    await sleep(5);
    timers.advanceTo(timers.nextDueAt() as number);
    await until(() => listener.state.status === 'connected');
    expect(relay.counters.listenAttempts - before).toBe(2);
  });

  it('refused by the relay fault switch (500, then 401): backoff, then no retry of the refused token', async () => {
    const { name, endpoint } = hybridConnection();
    relay.faults.refuseNextListens(3, 500);
    const before = relay.counters.listenAttempts;
    const { listener, states } = listen(endpoint);
    await until(() => listener.state.status === 'connected');
    expect(relay.counters.listenAttempts - before).toBe(4);
    expect(states.filter((state) => state.status === 'disconnected').map((state) => state.lastError?.httpStatus)).toEqual([500, 500, 500]);
    await listener.stop();

    relay.faults.refuseNextListens(1, 401);
    const fixed = sas(name, 'agent-listen', LISTEN_KEY);
    const again = listen(endpoint, { token: () => fixed });
    await until(() => again.listener.state.status === 'refused');
    await sleep(500);
    expect(relay.counters.listenAttempts - before).toBe(5);
    relay.faults.refuseNextListens(0, 500);
  });
});

describe('a connected listener', () => {
  it('keeps a short-token channel alive by renewing (the relay closes 1008 at an unrenewed expiry)', async () => {
    const { name, endpoint } = hybridConnection();
    const before = relay.counters.listenAttempts;
    const { listener } = listen(endpoint, { token: () => sas(name, 'agent-listen', LISTEN_KEY, 1500) });
    await until(() => listener.state.status === 'connected');
    await sleep(3000);
    expect(listener.state.status).toBe('connected');
    expect(relay.counters.listenAttempts - before).toBe(1);
    expect(relay.counters.openListeners(name)).toBe(1);
  });

  it('without a newer token, the channel ends at the expiry and that token is not sent again', async () => {
    const { name, endpoint } = hybridConnection();
    const fixed = sas(name, 'agent-listen', LISTEN_KEY, 1500);
    const before = relay.counters.listenAttempts;
    const { listener } = listen(endpoint, { token: () => fixed });
    await until(() => listener.state.status === 'connected');
    await until(() => listener.state.status === 'refused', 3000);
    expect(['token-expired', 'token-rejected']).toContain(listener.state.status === 'refused' && listener.state.reason);
    await sleep(300);
    expect(relay.counters.listenAttempts - before).toBe(1);
    expect(relay.counters.openListeners(name)).toBe(0);
  });

  it('detects a silent drop (no FIN, no pong) by its ping timeout and reconnects', async () => {
    const { name, endpoint } = hybridConnection();
    const { listener, states } = listen(endpoint, { pingIntervalMs: 150, pongTimeoutMs: 200 });
    await until(() => listener.state.status === 'connected');
    relay.faults.dropSilently();
    await until(() => states.some((state) => state.lastError?.kind === 'ping-timeout'), 2000);
    await until(() => listener.state.status === 'connected' && relay.counters.openListeners(name) === 1);
  });

  it('reports 1001 when the hybrid connection is deleted, then 404 from the slow retry', async () => {
    const { name, endpoint } = hybridConnection();
    const { listener, states } = listen(endpoint);
    await until(() => listener.state.status === 'connected');
    relay.deleteHybridConnection(name);
    await until(() => listener.state.status === 'refused');
    expect(states.find((state) => state.status === 'disconnected')).toMatchObject({ lastError: { closeCode: 1001 } });
    expect(listener.state).toMatchObject({ httpStatus: 404, reason: 'no-endpoint' });
  });

  it('deleting the hybrid connection closes an established pair with 1001 on both sides', async () => {
    const { name, endpoint } = hybridConnection();
    const nodeSide: WebSocket[] = [];
    const { listener } = listen(endpoint, { onRendezvous: async (rendezvous) => nodeSide.push(track(await rendezvous.accept())) });
    await until(() => listener.state.status === 'connected');
    const sender = track(await connectSender({ endpoint, token: sas(name, 'engineer-send', SEND_KEY), transport: transport() }));
    await until(() => nodeSide.length === 1);
    const closes = [sender, nodeSide[0] as WebSocket].map(
      (socket) => new Promise<number>((resolve) => socket.once('close', (code) => resolve(code))),
    );
    relay.deleteHybridConnection(name);
    expect(await Promise.all(closes)).toEqual([1001, 1001]);
  });

  it('a disabled hybrid connection closes with 1001, refuses with 403 EntityDisabled, and keeps the token for when it is enabled again', async () => {
    const { name, endpoint } = hybridConnection();
    const fixed = sas(name, 'agent-listen', LISTEN_KEY);
    const { listener, states } = listen(endpoint, { token: () => fixed });
    await until(() => listener.state.status === 'connected');
    relay.setDisabled(name, true);
    await until(() => listener.state.status === 'refused');
    expect(states.find((state) => state.status === 'disconnected')).toMatchObject({ lastError: { closeCode: 1001 } });
    expect(listener.state).toMatchObject({ httpStatus: 403, reason: 'disabled' });
    relay.setDisabled(name, false);
    await until(() => listener.state.status === 'connected');
  });

  it('a full hybrid connection (quota) is retried with the same token until a place frees', async () => {
    const { name, endpoint } = hybridConnection();
    const first = listen(endpoint);
    const second = listen(endpoint);
    await until(() => first.listener.state.status === 'connected' && second.listener.state.status === 'connected');
    const third = listen(endpoint);
    await until(() => third.listener.state.status === 'refused');
    expect(third.listener.state).toMatchObject({ httpStatus: 403, reason: 'quota-exceeded' });
    await first.listener.stop();
    await until(() => third.listener.state.status === 'connected');
    expect(relay.counters.openListeners(name)).toBe(2);
  });
});
