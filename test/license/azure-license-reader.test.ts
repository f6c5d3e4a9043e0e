/**
 * The handler reading its own license with the real @azure/identity managed identity flow for
 * Azure Arc (challenge, key file, token) and the real HybridCompute SDK pipeline, against a local
 * identity endpoint and an HTTPS Resource Manager that answers with the published API example.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import http from 'http';
import https from 'https';
import type { AddressInfo } from 'net';
import path from 'path';
import { makeTempDir } from '../support/cms';

const REPO = path.resolve(__dirname, '..', '..');
const EXAMPLE = path.join(
  REPO,
  '..',
  'shared',
  'specs',
  'azure-rest-api-specs',
  'specification',
  'hybridcompute',
  'resource-manager',
  'Microsoft.HybridCompute',
  'stable',
  '2024-07-10',
  'examples',
  'machine',
  'Machines_Get_LicenseProfileInstanceView.json',
);
// @azure/identity only accepts the Arc challenge key file from the folder the Arc agent uses on Linux.
const TOKENS_FOLDER = '/var/opt/azcmagent/tokens';
const RESOURCE_ID =
  '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myResourceGroup/providers/Microsoft.HybridCompute/machines/myMachine';
const TOKEN = 'arc-managed-identity-token';

describe('reading the license from Azure with the machine managed identity', () => {
  let work: string;
  let keyFile: string;
  let identity: http.Server;
  let arm: https.Server;
  let caFile: string;
  const armRequests: Array<{ url: string; authorization: string | undefined }> = [];
  let armAnswer: (response: http.ServerResponse) => void;

  beforeAll(async () => {
    work = await makeTempDir('ars-license');
    await fs.mkdir(TOKENS_FOLDER, { recursive: true });
    keyFile = path.join(TOKENS_FOLDER, `ars-test-${process.pid}.key`);
    await fs.writeFile(keyFile, 'challenge-secret');

    // The Arc identity endpoint: a 401 naming the key file, then a token for its content.
    identity = http.createServer((request, response) => {
      if (request.headers.authorization !== 'Basic challenge-secret') {
        response.writeHead(401, { 'WWW-Authenticate': `Basic realm=${keyFile}` }).end();
        return;
      }
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(
        JSON.stringify({
          access_token: TOKEN,
          expires_in: '3600',
          expires_on: String(Math.floor(Date.now() / 1000) + 3600),
          token_type: 'Bearer',
          resource: 'https://management.azure.com',
        }),
      );
    });
    await new Promise<void>((resolve) => identity.listen(0, '127.0.0.1', resolve));

    // Resource Manager over TLS with a certificate made for this test.
    caFile = path.join(work, 'arm.crt');
    const keyPath = path.join(work, 'arm.key');
    await execa('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      keyPath,
      '-out',
      caFile,
    ]);
    arm = https.createServer({ key: await fs.readFile(keyPath), cert: await fs.readFile(caFile) }, (request, response) => {
      armRequests.push({ url: request.url ?? '', authorization: request.headers.authorization });
      armAnswer(response);
    });
    await new Promise<void>((resolve) => arm.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    identity.close();
    arm.close();
    await fs.rm(keyFile, { force: true });
    await fs.rm(work, { recursive: true, force: true });
  });

  async function read(): Promise<{ ok: boolean; observation?: { kind: string; source: string; detail: string }; reason?: string }> {
    const { stdout } = await execa(
      path.join(REPO, 'node_modules', '.bin', 'tsx'),
      [path.join(REPO, 'test', 'support', 'read-license.ts'), RESOURCE_ID, `https://127.0.0.1:${(arm.address() as AddressInfo).port}`],
      {
        env: {
          IDENTITY_ENDPOINT: `http://127.0.0.1:${(identity.address() as AddressInfo).port}/metadata/identity/oauth2/token`,
          IMDS_ENDPOINT: `http://127.0.0.1:${(identity.address() as AddressInfo).port}`,
          NODE_EXTRA_CA_CERTS: caFile,
        },
      },
    );
    return JSON.parse(stdout);
  }

  it('gets a token through the Arc challenge and reads Software Assurance from the machine instance view', async () => {
    const example = JSON.parse(await fs.readFile(EXAMPLE, 'utf8'));
    armAnswer = (response) =>
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(example.responses['200'].body));
    const result = await read();
    expect(result).toEqual({
      ok: true,
      observation: { kind: 'SoftwareAssurance', source: 'azure', detail: expect.stringContaining('softwareAssuranceCustomer true') },
    });
    const request = armRequests[armRequests.length - 1]!;
    expect(request.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.url).toBe(`${RESOURCE_ID}?api-version=2024-07-10&$expand=instanceView`);
  });

  it('reads Pay-as-you-go from the product profile', async () => {
    const example = JSON.parse(await fs.readFile(EXAMPLE, 'utf8'));
    const body = example.responses['200'].body;
    body.properties.licenseProfile.softwareAssurance.softwareAssuranceCustomer = false;
    body.properties.licenseProfile.productProfile = { productType: 'WindowsServer', subscriptionStatus: 'Enabled' };
    armAnswer = (response) => response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    expect((await read()).observation?.kind).toBe('PayAsYouGo');
  });

  it('says why when the identity may not read its own resource', async () => {
    armAnswer = (response) =>
      response
        .writeHead(403, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'AuthorizationFailed', message: 'The client does not have authorization' } }));
    expect(await read()).toEqual({ ok: false, reason: 'Azure Resource Manager answered 403 (AuthorizationFailed)' });
  });
});
