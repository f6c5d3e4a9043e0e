/**
 * What makes an ARM write wait or fail: another operation on the machine (409), the subscription's
 * write limit (429 with Retry-After, which the SDK honours), and a machine that is not connected
 * (the operation is queued and does not finish).
 */
import { startArmEmulator, type ArmEmulator } from '../../../sim/arm';
import { API_VERSION, machinePath, rawRequest, sdkClient, SUBSCRIPTION, waitFor } from './emulator-clients';

const EXTENSION = {
  location: 'westeurope',
  properties: { publisher: 'Contoso.RemoteSupport', type: 'RemoteSupport', typeHandlerVersion: '1.0', settings: {} },
};
const extensionPath = (machine: string, name = 'RemoteSupport') => `${machinePath(machine)}/extensions/${name}?api-version=${API_VERSION}`;

describe('ARM emulator: 409 while an operation runs on the machine', () => {
  let emulator: ArmEmulator;
  let release!: () => void;

  beforeAll(async () => {
    const released = new Promise<void>((resolve) => (release = resolve));
    emulator = await startArmEmulator({
      operationMs: 1,
      machines: [
        { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'node-1' },
        { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'node-2' },
      ],
      // The machine works on the first operation until the test lets it finish.
      runExtension: async () => {
        await released;
        return { provisioningState: 'Succeeded' };
      },
    });
  });

  afterAll(async () => {
    release();
    await emulator.close();
  });

  it('refuses any other extension write on that machine, and the SDK does not retry it', async () => {
    expect((await rawRequest(emulator, 'PUT', extensionPath('node-1'), { body: EXTENSION })).status).toBe(202);

    const second = await rawRequest(emulator, 'PUT', extensionPath('node-1', 'Another'), { body: EXTENSION });
    expect(second.status).toBe(409);
    expect(second.body.error).toEqual({
      code: 'Conflict',
      message: 'An operation (create) is in progress on extension RemoteSupport of machine node-1; retry after it finishes.',
    });
    const client = sdkClient(emulator);
    await expect(
      client.machineExtensions.beginDeleteAndWait('rg', 'node-1', 'RemoteSupport', {
        updateIntervalInMs: 10,
        abortSignal: AbortSignal.timeout(5000),
      }),
    ).rejects.toMatchObject({ statusCode: 409, code: 'Conflict' });
    expect(emulator.counters.conflicts).toBe(2);

    // Another machine is not held up.
    expect((await rawRequest(emulator, 'PUT', extensionPath('node-2'), { body: EXTENSION })).status).toBe(202);
    expect(emulator.counters.writes).toBe(4);
  });
});

describe('ARM emulator: the subscription write limit', () => {
  let emulator: ArmEmulator;

  beforeAll(async () => {
    emulator = await startArmEmulator({
      operationMs: 1,
      writeBucket: { burst: 1, refillPerSecond: 1 },
      machines: ['node-1', 'node-2'].map((name) => ({ subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name })),
    });
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('answers 429 with Retry-After in whole seconds, and the SDK waits that long and succeeds', async () => {
    const first = await rawRequest(emulator, 'PUT', extensionPath('node-1'), { body: EXTENSION });
    expect(first.status).toBe(202);
    expect(first.headers['x-ms-ratelimit-remaining-subscription-writes']).toBe('0');

    const throttled = await rawRequest(emulator, 'PUT', extensionPath('node-2'), { body: EXTENSION });
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('1');
    expect(throttled.headers['x-ms-ratelimit-remaining-subscription-writes']).toBe('0');
    expect(throttled.body.error.code).toBe('SubscriptionRequestsThrottled');
    // Reads are not writes.
    expect((await rawRequest(emulator, 'GET', `${machinePath('node-2')}?api-version=${API_VERSION}`)).status).toBe(200);

    const started = Date.now();
    const created = await sdkClient(emulator).machineExtensions.beginCreateOrUpdateAndWait('rg', 'node-2', 'RemoteSupport', EXTENSION, {
      updateIntervalInMs: 10,
      abortSignal: AbortSignal.timeout(10_000),
    });
    expect(created.properties?.provisioningState).toBe('Succeeded');
    expect(emulator.counters.throttled).toBeGreaterThanOrEqual(2);
    expect(emulator.counters.writes).toBe(2);
    // The SDK retried after the emulator's Retry-After, not at once.
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    const retried = emulator.traffic.filter((record) => record.method === 'PUT' && record.url.includes('/machines/node-2/'));
    expect(retried.map((record) => record.status)).toEqual([429, 429, 202]);
  });
});

describe('ARM emulator: a machine that is not connected', () => {
  let emulator: ArmEmulator;

  beforeAll(async () => {
    emulator = await startArmEmulator({
      operationMs: 1,
      machines: [
        { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'away', status: 'Disconnected' },
        { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'gone', status: 'Expired' },
      ],
    });
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('accepts the write but never finishes it, until the machine reconnects', async () => {
    const client = sdkClient(emulator);
    await expect(
      client.machineExtensions.beginCreateOrUpdateAndWait('rg', 'away', 'RemoteSupport', EXTENSION, {
        updateIntervalInMs: 20,
        abortSignal: AbortSignal.timeout(300),
      }),
    ).rejects.toThrow(/abort/i);
    expect(emulator.extension(SUBSCRIPTION, 'rg', 'away', 'RemoteSupport')?.properties.provisioningState).toBe('Creating');
    const put = emulator.traffic.find((record) => record.method === 'PUT')!;
    expect(put.status).toBe(202);
    const status = await rawRequest(emulator, 'GET', put.responseHeaders['azure-asyncoperation']!);
    expect(status.body.status).toBe('InProgress');

    emulator.setMachineStatus(SUBSCRIPTION, 'rg', 'away', 'Connected');
    await waitFor(
      async () => (await rawRequest(emulator, 'GET', put.responseHeaders['azure-asyncoperation']!)).body.status === 'Succeeded',
    );
    expect(emulator.extension(SUBSCRIPTION, 'rg', 'away', 'RemoteSupport')?.properties.provisioningState).toBe('Succeeded');
  });

  it('queues on an expired machine too', async () => {
    const put = await rawRequest(emulator, 'PUT', extensionPath('gone'), { body: EXTENSION });
    expect(put.status).toBe(202);
    const status = await rawRequest(emulator, 'GET', String(put.headers['azure-asyncoperation']));
    expect(status.body.status).toBe('InProgress');
    expect(emulator.extension(SUBSCRIPTION, 'rg', 'gone', 'RemoteSupport')?.properties.provisioningState).toBe('Creating');
  });
});
