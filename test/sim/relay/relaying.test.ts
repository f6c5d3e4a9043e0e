/**
 * The test relay's established rendezvous: messages cross unchanged both ways, a close on one side
 * closes the other with the documented codes, token expiry leaves a pair alone, and deleting or
 * disabling the hybrid connection closes both sides with 1001.
 */
import { randomBytes } from 'crypto';
import { startTestRelay, type TestRelay } from '../../../sim/relay';
import {
  inSeconds,
  KEY,
  open,
  openListener,
  pair,
  relayUrl,
  resourceOf,
  SEND_KEY,
  signSas,
  waitUntil,
  type Peer,
  type Refusal,
} from './relay-clients';

const NAME = 'rs-node-1';

describe('test relay: relaying', () => {
  let relay: TestRelay;
  const listenToken = (seconds = 300) => signSas(resourceOf(NAME), 'agent-listen', KEY, inSeconds(seconds));
  const sendToken = (seconds = 300) => signSas(resourceOf(NAME), 'engineer-send', SEND_KEY, inSeconds(seconds));

  beforeEach(async () => {
    relay = await startTestRelay();
    relay.createHybridConnection(NAME);
    relay.putRule({ hybridConnection: NAME }, { name: 'agent-listen', rights: ['Listen'], primaryKey: KEY });
    relay.putRule({ hybridConnection: NAME }, { name: 'engineer-send', rights: ['Send'], primaryKey: SEND_KEY });
  });

  afterEach(() => relay.close());

  it('relays text and binary messages unchanged both ways, a large one and a fragmented one whole', async () => {
    const listener = await openListener(relay, NAME, listenToken());
    const { sender, accepted } = await pair(relay, NAME, listener, sendToken());
    expect(relay.counters.pairsMade).toBe(1);
    const small = randomBytes(1024);
    // Larger than the relay reads ahead of a slow side, so its pause and resume are exercised.
    const large = randomBytes(4 * 1024 * 1024);
    for (const [from, to] of [
      [sender, accepted],
      [accepted, sender],
    ] as Array<[Peer, Peer]>) {
      from.ws.send('Get-Service WinRM | Format-List — ünïcødé');
      from.ws.send(small);
      from.ws.send('first half, ', { fin: false });
      from.ws.send('second half', { fin: true });
      from.ws.send(large);
      from.ws.send('after the large one');
      expect(await to.next()).toMatchObject({ text: 'Get-Service WinRM | Format-List — ünïcødé', isBinary: false });
      const binary = await to.next();
      expect(binary.isBinary).toBe(true);
      expect(binary.data.equals(small)).toBe(true);
      expect(await to.next()).toMatchObject({ text: 'first half, second half', isBinary: false });
      const big = await to.next(10_000);
      expect(big.isBinary).toBe(true);
      expect(big.data.equals(large)).toBe(true);
      expect((await to.next()).text).toBe('after the large one');
    }
    sender.ws.close();
    await accepted.closed;
  });

  it('closes the sender with 1000 when the listener closes, with any code or none; the listener with 1001 when the sender closes', async () => {
    const listener = await openListener(relay, NAME, listenToken());
    const endings: Array<(listenerSide: Peer) => void> = [
      (side) => side.ws.close(1000, 'session ended'),
      (side) => side.ws.close(4001, 'revoked'),
      (side) => side.ws.terminate(),
    ];
    for (const end of endings) {
      const { sender, accepted } = await pair(relay, NAME, listener, sendToken());
      accepted.ws.send('last words');
      end(accepted);
      expect((await sender.next()).text).toBe('last words');
      expect(await sender.closedWithin(2000)).toEqual({ code: 1000, reason: 'The listener shut down the socket' });
    }
    const { sender, accepted } = await pair(relay, NAME, listener, sendToken());
    sender.ws.close(1000, 'bye');
    expect(await accepted.closedWithin(2000)).toEqual({ code: 1001, reason: 'The sender client shut down the connection' });
    await waitUntil(() => relay.counters.openPairs() === 0);
    expect(relay.counters.pairsMade).toBe(4);
    // The control channel is not part of any pair.
    expect(await listener.quietFor(50)).toBe(true);
    listener.ws.close();
    await listener.closed;
  });

  it("keeps an established pair open after the listener's and the sender's tokens expire", async () => {
    const expiry = 2;
    const listener = await openListener(relay, NAME, listenToken(expiry));
    const { sender, accepted } = await pair(relay, NAME, listener, sendToken(expiry));
    expect((await listener.closedWithin(4000)).code).toBe(1008);
    await new Promise((resolve) => setTimeout(resolve, 200));
    sender.ws.send('still here?');
    expect((await accepted.next()).text).toBe('still here?');
    accepted.ws.send('yes');
    expect((await sender.next()).text).toBe('yes');
    expect(relay.counters.openPairs(NAME)).toBe(1);
    expect(relay.counters.openListeners(NAME)).toBe(0);
    accepted.ws.close();
    await sender.closed;
  });

  it('closes both sides of every pair with 1001 and refuses waiting senders when the hybrid connection is deleted or disabled', async () => {
    for (const [act, reason, waitingStatus] of [
      [() => relay.setDisabled(NAME, true), 'The hybrid connection was disabled', 403],
      [() => relay.deleteHybridConnection(NAME), 'The hybrid connection was deleted', 404],
    ] as const) {
      const listener = await openListener(relay, NAME, listenToken());
      const { sender, accepted } = await pair(relay, NAME, listener, sendToken());
      const waiting = open(relay, relayUrl(relay, NAME, 'connect'), { token: sendToken() }).catch((refused: Refusal) => refused);
      await listener.nextAccept();
      act();
      for (const peer of [sender, accepted, listener]) expect(await peer.closedWithin(2000)).toEqual({ code: 1001, reason });
      expect(((await waiting) as Refusal).status).toBe(waitingStatus);
      expect(relay.counters.openPairs()).toBe(0);
      if (waitingStatus === 403) relay.setDisabled(NAME, false);
    }
  });
});
