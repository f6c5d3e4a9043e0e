/**
 * The CLI end to end: through the real SDK to the ARM emulator, whose machines run the real
 * handler package on a simulated two-node Windows Server failover cluster. The node lines the
 * CLI reads in `status` and `--cluster` are the handler's own.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { buildPackage } from '../../scripts/build/package';
import { handlerPackageRunner, type HandlerPackageRunner } from '../../sim/arm/handler-package-runner';
import { openSupportTickets, startEmulatedCli, SUBSCRIPTION, type EmulatedCli } from '../support/cli-harness';

const RG = 'rg-cluster';

describe('the CLI with the real handler behind the emulated Arc extension manager', () => {
  let work: string;
  let cli: EmulatedCli;
  let runner: HandlerPackageRunner;
  const packages: Record<string, string> = {};
  const commandsOf = (machine: string) => runner.commands.filter((line) => line.startsWith(`${machine} `));

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(tmpdir(), 'ars-cli-real-'));
    for (const version of ['1.0.0', '1.0.1']) {
      const built = await buildPackage({ version, outDir: path.join(work, 'dist'), log: () => undefined });
      await execa('unzip', ['-q', built.zipPath, '-d', path.join(work, `package-${version}`)]);
    }
    // 1.0.1 is published later, for the upgrade.
    packages['1.0.0'] = path.join(work, 'package-1.0.0');
    runner = handlerPackageRunner({ packages, workDir: path.join(work, 'machines'), clusters: [['FS-01', 'FS-02']] });
    cli = await startEmulatedCli({
      supportTickets: openSupportTickets('TKT-2611240001'),
      operationMs: 5,
      machines: ['FS-01', 'FS-02'].map((name) => ({ subscriptionId: SUBSCRIPTION, resourceGroup: RG, name })),
      runExtension: (run) => runner.runExtension(run),
    });
  }, 240_000);

  afterAll(async () => {
    await cli?.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  const seed = ['--machine', 'FS-01', '--resource-group', RG];
  const json = async (argv: string[]) => {
    const run = await cli.run([...argv, '--output', 'json']);
    return { ...run, report: JSON.parse(run.stdout || '{}') };
  };

  it("deploys on one node, then --cluster finds the other from the handler's node lines", async () => {
    const first = await json(['deploy', ...seed]);
    expect(first.code).toBe(0);
    const both = await json(['deploy', ...seed, '--cluster']);
    expect(both.code).toBe(0);
    expect(both.report.results.map((row: { machine: string; detail: string }) => [row.machine, row.detail.split(' (')[0]])).toEqual([
      [`${RG}/FS-01`, 'redeployed 1.0'],
      [`${RG}/FS-02`, 'deployed 1.0'],
    ]);
    expect(runner.commands).toEqual([
      'FS-01 install 1.0.0 -> 0',
      'FS-01 enable 1.0.0 -> 0',
      'FS-01 enable 1.0.0 -> 0',
      'FS-02 install 1.0.0 -> 0',
      'FS-02 enable 1.0.0 -> 0',
    ]);
  }, 120_000);

  it('grants the cluster one grant, and status shows it per machine and per node', async () => {
    const granted = await json([
      'grant',
      ...seed,
      '--cluster',
      '--level',
      'Diagnostics',
      '--duration',
      '8h',
      '--support-request',
      'TKT-2611240001',
      '--accept-terms',
    ]);
    expect(granted.code).toBe(0);
    const { grantId, expiresAt } = granted.report.grant;

    const status = await json(['status', ...seed, '--cluster']);
    expect(status.code).toBe(0);
    const [fs01, fs02] = status.report.machines;
    for (const machine of [fs01, fs02]) {
      expect(machine).toMatchObject({
        provisioningState: 'Succeeded',
        level: 'Diagnostics',
        supportRequestId: 'TKT-2611240001',
        grantId,
        expiresAt,
        timeLeft: expect.stringMatching(/^(7 h 59|8 h 0) min$/),
      });
      // The handler measures time left on the simulated Windows clock.
      expect(machine.message).toMatch(
        new RegExp(`^Access: Diagnostics for support request TKT-2611240001 until ${expiresAt} \\((7 h 59|8 h 0) min left\\)`),
      );
    }
    expect(fs01.nodes.map((node: { node: string }) => node.node)).toEqual(['FS-01', 'FS-02']);
    expect(fs01.nodes[0].message).toMatch(new RegExp(`^access Diagnostics until ${expiresAt}`));
    expect(fs02.nodes.map((node: { node: string }) => node.node)).toEqual(['FS-02', 'FS-01']);
  }, 120_000);

  it('an upgrade keeps the grant; revoke ends it on every node; remove uninstalls', async () => {
    packages['1.0.1'] = path.join(work, 'package-1.0.1');
    const fs02Before = commandsOf('FS-02').length;
    const upgraded = await json(['upgrade', '--resource-group', RG, '--version', '1.0.1']);
    expect(upgraded.code).toBe(0);
    // The extension manager's update order, on each node.
    expect(commandsOf('FS-02').slice(fs02Before)).toEqual([
      'FS-02 disable 1.0.0 -> 0',
      'FS-02 update 1.0.1 -> 0',
      'FS-02 uninstall 1.0.0 -> 0',
      'FS-02 install 1.0.1 -> 0',
      'FS-02 enable 1.0.1 -> 0',
    ]);
    const afterUpgrade = await json(['status', '--resource-group', RG]);
    expect(afterUpgrade.report.machines.map((machine: { level: string }) => machine.level)).toEqual(['Diagnostics', 'Diagnostics']);
    expect(afterUpgrade.report.machines[0].nodes[0].message).toMatch(/^access Diagnostics until/);

    const revoked = await json(['revoke', '--resource-group', RG]);
    expect(revoked.code).toBe(0);
    const afterRevoke = await json(['status', '--resource-group', RG]);
    expect(
      afterRevoke.report.machines.map((machine: { level: string; message: string }) => [machine.level, machine.message.split('.')[0]]),
    ).toEqual([
      ['None', 'Access: none'],
      ['None', 'Access: none'],
    ]);
    expect(afterRevoke.report.machines[0].nodes[0].message).toMatch(/^access off/);

    const removed = await json(['remove', '--resource-group', RG]);
    expect(removed.code).toBe(0);
    expect(commandsOf('FS-01').slice(-2)).toEqual(['FS-01 disable 1.0.1 -> 0', 'FS-01 uninstall 1.0.1 -> 0']);
    expect(commandsOf('FS-02').slice(-2)).toEqual(['FS-02 disable 1.0.1 -> 0', 'FS-02 uninstall 1.0.1 -> 0']);
    expect(await cli.emulator.validateTraffic()).toEqual([]);
  }, 180_000);
});
