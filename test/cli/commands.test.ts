/**
 * Every command against the ARM emulator, in-process, through the real HybridCompute SDK and
 * pipeline: what is sent (api-version, bodies, settings that the extension's schema accepts),
 * what is refused, and what is printed.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { PassThrough } from 'stream';
import type { ExtensionRun, ExtensionRunResult } from '../../sim/arm';
import { normalizeLevel } from '../../core/desired-state';
import { checkPublicSettings } from '../../cli/settings/settings-check';
import { capture, openSupportTickets, startEmulatedCli, SUBSCRIPTION, type EmulatedCli } from '../support/cli-harness';
import { API_VERSION, rawRequest, waitFor } from '../sim/arm/emulator-clients';
import { succeededRun } from '../../sim/arm/long-running-operations';

const RG = 'rg-support';
const EXTENSION = 'WindowsRemoteSupport';
const HOUR = 3_600_000;

/** The extension manager as the handler reports: a summary, then one line per cluster node. */
const clusters: Record<string, string[]> = { 'CLU-A': ['CLU-A', 'clu-b', 'CLU-GHOST'] };
const seenRuns: ExtensionRun[] = [];
async function extensionManager(run: ExtensionRun): Promise<ExtensionRunResult> {
  seenRuns.push(run);
  if (run.kind === 'delete') return { provisioningState: 'Succeeded' };
  const access = run.properties.settings?.access as { level?: string; expiresAt?: string } | undefined;
  // As the handler reads it: the level in any letter case.
  const level = access?.level === undefined ? 'None' : normalizeLevel(access.level);
  const state = level && level !== 'None' ? `access ${level} until ${access?.expiresAt}` : 'access off';
  if (run.machine.name === 'refuses-settings') {
    return {
      provisioningState: 'Failed',
      instanceView: {
        status: {
          code: 'ProvisioningState/failed',
          level: 'Error',
          message: "Invalid setting 'access.expiresAt': received the past. Accepted: a future UTC time.",
        },
      },
    };
  }
  const nodes = clusters[run.machine.name] ?? [run.machine.name];
  const lines = nodes.map((node, index) =>
    index === 0
      ? `Node ${node.toUpperCase()}: ${state}; 3 change(s) applied.`
      : `Node ${node.toUpperCase()}: cluster node Up; not managed from ${nodes[0]}.`,
  );
  return succeededRun(run, [`Access: ${state}.`, ...lines].join('\n'));
}

