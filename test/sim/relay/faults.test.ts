/**
 * The test relay's fault switches and counters: refused listens (counted, with their times), a silent
 * drop (no close frame, no FIN, no pong), 1011 on the control channels, and a slow accept.
 */
import { startTestRelay, type TestRelay } from '../../../sim/relay';
import {
  delay,
  inSeconds,
  KEY,
  open,
  openListener,
  pair,
  Peer,
  connectSocket,
  refusal,
  relayUrl,
  resourceOf,
  SEND_KEY,
  signSas,
  type Refusal,
} from './relay-clients';

const NAME = 'rs-node-1';
const RENDEZVOUS_TIMEOUT_MS = 600;

describe('test relay: faults and counters', () => {
  let relay: TestRelay;
  const listenToken = () => signSas(resourceOf(NAME), 'agent-listen', KEY, inSeconds(300));
  const sendToken = () => signSas(resourceOf(NAME), 'engineer-send', SEND_KEY, inSeconds(300));

  beforeEach(async () => {
    relay = await startTestRelay({ rendezvousTimeoutMs: RENDEZVOUS_TIMEOUT_MS });
    relay.createHybridConnection(NAME);
    relay.putRule({ hybridConnection: NAME }, { name: 'agent-listen', rights: ['Listen'], primaryKey: KEY });
    relay.putRule({ hybridConnection: NAME }, { name: 'engineer-send', rights: ['Send'], primaryKey: SEND_KEY });
  });

  afterEach(() => relay.close());

  it('refuses the next N listens with the chosen status, and counts every listen attempt with its time', async () => {
    const started = Date.now();
    relay.faults.refuseNextListens(2, 500);
    for (let attempt = 0; attempt < 2; attempt++) {
      const refused = await refusal(relay, relayUrl(relay, NAME, 'listen'), { token: listenToken() });
      expect(refused.status).toBe(500);
      expect(refused.statusMessage).toMatch(/^Internal Server Error/);
    }
    const listener = await openListener(relay, NAME, listenToken());
    for (const status of [401, 403] as const) {
      relay.faults.refuseNextListens(1, status);
      expect((await refusal(relay, relayUrl(relay, NAME, 'listen'), { token: listenToken() })).status).toBe(status);
    }
    // Refused for their own reasons, they are attempts too; a sender is not.
    expect((await refusal(relay, relayUrl(relay, 'unknown', 'listen'), { token: listenToken() })).status).toBe(404);
    expect((await refusal(relay, relayUrl(relay, NAME, 'listen'))).status).toBe(401);
    const { sender, accepted } = await pair(relay, NAME, listener, sendToken());

    expect(relay.counters.listenAttempts).toBe(7);
    const times = relay.counters.listenAttemptTimes;
    expect(times).toHaveLength(7);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(times[0]).toBeGreaterThanOrEqual(started);
    expect(times[6]).toBeLessThanOrEqual(Date.now());
    times.pop();
    expect(relay.counters.listenAttemptTimes).toHaveLength(7);

    expect(() => relay.faults.refuseNextListens(-1, 500)).toThrow(/count -1 is not a whole number/);
    expect(() => relay.faults.refuseNextListens(1, 502 as 500)).toThrow(/status 502 is not one of 500, 401, 403/);
    sender.ws.close();
    await accepted.closed;
  });

  it('drops every open socket silently: no close frame, no FIN, no pong, nothing relayed; then forgets them', async () => {
    const listener = await openListener(relay, NAME, listenToken());
    const { sender, accepted } = await pair(relay, NAME, listener, sendToken());
    const waiting = new Peer(connectSocket(relay, relayUrl(relay, NAME, 'connect'), { token: sendToken() }));
    await listener.nextAccept();
    let pongs = 0;
    for (const peer of [listener, sender, accepted]) peer.ws.on('pong', () => (pongs += 1));
    listener.ws.ping();
    await new Promise((resolve) => listener.ws.once('pong', resolve));
    pongs = 0;

    relay.faults.dropSilently();
    expect(relay.counters.openListeners()).toBe(0);
    expect(relay.counters.openPairs()).toBe(0);
    for (const peer of [listener, sender, accepted]) peer.ws.ping();
    sender.ws.send('anyone there?');
    for (const peer of [listener, sender, accepted, waiting]) expect(await peer.quietFor(400)).toBe(true);
    expect(pongs).toBe(0);
    // A FIN or a close frame would have closed them; the sockets are half-open.
    expect([listener, sender, accepted].map((peer) => peer.ws.readyState)).toEqual([1, 1, 1]);
    expect(waiting.ws.readyState).toBe(waiting.ws.CONNECTING);

    expect((await refusal(relay, relayUrl(relay, NAME, 'connect'), { token: sendToken() })).statusMessage).toMatch(
      /^There are no listeners connected/,
    );
    const fresh = await openListener(relay, NAME, listenToken());
    const second = await pair(relay, NAME, fresh, sendToken());
    second.sender.ws.send('through the new listener');
    expect((await second.accepted.next()).text).toBe('through the new listener');
    expect(relay.counters.openListeners()).toBe(1);
    expect(relay.counters.openPairs()).toBe(1);
    for (const peer of [listener, sender, accepted, waiting, fresh, second.sender]) peer.ws.terminate();
  });

  it('closes every control channel with 1011 and leaves established pairs alone', async () => {
    // Pair through the only listener first: with two, the relay may offer the connection to either.
    const first = await openListener(relay, NAME, listenToken());
    const { sender, accepted } = await pair(relay, NAME, first, sendToken());
    const listeners = [first, await openListener(relay, NAME, listenToken())];
    relay.faults.closeListenersWith(1011);
    for (const listener of listeners)
      expect(await listener.closedWithin(2000)).toEqual({ code: 1011, reason: 'Something went wrong in the service' });
    sender.ws.send('the session goes on');
    expect((await accepted.next()).text).toBe('the session goes on');
    expect(relay.counters.openListeners()).toBe(0);
    expect(() => relay.faults.closeListenersWith(1000 as 1011)).toThrow(/code 1000 is not 1011/);
    sender.ws.close();
    await accepted.closed;
  });

  it('delays the accept message by slowAcceptMs, past the rendezvous timeout if so set', async () => {
    const listener = await openListener(relay, NAME, listenToken());
    expect(relay.faults.slowAcceptMs).toBe(0);
    relay.faults.slowAcceptMs = 300;
    const connectedAt = Date.now();
    const sending = open(relay, relayUrl(relay, NAME, 'connect'), { token: sendToken() });
    const accept = await listener.nextAccept();
    expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(290);
    const accepted = await open(relay, accept.address);
    const sender = await sending;
    sender.ws.close();
    await accepted.closed;

    relay.faults.slowAcceptMs = RENDEZVOUS_TIMEOUT_MS + 400;
    const refused = (await open(relay, relayUrl(relay, NAME, 'connect'), { token: sendToken() }).catch(
      (error: Refusal) => error,
    )) as Refusal;
    expect(refused.status).toBe(404);
    expect(refused.statusMessage).toMatch(/^ConnectionNotEstablished/);
    // The offer died with its sender: it never reaches the listener.
    await delay(500);
    expect(await listener.quietFor(100)).toBe(true);
    expect(() => {
      relay.faults.slowAcceptMs = -5;
    }).toThrow(/slowAcceptMs: -5 is not a delay/);
    listener.ws.close();
    await listener.closed;
  });
});
