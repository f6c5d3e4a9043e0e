/** validateTraffic: oav checks both sides of the recorded traffic against HybridCompute.json, and can fail. */
import { startArmEmulator, type ArmEmulator } from '../../../sim/arm';
import { API_VERSION, machinePath, rawRequest, sdkClient, SUBSCRIPTION } from './emulator-clients';

const EXTENSION = {
  location: 'westeurope',
  properties: {
    publisher: 'Contoso.RemoteSupport',
    type: 'RemoteSupport',
    typeHandlerVersion: '1.0',
    settings: { accessLevel: 'Diagnostics' },
  },
};

describe('ARM emulator: validating traffic with oav', () => {
  let emulator: ArmEmulator;

  beforeEach(async () => {
    emulator = await startArmEmulator({
      operationMs: 1,
      machines: [{ subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'node-1' }],
    });
  });

  afterEach(async () => {
    await emulator.close();
  });

  it('finds nothing wrong with the SDK talking to the emulator', async () => {
    const client = sdkClient(emulator);
    await client.machines.get('rg', 'node-1');
    await client.machineExtensions.beginCreateOrUpdateAndWait('rg', 'node-1', 'RemoteSupport', EXTENSION, {
      updateIntervalInMs: 10,
      abortSignal: AbortSignal.timeout(5000),
    });
    await client.machineExtensions.get('rg', 'node-1', 'RemoteSupport');
    expect(emulator.traffic.length).toBeGreaterThanOrEqual(4);
    expect(await emulator.validateTraffic()).toEqual([]);
  });

  it('reports a request whose settings are not an object and whose properties the API does not have', async () => {
    const malformed = { ...EXTENSION, properties: { ...EXTENSION.properties, settings: 42, accessWindow: 'PT8H' } };
    const answer = await rawRequest(emulator, 'PUT', `${machinePath('node-1')}/extensions/RemoteSupport?api-version=${API_VERSION}`, {
      body: malformed,
    });
    expect(answer.status).toBe(400);
    const problems = await emulator.validateTraffic();
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^PUT \/subscriptions\/.+\/extensions\/RemoteSupport\?api-version=2024-07-10 -> 400: request INVALID_TYPE at \$\.properties\.settings: /,
        ),
        expect.stringMatching(/request OBJECT_ADDITIONAL_PROPERTIES at \$\.properties\.accessWindow: /),
      ]),
    );
  });

  it('reports requests it cannot match to an operation of the document', async () => {
    await rawRequest(emulator, 'GET', `${machinePath('node-1')}?api-version=2021-05-20`);
    await rawRequest(emulator, 'GET', `${machinePath('node-1')}/hybridIdentityMetadata?api-version=${API_VERSION}`);
    const problems = await emulator.validateTraffic();
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/2021-05-20 -> 400: request OPERATION_NOT_FOUND_IN_CACHE_WITH_API/);
    expect(problems[1]).toMatch(/hybridIdentityMetadata.* -> 404: request OPERATION_NOT_FOUND/);
  });

  it('reports a response that breaks the schema', async () => {
    await rawRequest(emulator, 'GET', `${machinePath('node-1')}?api-version=${API_VERSION}`);
    const record = emulator.traffic[0]!;
    const body = record.responseBody as { properties: Record<string, unknown> };
    body.properties.osProfile = 'windows';
    expect(await emulator.validateTraffic()).toEqual([
      expect.stringMatching(/-> 200: response INVALID_TYPE at \$\.properties\.osProfile: Expected type object but found type string/),
    ]);
  });

  it('says so when the emulator was told not to record', async () => {
    const quiet = await startArmEmulator({
      validate: false,
      machines: [{ subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'node-1' }],
    });
    try {
      await rawRequest(quiet, 'GET', `${machinePath('node-1')}?api-version=${API_VERSION}`);
      expect(quiet.traffic).toEqual([]);
      expect(await quiet.validateTraffic()).toEqual([expect.stringContaining('validate: false')]);
    } finally {
      await quiet.close();
    }
  });
});
