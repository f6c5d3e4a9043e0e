/**
 * Fidelity: Microsoft's own Hybrid Connections client (hyco-ws 1.0.5, unchanged) listens and sends
 * through the test relay over TLS, with tokens it signed itself, so the relay speaks the protocol
 * and not only our reading of it.
 */
import execa from 'execa';
import path from 'path';
import { startTestRelay, type TestRelay } from '../../../sim/relay';

const NAME = 'hyco-fidelity';
const PEERS = path.join(__dirname, 'hyco-ws-peers.js');
const LISTEN_KEY = 'hyco-listen-key-0123456789';
const SEND_KEY = 'hyco-send-key-9876543210';

describe('test relay: fidelity with hyco-ws 1.0.5', () => {
  let relay: TestRelay;

  beforeAll(async () => {
    relay = await startTestRelay();
    relay.createHybridConnection(NAME);
    relay.putRule({ hybridConnection: NAME }, { name: 'listen', rights: ['Listen'], primaryKey: LISTEN_KEY });
    relay.putRule({ hybridConnection: NAME }, { name: 'send', rights: ['Send'], primaryKey: SEND_KEY });
  });

  afterAll(() => relay.close());

  function runPeers(extraEnv: Record<string, string | undefined>) {
    return execa(process.execPath, [PEERS], {
      env: {
        RELAY_HOST: relay.host,
        RELAY_HC: NAME,
        LISTEN_RULE: 'listen',
        LISTEN_KEY,
        SEND_RULE: 'send',
        SEND_KEY,
        NODE_EXTRA_CA_CERTS: undefined,
        ...extraEnv,
      },
      timeout: 20_000,
      reject: false,
    });
  }

  it("carries the hyco-ws listener's and sender's messages both ways, with hyco-ws's own tokens", async () => {
    const run = await runPeers({ NODE_EXTRA_CA_CERTS: relay.caFile });
    const result = JSON.parse(run.stdout);
    expect(result.error).toBeUndefined();
    expect(run.exitCode).toBe(0);
    // The resource hyco-ws signs names port 443, not the relay's: the audience match ignores the port.
    expect(result.tokenResource).toBe(`http://127.0.0.1:443/${NAME}`);
    expect(result.listenerReceived).toEqual([{ text: 'hello from the hyco-ws sender' }, { binary: '000102feff' }]);
    expect(result.senderReceived).toEqual([
      { text: 'hello from the hyco-ws listener' },
      { text: 'hello from the hyco-ws sender' },
      { binary: '000102feff' },
    ]);
    expect(relay.counters.pairsMade).toBe(1);
    expect(relay.counters.listenAttempts).toBe(1);
  });

  it('is refused by hyco-ws when its CA is not trusted: the TLS is real', async () => {
    const attempts = relay.counters.listenAttempts;
    const run = await runPeers({});
    expect(run.exitCode).toBe(1);
    expect(JSON.parse(run.stdout).error).toMatch(/^listener: .*certificate/);
    expect(relay.counters.listenAttempts).toBe(attempts);
  });
});
