/**
 * The test relay's listener control channels: the quota of 25, 1008 when the token's expiry passes,
 * renewToken (good or bad), the idle drop, and 1001 when the hybrid connection is deleted or disabled.
 */
import { startTestRelay, type TestRelay } from '../../../sim/relay';
import {
  delay,
  inSeconds,
  KEY,
  open,
  openListener,
  refusal,
  relayUrl,
  resourceOf,
  SEND_KEY,
  signSas,
  waitUntil,
  type Peer,
} from './relay-clients';

const NAME = 'rs-node-1';

function listenToken(name: string, seconds: number): string {
  return signSas(resourceOf(name), 'agent-listen', KEY, inSeconds(seconds));
}

async function startRelay(options: Parameters<typeof startTestRelay>[0] = {}): Promise<TestRelay> {
  const relay = await startTestRelay(options);
  for (const name of [NAME, 'rs-node-2']) {
    relay.createHybridConnection(name);
    relay.putRule({ hybridConnection: name }, { name: 'agent-listen', rights: ['Listen'], primaryKey: KEY });
    relay.putRule({ hybridConnection: name }, { name: 'engineer-send', rights: ['Send'], primaryKey: SEND_KEY });
  }
  return relay;
}

async function closeAll(peers: Peer[]): Promise<void> {
  for (const peer of peers) peer.ws.close();
  await Promise.all(peers.map((peer) => peer.closed));
}

