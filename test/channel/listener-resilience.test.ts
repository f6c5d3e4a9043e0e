/**
 * The listener under faults: refused and expired tokens are never retried (so a relay that refuses
 * us sees one attempt, not a storm), a missing hybrid connection is retried slowly, a silent drop is
 * caught by the ping timeout, renewal keeps a short-token channel alive, deletion closes with 1001.
 * Minutes run on fake timers where the schedule is the point; short real intervals elsewhere.
 */
import { hybridConnectionResource } from '../../channel/relay/endpoint';
import { RelayListener, type RelayListenerOptions } from '../../channel/relay/listener';
import type { ListenerState } from '../../channel/relay/listener-state';
import { signSas } from '../../channel/relay/sas';
import { FakeTimers } from './fake-timers';
import { startMiniRelay, type MiniRelay } from './mini-relay';

let relay: MiniRelay;
let listener: RelayListener | undefined;

beforeAll(async () => {
  relay = await startMiniRelay();
  relay.createHybridConnection('hc-1');
  relay.putRule({ hybridConnection: 'hc-1' }, { name: 'agent-listen', rights: ['Listen'], primaryKey: 'listen-key-1' });
  relay.putRule({ hybridConnection: 'hc-1' }, { name: 'engineer-send', rights: ['Send'], primaryKey: 'send-key-1' });
});

afterEach(async () => {
  await listener?.stop();
  listener = undefined;
  relay.faults.refuseNextListens(0, 500);
  relay.faults.echoTokenInRefusals = false;
  relay.createHybridConnection('hc-1');
});

afterAll(() => relay.close());

const endpoint = {
  get namespace() {
    return relay.host;
  },
  name: 'hc-1',
};
function token(key = 'listen-key-1', lifetimeMs = 3_600_000, keyName = 'agent-listen', now = Date.now()): string {
  return signSas({ resourceUri: hybridConnectionResource(endpoint), keyName, key, expiresAt: new Date(now + lifetimeMs) });
}

