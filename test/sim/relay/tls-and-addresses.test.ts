/**
 * The test relay, as a client meets it before any token is read: TLS 1.2 or later only, from a CA of
 * its own; the /$hc/{name} address; the 404 and 400 answers and their texts.
 */
import https from 'https';
import tls from 'tls';
import WebSocket from 'ws';
import { startTestRelay, type TestRelay } from '../../../sim/relay';
import { inSeconds, KEY, open, refusal, relayUrl, resourceOf, signSas } from './relay-clients';

const NAME = 'rs-node-1';

describe('test relay: TLS and addresses', () => {
  let relay: TestRelay;
  let token: string;

  beforeAll(async () => {
    relay = await startTestRelay();
    relay.createHybridConnection(NAME);
    relay.putRule({ hybridConnection: NAME }, { name: 'agent-listen', rights: ['Listen'], primaryKey: KEY });
    token = signSas(resourceOf(NAME), 'agent-listen', KEY, inSeconds(300));
  });

  afterAll(() => relay.close());

  function handshake(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
    const [host, port] = relay.host.split(':');
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host, port: Number(port), ca: relay.caPem, ...options }, () => resolve(socket));
      socket.once('error', reject);
    });
  }

  it('speaks TLS 1.2 and 1.3 with a certificate its CA signed for 127.0.0.1 and for localhost', async () => {
    expect(relay.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(relay.url).toBe(`wss://${relay.host}`);
    for (const [servername, maxVersion, expected] of [
      [undefined, 'TLSv1.2', 'TLSv1.2'],
      [undefined, 'TLSv1.3', 'TLSv1.3'],
      ['localhost', 'TLSv1.3', 'TLSv1.3'],
    ] as const) {
      const socket = await handshake({ maxVersion, ...(servername ? { servername } : {}) });
      expect(socket.authorized).toBe(true);
      expect(socket.getProtocol()).toBe(expected);
      expect(socket.getPeerCertificate().issuer.CN).toBe('arc-remote-support test relay CA');
      socket.destroy();
    }
  });

  it('refuses TLS 1.1 with a protocol-version alert from the server', async () => {
    // The client is allowed TLS 1.1 (security level 0), so the refusal can only be the relay's.
    await expect(handshake({ minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).rejects.toMatchObject({
      code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
    });
  });

  it('refuses a plain ws:// client without reading its request, and a client that does not trust its CA', async () => {
    const attemptsBefore = relay.counters.listenAttempts;
    const plain = new WebSocket(`ws://${relay.host}/$hc/${NAME}?sb-hc-action=listen`, { headers: { ServiceBusAuthorization: token } });
    await expect(new Promise((resolve, reject) => plain.once('open', resolve).once('error', reject))).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
    expect(relay.counters.listenAttempts).toBe(attemptsBefore);

    await expect(open(relay, relayUrl(relay, NAME, 'listen'), { token, ca: null })).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    expect(relay.counters.openListeners()).toBe(0);
  });

  it('answers 404 "Endpoint does not exist" for an unknown name or a path outside /$hc/', async () => {
    for (const url of [
      relayUrl(relay, 'rs-node-2', 'listen'),
      relayUrl(relay, 'rs-node-2', 'connect'),
      `${relay.url}/${NAME}?sb-hc-action=listen`,
      `${relay.url}/$hc/?sb-hc-action=listen`,
    ]) {
      const refused = await refusal(relay, url, { token });
      expect(refused.status).toBe(404);
      expect(refused.statusMessage).toMatch(/^Endpoint does not exist\. TrackingId:[0-9a-f-]{36}, Timestamp:/);
      expect(refused.body).toContain('Endpoint does not exist');
    }
    // The name as the client encodes it, and in any letter case, is the same hybrid connection.
    const listener = await open(relay, `${relay.url}/%24hc/RS-Node-1?sb-hc-action=listen`, { token });
    expect(relay.counters.openListeners(NAME)).toBe(1);
    listener.ws.close();
    await listener.closed;
  });

  it('answers 400 when sb-hc-action is missing or unknown, and to a request that is no WebSocket upgrade', async () => {
    for (const url of [`${relay.url}/$hc/${NAME}`, relayUrl(relay, NAME, 'listn'), relayUrl(relay, NAME, 'request')]) {
      const refused = await refusal(relay, url, { token });
      expect(refused.status).toBe(400);
      expect(refused.statusMessage).toMatch(/sb-hc-action is (missing|'listn'|'request'), it must be listen, connect or accept/);
    }
    const plainRequest = await new Promise<number | undefined>((resolve, reject) => {
      https
        .get(`https://${relay.host}/$hc/${NAME}?sb-hc-action=listen`, { ca: relay.caPem }, (response) => {
          response.resume();
          resolve(response.statusCode);
        })
        .once('error', reject);
    });
    expect(plainRequest).toBe(400);
  });
});
