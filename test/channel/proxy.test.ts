/**
 * Relay connections through an HTTP proxy (CONNECT tunnels on loopback): chosen from an option, the
 * Arc agent's proxy.url or HTTPS_PROXY, skipped for NO_PROXY hosts; TLS runs end to end inside the
 * tunnel; proxy refusals are typed and never quote credentials.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { hybridConnectionResource } from '../../channel/relay/endpoint';
import { RelayListener } from '../../channel/relay/listener';
import type { RelayTransport } from '../../channel/relay/open-socket';
import { RelayConnectError } from '../../channel/relay/relay-error';
import { signSas } from '../../channel/relay/sas';
import { connectSender } from '../../channel/relay/sender';
import { startConnectProxy, type ConnectProxy } from './connect-proxy';
import { startMiniRelay, type MiniRelay } from './mini-relay';

let relay: MiniRelay;
let proxy: ConnectProxy;
let dir: string;
const cleanup: Array<() => unknown> = [];

beforeAll(async () => {
  relay = await startMiniRelay();
  relay.createHybridConnection('hc-1');
  relay.putRule({ hybridConnection: 'hc-1' }, { name: 'agent-listen', rights: ['Listen'], primaryKey: 'listen-key-1' });
  relay.putRule({ hybridConnection: 'hc-1' }, { name: 'engineer-send', rights: ['Send'], primaryKey: 'send-key-1' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'relay-proxy-'));
});

beforeEach(async () => {
  proxy = await startConnectProxy();
});

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  await proxy.close();
});

afterAll(async () => {
  await relay.close();
  rmSync(dir, { recursive: true, force: true });
});

const endpoint = () => ({ namespace: relay.host, name: 'hc-1' });
const sas = (keyName: string, key: string) =>
  signSas({ resourceUri: hybridConnectionResource(endpoint()), keyName, key, expiresAt: new Date(Date.now() + 3_600_000) });

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

async function echoListener(transport: RelayTransport): Promise<RelayListener> {
  const listener = new RelayListener({
    endpoint: endpoint(),
    token: () => sas('agent-listen', 'listen-key-1'),
    transport,
    onRendezvous: async (rendezvous) => {
      const socket = await rendezvous.accept();
      cleanup.push(() => socket.terminate());
      socket.on('message', (data) => socket.send(`echo:${data.toString()}`));
    },
  });
  cleanup.push(() => listener.stop());
  listener.start();
  await until(() => listener.state.status === 'connected');
  return listener;
}

async function roundTrip(transport: RelayTransport): Promise<string> {
  const sender = await connectSender({ endpoint: endpoint(), token: sas('engineer-send', 'send-key-1'), transport });
  cleanup.push(() => sender.terminate());
  const reply = new Promise<string>((resolve) => sender.once('message', (data) => resolve(data.toString())));
  sender.send('ping through the proxy');
  return reply;
}

async function failure(promise: Promise<unknown>): Promise<RelayConnectError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(RelayConnectError);
  return error as RelayConnectError;
}

describe('through an HTTP CONNECT proxy', () => {
  it('carries the control channel, the rendezvous and the sender, each in its own tunnel, with TLS end to end', async () => {
    const transport: RelayTransport = { ca: relay.caPem, proxy: { explicit: proxy.url } };
    await echoListener(transport);
    expect(await roundTrip(transport)).toBe('echo:ping through the proxy');
    expect(proxy.tunnels).toEqual([relay.host, relay.host, relay.host]);
    const carried = proxy.carried().toString('latin1');
    expect(carried.length).toBeGreaterThan(0);
    expect(carried).not.toContain('SharedAccessSignature');
    expect(carried).not.toContain('ServiceBusAuthorization');
    expect(carried).not.toContain('ping through the proxy');
  });

  it('uses HTTPS_PROXY from the environment', async () => {
    const transport: RelayTransport = { ca: relay.caPem, proxy: { env: { HTTPS_PROXY: proxy.url }, arcAgentConfigFile: null } };
    await echoListener(transport);
    expect(proxy.tunnels).toEqual([relay.host]);
  });

  it("uses the Arc agent's proxy.url", async () => {
    const file = path.join(dir, 'localconfig.json');
    writeFileSync(file, JSON.stringify({ 'proxy.url': proxy.url, 'proxy.bypass': [] }));
    const transport: RelayTransport = { ca: relay.caPem, proxy: { env: {}, arcAgentConfigFile: file } };
    expect(await roundTrip({ ...transport }).catch((error: RelayConnectError) => error.kind)).toBe('no-listener');
    expect(proxy.tunnels).toEqual([relay.host]);
  });

  it('goes direct for hosts in NO_PROXY', async () => {
    const transport: RelayTransport = {
      ca: relay.caPem,
      proxy: { env: { HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' }, arcAgentConfigFile: null },
    };
    await echoListener(transport);
    expect(await roundTrip(transport)).toBe('echo:ping through the proxy');
    expect(proxy.tunnels).toEqual([]);
  });
});

describe('proxy failures', () => {
  it('a proxy demanding credentials: 407 is a typed proxy error; the right credentials pass and never appear in errors', async () => {
    const guarded = await startConnectProxy({ credentials: { user: 'svc-arc', password: 'pr0xy-S3cret' } });
    cleanup.push(() => guarded.close());
    const port = new URL(guarded.url).port;
    const anonymous = await failure(roundTrip({ ca: relay.caPem, proxy: { explicit: guarded.url } }));
    expect(anonymous).toMatchObject({ kind: 'proxy', status: 407 });
    expect(anonymous.message).toMatch(/refused the tunnel .* 407 .*credentials/);

    const wrong = await failure(roundTrip({ ca: relay.caPem, proxy: { explicit: `http://svc-arc:wrong-Passw0rd@127.0.0.1:${port}` } }));
    expect(wrong.kind).toBe('proxy');
    expect(wrong.message).not.toContain('wrong-Passw0rd');

    const listener = await echoListener({ ca: relay.caPem, proxy: { explicit: `http://svc-arc:pr0xy-S3cret@127.0.0.1:${port}` } });
    expect(JSON.stringify(listener.state)).not.toContain('pr0xy-S3cret');
    expect(guarded.tunnels).toEqual([relay.host]);
    expect(guarded.refusals).toBe(2);
  });

  it('a proxy that is down is a typed proxy error, and the listener reports it', async () => {
    const down = proxy.url;
    await proxy.close();
    proxy = await startConnectProxy();
    const error = await failure(roundTrip({ ca: relay.caPem, proxy: { explicit: down } }));
    expect(error).toMatchObject({ kind: 'proxy', code: 'ECONNREFUSED' });
    expect(error.message).toContain(`Cannot reach the proxy ${down}`);

    const listener = new RelayListener({
      endpoint: endpoint(),
      token: () => sas('agent-listen', 'listen-key-1'),
      transport: { ca: relay.caPem, proxy: { explicit: down } },
      onRendezvous: () => undefined,
    });
    cleanup.push(() => listener.stop());
    listener.start();
    await until(() => listener.state.status === 'disconnected' && listener.state.lastError !== null);
    expect(listener.state.lastError).toMatchObject({ kind: 'proxy' });
  });

  it('an unreadable Arc agent config stops the connection instead of bypassing the proxy', async () => {
    const file = path.join(dir, 'broken-localconfig.json');
    writeFileSync(file, '{"proxy.url": "http://');
    const error = await failure(roundTrip({ ca: relay.caPem, proxy: { env: {}, arcAgentConfigFile: file } }));
    expect(error.kind).toBe('proxy');
    expect(error.message).toContain(file);
    expect(proxy.tunnels).toEqual([]);
  });
});
