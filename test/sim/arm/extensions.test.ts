/** The ARM emulator's machine extensions, driven by the real HybridCompute SDK's long-running operations. */
import { startArmEmulator, type ArmEmulator, type ExtensionRun, type ExtensionRunResult } from '../../../sim/arm';
import { all, API_VERSION, extensionPropertiesPolicy, machinePath, rawRequest, sdkClient, SUBSCRIPTION, waitFor } from './emulator-clients';

const PUBLISHER = 'Contoso.RemoteSupport';
const TYPE = 'RemoteSupport';
const POLL = { updateIntervalInMs: 10 };

describe('ARM emulator: machine extensions', () => {
  let emulator: ArmEmulator;
  const runs: ExtensionRun[] = [];
  let answer: (run: ExtensionRun) => ExtensionRunResult | undefined = () => undefined;

  beforeAll(async () => {
    emulator = await startArmEmulator({
      operationMs: 20,
      machines: [
        { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'node-1' },
        { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'node-2' },
      ],
      async runExtension(run) {
        runs.push(run);
        return (
          answer(run) ?? {
            provisioningState: 'Succeeded',
            instanceView: {
              name: run.extensionName,
              type: run.properties.type,
              typeHandlerVersion: run.properties.typeHandlerVersion,
              status: { code: 'ProvisioningState/succeeded', level: 'Info', message: `${run.kind} done` },
            },
          }
        );
      },
    });
  });

  afterAll(async () => {
    await emulator.close();
  });

  const extensionBody = (settings: Record<string, unknown>, secret: string) => ({
    location: 'westeurope',
    properties: { publisher: PUBLISHER, type: TYPE, typeHandlerVersion: '1.0', settings, protectedSettings: { secret } },
  });

  it('creates an extension through the operation, handing protected settings to the machine and never back', async () => {
    const client = sdkClient(emulator, SUBSCRIPTION, { policies: [extensionPropertiesPolicy({ enableAutomaticUpgrade: true })] });
    const created = await client.machineExtensions.beginCreateOrUpdateAndWait(
      'rg',
      'node-1',
      'RemoteSupport',
      extensionBody({ accessLevel: 'Diagnostics' }, 's3cret'),
      {
        ...POLL,
        abortSignal: AbortSignal.timeout(10_000),
      },
    );
    expect(created.properties).toMatchObject({
      provisioningState: 'Succeeded',
      settings: { accessLevel: 'Diagnostics' },
      instanceView: { name: 'RemoteSupport', status: { code: 'ProvisioningState/succeeded', level: 'Info', message: 'create done' } },
    });
    expect(created.properties?.protectedSettings).toBeUndefined();

    const run = runs.at(-1)!;
    expect(run).toMatchObject({
      kind: 'create',
      extensionName: 'RemoteSupport',
      previousProperties: null,
      machine: { name: 'node-1', status: 'Connected' },
    });
    expect(run.properties).toMatchObject({
      publisher: PUBLISHER,
      type: TYPE,
      protectedSettings: { secret: 's3cret' },
      enableAutomaticUpgrade: true,
    });

    // SDK 3.0.0 drops enableAutomaticUpgrade from its model on the way out; the raw resource keeps it.
    const raw = await rawRequest(emulator, 'GET', `${machinePath('node-1')}/extensions/remotesupport?api-version=${API_VERSION}`);
    expect(raw.body.properties).toMatchObject({ enableAutomaticUpgrade: true, provisioningState: 'Succeeded' });
    expect(raw.body.properties.protectedSettings).toBeUndefined();
    expect(emulator.extension(SUBSCRIPTION, 'rg', 'node-1', 'RemoteSupport')?.properties.protectedSettings).toBeUndefined();
  });

  it('shows Creating while the operation runs, and the operation status the ARM way', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    answer = () => undefined;
    const held = startArmEmulator({
      operationMs: 1,
      machines: [{ subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'm' }],
      async runExtension(run) {
        await released;
        return { provisioningState: 'Succeeded', instanceView: { status: { code: 'ok', level: 'Info', message: run.kind } } };
      },
    });
    const local = await held;
    try {
      const put = await rawRequest(local, 'PUT', `${machinePath('m')}/extensions/ext?api-version=${API_VERSION}`, {
        body: extensionBody({}, 'x'),
      });
      expect(put.status).toBe(202);
      expect(put.body).toBeUndefined();
      const statusUrl = String(put.headers['azure-asyncoperation']);
      const resultUrl = String(put.headers.location);
      expect(statusUrl).toMatch(
        new RegExp(
          `^${local.endpoint}/subscriptions/${SUBSCRIPTION}/providers/Microsoft.HybridCompute/locations/westeurope/operationStatus/[0-9a-f-]+\\?api-version=${API_VERSION}$`,
        ),
      );
      expect(local.extension(SUBSCRIPTION, 'rg', 'm', 'ext')?.properties.provisioningState).toBe('Creating');
      expect((await rawRequest(local, 'GET', statusUrl)).body).toMatchObject({ status: 'InProgress', startTime: expect.any(String) });
      expect((await rawRequest(local, 'GET', resultUrl)).status).toBe(202);

      release();
      await waitFor(async () => (await rawRequest(local, 'GET', statusUrl)).body.status === 'Succeeded');
      expect((await rawRequest(local, 'GET', statusUrl)).body).toMatchObject({ status: 'Succeeded', endTime: expect.any(String) });
      const result = await rawRequest(local, 'GET', resultUrl);
      expect(result.status).toBe(200);
      expect(result.body.properties).toMatchObject({ provisioningState: 'Succeeded', instanceView: { status: { message: 'create' } } });
    } finally {
      release();
      await local.close();
    }
  });

  it('updates with PATCH and replaces with PUT, passing the previous configuration', async () => {
    const client = sdkClient(emulator);
    const patched = await client.machineExtensions.beginUpdateAndWait(
      'rg',
      'node-1',
      'RemoteSupport',
      {
        properties: { settings: { accessLevel: 'DiagnosticsAndRepair' }, protectedSettings: { secret: 'again' } },
      },
      { ...POLL, abortSignal: AbortSignal.timeout(10_000) },
    );
    expect(patched.properties).toMatchObject({
      provisioningState: 'Succeeded',
      publisher: PUBLISHER,
      settings: { accessLevel: 'DiagnosticsAndRepair' },
    });
    expect(runs.at(-1)).toMatchObject({
      kind: 'update',
      properties: {
        settings: { accessLevel: 'DiagnosticsAndRepair' },
        protectedSettings: { secret: 'again' },
        enableAutomaticUpgrade: true,
      },
      previousProperties: { settings: { accessLevel: 'Diagnostics' }, protectedSettings: { secret: 's3cret' } },
    });

    await client.machineExtensions.beginCreateOrUpdateAndWait(
      'rg',
      'node-1',
      'RemoteSupport',
      extensionBody({ accessLevel: 'Diagnostics' }, 'third'),
      { ...POLL, abortSignal: AbortSignal.timeout(10_000) },
    );
    expect(runs.at(-1)).toMatchObject({
      kind: 'update',
      properties: { protectedSettings: { secret: 'third' }, enableAutomaticUpgrade: false },
    });
  });

  it('lists the extensions of a machine', async () => {
    const client = sdkClient(emulator);
    await client.machineExtensions.beginCreateOrUpdateAndWait(
      'rg',
      'node-1',
      'Other',
      {
        location: 'westeurope',
        properties: { publisher: 'Microsoft.Azure.Monitor', type: 'AzureMonitorWindowsAgent', typeHandlerVersion: '1.2' },
      },
      { ...POLL, abortSignal: AbortSignal.timeout(10_000) },
    );
    const listed = await all(client.machineExtensions.list('rg', 'node-1'));
    expect(listed.map((extension) => [extension.name, extension.properties?.provisioningState])).toEqual([
      ['RemoteSupport', 'Succeeded'],
      ['Other', 'Succeeded'],
    ]);
    expect(listed.every((extension) => extension.properties?.protectedSettings === undefined)).toBe(true);
    expect(await all(client.machineExtensions.list('rg', 'node-2'))).toEqual([]);
  });

  it('upgrades extensions by publisher and type to a target version', async () => {
    const client = sdkClient(emulator);
    await client.beginUpgradeExtensionsAndWait(
      'rg',
      'node-1',
      { extensionTargets: { [`${PUBLISHER}.${TYPE}`]: { targetVersion: '1.1' } } },
      { ...POLL, abortSignal: AbortSignal.timeout(10_000) },
    );
    expect(runs.at(-1)).toMatchObject({
      kind: 'upgrade',
      extensionName: 'RemoteSupport',
      properties: { typeHandlerVersion: '1.1', protectedSettings: { secret: 'third' } },
      previousProperties: { typeHandlerVersion: '1.0' },
    });
    expect(emulator.extension(SUBSCRIPTION, 'rg', 'node-1', 'RemoteSupport')?.properties).toMatchObject({
      typeHandlerVersion: '1.1',
      provisioningState: 'Succeeded',
    });
    const unknown = await rawRequest(emulator, 'POST', `${machinePath('node-1')}/upgradeExtensions?api-version=${API_VERSION}`, {
      body: { extensionTargets: { 'No.Such': { targetVersion: '2.0' } } },
    });
    expect(unknown.status).toBe(400);
  });

  it('fails the operation with the instance view message when the machine reports failure', async () => {
    answer = (run) =>
      run.extensionName === 'Broken'
        ? {
            provisioningState: 'Failed',
            instanceView: {
              status: { code: 'ProvisioningState/failed', level: 'Error', message: 'Prerequisite failed: 2 GB of memory, needs 4 GB' },
            },
          }
        : undefined;
    const client = sdkClient(emulator);
    await expect(
      client.machineExtensions.beginCreateOrUpdateAndWait('rg', 'node-2', 'Broken', extensionBody({}, 'x'), {
        ...POLL,
        abortSignal: AbortSignal.timeout(10_000),
      }),
    ).rejects.toThrow(/Prerequisite failed: 2 GB of memory, needs 4 GB/);
    expect(emulator.extension(SUBSCRIPTION, 'rg', 'node-2', 'Broken')?.properties).toMatchObject({
      provisioningState: 'Failed',
      instanceView: { status: { level: 'Error' } },
    });
    answer = () => undefined;
  });

  it('deletes an extension, and a missing one is already gone', async () => {
    const client = sdkClient(emulator);
    await client.machineExtensions.beginDeleteAndWait('rg', 'node-1', 'Other', { ...POLL, abortSignal: AbortSignal.timeout(10_000) });
    expect(runs.at(-1)).toMatchObject({ kind: 'delete', extensionName: 'Other' });
    expect(emulator.extension(SUBSCRIPTION, 'rg', 'node-1', 'Other')).toBeUndefined();
    await expect(client.machineExtensions.get('rg', 'node-1', 'Other')).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceNotFound',
    });
    expect((await rawRequest(emulator, 'DELETE', `${machinePath('node-1')}/extensions/Other?api-version=${API_VERSION}`)).status).toBe(204);
  });

  it('served all of that as HybridCompute.json says', async () => {
    expect(await emulator.validateTraffic()).toEqual([]);
  });
});
