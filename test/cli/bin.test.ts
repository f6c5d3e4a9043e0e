/**
 * The CLI bundle (what the package ships and bin/arc-remote-support.js runs) as a child process:
 * DefaultAzureCredential gets its token through the real Azure Arc managed identity flow (the
 * emulator's identity endpoint and challenge key file), and TLS trusts the emulator's CA through
 * NODE_EXTRA_CA_CERTS, exactly as an operator's shell would.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import path from 'path';
import { bundleCli } from '../../scripts/build/bundle-cli';
import {
  ARM_AUDIENCE,
  EXTENSION_IDENTITY,
  openSupportTickets,
  startEmulatedCli,
  SUBSCRIPTION,
  type EmulatedCli,
} from '../support/cli-harness';

const REPO_BIN = path.resolve(__dirname, '..', '..', 'bin', 'arc-remote-support.js');
const RG = 'rg-bin';

let cli: EmulatedCli;
/** The bundle, built for this run into the test's folder. */
let BIN: string;
beforeAll(async () => {
  cli = await startEmulatedCli({
    supportTickets: openSupportTickets('TKT-BIN', 'TKT-TTY'),
    operationMs: 20,
    machines: [
      { subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'srv-1' },
      { subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'srv-2' },
    ],
  });
  BIN = (await bundleCli({ identity: EXTENSION_IDENTITY, outFile: path.join(cli.folder, 'bundle', 'arc-remote-support.js') })).outFile;
}, 60_000);
afterAll(() => cli.close());

/** Only what a shell would have: PATH, a home, and what the test adds. Nothing of Azure's. */
function run(argv: string[], env: Record<string, string>, nodeOptions: string[] = []) {
  return execa(process.execPath, [...nodeOptions, BIN, ...argv], {
    cwd: cli.folder,
    env: { PATH: process.env.PATH ?? '', HOME: cli.folder, ...env },
    extendEnv: false,
    reject: false,
    timeout: 120_000,
  });
}

it('deploys, grants and reports status with DefaultAzureCredential through the Arc managed identity', async () => {
  const env = { ...cli.emulator.credentialEnvironment(), AZURE_SUBSCRIPTION_ID: SUBSCRIPTION };
  const where = ['--resource-group', RG, '--endpoint', cli.emulator.endpoint, '--audience', ARM_AUDIENCE];

  const deploy = await run(['deploy', ...where], env);
  expect(deploy.stderr).toMatch(/2 ok, 0 failed, 0 skipped\./);
  expect(deploy.exitCode).toBe(0);

  const grant = await run(
    [
      'grant',
      ...where,
      '--level',
      'Diagnostics',
      '--duration',
      '90m',
      '--support-request',
      'TKT-BIN',
      '--accept-terms',
      '--output',
      'yaml',
    ],
    env,
  );
  expect(grant.exitCode).toBe(0);
  expect(grant.stdout).toMatch(/acceptedBy: owner@contoso\.example/);
  const grantId = /grantId: (\S+)/.exec(grant.stdout)?.[1];

  const status = await run(['status', ...where, '--output', 'json'], env);
  expect(status.exitCode).toBe(0);
  const machines = JSON.parse(status.stdout).machines;
  expect(machines.map((machine: { grantId: string; timeLeft: string }) => [machine.grantId, machine.timeLeft])).toEqual([
    [grantId, expect.stringMatching(/^1 h (29|30) min$/)],
    [grantId, expect.stringMatching(/^1 h (29|30) min$/)],
  ]);
  expect(await cli.emulator.validateTraffic()).toEqual([]);
}, 120_000);

it('without any credential: exit 5 and one message saying what to do', async () => {
  const result = await run(
    ['status', '--machine', 'srv-1', '--resource-group', RG, '--subscription', SUBSCRIPTION, '--endpoint', cli.emulator.endpoint],
    {},
  );
  expect(result.exitCode).toBe(5);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(
    /^arc-remote-support: No Azure credential could be obtained\. Do one of these, then run the command again:\n {2}- sign in with the Azure CLI: az login/,
  );
}, 120_000);

