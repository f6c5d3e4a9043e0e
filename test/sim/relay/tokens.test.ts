/**
 * The test relay's token checks, with tokens signed in the test: 401 for a token that is missing,
 * malformed, badly signed, of an unknown rule or expired; 403 for a good token with the wrong right or
 * for another resource; accepted in the header or the query, with either key, at hybrid connection or
 * namespace scope, whatever the resource's scheme, port, letter case or trailing slash.
 */
import { createHmac } from 'crypto';
import { startTestRelay, type TestRelay } from '../../../sim/relay';
import { inSeconds, KEY, open, openListener, pair, refusal, relayUrl, resourceOf, SEND_KEY, signSas, waitUntil } from './relay-clients';

const NAME = 'rs-node-1';
const SECONDARY = 'secondary-send-key-0000000000000000';
const MANAGE_KEY = 'manage-key-ZYXWVUTSRQ9876543210';
// A key that is also valid base64: the relay must use its UTF-8 bytes, not what it decodes to.
const BASE64_KEY = 'c2VjcmV0LWtleS1vZi0zMi1ieXRlcyEhISEhISEhISE=';

describe('test relay: tokens', () => {
  let relay: TestRelay;
  const listenToken = () => signSas(resourceOf(NAME), 'agent-listen', KEY, inSeconds(300));
  const sendToken = () => signSas(resourceOf(NAME), 'engineer-send', SEND_KEY, inSeconds(300));

  beforeAll(async () => {
    relay = await startTestRelay();
    relay.createHybridConnection(NAME);
    relay.createHybridConnection('rs-node-2');
    relay.createHybridConnection('open-door', { requiresClientAuthorization: false });
    relay.putRule({ hybridConnection: NAME }, { name: 'agent-listen', rights: ['Listen'], primaryKey: KEY });
    relay.putRule({ hybridConnection: NAME }, { name: 'engineer-send', rights: ['Send'], primaryKey: SEND_KEY, secondaryKey: SECONDARY });
    relay.putRule({ hybridConnection: NAME }, { name: 'base64-looking', rights: ['Listen'], primaryKey: BASE64_KEY });
    relay.putRule({ hybridConnection: 'rs-node-2' }, { name: 'other-listen', rights: ['Listen'], primaryKey: KEY });
    relay.putRule({}, { name: 'ns-manage', rights: ['Manage'], primaryKey: MANAGE_KEY });
    relay.putRule({ hybridConnection: 'open-door' }, { name: 'door-listen', rights: ['Listen'], primaryKey: KEY });
  });

  afterAll(() => relay.close());

  async function listenRefusal(token?: string) {
    return refusal(relay, relayUrl(relay, NAME, 'listen'), { token });
  }

  async function listens(token: string, how: 'header' | 'query' = 'header'): Promise<void> {
    const listener =
      how === 'header'
        ? await openListener(relay, NAME, token)
        : await open(relay, relayUrl(relay, NAME, 'listen', `&sb-hc-token=${encodeURIComponent(token)}`));
    expect(relay.counters.openListeners(NAME)).toBe(1);
    listener.ws.close();
    await listener.closed;
    await waitUntil(() => relay.counters.openListeners(NAME) === 0);
  }

  it('answers 401 to a missing or malformed token, and never repeats a signature in its answer', async () => {
    const good = listenToken();
    const signature = decodeURIComponent(/sig=([^&]+)/.exec(good)![1]!);
    const cases: Array<[string | undefined, RegExp]> = [
      [undefined, /no token/],
      ['Bearer eyJ0eXAiOiJKV1QifQ.e30.c2ln', /does not start with 'SharedAccessSignature'/],
      [good.replace(/&sig=[^&]+/, ''), /missing sig/],
      [good.replace(/se=\d+/, 'se=soon'), /se is not a number/],
      [good.replace(/sig=[^&]+/, 'sig=not%20base64!'), /sig is not URL-encoded base64/],
      [`${good}&skn=again`, /field 'skn' appears twice/],
      [`${good}&extra=1`, /unexpected field 'extra'/],
    ];
    for (const [token, reason] of cases) {
      const refused = await listenRefusal(token);
      expect(refused.status).toBe(401);
      expect(refused.statusMessage).toMatch(/^Unauthorized: /);
      expect(refused.body).toMatch(reason);
      expect(refused.body).not.toContain(signature);
    }
  });

  it('answers 401 to a bad signature, an unknown rule, a tampered resource or an expired token', async () => {
    const cases: Array<[string, RegExp]> = [
      [
        signSas(resourceOf(NAME), 'agent-listen', 'not-the-key', inSeconds(300)),
        /signature does not match the keys of rule 'agent-listen'/,
      ],
      [signSas(resourceOf(NAME), 'no-such-rule', KEY, inSeconds(300)), /no authorization rule named 'no-such-rule'/],
      // Another hybrid connection's rule is not this one's, even with the same key.
      [signSas(resourceOf(NAME), 'other-listen', KEY, inSeconds(300)), /no authorization rule named 'other-listen'/],
      [listenToken().replace(/sr=[^&]+/, `sr=${encodeURIComponent('http://127.0.0.1/')}`), /signature does not match/],
      [listenToken().replace(/se=\d+/, `se=${inSeconds(3000)}`), /signature does not match/],
      [signSas(resourceOf(NAME), 'agent-listen', KEY, inSeconds(0)), /the token expired at/],
      [signSas(resourceOf(NAME), 'agent-listen', KEY, inSeconds(-60)), /the token expired at/],
    ];
    for (const [token, reason] of cases) {
      const refused = await listenRefusal(token);
      expect(refused.status).toBe(401);
      expect(refused.body).toMatch(reason);
    }
  });

  it('keys the HMAC with the UTF-8 bytes of the key, not its base64 decoding', async () => {
    const expiry = inSeconds(300);
    const resource = encodeURIComponent(resourceOf(NAME));
    const withDecodedKey = createHmac('sha256', Buffer.from(BASE64_KEY, 'base64')).update(`${resource}\n${expiry}`).digest('base64');
    const refused = await listenRefusal(
      `SharedAccessSignature sr=${resource}&sig=${encodeURIComponent(withDecodedKey)}&se=${expiry}&skn=base64-looking`,
    );
    expect(refused.status).toBe(401);
    await listens(signSas(resourceOf(NAME), 'base64-looking', BASE64_KEY, expiry));
  });

  it('answers 403 to a good token with the wrong right or for another resource', async () => {
    const listenCases: Array<[string, RegExp]> = [
      [sendToken(), /rule 'engineer-send' grants Send, not Listen/],
      [signSas('http://127.0.0.1/rs-node-2', 'ns-manage', MANAGE_KEY, inSeconds(300)), /is not this hybrid connection/],
      // A prefix only counts at a path boundary.
      [signSas('http://127.0.0.1/rs-node', 'ns-manage', MANAGE_KEY, inSeconds(300)), /is not this hybrid connection/],
      [signSas(`${resourceOf(NAME)}/suffix`, 'ns-manage', MANAGE_KEY, inSeconds(300)), /is not this hybrid connection/],
      [signSas(`http://contoso.servicebus.windows.net/${NAME}`, 'ns-manage', MANAGE_KEY, inSeconds(300)), /is not this hybrid connection/],
    ];
    for (const [token, reason] of listenCases) {
      const refused = await listenRefusal(token);
      expect(refused.status).toBe(403);
      expect(refused.statusMessage).toMatch(/^Forbidden: /);
      expect(refused.body).toMatch(reason);
    }
    const listener = await openListener(relay, NAME, listenToken());
    const refused = await refusal(relay, relayUrl(relay, NAME, 'connect'), { token: listenToken() });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/rule 'agent-listen' grants Listen, not Send/);
    listener.ws.close();
    await listener.closed;
    await waitUntil(() => relay.counters.openListeners(NAME) === 0);
  });

  it('takes the token from the ServiceBusAuthorization header or the sb-hc-token query parameter', async () => {
    await listens(listenToken(), 'header');
    await listens(listenToken(), 'query');
  });

  it('matches the resource without scheme, port, letter case or trailing slash, and at namespace scope', async () => {
    for (const resource of [
      `http://127.0.0.1:443/${NAME}`,
      `http://${relay.host}/${NAME}`,
      `https://127.0.0.1/${NAME}/`,
      `sb://127.0.0.1/${NAME}`,
      `HTTP://127.0.0.1/RS-NODE-1`,
    ]) {
      await listens(signSas(resource, 'agent-listen', KEY, inSeconds(300)));
    }
    await listens(signSas('http://127.0.0.1/', 'ns-manage', MANAGE_KEY, inSeconds(300)));
    // The host the client dialled is the namespace: localhost is this relay too when dialled as such.
    const refused = await listenRefusal(signSas(`http://localhost/${NAME}`, 'agent-listen', KEY, inSeconds(300)));
    expect(refused.status).toBe(403);
  });

  it('lets Send through with either key, Manage do both, and anyone send where no client authorization is required', async () => {
    const listener = await openListener(relay, NAME, signSas(resourceOf(NAME), 'ns-manage', MANAGE_KEY, inSeconds(300)));
    for (const token of [
      sendToken(),
      signSas(resourceOf(NAME), 'engineer-send', SECONDARY, inSeconds(300)),
      signSas(resourceOf(NAME), 'ns-manage', MANAGE_KEY, inSeconds(300)),
    ]) {
      const { sender, accepted } = await pair(relay, NAME, listener, token);
      sender.ws.close();
      await accepted.closed;
    }
    listener.ws.close();
    await listener.closed;

    const door = await openListener(relay, 'open-door', signSas(resourceOf('open-door'), 'door-listen', KEY, inSeconds(300)));
    const sending = open(relay, relayUrl(relay, 'open-door', 'connect'));
    const accept = await door.nextAccept();
    const accepted = await open(relay, accept.address);
    const sender = await sending;
    sender.ws.send('no token needed');
    expect((await accepted.next()).text).toBe('no token needed');
    // A listener always needs its token, even there.
    expect((await refusal(relay, relayUrl(relay, 'open-door', 'listen'))).status).toBe(401);
    for (const peer of [sender, door]) peer.ws.close();
    await Promise.all([accepted.closed, door.closed]);
  });
});
