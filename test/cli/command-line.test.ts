/** The command line itself: help, exit codes, and every bad input refused with exit 2 before anything is sent. */
import { runOffline } from '../support/cli-harness';

const SUB = '6b3e1c2d-9f8a-4b7c-8d6e-5f4a3b2c1d0e';
const NO_AZURE = {
  // Any attempt to reach Azure would fail loudly: nothing here may get that far.
  credential: { getToken: async () => Promise.reject(new Error('no Azure in this test')) },
};

describe('help', () => {
  it('lists the commands and the exit codes, and ends with 0', async () => {
    const { code, stdout } = await runOffline(['--help']);
    expect(code).toBe(0);
    for (const command of ['deploy', 'grant', 'configure', 'revoke', 'status', 'upgrade', 'remove']) expect(stdout).toContain(command);
    expect(stdout).toMatch(
      /Exit codes:\n\s+0\s+every target succeeded\n\s+1\s+unexpected error\n\s+2\s+bad input[^\n]*\n\s+3\s+partial failure[^\n]*\n\s+4\s+every target failed\n\s+5\s+no Azure credential/,
    );
  });

  it('says what status --refresh does and why', async () => {
    const { code, stdout } = await runOffline(['status', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/--refresh\s+first make the extension run again/);
    expect(stdout).toMatch(/Azure updates an extension's status only when its handler runs/);
    expect(stdout).toMatch(/nothing is sent to it\./);
  });

  it("documents each command's options with the exit codes", async () => {
    const { code, stdout } = await runOffline(['grant', '--help']);
    expect(code).toBe(0);
    for (const option of [
      '--level',
      '--duration',
      '--support-request',
      '--accept-terms',
      '--machine',
      '--resource-group',
      '--tag',
      '--cluster',
      '--subscription',
      '--output',
      '--what-if',
      '--endpoint',
      '--timeout',
      '--concurrency',
      '--resume',
      '--journal',
      '--protected-settings-file',
    ]) {
      expect(stdout).toContain(option);
    }
    expect(stdout).toContain('Exit codes:');
  });

  it('refuses an unknown command or option with 2', async () => {
    expect((await runOffline(['grnat'])).code).toBe(2);
    const unknown = await runOffline(['status', '--machines', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--machines'/);
  });
});

describe('bad input: exit 2, naming the option, the value and the fix', () => {
  const machine = ['--machine', 'node1', '--resource-group', 'rg', '--subscription', SUB];
  const grant = (...extra: string[]) => [
    'grant',
    ...machine,
    '--level',
    'Diagnostics',
    '--duration',
    '8h',
    '--support-request',
    'TKT-1',
    '--accept-terms',
    ...extra,
  ];

  it.each([
    [
      'an unknown level',
      ['grant', ...machine, '--level', 'Admin', '--duration', '8h', '--support-request', 'T'],
      /--level: received "Admin"\. Accepted levels: Diagnostics, DiagnosticsAndRepair/,
    ],
    [
      'a duration too short',
      grant('--duration', '30m'),
      /--duration: received "30m"\. That is 30 min; a grant lasts from 60 minutes to 14 days/,
    ],
    ['a duration too long', grant('--duration', 'P15D'), /--duration: received "P15D"\. That is 15 d 0 min/],
    ['an unreadable duration', grant('--duration', 'tomorrow'), /--duration: received "tomorrow"\. Give a duration such as 90m/],
    [
      'a missing support request',
      ['grant', ...machine, '--level', 'Diagnostics', '--duration', '8h'],
      /--support-request: received nothing/,
    ],
    ['a malformed support request', grant('--support-request', '#bad'), /--support-request: received "#bad"/],
    [
      'a malformed machine name',
      ['status', '--machine', 'bad name!', '--resource-group', 'rg', '--subscription', SUB],
      /--machine: received "bad name!"\. --machine "bad name!" is not a valid Arc machine name: 1 to 54/,
    ],
    [
      'a bare name without resource group',
      ['status', '--machine', 'node1', '--subscription', SUB],
      /add --resource-group <rg>, or give the machine's full ARM id/,
    ],
    ['a malformed resource group', ['status', '--resource-group', 'rg/x', '--subscription', SUB], /--resource-group: received "rg\/x"/],
    [
      'a malformed tag',
      ['status', '--resource-group', 'rg', '--tag', 'env', '--subscription', SUB],
      /--tag: received "env"\. Give a tag as key=value/,
    ],
    ['a tag with --machine', ['status', ...machine, '--tag', 'env=prod'], /--tag selects machines of --resource-group/],
    [
      'a malformed subscription',
      ['status', '--machine', 'node1', '--resource-group', 'rg', '--subscription', 'prod'],
      /--subscription: received "prod"\. A subscription id is a GUID/,
    ],
    ['a bad output format', ['status', ...machine, '--output', 'xml'], /--output: received "xml"\. Accepted formats: table, json, yaml/],
    ['no targets', ['status', '--subscription', SUB], /Name the targets: --machine/],
    [
      'a resource group without subscription',
      ['status', '--resource-group', 'rg'],
      /--subscription: received nothing\. Listing a resource group needs the subscription/,
    ],
    ['a bad timeout', ['status', ...machine, '--timeout', '0s'], /--timeout: received "0s"/],
    ['a bad concurrency', ['status', ...machine, '--concurrency', 'many'], /--concurrency: received "many"/],
    [
      'a plain-http endpoint',
      ['status', ...machine, '--endpoint', 'http://127.0.0.1:1'],
      /--endpoint: received "http:\/\/127\.0\.0\.1:1"\. Give the https URL/,
    ],
    ['configure with nothing to change', ['configure', ...machine], /Give what to change: --level/],
    [
      'a bad retention',
      ['configure', ...machine, '--retention-days', '120'],
      /--retention-days: received "120"\. Give a whole number of days from 1 to 90/,
    ],
    ['a bad upgrade version', ['upgrade', ...machine, '--version', 'latest'], /--version: received "latest"\. Give the extension version/],
    [
      'targets with --resume',
      ['revoke', ...machine, '--resume', 'j.json'],
      /--resume takes the targets and the command's options from the journal/,
    ],
    [
      'a missing journal',
      ['revoke', '--resume', '/nonexistent/j.json'],
      /--resume: received "\/nonexistent\/j\.json"\. The journal cannot be read \(ENOENT\)/,
    ],
    [
      'a missing protected settings file',
      ['revoke', ...machine, '--protected-settings-file', '/nonexistent/p.json'],
      /--protected-settings-file: received "\/nonexistent\/p\.json"/,
    ],
  ])('%s', async (_name, argv, message) => {
    const { code, stderr, stdout } = await runOffline(argv, NO_AZURE);
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
    expect(stdout).toBe('');
  });

  it('AZURE_SUBSCRIPTION_ID is checked like --subscription', async () => {
    const { code, stderr } = await runOffline(['status', '--resource-group', 'rg'], {
      ...NO_AZURE,
      env: { AZURE_SUBSCRIPTION_ID: 'nope' },
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/AZURE_SUBSCRIPTION_ID: received "nope"/);
  });

  it('refuses a grant whose terms nobody accepted when stdin is not a terminal, after showing them', async () => {
    const { code, stderr } = await runOffline(
      ['grant', ...machine, '--level', 'Diagnostics', '--duration', '8h', '--support-request', 'TKT-1'],
      NO_AZURE,
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/Remote support terms, version \d/);
    expect(stderr).toMatch(/--accept-terms: received nothing\. The terms above must be accepted before access is granted/);
  });
});

describe('credentials', () => {
  it('exit 5 with one message naming what to do when no credential works', async () => {
    const { code, stderr } = await runOffline(['status', '--machine', 'node1', '--resource-group', 'rg', '--subscription', SUB], {
      credential: {
        getToken: async () =>
          Promise.reject(
            Object.assign(new Error('DefaultAzureCredential failed to retrieve a token'), { name: 'AggregateAuthenticationError' }),
          ),
      },
    });
    expect(code).toBe(5);
    expect(stderr).toMatch(/No Azure credential could be obtained/);
    expect(stderr).toMatch(/az login/);
    expect(stderr).toMatch(/AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET/);
    expect(stderr).toMatch(/managed identity/);
  });
});
