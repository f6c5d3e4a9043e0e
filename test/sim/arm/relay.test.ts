/**
 * Microsoft.Relay in the ARM emulator, through the real Relay SDK: namespaces read, hybrid connections
 * and their authorization rules written, keys listed and regenerated, ARM's errors, and every
 * exchange valid against the 2021-11-01 documents (oav), which can also fail.
 */
import { startArmEmulator, type ArmEmulator } from '../../../sim/arm';
import { all, rawRequest, RELAY_API_VERSION, relayClient, SUBSCRIPTION } from './emulator-clients';

const NAMESPACE = 'contoso-support-relay';
const namespacePath = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-relay/providers/Microsoft.Relay/namespaces/${NAMESPACE}`;

function relayPath(suffix: string): string {
  return `${namespacePath}${suffix}?api-version=${RELAY_API_VERSION}`;
}

describe('ARM emulator: Microsoft.Relay', () => {
  let emulator: ArmEmulator;

  beforeEach(async () => {
    emulator = await startArmEmulator({
      machines: [],
      relayNamespaces: [{ subscriptionId: SUBSCRIPTION, resourceGroup: 'rg-relay', name: NAMESPACE, tags: { owner: 'support' } }],
    });
  });

  afterEach(async () => {
    await emulator.close();
  });

  it('reads the seeded namespace, by name and in lists', async () => {
    const client = relayClient(emulator);
    const namespace = await client.namespaces.get('RG-Relay', NAMESPACE.toUpperCase());
    expect(namespace).toMatchObject({
      id: namespacePath,
      name: NAMESPACE,
      type: 'Microsoft.Relay/Namespaces',
      location: 'westeurope',
      tags: { owner: 'support' },
      sku: { name: 'Standard', tier: 'Standard' },
      provisioningState: 'Succeeded',
      serviceBusEndpoint: `https://${NAMESPACE}.servicebus.windows.net:443/`,
    });
    expect((await all(client.namespaces.listByResourceGroup('rg-relay'))).map((item) => item.name)).toEqual([NAMESPACE]);
    expect((await all(client.namespaces.list())).map((item) => item.name)).toEqual([NAMESPACE]);
    expect(await emulator.validateTraffic()).toEqual([]);
  });

  it('creates, reads, lists and deletes a hybrid connection', async () => {
    const client = relayClient(emulator);
    const created = await client.hybridConnections.createOrUpdate('rg-relay', NAMESPACE, 'rs-node-1', {
      requiresClientAuthorization: true,
      userMetadata: 'arc machine node-1',
    });
    expect(created).toMatchObject({
      id: `${namespacePath}/hybridConnections/rs-node-1`,
      name: 'rs-node-1',
      type: 'Microsoft.Relay/Namespaces/HybridConnections',
      requiresClientAuthorization: true,
      userMetadata: 'arc machine node-1',
      listenerCount: 0,
      systemData: { createdBy: 'owner@contoso.example', createdByType: 'User' },
    });
    const updated = await client.hybridConnections.createOrUpdate('rg-relay', NAMESPACE, 'RS-NODE-1', { userMetadata: 'renamed' });
    expect(updated).toMatchObject({ name: 'rs-node-1', userMetadata: 'renamed', requiresClientAuthorization: true });
    expect(updated.createdAt).toEqual(created.createdAt);
    expect(await client.hybridConnections.get('rg-relay', NAMESPACE, 'rs-node-1')).toMatchObject({ userMetadata: 'renamed' });
    await client.hybridConnections.createOrUpdate('rg-relay', NAMESPACE, 'rs-node-2', { requiresClientAuthorization: false });
    const listed = await all(client.hybridConnections.listByNamespace('rg-relay', NAMESPACE));
    expect(listed.map((item) => [item.name, item.requiresClientAuthorization])).toEqual([
      ['rs-node-1', true],
      ['rs-node-2', false],
    ]);

    const removed = await rawRequest(emulator, 'DELETE', relayPath('/hybridConnections/rs-node-1'));
    expect(removed.status).toBe(200);
    await expect(client.hybridConnections.get('rg-relay', NAMESPACE, 'rs-node-1')).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceNotFound',
    });
    const again = await rawRequest(emulator, 'DELETE', relayPath('/hybridConnections/rs-node-1'));
    expect(again.status).toBe(204);
    expect(await emulator.validateTraffic()).toEqual([]);
  });

  it('creates rules with new random 256-bit keys, lists keys and regenerates one key at a time', async () => {
    const client = relayClient(emulator);
    await client.hybridConnections.createOrUpdate('rg-relay', NAMESPACE, 'rs-node-1', { requiresClientAuthorization: true });
    const rule = await client.hybridConnections.createOrUpdateAuthorizationRule('rg-relay', NAMESPACE, 'rs-node-1', 'agent-listen', {
      rights: ['Listen'],
    });
    expect(rule).toMatchObject({
      id: `${namespacePath}/hybridConnections/rs-node-1/authorizationRules/agent-listen`,
      name: 'agent-listen',
      type: 'Microsoft.Relay/Namespaces/HybridConnections/AuthorizationRules',
      rights: ['Listen'],
    });
    await client.hybridConnections.createOrUpdateAuthorizationRule('rg-relay', NAMESPACE, 'rs-node-1', 'engineer-send', {
      rights: ['Send'],
    });
    const rules = await all(client.hybridConnections.listAuthorizationRules('rg-relay', NAMESPACE, 'rs-node-1'));
    expect(rules.map((item) => [item.name, item.rights])).toEqual([
      ['agent-listen', ['Listen']],
      ['engineer-send', ['Send']],
    ]);

    const keys = await client.hybridConnections.listKeys('rg-relay', NAMESPACE, 'rs-node-1', 'agent-listen');
    for (const key of [keys.primaryKey!, keys.secondaryKey!]) expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(keys.primaryKey).not.toEqual(keys.secondaryKey);
    expect(keys).toMatchObject({
      keyName: 'agent-listen',
      primaryConnectionString: `Endpoint=sb://${NAMESPACE}.servicebus.windows.net/;SharedAccessKeyName=agent-listen;SharedAccessKey=${keys.primaryKey};EntityPath=rs-node-1`,
      secondaryConnectionString: expect.stringContaining(`SharedAccessKey=${keys.secondaryKey};`),
    });
    const sendKeys = await client.hybridConnections.listKeys('rg-relay', NAMESPACE, 'rs-node-1', 'engineer-send');
    expect(sendKeys.primaryKey).not.toEqual(keys.primaryKey);

    const regenerated = await client.hybridConnections.regenerateKeys('rg-relay', NAMESPACE, 'rs-node-1', 'agent-listen', {
      keyType: 'PrimaryKey',
    });
    expect(regenerated.primaryKey).not.toEqual(keys.primaryKey);
    expect(regenerated.secondaryKey).toEqual(keys.secondaryKey);
    expect(await client.hybridConnections.listKeys('rg-relay', NAMESPACE, 'rs-node-1', 'agent-listen')).toEqual(regenerated);

    // Changing a rule's rights keeps its keys.
    await client.hybridConnections.createOrUpdateAuthorizationRule('rg-relay', NAMESPACE, 'rs-node-1', 'agent-listen', {
      rights: ['Listen', 'Send'],
    });
    const after = await client.hybridConnections.getAuthorizationRule('rg-relay', NAMESPACE, 'rs-node-1', 'agent-listen');
    expect(after.rights).toEqual(['Listen', 'Send']);
    expect((await client.hybridConnections.listKeys('rg-relay', NAMESPACE, 'rs-node-1', 'agent-listen')).primaryKey).toEqual(
      regenerated.primaryKey,
    );
    expect(await emulator.validateTraffic()).toEqual([]);
  });

  it("answers ARM's 404s: a missing namespace, a missing parent, a missing rule", async () => {
    const client = relayClient(emulator);
    await expect(client.namespaces.get('rg-relay', 'contoso-missing')).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceNotFound',
      message: expect.stringContaining("'Microsoft.Relay/namespaces/contoso-missing' under resource group 'rg-relay'"),
    });
    await expect(client.hybridConnections.createOrUpdate('rg-relay', 'contoso-missing', 'rs-node-1', {})).rejects.toMatchObject({
      statusCode: 404,
      code: 'ParentResourceNotFound',
      message: expect.stringContaining("Parent resource 'contoso-missing' not found"),
    });
    await expect(
      client.hybridConnections.createOrUpdateAuthorizationRule('rg-relay', NAMESPACE, 'rs-missing', 'agent-listen', { rights: ['Listen'] }),
    ).rejects.toMatchObject({ statusCode: 404, code: 'ParentResourceNotFound' });
    await client.hybridConnections.createOrUpdate('rg-relay', NAMESPACE, 'rs-node-1', {});
    await expect(client.hybridConnections.listKeys('rg-relay', NAMESPACE, 'rs-node-1', 'nobody')).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceNotFound',
      message: expect.stringContaining('hybridConnections/rs-node-1/authorizationRules/nobody'),
    });
    await expect(client.namespaces.get('rg-other', NAMESPACE)).rejects.toMatchObject({ statusCode: 404, code: 'ResourceGroupNotFound' });
    expect(await emulator.validateTraffic()).toEqual([]);
  });

  it('refuses bad bodies with 400 naming the field, and the SDK default api-version', async () => {
    const client = relayClient(emulator);
    await client.hybridConnections.createOrUpdate('rg-relay', NAMESPACE, 'rs-node-1', { requiresClientAuthorization: true });
    await expect(
      client.hybridConnections.createOrUpdate('rg-relay', NAMESPACE, 'rs-node-1', { requiresClientAuthorization: false }),
    ).rejects.toMatchObject({
      statusCode: 400,
      code: 'PropertyChangeNotAllowed',
      message: expect.stringContaining("'properties.requiresClientAuthorization'"),
    });
    await expect(
      client.hybridConnections.createOrUpdateAuthorizationRule('rg-relay', NAMESPACE, 'rs-node-1', 'admin', { rights: ['Manage'] }),
    ).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('Manage right needs Listen and Send') });
    await expect(
      client.hybridConnections.createOrUpdateAuthorizationRule('rg-relay', NAMESPACE, 'rs-node-1', 'nothing', { rights: [] }),
    ).rejects.toMatchObject({ statusCode: 400, code: 'InvalidRequestContent', message: expect.stringContaining("'properties.rights'") });
    await client.hybridConnections.createOrUpdateAuthorizationRule('rg-relay', NAMESPACE, 'rs-node-1', 'agent-listen', {
      rights: ['Listen'],
    });
    const badKeyType = await rawRequest(
      emulator,
      'POST',
      relayPath('/hybridConnections/rs-node-1/authorizationRules/agent-listen/regenerateKeys'),
      {
        body: { keyType: 'TertiaryKey' },
      },
    );
    expect(badKeyType.status).toBe(400);
    expect(badKeyType.body.error.message).toContain("'keyType' is \"TertiaryKey\": give 'PrimaryKey' or 'SecondaryKey'");

    // Relay SDK 3.1.1 sends 2017-04-01 unless told otherwise.
    const sdkDefault = relayClient(emulator, SUBSCRIPTION, { sdkApiVersion: true });
    await expect(sdkDefault.hybridConnections.get('rg-relay', NAMESPACE, 'rs-node-1')).rejects.toMatchObject({
      statusCode: 400,
      code: 'InvalidApiVersionParameter',
      message: expect.stringContaining("for namespace 'Microsoft.Relay'. The supported api-versions are '2021-11-01'"),
    });
  });

  it('oav reports a malformed request and a response that breaks the document', async () => {
    const malformed = await rawRequest(emulator, 'PUT', relayPath('/hybridConnections/rs-node-1'), {
      body: { properties: { requiresClientAuthorization: 'yes' } },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toContain('\'properties.requiresClientAuthorization\' is "yes": give true or false');
    await rawRequest(emulator, 'PUT', relayPath('/hybridConnections/rs-node-1'), { body: { properties: {} } });
    await rawRequest(emulator, 'PUT', relayPath('/hybridConnections/rs-node-1/authorizationRules/agent-listen'), {
      body: { properties: { rights: ['Listen'] } },
    });
    await rawRequest(emulator, 'POST', relayPath('/hybridConnections/rs-node-1/authorizationRules/agent-listen/listKeys'));
    const listKeys = emulator.traffic.at(-1)!;
    (listKeys.responseBody as Record<string, unknown>).primaryKey = 42;

    const problems = await emulator.validateTraffic();
    expect(problems).toEqual([
      expect.stringMatching(
        /^PUT \/subscriptions\/.+\/hybridConnections\/rs-node-1\?api-version=2021-11-01 -> 400: request INVALID_TYPE at \$\.properties\.requiresClientAuthorization: /,
      ),
      expect.stringMatching(
        /listKeys\?api-version=2021-11-01 -> 200: response INVALID_TYPE at \$\.primaryKey: Expected type string but found type integer/,
      ),
    ]);
  });
});
