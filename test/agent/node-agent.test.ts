/**
 * The bundled node agent (bin/agent.js), run as the scheduled tasks run it: a process with a
 * command line, on the simulated machine and on the Node the package ships.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import path from 'path';
import { serializeDesiredRecord } from '../../core/desired-record';
import { DESIRED_STATE_FILE, GROUPS } from '../../core/node-layout';
import { op } from '../../windows/operations';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { bundleHandler } from '../../scripts/build/bundle';
import { makeTempDir } from '../support/cms';
import { ExtensionFixture, grantSettings } from '../support/extension-fixture';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';
import { shippedNode } from '../../scripts/build/shipped-node';

describe('the node agent executable', () => {
  let bin: string;
  let fixture: ExtensionFixture;
  let host: SimulatedHost;
  let simulator: string;
  let node: string;

  beforeAll(async () => {
    simulator = await simulatorBundle();
    node = await shippedNode();
    bin = await makeTempDir('ars-agent-bin');
    await bundleHandler({
      identity: { publisher: 'ArcRemoteSupport', type: 'WindowsRemoteSupport', version: '1.0.0' },
      outFile: path.join(bin, 'handler.js'),
    });
    fixture = await ExtensionFixture.create();
    host = new SimulatedHost(fixture.machinePath);
    expect((await fixture.run('install', { sequenceNumber: 0 })).exitCode).toBe(0);
    await host.execute([op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] })], { phase: 'owner' });
    await fixture.writeSettings(1, { publicSettings: grantSettings(new Date((await fixture.machine()).clock.nowUtc)) });
    expect((await fixture.run('enable', { sequenceNumber: 1 })).exitCode).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await fixture.remove();
    await fs.rm(bin, { recursive: true, force: true });
  });

  const agent = (...argv: string[]) =>
    execa(node, [path.join(bin, 'agent.js'), ...argv], { reject: false, env: simulatorEnvironment(fixture.machinePath, { simulator }) });

  it('reports the access in force', async () => {
    const status = await agent('status');
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(/^Access: Diagnostics for support request TKT-2611240001 until \S+Z\.$/);
  });

  it("reports the access in force as JSON for the owner's module: the grant, its state and who holds it", async () => {
    const status = await agent('status', '--json');
    expect(status.exitCode).toBe(0);
    const report = JSON.parse(status.stdout);
    expect(report.access).toEqual({
      level: 'Diagnostics',
      grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f',
      supportRequestId: 'TKT-2611240001',
      expiresAt: expect.stringMatching(/Z$/),
      consent: { termsVersion: '2026.1', acceptedAt: expect.stringMatching(/Z$/), acceptedBy: 'owner@contoso.example' },
    });
    expect(report.record).toMatchObject({
      schemaVersion: 1,
      enabled: true,
      retentionDays: 30,
      grant: { grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f' },
    });
    expect(report.grants).toEqual([
      expect.objectContaining({ level: 'Diagnostics', state: 'Active', engineers: ['CONTOSO\\engineer1'], endedAt: null }),
    ]);
    expect(report.warnings).toEqual([]);
  });

  it('lists the history as one JSON object a line, newest first', async () => {
    const history = await agent('history', '--json');
    expect(history.exitCode).toBe(0);
    const lines = history.stdout.split('\n').map((line) => JSON.parse(line));
    expect(lines).toEqual([
      {
        entry: expect.objectContaining({
          kind: 'Granted',
          by: 'owner@contoso.example',
          level: 'Diagnostics',
          supportRequestId: 'TKT-2611240001',
          transcript: null,
        }),
      },
    ]);
  });

  it('refuses a command it does not know, an argument it does not take, and expire without a grant id, with its usage', async () => {
    expect(await agent('bogus')).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('usage: agent <reconcile') });
    expect(await agent('expire')).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('expire needs --grant <id>') });
    expect(await agent('status', '--all')).toMatchObject({
      exitCode: 2,
      stderr: expect.stringContaining('status: unknown argument "--all"; it takes --json, --include-expired'),
    });
    expect(await agent('history', '--from', 'yesterday')).toMatchObject({
      exitCode: 2,
      stderr: expect.stringContaining('--from must be a UTC time such as 2026-03-01T00:00:00Z, not "yesterday"'),
    });
    expect(await agent('revoke', '--by', 'CONTOSO\\admin')).toMatchObject({
      exitCode: 2,
      stderr: expect.stringContaining('only the local revoke runs on the node'),
    });
    expect(await agent('revoke', '--local')).toMatchObject({
      exitCode: 2,
      stderr: expect.stringContaining('--by must name the Windows user who revokes'),
    });
  });

  it('reconciles: nothing to change, then fails closed on a corrupt record', async () => {
    expect(await agent('reconcile')).toMatchObject({ exitCode: 0, stdout: 'reconcile: nothing to change' });
    await host.execute([op('writeFile', { path: DESIRED_STATE_FILE, content: 'not json' })], { phase: 'corrupt' });
    const reconcile = await agent('reconcile');
    expect(reconcile.exitCode).toBe(0);
    expect(reconcile.stdout).toContain('remove diagnostics access');
    expect(reconcile.stdout).toContain('the desired-state record is unreadable');
    const [group] = await host.execute([op('getLocalGroup', { name: GROUPS.diagnostics })], { phase: 'check' });
    expect(group).toEqual({ ok: true, value: { exists: true, members: [] } });
  });

  it('revokes locally as the named user, reporting in ASCII-only JSON whatever the name', async () => {
    await host.execute(
      [op('writeFile', { path: DESIRED_STATE_FILE, content: serializeDesiredRecord({ enabled: true, retentionDays: 30, grant: null }) })],
      { phase: 'fix' },
    );
    await fixture.writeSettings(2, {
      publicSettings: grantSettings(new Date((await fixture.machine()).clock.nowUtc), { grantId: '5e2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e70' }),
    });
    expect((await fixture.run('enable', { sequenceNumber: 2 })).exitCode).toBe(0);

    const revoke = await agent('revoke', '--local', '--by', 'CONTOSO\\jürgen', '--json');
    expect(revoke.exitCode).toBe(0);
    expect(revoke.stdout).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(revoke.stdout)).toEqual({
      computerName: 'ARC-NODE-1',
      grantId: '5e2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e70',
      level: 'Diagnostics',
      membersRemoved: [`${GROUPS.diagnostics}: CONTOSO\\engineer1`],
      sessionsEnded: 0,
      expireTasksRemoved: ['Expire-5e2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e70'],
      recordCleared: true,
      historyWritten: true,
      eventWritten: true,
      warnings: [],
      failures: [],
    });
    const [latest] = JSON.parse(`[${(await agent('history', '--json')).stdout.split('\n')[0]}]`);
    expect(latest.entry).toMatchObject({ kind: 'Revoked', by: 'CONTOSO\\jürgen (local)', grantId: '5e2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e70' });
    // The extension's unchanged settings do not bring the grant back: they are refused, naming why.
    expect((await fixture.run('enable', { sequenceNumber: 2 })).exitCode).toBe(53);
    expect((await fixture.status(2)).status.formattedMessage.message).toContain(
      "because the machine's owner revoked it on the machine (CONTOSO\\jürgen)",
    );
    expect((await agent('status')).stdout).toBe('Access: none.');
  });
});
