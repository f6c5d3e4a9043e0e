/** The ARM emulator's machines and license profiles, read with the real HybridCompute SDK. */
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { startArmEmulator, type ArmEmulator } from '../../../sim/arm';
import { all, API_VERSION, machinePath, rawRequest, sdkClient, SUBSCRIPTION } from './emulator-clients';

describe('ARM emulator: machines', () => {
  let emulator: ArmEmulator;

  beforeAll(async () => {
    emulator = await startArmEmulator({
      pageSize: 2,
      machines: [
        { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'web-01', tags: { tier: 'web' } },
        { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'web-02', license: 'SoftwareAssurance', status: 'Disconnected' },
        { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'web-03', license: 'None', status: 'Expired' },
        { subscriptionId: SUBSCRIPTION, resourceGroup: 'RG-Other', name: 'db-01', osName: 'linux', location: 'eastus' },
        { subscriptionId: SUBSCRIPTION, resourceGroup: 'RG-Other', name: 'db-02' },
      ],
    });
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('returns a machine with its status, OS and Pay-as-you-go license profile', async () => {
    const machine = await sdkClient(emulator).machines.get('rg', 'web-01', { expand: 'instanceView' });
    expect(machine).toMatchObject({
      id: `${machinePath('web-01')}`,
      name: 'web-01',
      type: 'Microsoft.HybridCompute/machines',
      location: 'westeurope',
      tags: { tier: 'web' },
      properties: { status: 'Connected', osName: 'windows', osType: 'windows', provisioningState: 'Succeeded' },
    });
    // SDK 3.0.0 has no licenseProfile in its model; the raw answer has it, shaped per 2024-07-10.
    const raw = await rawRequest(emulator, 'GET', `${machinePath('web-01')}?api-version=${API_VERSION}&$expand=instanceView`);
    expect(raw.body.properties.licenseProfile).toMatchObject({
      productProfile: { productType: 'WindowsServer', subscriptionStatus: 'Enabled' },
    });
    expect(raw.body.properties.licenseProfile.softwareAssurance).toBeUndefined();
  });

  it('shapes Software Assurance and no license as Azure does, and reports Disconnected and Expired', async () => {
    const assured = await rawRequest(emulator, 'GET', `${machinePath('web-02')}?api-version=${API_VERSION}`);
    expect(assured.body.properties).toMatchObject({
      status: 'Disconnected',
      licenseProfile: { softwareAssurance: { softwareAssuranceCustomer: true } },
    });
    expect(assured.body.properties.licenseProfile.productProfile).toBeUndefined();
    const unlicensed = await rawRequest(emulator, 'GET', `${machinePath('web-03')}?api-version=${API_VERSION}`);
    expect(unlicensed.body.properties.status).toBe('Expired');
    expect(unlicensed.body.properties.licenseProfile.softwareAssurance).toBeUndefined();
    expect(unlicensed.body.properties.licenseProfile.productProfile).toBeUndefined();
    const linux = await sdkClient(emulator).machines.get('rg-other', 'db-01');
    expect(linux.properties).toMatchObject({ osName: 'linux', osType: 'linux' });
  });

  it('finds names case-insensitively and keeps the stored casing', async () => {
    const machine = await sdkClient(emulator).machines.get('RG', 'WEB-01');
    expect(machine.name).toBe('web-01');
    expect(emulator.machine(SUBSCRIPTION, 'Rg', 'Web-01')?.name).toBe('web-01');
  });

  it('answers 404 naming the missing machine or resource group', async () => {
    const missingMachine = await rawRequest(emulator, 'GET', `${machinePath('web-99')}?api-version=${API_VERSION}`);
    expect(missingMachine.status).toBe(404);
    expect(missingMachine.body.error).toEqual({
      code: 'ResourceNotFound',
      message: expect.stringContaining("'Microsoft.HybridCompute/machines/web-99' under resource group 'rg'"),
    });
    await expect(sdkClient(emulator).machines.get('rg-missing', 'web-01')).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceGroupNotFound',
    });
  });

  it('lists by resource group and by subscription in pages through nextLink', async () => {
    const client = sdkClient(emulator);
    expect((await all(client.machines.listByResourceGroup('rg'))).map((machine) => machine.name)).toEqual(['web-01', 'web-02', 'web-03']);
    expect((await all(client.machines.listBySubscription())).map((machine) => machine.name)).toEqual([
      'web-01',
      'web-02',
      'web-03',
      'db-01',
      'db-02',
    ]);
    const firstPage = await rawRequest(
      emulator,
      'GET',
      `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.HybridCompute/machines?api-version=${API_VERSION}`,
    );
    expect(firstPage.body.value).toHaveLength(2);
    expect(firstPage.body.nextLink).toMatch(
      new RegExp(
        `^${emulator.endpoint}/subscriptions/${SUBSCRIPTION}/providers/Microsoft.HybridCompute/machines\\?api-version=${API_VERSION}&%24skiptoken=2$`,
      ),
    );
  });

  it('returns the license profile resource through client.sendRequest, and 404 where there is none', async () => {
    const client = sdkClient(emulator);
    const get = (machine: string) =>
      client.sendRequest(
        createPipelineRequest({
          url: `${emulator.endpoint}${machinePath(machine)}/licenseProfiles/default?api-version=${API_VERSION}`,
          method: 'GET',
        }),
      );
    const assured = await get('web-02');
    expect(assured.status).toBe(200);
    expect(JSON.parse(assured.bodyAsText ?? '')).toMatchObject({
      name: 'default',
      type: 'Microsoft.HybridCompute/machines/licenseProfiles',
      properties: { softwareAssurance: { softwareAssuranceCustomer: true }, provisioningState: 'Succeeded' },
    });
    const payg = JSON.parse((await get('web-01')).bodyAsText ?? '');
    expect(payg.properties.productProfile).toMatchObject({ productType: 'WindowsServer', subscriptionStatus: 'Enabled' });
    expect((await get('web-03')).status).toBe(404);
  });

  it('served all of that as HybridCompute.json says', async () => {
    expect(await emulator.validateTraffic()).toEqual([]);
  });
});