let cli: EmulatedCli;
beforeAll(async () => {
  cli = await startEmulatedCli({
    supportTickets: openSupportTickets('TKT-2611240001', 'TKT-2', 'TKT-9', 'TKT-7', 'T-1'),
    operationMs: 20,
    runExtension: extensionManager,
    machines: [
      { subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'web-1', tags: { env: 'prod', tier: 'web' } },
      { subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'web-2', tags: { env: 'prod', tier: 'web' }, license: 'SoftwareAssurance' },
      { subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'db-1', tags: { env: 'prod', tier: 'db' } },
      { subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'test-1', tags: { env: 'test', tier: 'web' } },
      { subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'linux-1', osName: 'linux' },
      { subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'unlicensed-1', license: 'None' },
      { subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'offline-1', status: 'Disconnected' },
      { subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'refuses-settings' },
      { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg-cluster', name: 'CLU-A' },
      { subscriptionId: SUBSCRIPTION, resourceGroup: 'rg-cluster', name: 'clu-b' },
    ],
  });
});

afterAll(() => cli.close());

const machine = (name: string, resourceGroup = RG) => ['--machine', name, '--resource-group', resourceGroup];
const stored = (name: string, resourceGroup = RG) => cli.emulator.extension(SUBSCRIPTION, resourceGroup, name, EXTENSION);
const settingsOf = (name: string, resourceGroup = RG) => stored(name, resourceGroup)?.properties.settings as Record<string, any>;

describe('deploy', () => {
  it('PUTs the extension with automatic upgrade on, no access, and the license it saw', async () => {
    const { code, stdout } = await cli.run(['deploy', ...machine('web-1'), '--retention-days', '30']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/rg-support\/web-1\s*│ ok\s*│ deployed 1\.0 \(provisioning Succeeded\); license PayAsYouGo/);

    const put = cli.emulator.traffic.find((record) => record.method === 'PUT')!;
    expect(new URL(put.url).pathname).toBe(
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}/providers/Microsoft.HybridCompute/machines/web-1/extensions/${EXTENSION}`,
    );
    const body = put.requestBody as { location: string; properties: Record<string, any> };
    expect(body.location).toBe('westeurope');
    expect(body.properties).toMatchObject({
      publisher: 'ArcRemoteSupport',
      type: 'WindowsRemoteSupport',
      typeHandlerVersion: '1.0',
      autoUpgradeMinorVersion: true,
      enableAutomaticUpgrade: true,
    });
    expect(body.properties.forceUpdateTag).toEqual(expect.any(String));
    expect(body.properties.settings).toEqual({
      schemaVersion: 1,
      access: { level: 'None' },
      retentionDays: 30,
      observedLicense: { kind: 'PayAsYouGo', observedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) },
    });
    checkPublicSettings(body.properties.settings);
    expect(stored('web-1')?.properties.enableAutomaticUpgrade).toBe(true);

    // Every request used the API version the SDK release does not know, and the license was read first.
    expect(cli.emulator.traffic.every((record) => new URL(record.url).searchParams.get('api-version') === '2024-07-10')).toBe(true);
    expect(cli.emulator.traffic.some((record) => record.url.includes('/machines/web-1/licenseProfiles/default'))).toBe(true);
  });

  it("deploys Software Assurance machines and a resource group's machines carrying every tag", async () => {
    const { code, stdout } = await cli.run([
      'deploy',
      '--resource-group',
      RG,
      '--tag',
      'env=prod',
      '--tag',
      'tier=web',
      '--output',
      'json',
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.results.map((row: { machine: string }) => row.machine)).toEqual([`${RG}/web-1`, `${RG}/web-2`]);
    expect(report.results[1].detail).toMatch(/license SoftwareAssurance/);
    // Redeploying web-1 kept its retention of 30 days.
    expect(settingsOf('web-1').retentionDays).toBe(30);
    expect(stored('db-1')).toBeUndefined();
    expect(stored('test-1')).toBeUndefined();
  });

  it('refuses machines that are Linux, unlicensed or disconnected, naming the state seen and the fix, and writes nothing to them', async () => {
    const before = cli.emulator.counters.writes;
    const { code, stdout } = await cli.run([
      'deploy',
      ...machine('linux-1'),
      '--machine',
      'unlicensed-1',
      '--machine',
      'offline-1',
      '--output',
      'json',
    ]);
    expect(code).toBe(4);
    const details = JSON.parse(stdout).results.map((row: { detail: string }) => row.detail);
    expect(details[0]).toMatch(/machine linux-1 runs linux; this extension is for Windows Server 2016 and later/);
    expect(details[1]).toMatch(
      /machine unlicensed-1 is not eligible: its license is neither Pay-as-you-go nor Software Assurance \(softwareAssuranceCustomer false, productProfile none, in the machine's licenseProfile; licenseProfiles\/default answered 404 ResourceNotFound\)\. Fix: enable Windows Server Pay-as-you-go or attest Software Assurance/,
    );
    expect(details[2]).toMatch(/machine offline-1 is Disconnected \(Azure Arc agent status\).*Fix: bring the machine online/);
    expect(cli.emulator.counters.writes).toBe(before);
  });
});

describe('grant', () => {
  const grantArgs = ['--level', 'Diagnostics', '--duration', '8h', '--support-request', 'TKT-2611240001'];

  it('without --accept-terms and without a terminal: exit 2, nothing sent', async () => {
    const before = cli.emulator.traffic.length;
    const { code, stderr } = await cli.run(['grant', ...machine('web-1'), ...grantArgs]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--accept-terms: received nothing/);
    expect(cli.emulator.traffic.length).toBe(before);
  });

  it('at a terminal, asks; a no grants nothing', async () => {
    const before = cli.emulator.counters.writes;
    const asked: string[] = [];
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const { code, stderr } = await cli.run(['grant', ...machine('web-1'), ...grantArgs], {
      stdin,
      confirm: async (question) => (asked.push(question), false),
    });
    expect(asked).toEqual(['Do you accept these terms and grant access?']);
    expect(stderr).toMatch(/Diagnostics access to 1 machine\(s\)\nfor support request TKT-2611240001/);
    expect(code).toBe(2);
    expect(cli.emulator.counters.writes).toBe(before);
  });

  it('sends one grant, with the same id, expiry and consent, to every target; who accepted comes from the token', async () => {
    const started = Date.now();
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const { code, stdout, stderr } = await cli.run(['grant', ...machine('web-1'), '--machine', 'web-2', ...grantArgs, '--output', 'json'], {
      stdin,
      confirm: async () => true,
    });
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    const grant = report.grant;
    expect(grant).toMatchObject({
      level: 'Diagnostics',
      supportRequestId: 'TKT-2611240001',
      consent: { termsVersion: '2026.1', acceptedBy: 'owner@contoso.example' },
    });
    expect(stderr).toContain(
      `Grant ${grant.grantId}: Diagnostics until ${grant.expiresAt} for TKT-2611240001, accepted by owner@contoso.example (upn)`,
    );

    // Expiry: exactly 8 hours after the consent, which is now (whole seconds).
    const acceptedAt = Date.parse(grant.consent.acceptedAt);
    expect(Date.parse(grant.expiresAt) - acceptedAt).toBe(8 * HOUR);
    expect(acceptedAt).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000);
    expect(acceptedAt).toBeLessThanOrEqual(Date.now());

    for (const name of ['web-1', 'web-2']) {
      const settings = settingsOf(name);
      expect(settings.access).toEqual(grant);
      checkPublicSettings(settings);
    }
    // Retention kept from the extension's own settings.
    expect(settingsOf('web-1').retentionDays).toBe(30);
    expect(settingsOf('web-2').retentionDays).toBe(90);
    expect(settingsOf('web-2').observedLicense.kind).toBe('SoftwareAssurance');
    // A new forceUpdateTag: the handler runs even if the settings had been the same.
    const tags = seenRuns.filter((run) => run.machine.name === 'web-1').map((run) => run.properties.forceUpdateTag);
    expect(new Set(tags).size).toBe(tags.length);
    // The journal (two targets) records the grant and what each machine was sent.
    const journal = JSON.parse(await fs.readFile(report.journal, 'utf8'));
    expect(journal.request.grant).toEqual(grant);
    expect(journal.targets.map((target: { result: string }) => target.result)).toEqual(['ok', 'ok']);
    expect(journal.targets[0].settingsSent.access.grantId).toBe(grant.grantId);
  });

  it('DiagnosticsRepair is sent as DiagnosticsAndRepair', async () => {
    const { code } = await cli.run([
      'grant',
      ...machine('web-2'),
      '--level',
      'DiagnosticsRepair',
      '--duration',
      'PT2H',
      '--support-request',
      'TKT-2',
      '--accept-terms',
    ]);
    expect(code).toBe(0);
    expect(settingsOf('web-2').access.level).toBe('DiagnosticsAndRepair');
  });

  it('refuses a machine where the extension is not deployed, with the fix', async () => {
    const { code, stdout } = await cli.run(['grant', ...machine('db-1'), ...grantArgs, '--accept-terms']);
    expect(code).toBe(4);
    expect(stdout).toMatch(/the extension is not deployed on db-1\. Fix: deploy it first/);
  });
});

describe('configure and revoke', () => {
  it('configure changes the level and keeps grant id, expiry and consent', async () => {
    const before = settingsOf('web-1').access;
    const { code, stdout } = await cli.run(['configure', ...machine('web-1'), '--level', 'DiagnosticsAndRepair', '--retention-days', '14']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/level DiagnosticsAndRepair, retention 14 days; provisioning Succeeded/);
    expect(settingsOf('web-1').access).toEqual({ ...before, level: 'DiagnosticsAndRepair' });
    expect(settingsOf('web-1').retentionDays).toBe(14);
  });

  it('configure refuses a level when no grant is in force, but changes retention', async () => {
    await cli.run(['deploy', ...machine('test-1')]);
    const refused = await cli.run(['configure', ...machine('test-1'), '--level', 'Diagnostics']);
    expect(refused.code).toBe(4);
    expect(refused.stdout).toMatch(
      /there is no grant in force on test-1 \(access None\), so there is no level to change\. Fix: grant access first/,
    );
    const retention = await cli.run(['configure', ...machine('test-1'), '--retention-days', '7']);
    expect(retention.code).toBe(0);
    expect(settingsOf('test-1')).toMatchObject({ access: { level: 'None' }, retentionDays: 7 });
  });

  it('revoke sets access None and keeps retention', async () => {
    const { code, stdout } = await cli.run(['revoke', ...machine('web-1')]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/access None; provisioning Succeeded/);
    expect(settingsOf('web-1')).toMatchObject({ schemaVersion: 1, access: { level: 'None' }, retentionDays: 14 });
  });

  it('re-sends protected settings on every update, and never prints them', async () => {
    const file = path.join(cli.folder, 'protected.json');
    await fs.writeFile(file, JSON.stringify({ sessionSecret: 'hunter2-do-not-print' }));
    const run = await cli.run(['revoke', ...machine('web-2'), '--protected-settings-file', 'protected.json', '--output', 'json']);
    expect(run.code).toBe(0);
    const last = seenRuns.filter((entry) => entry.machine.name === 'web-2').pop()!;
    expect(last.properties.protectedSettings).toEqual({ sessionSecret: 'hunter2-do-not-print' });
    expect(`${run.stdout}${run.stderr}`).not.toContain('hunter2');
    // Azure never returns them.
    expect(JSON.stringify(stored('web-2'))).not.toContain('hunter2');
  });

  it("after a failed operation, shows the handler's own status message", async () => {
    await cli.run(['deploy', ...machine('refuses-settings')]);
    const { code, stdout } = await cli.run(['revoke', ...machine('refuses-settings'), '--output', 'json']);
    expect(code).toBe(4);
    const detail = JSON.parse(stdout).results[0].detail;
    expect(detail).toBe(
      "the operation failed in Azure: ExtensionOperationFailed. Invalid setting 'access.expiresAt': received the past. Accepted: a future UTC time. (extension Failed)",
    );
  });
});

describe('status', () => {
  it('shows per machine and per node: provisioning, message, level, ticket, expiry and time left', async () => {
    await cli.run(['deploy', ...machine('CLU-A', 'rg-cluster')]);
    await cli.run([
      'grant',
      ...machine('clu-a', 'rg-cluster'),
      '--level',
      'Diagnostics',
      '--duration',
      '2d',
      '--support-request',
      'TKT-9',
      '--accept-terms',
    ]);
    const now = new Date(Date.now() + 3 * HOUR);
    const { code, stdout } = await cli.run(
      ['status', ...machine('CLU-A', 'rg-cluster'), '--machine', cli.id(RG, 'web-1'), '--machine', cli.id(RG, 'db-1'), '--output', 'json'],
      { now: () => now },
    );
    expect(code).toBe(0);
    const [cluster, web, db] = JSON.parse(stdout).machines;
    expect(cluster).toMatchObject({
      machine: 'rg-cluster/CLU-A',
      agentStatus: 'Connected',
      provisioningState: 'Succeeded',
      level: 'Diagnostics',
      supportRequestId: 'TKT-9',
    });
    const left = Date.parse(cluster.expiresAt) - now.getTime();
    expect(cluster.timeLeft).toBe(`1 d ${Math.floor((left % 86_400_000) / HOUR)} h ${Math.floor((left % HOUR) / 60_000)} min`);
    expect(cluster.message).toBe(`Access: access Diagnostics until ${cluster.expiresAt}.`);
    expect(cluster.nodes).toEqual([
      { node: 'CLU-A', message: `access Diagnostics until ${cluster.expiresAt}; 3 change(s) applied.` },
      { node: 'CLU-B', message: 'cluster node Up; not managed from CLU-A.' },
      { node: 'CLU-GHOST', message: 'cluster node Up; not managed from CLU-A.' },
    ]);
    expect(web).toMatchObject({ level: 'None', timeLeft: '-' });
    expect(db).toMatchObject({ provisioningState: 'NotDeployed' });
  });

  it('says Expired once the expiry has passed, and prints node lines in the table', async () => {
    const { code, stdout } = await cli.run(['status', ...machine('CLU-A', 'rg-cluster')], {
      now: () => new Date(Date.now() + 3 * 86_400_000),
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/rg-cluster\/CLU-A\s*│\s*│ Succeeded\s*│ Diagnostics │ TKT-9\s*│ \S+Z │ Expired/);
    expect(stdout).toMatch(/│\s*│ CLU-B\s*│/);
  });

  it('reports an unknown machine as failed and the others as read', async () => {
    const { code, stdout } = await cli.run(['status', ...machine('web-1'), '--machine', 'no-such-machine']);
    expect(code).toBe(3);
    expect(stdout).toMatch(/rg-support\/no-such-machine\s*│ failed │ machine no-such-machine was not found in resource group rg-support/);
  });
});

describe('a level stored in another letter case, as another tool may write it', () => {
  const CASE_RG = 'rg-case';
  const target = () => machine('case-1', CASE_RG);
  /** Writes the settings as the portal or an ARM template would, not through the CLI; waits for the handler. */
  async function writeSettings(settings: Record<string, unknown>) {
    const url = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${CASE_RG}/providers/Microsoft.HybridCompute/machines/case-1/extensions/${EXTENSION}?api-version=${API_VERSION}`;
    const reply = await rawRequest(cli.emulator, 'PATCH', url, { body: { properties: { settings } } });
    expect(reply.status).toBe(202);
    await waitFor(async () => stored('case-1', CASE_RG)?.properties.provisioningState === 'Succeeded');
  }

  beforeAll(async () => {
    cli.emulator.addMachine({ subscriptionId: SUBSCRIPTION, resourceGroup: CASE_RG, name: 'case-1' });
    expect((await cli.run(['deploy', ...target()])).code).toBe(0);
    const granted = await cli.run([
      'grant',
      ...target(),
      '--level',
      'Diagnostics',
      '--duration',
      '8h',
      '--support-request',
      'TKT-7',
      '--accept-terms',
    ]);
    expect(granted.code).toBe(0);
  });

  it.each(['none', 'NONE', 'nOnE'])('%s is no access: status shows None, configure finds no grant and sends None', async (level) => {
    await writeSettings({ ...settingsOf('case-1', CASE_RG), access: { level } });

    const status = await cli.run(['status', ...target(), '--output', 'json']);
    expect(status.code).toBe(0);
    const [shown] = JSON.parse(status.stdout).machines;
    expect(shown).toMatchObject({ level: 'None', timeLeft: '-', message: 'Access: access off.' });
    expect(shown).not.toHaveProperty('grantId');

    const refused = await cli.run(['configure', ...target(), '--level', 'DiagnosticsAndRepair']);
    expect(refused.code).toBe(4);
    expect(refused.stdout).toMatch(/there is no grant in force on case-1 \(access None\), so there is no level to change/);

    const retention = await cli.run(['configure', ...target(), '--retention-days', '7']);
    expect(retention.code).toBe(0);
    expect(retention.stdout).not.toMatch(/expired grant/);
    expect(settingsOf('case-1', CASE_RG)).toMatchObject({ access: { level: 'None' }, retentionDays: 7 });
  });

  it.each([
    ['diagnostics', 'Diagnostics'],
    ['DIAGNOSTICSREPAIR', 'DiagnosticsAndRepair'],
    ['diagnosticsAndRepair', 'DiagnosticsAndRepair'],
  ])('%s is a grant of %s: status shows it, configure keeps it under its canonical name', async (level, canonical) => {
    const grant = {
      level,
      grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f',
      expiresAt: new Date(Date.now() + 4 * HOUR).toISOString().replace(/\.\d+Z$/, 'Z'),
      supportRequestId: 'TKT-8',
      consent: {
        termsVersion: '2026.1',
        acceptedAt: new Date(Date.now() - HOUR).toISOString().replace(/\.\d+Z$/, 'Z'),
        acceptedBy: 'owner@contoso.example',
      },
    };
    await writeSettings({ ...settingsOf('case-1', CASE_RG), access: grant });

    const status = await cli.run(['status', ...target(), '--output', 'json']);
    const [shown] = JSON.parse(status.stdout).machines;
    expect(shown).toMatchObject({ level: canonical, grantId: grant.grantId, expiresAt: grant.expiresAt, supportRequestId: 'TKT-8' });
    expect(shown.timeLeft).toMatch(/^3 h 5\d min$/);

    const retention = await cli.run(['configure', ...target(), '--retention-days', '5']);
    expect(retention.code).toBe(0);
    expect(retention.stdout).not.toMatch(/expired grant/);
    expect(settingsOf('case-1', CASE_RG)).toMatchObject({ access: { ...grant, level: canonical }, retentionDays: 5 });
  });

  it('a level the extension does not know is named as it is stored, not taken for an expired grant', async () => {
    await writeSettings({ ...settingsOf('case-1', CASE_RG), access: { level: 'Full' } });
    const refused = await cli.run(['configure', ...target(), '--level', 'Diagnostics']);
    expect(refused.code).toBe(4);
    expect(refused.stdout).toMatch(/there is no grant in force on case-1 \(access level "Full", which the extension refuses\)/);
  });
});

describe('--cluster', () => {
  it('adds the nodes the extension reports that are Arc machines of the same group, and names the node that is not', async () => {
    const { code, stdout } = await cli.run(['revoke', ...machine('clu-a', 'rg-cluster'), '--cluster', '--output', 'json']);
    expect(code).toBe(3);
    const rows = JSON.parse(stdout).results;
    expect(rows.map((row: { machine: string; result: string }) => [row.machine, row.result])).toEqual([
      ['rg-cluster/clu-a', 'ok'],
      ['rg-cluster/clu-b', 'ok'],
      ['rg-cluster/CLU-GHOST', 'skipped'],
    ]);
    expect(rows[1].detail).toMatch(/not deployed: there is no access to revoke/);
    expect(rows[2].detail).toMatch(
      /cluster node CLU-GHOST \(reported by rg-cluster\/clu-a\) has no Arc machine in resource group rg-cluster; connect it to Azure Arc/,
    );
  });
});

describe('upgrade and remove', () => {
  it('upgrade POSTs upgradeExtensions for ArcRemoteSupport.WindowsRemoteSupport', async () => {
    const { code, stdout } = await cli.run(['upgrade', ...machine('web-2'), '--version', '1.0.1']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/upgraded to 1\.0\.1 \(typeHandlerVersion 1\.0 -> 1\.0\.1\)/);
    const post = cli.emulator.traffic.filter((record) => record.method === 'POST').pop()!;
    expect(new URL(post.url).pathname).toMatch(/\/machines\/web-2\/upgradeExtensions$/);
    expect(post.requestBody).toEqual({ extensionTargets: { 'ArcRemoteSupport.WindowsRemoteSupport': { targetVersion: '1.0.1' } } });
  });

  it('remove DELETEs the extension; a machine without it is already done', async () => {
    const { code, stdout } = await cli.run(['remove', ...machine('web-2'), '--machine', 'db-1']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/rg-support\/web-2\s*│ ok\s*│ extension removed/);
    expect(stdout).toMatch(/rg-support\/db-1\s*│ ok\s*│ the extension is not deployed: nothing to remove/);
    expect(stored('web-2')).toBeUndefined();
  });
});

describe('--what-if', () => {
  it('prints the writes it would send, with protected settings redacted, and sends none', async () => {
    const file = path.join(cli.folder, 'protected-what-if.json');
    await fs.writeFile(file, JSON.stringify({ sessionSecret: 'what-if-secret' }));
    const writes = cli.emulator.counters.writes;
    const sent = cli.emulator.traffic.length;
    const runs = [
      await cli.run(['deploy', ...machine('db-1'), '--what-if', '--protected-settings-file', file]),
      await cli.run([
        'grant',
        ...machine('web-1'),
        '--level',
        'Diagnostics',
        '--duration',
        '90m',
        '--support-request',
        'T-1',
        '--accept-terms',
        '--what-if',
      ]),
      await cli.run(['configure', ...machine('test-1'), '--retention-days', '3', '--what-if']),
      await cli.run(['revoke', ...machine('test-1'), '--what-if']),
      await cli.run(['upgrade', ...machine('test-1'), '--version', '1.0.1', '--what-if']),
      await cli.run(['remove', ...machine('test-1'), '--what-if']),
    ];
    expect(runs.map((run) => run.code)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(cli.emulator.counters.writes).toBe(writes);
    expect(cli.emulator.traffic.slice(sent).filter((record) => record.method !== 'GET')).toEqual([]);

    expect(runs[0]!.stdout).toMatch(
      /What if: nothing was written\. These 1 request\(s\) would be sent:\n\nPUT https:\/\/127\.0\.0\.1:\d+\/subscriptions\/[^ ]+\/machines\/db-1\/extensions\/WindowsRemoteSupport\?api-version=2024-07-10\n/,
    );
    expect(runs[0]!.stdout).toContain('"protectedSettings": "<redacted>"');
    expect(runs[0]!.stdout).toContain('"enableAutomaticUpgrade": true');
    expect(runs[0]!.stdout).not.toContain('what-if-secret');
    expect(runs[1]!.stdout).toMatch(/PATCH [^\n]+\/machines\/web-1\/extensions\/WindowsRemoteSupport\?api-version=2024-07-10/);
    expect(runs[1]!.stdout).toContain('"supportRequestId": "T-1"');
    expect(runs[4]!.stdout).toMatch(/POST [^\n]+\/machines\/test-1\/upgradeExtensions\?api-version=2024-07-10/);
    expect(runs[5]!.stdout).toMatch(/DELETE [^\n]+\/machines\/test-1\/extensions\/WindowsRemoteSupport\?api-version=2024-07-10/);
    expect(settingsOf('test-1').retentionDays).toBe(7);
  });
});

describe('progress', () => {
  it('draws a bar on stderr at a terminal with table output, and none for json', async () => {
    const stderr = capture(true);
    const table = await cli.run(['status', '--resource-group', RG], { stderr: stderr.stream });
    expect(table.code).toBe(0);
    expect(stderr.text()).toMatch(/\d+\/8 machines \| ok \d+ failed \d+ skipped 0 \| \d+ at once/);
    const quiet = capture(true);
    await cli.run(['status', '--resource-group', RG, '--output', 'json'], { stderr: quiet.stream });
    expect(quiet.text()).not.toMatch(/machines \|/);
  });
});

describe('the traffic', () => {
  it('every request the CLI sent, and every answer, matches HybridCompute.json 2024-07-10', async () => {
    expect(cli.emulator.traffic.length).toBeGreaterThan(50);
    expect(await cli.emulator.validateTraffic()).toEqual([]);
  });
});
