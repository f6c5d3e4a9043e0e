/**
 * The ARM emulator with the test relay attached as its namespace's data plane: hybrid connections and
 * rules made with the real Relay SDK through ARM, then our listener and sender (channel/relay) on
 * the relay with tokens signed from the keys ARM listed; a regenerated key refuses the old token; a
 * hybrid connection deleted in ARM closes its live sockets with 1001.
 */
import type WebSocket from 'ws';
import { hybridConnectionResource } from '../../../channel/relay/endpoint';
import { RelayListener } from '../../../channel/relay/listener';
import { RelayConnectError } from '../../../channel/relay/relay-error';
import { signSas } from '../../../channel/relay/sas';
import { connectSender } from '../../../channel/relay/sender';
import { startArmEmulator, type ArmEmulator } from '../../../sim/arm';
import { startTestRelay, type TestRelay } from '../../../sim/relay';
import { relayClient, SUBSCRIPTION, waitFor } from './emulator-clients';

const NAMESPACE = 'contoso-support-relay';
const RG = 'rg-relay';

describe('ARM emulator: a test relay as the namespace data plane', () => {
  let emulator: ArmEmulator;
  let relay: TestRelay;
  const cleanup: Array<() => unknown> = [];

  beforeEach(async () => {
    relay = await startTestRelay({ rendezvousTimeoutMs: 2000 });
    emulator = await startArmEmulator({
      machines: [],
      relayNamespaces: [{ subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: NAMESPACE }],
    });
  });

  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
    await emulator.close();
    await relay.close();
  });

  /** What the CLI will do: the host from the listed connection string, a token signed with the listed key. */
  async function tokenFromListedKeys(hybridConnection: string, rule: string): Promise<{ namespace: string; token: string }> {
    const keys = await relayClient(emulator).hybridConnections.listKeys(RG, NAMESPACE, hybridConnection, rule);
    const namespace = /^Endpoint=sb:\/\/([^/]+)\//.exec(keys.primaryConnectionString!)![1]!;
    const token = signSas({
      resourceUri: hybridConnectionResource({ namespace, name: hybridConnection }),
      keyName: keys.keyName!,
      key: keys.primaryKey!,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    return { namespace, token };
  }

  function echoListener(endpoint: { namespace: string; name: string }, token: string): { listener: RelayListener; nodeSide: WebSocket[] } {
    const nodeSide: WebSocket[] = [];
    const listener = new RelayListener({
      endpoint,
      token: () => token,
      onRendezvous: async (rendezvous) => {
        const socket = await rendezvous.accept();
        nodeSide.push(socket);
        cleanup.push(() => socket.terminate());
        socket.on('message', (data) => socket.send(`node:${data.toString()}`));
      },
      transport: { ca: relay.caPem, proxy: { explicit: null } },
      slowRetryMs: 60_000,
    });
    cleanup.push(() => listener.stop());
    listener.start();
    return { listener, nodeSide };
  }

  async function send(endpoint: { namespace: string; name: string }, token: string): Promise<WebSocket> {
    const socket = await connectSender({ endpoint, token, transport: { ca: relay.caPem, proxy: { explicit: null } } });
    cleanup.push(() => socket.terminate());
    return socket;
  }

  it('carries a session on keys from ARM, refuses the old key after regenerateKeys, and closes with 1001 on delete', async () => {
    emulator.attachRelay(NAMESPACE, relay);
    const client = relayClient(emulator);
    expect((await client.namespaces.get(RG, NAMESPACE)).serviceBusEndpoint).toBe(`https://${relay.host}/`);

    await client.hybridConnections.createOrUpdate(RG, NAMESPACE, 'rs-node-1', { requiresClientAuthorization: true });
    await client.hybridConnections.createOrUpdateAuthorizationRule(RG, NAMESPACE, 'rs-node-1', 'agent-listen', { rights: ['Listen'] });
    await client.hybridConnections.createOrUpdateAuthorizationRule(RG, NAMESPACE, 'rs-node-1', 'engineer-send', { rights: ['Send'] });

    const listen = await tokenFromListedKeys('rs-node-1', 'agent-listen');
    expect(listen.namespace).toBe(relay.host);
    const endpoint = { namespace: listen.namespace, name: 'rs-node-1' };
    const { listener, nodeSide } = echoListener(endpoint, listen.token);
    await waitFor(async () => listener.state.status === 'connected');
    expect((await client.hybridConnections.get(RG, NAMESPACE, 'rs-node-1')).listenerCount).toBe(1);

    const oldSend = (await tokenFromListedKeys('rs-node-1', 'engineer-send')).token;
    const sender = await send(endpoint, oldSend);
    const reply = new Promise<string>((resolve) => sender.once('message', (data) => resolve(data.toString())));
    sender.send('Get-Service WinRM');
    expect(await reply).toBe('node:Get-Service WinRM');

    await client.hybridConnections.regenerateKeys(RG, NAMESPACE, 'rs-node-1', 'engineer-send', { keyType: 'PrimaryKey' });
    const refused = await send(endpoint, oldSend).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(RelayConnectError);
    expect(refused).toMatchObject({ kind: 'unauthorized', status: 401 });
    // The session opened before the regeneration goes on; a new one needs the new key.
    const stillOpen = new Promise<string>((resolve) => sender.once('message', (data) => resolve(data.toString())));
    sender.send('hostname');
    expect(await stillOpen).toBe('node:hostname');
    await send(endpoint, (await tokenFromListedKeys('rs-node-1', 'engineer-send')).token);
    await waitFor(async () => nodeSide.length === 2);

    const closes = [sender, nodeSide[0]!].map((socket) => new Promise<number>((resolve) => socket.once('close', (code) => resolve(code))));
    await client.hybridConnections.delete(RG, NAMESPACE, 'rs-node-1');
    expect(await Promise.all(closes)).toEqual([1001, 1001]);
    expect(relay.counters.openListeners('rs-node-1')).toBe(0);
    expect(await emulator.validateTraffic()).toEqual([]);
  });

  it('attaching a relay later brings the hybrid connections and keys ARM already has', async () => {
    const client = relayClient(emulator);
    await client.hybridConnections.createOrUpdate(RG, NAMESPACE, 'rs-node-2', { requiresClientAuthorization: true });
    await client.hybridConnections.createOrUpdateAuthorizationRule(RG, NAMESPACE, 'rs-node-2', 'agent-listen', { rights: ['Listen'] });
    // Before the relay, the keys name Azure's host and nobody can listen.
    expect((await tokenFromListedKeys('rs-node-2', 'agent-listen')).namespace).toBe(`${NAMESPACE}.servicebus.windows.net`);
    expect((await client.hybridConnections.get(RG, NAMESPACE, 'rs-node-2')).listenerCount).toBe(0);

    emulator.attachRelay(NAMESPACE, relay);
    expect(() => emulator.attachRelay(NAMESPACE, relay)).toThrow(/already has a test relay attached/);
    const listen = await tokenFromListedKeys('rs-node-2', 'agent-listen');
    const { listener } = echoListener({ namespace: listen.namespace, name: 'rs-node-2' }, listen.token);
    await waitFor(async () => listener.state.status === 'connected');
    expect(relay.counters.openListeners('rs-node-2')).toBe(1);
    expect(await emulator.validateTraffic()).toEqual([]);
  });
});