it('bad input: exit 2 before the Azure SDK is started', async () => {
  // The SDK is inside the bundle, so no @azure module is ever required by name; starting it loads
  // Node's network modules, which nothing before it needs. A preload reports those.
  const watcher = path.join(cli.folder, 'watch-network.js');
  await fs.writeFile(
    watcher,
    "const Module = require('module'); const load = Module._load; Module._load = function (request, ...rest) { if (/^(node:)?(http|https|http2|tls|net)$/.test(request)) process.stderr.write('loaded ' + request + '\\n'); return load.call(this, request, ...rest); };",
  );
  const result = await run(
    ['grant', '--machine', 'srv-1', '--resource-group', RG, '--level', 'Everything', '--duration', '8h', '--support-request', 'T'],
    {},
    ['--require', watcher],
  );
  expect(result.exitCode).toBe(2);
  expect(result.stderr).toMatch(/--level: received "Everything"/);
  expect(result.stderr).not.toMatch(/loaded /);
  // The watcher does see them when a command runs.
  const status = await run(
    [
      'status',
      '--machine',
      'srv-1',
      '--resource-group',
      RG,
      '--subscription',
      SUBSCRIPTION,
      '--endpoint',
      cli.emulator.endpoint,
      '--audience',
      ARM_AUDIENCE,
    ],
    cli.emulator.credentialEnvironment(),
    ['--require', watcher],
  );
  expect(status.exitCode).toBe(0);
  expect(status.stderr).toMatch(/loaded (node:)?https/);
  expect(status.stderr).toMatch(/loaded (node:)?tls/);
}, 120_000);

it('at a terminal, the terms are asked with a real prompt, and a yes grants', async () => {
  const env = { ...cli.emulator.credentialEnvironment(), AZURE_SUBSCRIPTION_ID: SUBSCRIPTION, TERM: 'xterm' };
  const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
  const command = [
    process.execPath,
    BIN,
    'grant',
    '--machine',
    'srv-1',
    '--resource-group',
    RG,
    '--endpoint',
    cli.emulator.endpoint,
    '--audience',
    ARM_AUDIENCE,
    '--level',
    'DiagnosticsAndRepair',
    '--duration',
    '2h',
    '--support-request',
    'TKT-TTY',
  ]
    .map(quote)
    .join(' ');
  // util-linux `script` gives the CLI a pseudo-terminal, as an operator's shell would.
  const child = execa('script', ['-qec', command, '/dev/null'], {
    cwd: cli.folder,
    env: { PATH: process.env.PATH ?? '', HOME: cli.folder, ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
  let seen = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    seen += chunk.toString('utf8');
    if (seen.includes('Do you accept these terms and grant access?') && !seen.includes('answered')) {
      seen += 'answered';
      child.stdin!.write('y\r');
    }
  });
  const result = await child;
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toContain('DiagnosticsAndRepair access to 1 machine(s)');
  expect(result.stdout).toMatch(/Grant \S+: DiagnosticsAndRepair until \S+ for TKT-TTY, accepted by owner@contoso\.example \(upn\)/);
  expect(cli.emulator.extension(SUBSCRIPTION, RG, 'srv-1', 'WindowsRemoteSupport')?.properties.settings.access).toMatchObject({
    level: 'DiagnosticsAndRepair',
    supportRequestId: 'TKT-TTY',
  });
}, 120_000);

describe("bin/arc-remote-support.js, the repository's entry", () => {
  /** A copy of bin/ in a folder of its own, so the test decides whether build/cli/ is there. */
  async function repoCopy(withBundle: boolean): Promise<string> {
    const root = await fs.mkdtemp(path.join(cli.folder, 'repo-'));
    await fs.mkdir(path.join(root, 'bin'));
    await fs.copyFile(REPO_BIN, path.join(root, 'bin', 'arc-remote-support.js'));
    if (withBundle) {
      await fs.mkdir(path.join(root, 'build', 'cli'), { recursive: true });
      await fs.copyFile(BIN, path.join(root, 'build', 'cli', 'arc-remote-support.js'));
    }
    return path.join(root, 'bin', 'arc-remote-support.js');
  }

  it('runs the bundle the build wrote', async () => {
    const result = await execa(process.execPath, [await repoCopy(true), '--cli-version'], { reject: false });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(EXTENSION_IDENTITY.version);
  });

  it('before a build, says which command builds it', async () => {
    const bin = await repoCopy(false);
    const root = path.dirname(path.dirname(bin));
    const result = await execa(process.execPath, [bin, 'status'], { reject: false });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `arc-remote-support: the CLI is not built (${path.join(root, 'build', 'cli', 'arc-remote-support.js')} is missing). Run \`npm run build:cli\` in ${root}, then run the command again.`,
    );
  });
});
