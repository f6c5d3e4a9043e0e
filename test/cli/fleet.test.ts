/**
 * Fleets against the ARM emulator: bad targets reported per machine while the rest goes on, the
 * journal, --resume with the same grant for only what did not succeed, 409 retried, 429 adapted.
 */
import { promises as fs } from 'fs';
import type { ExtensionRun, ExtensionRunResult } from '../../sim/arm';
import { openSupportTickets, runOffline, startEmulatedCli, SUBSCRIPTION, type EmulatedCli } from '../support/cli-harness';

const RG = 'rg-fleet';

describe('a fleet with a machine that drops off, one not eligible and one unknown', () => {
  let cli: EmulatedCli;
  let dropOnce = true;

  /** flaky-1 disconnects while its extension manager works, and finishes only once it is back. */
  async function extensionManager(run: ExtensionRun): Promise<ExtensionRunResult> {
    if (run.machine.name === 'flaky-1' && run.kind === 'update' && dropOnce) {
      dropOnce = false;
      cli.emulator.setMachineStatus(SUBSCRIPTION, RG, 'flaky-1', 'Disconnected');
      while (cli.emulator.machine(SUBSCRIPTION, RG, 'flaky-1')?.status !== 'Connected')
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return {
      provisioningState: 'Succeeded',
      instanceView: { status: { code: 'ProvisioningState/succeeded', level: 'Info', message: `Extension ${run.kind} succeeded.` } },
    };
  }

  beforeAll(async () => {
    cli = await startEmulatedCli({
      supportTickets: openSupportTickets('TKT-FLEET'),
      operationMs: 20,
      runExtension: extensionManager,
      machines: ['ok-1', 'ok-2', 'ok-3', 'flaky-1', 'nolicense-1'].map((name) => ({
        subscriptionId: SUBSCRIPTION,
        resourceGroup: RG,
        name,
        license: name.startsWith('nolicense') ? 'None' : 'PayAsYouGo',
      })),
    });
    for (const name of ['ok-1', 'ok-2', 'ok-3', 'flaky-1', 'nolicense-1'])
      await cli.run(['deploy', '--machine', name, '--resource-group', RG]);
  });
  afterAll(() => cli.close());

  const targets = [
    '--resource-group',
    RG,
    ...['ok-1', 'ok-2', 'flaky-1', 'nolicense-1', 'ghost-1', 'bad name!', 'ok-3'].flatMap((name) => ['--machine', name]),
  ];

  it('grants the others, reports each bad one in the table and the journal, and exits 3', async () => {
    const { code, stdout, stderr } = await cli.run([
      'grant',
      ...targets,
      '--level',
      'Diagnostics',
      '--duration',
      '4h',
      '--support-request',
      'TKT-FLEET',
      '--accept-terms',
      '--timeout',
      '2s',
      '--journal',
      'grant.json',
    ]);
    expect(code).toBe(3);
    const row = (name: string) => stdout.split('\n').find((line) => line.includes(`${RG}/${name} `)) ?? '';
    for (const name of ['ok-1', 'ok-2', 'ok-3']) expect(row(name)).toMatch(/│ ok\s+│ Diagnostics until/);
    expect(row('flaky-1')).toMatch(
      /│ failed │ Updating the extension on flaky-1 did not finish within 2 s; the operation is still running in Azure\. Check it later with: arc-remote-support status --machine \/subscriptions\//,
    );
    expect(row('nolicense-1')).toMatch(/│ failed │ machine nolicense-1 is not eligible/);
    expect(row('ghost-1')).toMatch(/│ failed │ machine ghost-1 was not found in resource group rg-fleet/);
    expect(stdout).toMatch(/bad name!\s*│ failed │ --machine "bad name!" is not a valid Arc machine name/);
    expect(stderr).toMatch(/3 ok, 4 failed, 0 skipped\./);
    expect(stderr).toContain(`To retry the machines that did not succeed: arc-remote-support grant --resume ${cli.folder}/grant.json`);

    const journal = JSON.parse(await fs.readFile(`${cli.folder}/grant.json`, 'utf8'));
    expect(journal.command).toBe('grant');
    expect(journal.targets.map((target: { label: string; result: string }) => `${target.label}:${target.result}`)).toEqual([
      `${RG}/ok-1:ok`,
      `${RG}/ok-2:ok`,
      `${RG}/flaky-1:failed`,
      `${RG}/nolicense-1:failed`,
      `${RG}/ghost-1:failed`,
      'bad name!:failed',
      `${RG}/ok-3:ok`,
    ]);
    // The flaky machine was sent the grant (it is queued in Azure); never protected settings.
    expect(journal.targets[2].settingsSent.access.grantId).toBe(journal.request.grant.grantId);
    expect(JSON.stringify(journal)).not.toContain('protectedSettings');
  });

  it('--resume sends the same grant to only the machines that did not succeed, once fixed', async () => {
    const journalBefore = JSON.parse(await fs.readFile(`${cli.folder}/grant.json`, 'utf8'));
    const grant = journalBefore.request.grant;
    const okWrites = ['ok-1', 'ok-2', 'ok-3'].map((name) => cli.writesTo(name));

    cli.emulator.setMachineStatus(SUBSCRIPTION, RG, 'flaky-1', 'Connected');
    // The owner attests Software Assurance for one, and onboards the other to Arc.
    cli.emulator.setMachineLicense(SUBSCRIPTION, RG, 'nolicense-1', 'SoftwareAssurance');
    cli.emulator.addMachine({ subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'ghost-1' });
    // A grant needs the extension there: the operator deploys it to both first.
    expect(
      (await cli.run(['deploy', '--resource-group', RG, '--machine', 'nolicense-1', '--machine', 'ghost-1', '--journal', 'deploy.json']))
        .code,
    ).toBe(0);
    // The queued grant on flaky-1 finishes as soon as it is back; let it, as Azure would.
    while (cli.emulator.extension(SUBSCRIPTION, RG, 'flaky-1', 'WindowsRemoteSupport')?.properties.provisioningState !== 'Succeeded')
      await new Promise((resolve) => setTimeout(resolve, 20));

    const { code, stdout, stderr } = await cli.run(['grant', '--resume', 'grant.json', '--output', 'json']);
    expect(stderr).toContain(
      `Resuming grant from ${cli.folder}/grant.json: 3 machine(s) that did not succeed run again with the same grant ${grant.grantId}`,
    );
    expect(stderr).toContain('3 that succeeded are left alone');
    expect(stderr).toContain(
      'not retried (fix the input and run the command for it separately): bad name!: --machine "bad name!" is not a valid Arc machine name',
    );
    const report = JSON.parse(stdout);
    expect(report.grant).toEqual(grant);
    expect(report.results.map((row: { machine: string }) => row.machine)).toEqual([`${RG}/flaky-1`, `${RG}/nolicense-1`, `${RG}/ghost-1`]);
    expect(report.results[0].result).toBe('ok');
    expect(report.results.map((row: { result: string }) => row.result)).toEqual(['ok', 'ok', 'ok']);
    expect(code).toBe(0);

    // The same grant, and the machines that had succeeded were not written to again.
    expect(cli.emulator.extension(SUBSCRIPTION, RG, 'flaky-1', 'WindowsRemoteSupport')?.properties.settings.access).toEqual(grant);
    expect(['ok-1', 'ok-2', 'ok-3'].map((name) => cli.writesTo(name))).toEqual(okWrites);

    const journal = JSON.parse(await fs.readFile(`${cli.folder}/grant.json`, 'utf8'));
    expect(journal.runs.map((run: { resumed: boolean }) => run.resumed)).toEqual([false, true]);
    expect(journal.targets.filter((target: { result: string }) => target.result === 'ok').length).toBe(6);
    expect(journal.targets[5]).toMatchObject({ label: 'bad name!', result: 'failed', retryable: false });
  });

  it('a resume with nothing left to do says so and exits 0', async () => {
    const journal = JSON.parse(await fs.readFile(`${cli.folder}/grant.json`, 'utf8'));
    for (const target of journal.targets) target.result = 'ok';
    await fs.writeFile(`${cli.folder}/done.json`, JSON.stringify(journal));
    const { code, stderr } = await cli.run(['grant', '--resume', 'done.json']);
    expect(code).toBe(0);
    expect(stderr).toMatch(/nothing to do, 7 machine\(s\) already succeeded/);
  });

  it('refuses to resume a grant that has expired, before asking Azure anything', async () => {
    const journal = JSON.parse(await fs.readFile(`${cli.folder}/grant.json`, 'utf8'));
    journal.request.grant.expiresAt = '2020-01-01T00:00:00Z';
    for (const target of journal.targets) target.result = 'failed';
    await fs.writeFile(`${cli.folder}/expired.json`, JSON.stringify(journal));
    let asked = false;
    const credential = { getToken: async () => ((asked = true), null) };
    const { code, stderr } = await runOffline(['grant', '--resume', 'expired.json'], { cwd: cli.folder, credential });
    expect(code).toBe(2);
    expect(stderr).toContain(`That grant expired at 2020-01-01T00:00:00Z; there is nothing left to finish. Grant access again`);
    expect(asked).toBe(false);
  });

  it('the traffic matches HybridCompute.json', async () => {
    expect(await cli.emulator.validateTraffic()).toEqual([]);
  });
});

describe('Azure pushing back', () => {
  it('409 Conflict while another operation runs is retried until it can go through', async () => {
    const cli = await startEmulatedCli({
      operationMs: 400,
      machines: [{ subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'busy-1' }],
    });
    try {
      await cli.run(['deploy', '--machine', 'busy-1', '--resource-group', RG]);
      const [first, second] = await Promise.all([
        cli.run(['configure', '--machine', 'busy-1', '--resource-group', RG, '--retention-days', '30']),
        cli.run(['revoke', '--machine', 'busy-1', '--resource-group', RG]),
      ]);
      expect([first.code, second.code]).toEqual([0, 0]);
      expect(cli.emulator.counters.conflicts).toBeGreaterThan(0);
      expect(cli.emulator.traffic.some((record) => record.status === 409)).toBe(true);
      expect(await cli.emulator.validateTraffic()).toEqual([]);
    } finally {
      await cli.close();
    }
  });

  it('429 with Retry-After: retried by the SDK, and the fleet halves its concurrency and waits', async () => {
    const names = Array.from({ length: 10 }, (_, index) => `fleet-${index}`);
    const cli = await startEmulatedCli({
      operationMs: 20,
      writeBucket: { burst: 3, refillPerSecond: 4 },
      machines: names.map((name) => ({ subscriptionId: SUBSCRIPTION, resourceGroup: RG, name })),
    });
    try {
      const started = Date.now();
      const { code, stdout, stderr } = await cli.run(['deploy', '--resource-group', RG, '--output', 'json', '--concurrency', '16']);
      // Throttled writes were sent again only after their Retry-After (whole seconds, at least 1).
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      const report = JSON.parse(stdout);
      expect(code).toBe(0);
      expect(report.results.every((row: { result: string }) => row.result === 'ok')).toBe(true);
      expect(cli.emulator.counters.throttled).toBeGreaterThan(0);
      expect(report.throttled).toBe(cli.emulator.counters.throttled);
      expect(report.concurrency).toBeLessThan(8);
      expect(stderr).toMatch(/Azure throttled \d+ request\(s\); concurrency adapted to \d/);
      // Each throttled write was answered with Retry-After, and sent again only after it.
      const throttled = cli.emulator.traffic.filter((record) => record.status === 429);
      expect(throttled.every((record) => Number(record.responseHeaders['retry-after']) >= 1)).toBe(true);
      expect(await cli.emulator.validateTraffic()).toEqual([]);
    } finally {
      await cli.close();
    }
  });
});