function start(overrides: Partial<RelayListenerOptions> & Pick<RelayListenerOptions, 'token'>): {
  listener: RelayListener;
  states: ListenerState[];
} {
  const states: ListenerState[] = [];
  const created = new RelayListener({
    endpoint,
    onRendezvous: () => undefined,
    onStateChange: (state) => states.push(state),
    transport: { ca: relay.caPem, proxy: { explicit: null } },
    backoff: { baseMs: 100, capMs: 400 },
    slowRetryMs: 300,
    refusedRetryMs: 200,
    tokenPollMs: 50,
    ...overrides,
  });
  listener = created;
  created.start();
  return { listener: created, states };
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

describe('refused tokens are never retried', () => {
  it('401: one attempt, then refused with the status, waiting for a new token; a new token connects', async () => {
    const attemptsBefore = relay.counters.listenAttempts;
    let current = token('wrong-key');
    const { listener } = start({ token: () => current });
    await until(() => listener.state.status === 'refused');
    await sleep(800); // 16 polls of the provider, still the same token
    expect(relay.counters.listenAttempts - attemptsBefore).toBe(1);
    expect(listener.state).toMatchObject({
      status: 'refused',
      httpStatus: 401,
      reason: 'unauthorized',
      nextAttemptAt: null,
      lastError: { kind: 'unauthorized', httpStatus: 401 },
    });

    current = token();
    listener.tokenChanged();
    await until(() => listener.state.status === 'connected');
    expect(relay.counters.listenAttempts - attemptsBefore).toBe(2);
  });

  it('403 (a token without the Listen right) is refused the same way', async () => {
    const attemptsBefore = relay.counters.listenAttempts;
    const sendOnly = token('send-key-1', 3_600_000, 'engineer-send');
    const { listener } = start({ token: () => sendOnly });
    await until(() => listener.state.status === 'refused');
    await sleep(500);
    expect(listener.state).toMatchObject({ status: 'refused', httpStatus: 403, reason: 'forbidden' });
    expect(relay.counters.listenAttempts - attemptsBefore).toBe(1);
  });

  it('an expired token is never sent at all', async () => {
    const attemptsBefore = relay.counters.listenAttempts;
    const { listener, states } = start({ token: () => token('listen-key-1', -60_000) });
    await until(() => listener.state.status === 'refused');
    await sleep(300);
    expect(relay.counters.listenAttempts).toBe(attemptsBefore);
    expect(listener.state).toMatchObject({ status: 'refused', reason: 'token-expired', httpStatus: null });
    expect(states.some((state) => state.status === 'connecting')).toBe(false);
  });

  it('no token at all is a typed refusal too', async () => {
    const { listener } = start({ token: () => undefined });
    await until(() => listener.state.status === 'refused');
    expect(listener.state).toMatchObject({
      reason: 'token-missing',
      lastError: { message: 'No Listen token is available for the relay.' },
    });
  });

  const production = { backoff: { baseMs: 1000, capMs: 60_000 }, tokenPollMs: 30_000, refusedRetryMs: 30_000 };

  it('ten minutes of a refused token cost the relay one attempt (fake clock)', async () => {
    const timers = new FakeTimers();
    const refused = token('wrong-key');
    const attemptsBefore = relay.counters.listenAttempts;
    const { listener } = start({ token: () => refused, timers, ...production });
    await until(() => listener.state.status === 'refused');
    for (let second = 0; second < 600; second += 30) {
      timers.advance(30_000);
      await sleep(5);
    }
    expect(relay.counters.listenAttempts - attemptsBefore).toBe(1);
    expect(listener.state).toMatchObject({ status: 'refused', httpStatus: 401 });
  });

  it('a provider handing out a new bad token each time costs at most two attempts a minute (fake clock)', async () => {
    const timers = new FakeTimers();
    const attemptTimes: number[] = [];
    const attemptsBefore = relay.counters.listenAttempts;
    let minted = 0;
    const { listener } = start({
      token: () => token('wrong-key', 3_600_000 + 1000 * ++minted, 'agent-listen', timers.now()),
      timers,
      ...production,
      onStateChange: (state) => {
        if (state.status === 'connecting') attemptTimes.push(timers.now());
      },
    });
    const startedAt = timers.now();
    while (timers.now() - startedAt < 10 * 60_000) {
      await until(() => relay.counters.listenAttempts - attemptsBefore === attemptTimes.length && listener.state.status === 'refused');
      // Settings may change often: the agent nudges the listener every 5 s here.
      timers.advanceTo(Math.min(timers.nextDueAt() as number, timers.now() + 5000));
      listener.tokenChanged();
      await sleep(2);
    }
    await until(() => relay.counters.listenAttempts - attemptsBefore === attemptTimes.length && listener.state.status === 'refused');
    for (let minute = 1; minute < 10; minute += 1) {
      const inMinute = attemptTimes.filter((at) => at - startedAt >= minute * 60_000 && at - startedAt < (minute + 1) * 60_000);
      expect(inMinute.length).toBeLessThanOrEqual(2);
    }
    // New tokens are tried (the listener is not stuck), only never faster than the hold-off.
    expect(attemptTimes.length).toBeGreaterThanOrEqual(10);
    expect(minted).toBeGreaterThan(attemptTimes.length);
    expect(listener.state).toMatchObject({ status: 'refused', httpStatus: 401, reason: 'unauthorized' });
  });

  it('no secret reaches the state even when the relay echoes the token', async () => {
    relay.faults.echoTokenInRefusals = true;
    const sent = token('wrong-key');
    const { listener, states } = start({ token: () => sent });
    await until(() => listener.state.status === 'refused');
    const signature = decodeURIComponent(/sig=([^&]+)/.exec(sent)?.[1] ?? '');
    const everything = JSON.stringify(states);
    expect(everything).toContain('[redacted]');
    expect(everything).not.toContain(signature);
    expect(everything).not.toContain(encodeURIComponent(signature));
  });
});

describe('a relay that is down', () => {
  it('sees jittered, exponentially spaced attempts between 1 s and 60 s apart, about 2 a minute once saturated (fake clock)', async () => {
    relay.faults.refuseNextListens(1_000_000, 500);
    const timers = new FakeTimers();
    const attemptTimes: number[] = [];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const attemptsBefore = relay.counters.listenAttempts;
    const { listener } = start({
      token: () => token(),
      timers,
      random,
      backoff: { baseMs: 1000, capMs: 60_000 },
      onStateChange: (state) => {
        if (state.status === 'connecting') attemptTimes.push(timers.now());
      },
    });
    const startedAt = timers.now();
    let seen = 0;
    for (;;) {
      // Each round: the attempt reached the relay, failed, and its retry is scheduled.
      await until(
        () =>
          attemptTimes.length > seen &&
          relay.counters.listenAttempts - attemptsBefore === attemptTimes.length &&
          listener.state.status === 'disconnected' &&
          listener.state.nextAttemptAt !== null,
      );
      seen = attemptTimes.length;
      expect(listener.state).toMatchObject({ lastError: { kind: 'server-error', httpStatus: 500 } });
      if (timers.now() - startedAt >= 10 * 60_000) break;
      timers.advanceTo(timers.nextDueAt() as number);
    }
    expect(relay.counters.listenAttempts - attemptsBefore).toBe(attemptTimes.length);
    const gaps = attemptTimes.slice(1).map((at, index) => at - (attemptTimes[index] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(60_000);
    const afterFirstMinute = attemptTimes.filter((at) => at - startedAt >= 60_000).length;
    expect(afterFirstMinute / 9).toBeLessThanOrEqual(4);
    expect(attemptTimes.length).toBeGreaterThan(10);
  });

  it('404 (no such hybrid connection) is a typed state retried slowly, and connects once it exists', async () => {
    relay.deleteHybridConnection('hc-1');
    const attemptsBefore = relay.counters.listenAttempts;
    const { listener } = start({ token: () => token(), slowRetryMs: 400 });
    await until(() => listener.state.status === 'refused');
    expect(listener.state).toMatchObject({ status: 'refused', httpStatus: 404, reason: 'no-endpoint' });
    expect(listener.state.status === 'refused' && listener.state.nextAttemptAt).toBeTruthy();
    await sleep(1000);
    const times = relay.counters.listenAttemptTimes.slice(attemptsBefore);
    expect(times.length).toBeGreaterThanOrEqual(2);
    const gaps = times.slice(1).map((at, index) => at - (times[index] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(350);
    relay.createHybridConnection('hc-1');
    await until(() => listener.state.status === 'connected');
  });
});

describe('a connected listener', () => {
  it('detects a silent drop by the missing pong and reconnects', async () => {
    const attemptsBefore = relay.counters.listenAttempts;
    const { listener, states } = start({ token: () => token(), pingIntervalMs: 150, pongTimeoutMs: 200 });
    await until(() => listener.state.status === 'connected');
    relay.faults.dropSilently();
    await until(() => states.some((state) => state.lastError?.kind === 'ping-timeout'), 2000);
    await until(() => listener.state.status === 'connected' && relay.counters.listenAttempts - attemptsBefore === 2);
    expect(states.map((state) => state.status)).toEqual(['connecting', 'connected', 'disconnected', 'connecting', 'connected']);
    expect(relay.counters.openListeners('hc-1')).toBe(1);
  });

  it('renews a short token so the channel outlives it', async () => {
    const attemptsBefore = relay.counters.listenAttempts;
    const renewalsBefore = relay.counters.renewals;
    const { listener } = start({ token: () => token('listen-key-1', 1500) });
    await until(() => listener.state.status === 'connected');
    await sleep(3000);
    expect(listener.state.status).toBe('connected');
    expect(relay.counters.renewals - renewalsBefore).toBeGreaterThanOrEqual(2);
    expect(relay.counters.listenAttempts - attemptsBefore).toBe(1);
  });

  it('ends listening when its token runs out unrenewed, and does not send that token again', async () => {
    const fixed = token('listen-key-1', 1500);
    const attemptsBefore = relay.counters.listenAttempts;
    const { listener } = start({ token: () => fixed });
    await until(() => listener.state.status === 'connected');
    await until(() => listener.state.status === 'refused', 3000);
    expect(listener.state).toMatchObject({ status: 'refused', nextAttemptAt: null });
    expect(['token-expired', 'token-rejected']).toContain(listener.state.status === 'refused' && listener.state.reason);
    await sleep(400);
    expect(relay.counters.listenAttempts - attemptsBefore).toBe(1);
    expect(relay.counters.openListeners('hc-1')).toBe(0);
  });

  it('reports 1001 when the hybrid connection is deleted, then finds it gone (404)', async () => {
    const { listener, states } = start({ token: () => token() });
    await until(() => listener.state.status === 'connected');
    relay.deleteHybridConnection('hc-1');
    await until(() => listener.state.status === 'refused');
    const closed = states.find((state) => state.status === 'disconnected');
    expect(closed).toMatchObject({ lastError: { kind: 'closed', closeCode: 1001, message: expect.stringMatching(/deleted or disabled/) } });
    expect(listener.state).toMatchObject({ httpStatus: 404, reason: 'no-endpoint' });
  });

  it('reconnects after the relay closes with 1011', async () => {
    const { listener, states } = start({ token: () => token() });
    await until(() => listener.state.status === 'connected');
    relay.faults.closeListenersWith(1011);
    await until(() => states.filter((state) => state.status === 'connected').length === 2);
    expect(states.find((state) => state.status === 'disconnected')).toMatchObject({ lastError: { closeCode: 1011 } });
  });

  it('stop closes the channel and makes no further attempts', async () => {
    const { listener } = start({ token: () => token() });
    await until(() => listener.state.status === 'connected');
    await listener.stop();
    const attempts = relay.counters.listenAttempts;
    await until(() => relay.counters.openListeners('hc-1') === 0);
    await sleep(300);
    expect(listener.state).toMatchObject({ status: 'disconnected', nextAttemptAt: null });
    expect(relay.counters.listenAttempts).toBe(attempts);
  });
});
