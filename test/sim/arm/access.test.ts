/**
 * What the emulator checks before anything else, as ARM does: a bearer token it issued (through the
 * real Azure Arc managed identity flow for a child process), and an api-version the API document has.
 */
import execa from 'execa';
import path from 'path';
import { startArmEmulator, type ArmEmulator } from '../../../sim/arm';
import { API_VERSION, machinePath, rawRequest, sdkClient, SUBSCRIPTION } from './emulator-clients';

const REPO = path.resolve(__dirname, '..', '..', '..');

describe('ARM emulator: authentication and api-version', () => {
  let emulator: ArmEmulator;

  beforeAll(async () => {
    emulator = await startArmEmulator({ machines: [{ subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'node-1' }] });
  });

  afterAll(async () => {
    await emulator.close();
  });

  it('refuses the SDK default api-version 2021-05-20 with 400 naming the supported ones', async () => {
    await expect(sdkClient(emulator, SUBSCRIPTION, { sdkApiVersion: true }).machines.get('rg', 'node-1')).rejects.toMatchObject({
      statusCode: 400,
      code: 'InvalidApiVersionParameter',
      message: expect.stringContaining("The supported api-versions are '2024-07-10'"),
    });
    const missing = await rawRequest(emulator, 'GET', machinePath('node-1'));
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('MissingApiVersionParameter');
  });

  it('answers 401 AuthenticationFailed without a token or with one it did not issue', async () => {
    const before = emulator.counters.unauthorized;
    const anonymous = await rawRequest(emulator, 'GET', `${machinePath('node-1')}?api-version=${API_VERSION}`, { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('AuthenticationFailed');
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer authorization_uri=/);
    const forged = await rawRequest(emulator, 'GET', `${machinePath('node-1')}?api-version=${API_VERSION}`, {
      token: 'eyJ0eXAiOiJKV1QifQ.e30.c2ln',
    });
    expect(forged.status).toBe(401);
    // A token for another resource is not a token for Resource Manager.
    const graph = (await emulator.credential.getToken('https://graph.microsoft.com/.default'))!.token;
    const wrongAudience = await rawRequest(emulator, 'GET', `${machinePath('node-1')}?api-version=${API_VERSION}`, { token: graph });
    expect(wrongAudience.body.error.code).toBe('InvalidAuthenticationTokenAudience');
    expect(emulator.counters.unauthorized - before).toBe(3);
  });

  it('issues JWT-shaped tokens with the claims ARM reads', async () => {
    const token = (await emulator.credential.getToken('https://management.azure.com/.default'))!;
    const [header, payload, signature] = token.token.split('.');
    expect(signature).toBeTruthy();
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toMatchObject({ typ: 'JWT' });
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).toMatchObject({
      upn: 'owner@contoso.example',
      aud: 'https://management.azure.com',
      oid: expect.any(String),
      tid: expect.any(String),
      exp: expect.any(Number),
    });
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now());
  });

  it('gives a child process a token through the Azure Arc managed identity challenge', async () => {
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !name.startsWith('AZURE_') && !['IDENTITY_ENDPOINT', 'IMDS_ENDPOINT', 'MSI_ENDPOINT'].includes(name),
      ),
    );
    const { stdout } = await execa(
      path.join(REPO, 'node_modules', '.bin', 'tsx'),
      [path.join(__dirname, 'arc-identity-client.ts'), emulator.endpoint, SUBSCRIPTION, 'rg', 'node-1'],
      {
        env: { ...inherited, ...emulator.credentialEnvironment() },
        extendEnv: false,
        reject: false,
      },
    );
    expect(JSON.parse(stdout)).toEqual({ upn: 'owner@contoso.example', aud: 'https://management.azure.com', status: 'Connected' });
  });

  it('the identity endpoint challenges first, as the Arc agent does', async () => {
    const { IDENTITY_ENDPOINT } = emulator.credentialEnvironment();
    const challenge = await fetch(`${IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=https://management.azure.com`, {
      headers: { Metadata: 'true' },
    });
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('www-authenticate')).toMatch(/^Basic realm=\/var\/opt\/azcmagent\/tokens\/.+\.key$/);
    const noMetadata = await fetch(`${IDENTITY_ENDPOINT}?api-version=2020-06-01&resource=https://management.azure.com`);
    expect(noMetadata.status).toBe(400);
  });
});
