/**
 * The test relay's sender handshakes and rendezvous: 404 with no listener, the accept message, a
 * sender's upgrade that waits, single-use addresses that expire, reject, and the random spread of
 * senders across listeners.
 */
import { startTestRelay, type TestRelay } from '../../../sim/relay';
import {
  connectSocket,
  delay,
  inSeconds,
  KEY,
  open,
  openListener,
  Peer,
  refusal,
  relayUrl,
  resourceOf,
  SEND_KEY,
  signSas,
  type Refusal,
} from './relay-clients';

const NAME = 'rs-node-1';
const RENDEZVOUS_TIMEOUT_MS = 800;

describe('test relay: rendezvous', () => {
  let relay: TestRelay;
  let listener: Peer;
  const sendToken = () => signSas(resourceOf(NAME), 'engineer-send', SEND_KEY, inSeconds(300));
  const connectUrl = (extra = '') => relayUrl(relay, NAME, 'connect', extra);

  beforeAll(async () => {
    relay = await startTestRelay({ rendezvousTimeoutMs: RENDEZVOUS_TIMEOUT_MS });
    relay.createHybridConnection(NAME);
    relay.putRule({ hybridConnection: NAME }, { name: 'agent-listen', rights: ['Listen'], primaryKey: KEY });
    relay.putRule({ hybridConnection: NAME }, { name: 'engineer-send', rights: ['Send'], primaryKey: SEND_KEY });
  });

  afterAll(() => relay.close());

  it('answers a sender 404 "There are no listeners connected for the endpoint" while no listener is connected', async () => {
    const refused = await refusal(relay, connectUrl(), { token: sendToken() });
    expect(refused.status).toBe(404);
    expect(refused.statusMessage).toMatch(/^There are no listeners connected for the endpoint\. TrackingId:/);
    listener = await openListener(relay, NAME, signSas(resourceOf(NAME), 'agent-listen', KEY, inSeconds(300)));
  });

  it("offers a sender to a listener in an accept message (address, the sender's id and headers, never its token) while the sender's upgrade waits", async () => {
    const token = sendToken();
    const sender = new Peer(
      connectSocket(relay, `${relay.url}/$hc/${NAME}/shell/ps?app=1&sb-hc-action=connect&sb-hc-id=trace-42`, {
        token,
        headers: { 'X-Engineer': 'alice@contoso.example' },
        protocols: ['arc-remote-support.v1'],
      }),
    );
    const accept = await listener.nextAccept();
    expect(accept.id).toBe('trace-42');
    const address = new URL(accept.address);
    expect(`${address.protocol}//${address.host}${address.pathname}`).toBe(`wss://${relay.host}/$hc/${NAME}/shell/ps`);
    expect(address.searchParams.get('sb-hc-action')).toBe('accept');
    expect(address.searchParams.get('sb-hc-id')).toBe('trace-42');
    expect(address.searchParams.get('app')).toBe('1');
    expect(accept.connectHeaders).toMatchObject({
      'X-Engineer': 'alice@contoso.example',
      'Sec-WebSocket-Protocol': 'arc-remote-support.v1',
      Host: relay.host,
    });
    expect(Object.keys(accept.connectHeaders).map((name) => name.toLowerCase())).not.toContain('servicebusauthorization');
    expect(JSON.stringify(accept)).not.toContain(encodeURIComponent(/sig=([^&]+)/.exec(token)![1]!));

    await delay(200);
    expect(sender.ws.readyState).toBe(sender.ws.CONNECTING);
    const accepted = await open(relay, accept.address, { protocols: ['arc-remote-support.v1'] });
    await sender.opened;
    expect([sender.ws.protocol, accepted.ws.protocol]).toEqual(['arc-remote-support.v1', 'arc-remote-support.v1']);
    expect(relay.counters.openPairs(NAME)).toBe(1);
    sender.ws.close();
    await accepted.closed;

    // Without the sender's own id, the relay makes one.
    const anonymous = new Peer(connectSocket(relay, connectUrl(), { token }));
    const second = await listener.nextAccept();
    expect(second.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new URL(second.address).searchParams.get('sb-hc-id')).toBe(second.id);
    anonymous.ws.terminate();
  });

  it('lets an address be used once: a second accept, a reject after it, or the address without its key is 403', async () => {
    const sending = open(relay, connectUrl(), { token: sendToken() });
    const accept = await listener.nextAccept();
    const withoutKey = new URL(accept.address);
    withoutKey.searchParams.delete('sb-hc-rendezvous');
    const forged = await refusal(relay, withoutKey.toString());
    expect(forged.status).toBe(403);
    const accepted = await open(relay, accept.address);
    const sender = await sending;
    for (const reuse of [accept.address, `${accept.address}&sb-hc-statusCode=403&sb-hc-statusDescription=No`]) {
      const refused = await refusal(relay, reuse);
      expect(refused.status).toBe(403);
      expect(refused.statusMessage).toMatch(/^The rendezvous address is not valid/);
    }
    sender.ws.close();
    await accepted.closed;
  });

  it('gives a sender no listener accepts 404 ConnectionNotEstablished after the rendezvous timeout; the address is then dead', async () => {
    const started = Date.now();
    const sending = open(relay, connectUrl(), { token: sendToken() }).catch((refused: Refusal) => refused);
    const accept = await listener.nextAccept();
    const refused = (await sending) as Refusal;
    expect(refused.status).toBe(404);
    expect(refused.statusMessage).toMatch(/^ConnectionNotEstablished: /);
    expect(Date.now() - started).toBeGreaterThanOrEqual(RENDEZVOUS_TIMEOUT_MS - 20);
    expect((await refusal(relay, accept.address)).status).toBe(403);
  });

  it('forgets a sender that gives up while waiting: its address is then 403', async () => {
    const sender = new Peer(connectSocket(relay, connectUrl(), { token: sendToken() }));
    const accept = await listener.nextAccept();
    sender.ws.terminate();
    await sender.closed;
    await delay(50);
    expect((await refusal(relay, accept.address)).status).toBe(403);
  });

  it("gives the sender a listener's rejection (its status and description) and the listener 410", async () => {
    const sending = open(relay, connectUrl(), { token: sendToken() }).catch((refused: Refusal) => refused);
    const accept = await listener.nextAccept();
    // A reject the relay cannot pass on is refused, and the sender still waits.
    expect((await refusal(relay, `${accept.address}&sb-hc-statusCode=200&sb-hc-statusDescription=OK`)).status).toBe(400);
    expect((await refusal(relay, `${accept.address}&sb-hc-statusCode=503`)).status).toBe(400);
    const rejected = await refusal(
      relay,
      `${accept.address}&sb-hc-statusCode=503&sb-hc-statusDescription=${encodeURIComponent('Agent busy: two sessions open')}`,
    );
    expect(rejected.status).toBe(410);
    const refused = (await sending) as Refusal;
    expect(refused.status).toBe(503);
    expect(refused.statusMessage).toMatch(/^Agent busy: two sessions open\. TrackingId:/);
    expect((await refusal(relay, accept.address)).status).toBe(403);
    expect(relay.counters.openPairs(NAME)).toBe(0);
  });

  it('spreads senders across the connected listeners at random', async () => {
    const second = await openListener(relay, NAME, signSas(resourceOf(NAME), 'agent-listen', KEY, inSeconds(300)));
    const offers = new Map<Peer, number>([
      [listener, 0],
      [second, 0],
    ]);
    // Each listener turns its offer down; 24 senders all landing on one listener is a 1 in 8 million chance.
    const answer = (peer: Peer) =>
      peer.ws.on('message', (data) => {
        offers.set(peer, offers.get(peer)! + 1);
        const { address } = JSON.parse(data.toString()).accept;
        refusal(relay, `${address}&sb-hc-statusCode=503&sb-hc-statusDescription=busy`).catch(() => undefined);
      });
    answer(listener);
    answer(second);
    for (let index = 0; index < 24; index++) {
      const refused = await refusal(relay, connectUrl(), { token: sendToken() });
      expect(refused.status).toBe(503);
    }
    expect(offers.get(listener)! + offers.get(second)!).toBe(24);
    expect(offers.get(listener)).toBeGreaterThan(0);
    expect(offers.get(second)).toBeGreaterThan(0);
    for (const peer of [listener, second]) peer.ws.close();
    await Promise.all([listener.closed, second.closed]);
  });
});