describe('test relay: listeners', () => {
  let relay: TestRelay;

  beforeAll(async () => {
    relay = await startRelay();
  });

  afterAll(() => relay.close());

  it('takes 25 listeners on a hybrid connection and refuses the 26th with 403 QuotaExceeded', async () => {
    const token = listenToken(NAME, 300);
    const listeners = await Promise.all(Array.from({ length: 25 }, () => openListener(relay, NAME, token)));
    expect(relay.counters.openListeners(NAME)).toBe(25);
    const refused = await refusal(relay, relayUrl(relay, NAME, 'listen'), { token });
    expect(refused.status).toBe(403);
    expect(refused.statusMessage).toMatch(/^QuotaExceeded: the hybrid connection 'rs-node-1' already has 25 listeners/);
    // The quota is per hybrid connection, and a place freed is a place taken again.
    const elsewhere = await openListener(relay, 'rs-node-2', listenToken('rs-node-2', 300));
    listeners[0]!.ws.close();
    await waitUntil(() => relay.counters.openListeners(NAME) === 24);
    listeners[0] = await openListener(relay, NAME, token);
    expect(relay.counters.openListeners()).toBe(26);
    await closeAll([...listeners, elsewhere]);

    const small = await startRelay({ maxListeners: 2 });
    try {
      const two = await Promise.all([1, 2].map(() => openListener(small, NAME, token)));
      expect((await refusal(small, relayUrl(small, NAME, 'listen'), { token })).status).toBe(403);
      await closeAll(two);
    } finally {
      await small.close();
    }
  });

  it("closes the control channel with 1008 when its token's expiry passes, and only then", async () => {
    const expiry = inSeconds(2);
    const shortLived = await openListener(relay, NAME, signSas(resourceOf(NAME), 'agent-listen', KEY, expiry));
    const longLived = await openListener(relay, NAME, listenToken(NAME, 300));
    const closed = await shortLived.closedWithin(4000);
    const closedAt = Date.now();
    expect(closed.code).toBe(1008);
    expect(closed.reason).toBe('The security token has expired, therefore the authorization policy is violated');
    expect(closedAt).toBeGreaterThanOrEqual(expiry * 1000 - 50);
    expect(closedAt).toBeLessThan(expiry * 1000 + 1000);
    expect(await longLived.quietFor(200)).toBe(true);
    expect(relay.counters.openListeners(NAME)).toBe(1);
    await closeAll([longLived]);
  });

  it('moves the expiry on a good renewToken, and closes with 1008 on a bad one or on any other message', async () => {
    const expiry = inSeconds(2);
    const renewed = await openListener(relay, NAME, signSas(resourceOf(NAME), 'agent-listen', KEY, expiry));
    renewed.ws.send(JSON.stringify({ renewToken: { token: listenToken(NAME, 300) } }));

    const badMessages = [
      [
        JSON.stringify({ renewToken: { token: signSas(resourceOf(NAME), 'agent-listen', 'wrong-key', inSeconds(300)) } }),
        /^renewToken refused: the signature does not match/,
      ],
      [
        JSON.stringify({ renewToken: { token: signSas(resourceOf(NAME), 'engineer-send', SEND_KEY, inSeconds(300)) } }),
        /^renewToken refused: rule 'engineer-send' grants Send, not Listen/,
      ],
      [
        JSON.stringify({ renewToken: { token: listenToken('rs-node-2', 300) } }),
        /^renewToken refused: the token's resource .* is not this hybrid connection/,
      ],
      [JSON.stringify({ renewToken: { token: listenToken(NAME, -1) } }), /^renewToken refused: the token expired/],
      [JSON.stringify({ hello: 'relay' }), /^Unsupported control message/],
      ['renew please', /^The control channel message is not JSON/],
    ] as const;
    for (const [message, reason] of badMessages) {
      const listener = await openListener(relay, NAME, listenToken(NAME, 300));
      listener.ws.send(message);
      const closed = await listener.closedWithin(2000);
      expect(closed.code).toBe(1008);
      expect(closed.reason).toMatch(reason);
    }

    await delay(Math.max(0, expiry * 1000 + 500 - Date.now()));
    expect(renewed.ws.readyState).toBe(renewed.ws.OPEN);
    expect(relay.counters.openListeners(NAME)).toBe(1);
    await closeAll([renewed]);
  });

  it('drops a channel on which nothing arrives for the idle timeout, without a close frame; pings keep one open', async () => {
    const idle = await startRelay({ idleTimeoutMs: 400 });
    try {
      const token = listenToken(NAME, 300);
      const pinging = await openListener(idle, NAME, token);
      const silent = await openListener(idle, NAME, token);
      const pings = setInterval(() => pinging.ws.ping(), 100);
      const closed = await silent.closedWithin(2000);
      expect(closed.code).toBe(1006);
      await delay(600);
      clearInterval(pings);
      expect(pinging.ws.readyState).toBe(pinging.ws.OPEN);
      expect(idle.counters.openListeners(NAME)).toBe(1);
      await closeAll([pinging]);
    } finally {
      await idle.close();
    }
  });

  it('closes its listeners with 1001 when the hybrid connection is deleted; the name is then unknown', async () => {
    const token = listenToken(NAME, 300);
    const listeners = await Promise.all([1, 2].map(() => openListener(relay, NAME, token)));
    const other = await openListener(relay, 'rs-node-2', listenToken('rs-node-2', 300));
    relay.deleteHybridConnection(NAME);
    for (const listener of listeners) {
      const closed = await listener.closedWithin(2000);
      expect(closed).toEqual({ code: 1001, reason: 'The hybrid connection was deleted' });
    }
    expect(await other.quietFor(100)).toBe(true);
    expect((await refusal(relay, relayUrl(relay, NAME, 'listen'), { token })).statusMessage).toMatch(/^Endpoint does not exist/);
    expect(relay.counters.openListeners(NAME)).toBe(0);
    await closeAll([other]);
    relay.createHybridConnection(NAME);
    relay.putRule({ hybridConnection: NAME }, { name: 'agent-listen', rights: ['Listen'], primaryKey: KEY });
  });

  it('closes its listeners with 1001 when disabled, refuses listeners and senders with 403 while disabled, and takes them back once enabled', async () => {
    const token = listenToken('rs-node-2', 300);
    const listener = await openListener(relay, 'rs-node-2', token);
    relay.setDisabled('rs-node-2', true);
    expect(await listener.closedWithin(2000)).toEqual({ code: 1001, reason: 'The hybrid connection was disabled' });
    const refusedListen = await refusal(relay, relayUrl(relay, 'rs-node-2', 'listen'), { token });
    const refusedSend = await refusal(relay, relayUrl(relay, 'rs-node-2', 'connect'), {
      token: signSas(resourceOf('rs-node-2'), 'engineer-send', SEND_KEY, inSeconds(300)),
    });
    for (const refused of [refusedListen, refusedSend]) {
      expect(refused.status).toBe(403);
      expect(refused.statusMessage).toMatch(/^EntityDisabled: the hybrid connection 'rs-node-2' is disabled/);
    }
    relay.setDisabled('rs-node-2', false);
    const back = await open(relay, relayUrl(relay, 'rs-node-2', 'listen'), { token });
    expect(relay.counters.openListeners('rs-node-2')).toBe(1);
    await closeAll([back]);
  });
});
