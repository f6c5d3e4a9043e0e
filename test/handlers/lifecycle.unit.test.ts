/**
 * The lifecycle commands in-process: what an owner sees in the status, and what is recorded in
 * the data folder, across re-runs, expiry and the upgrade marker protocol.
 */
import { promises as fs } from 'fs';
import { GROUPS } from '../../core/node-layout';
import { op } from '../../windows/operations';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { updateMachine } from '../../sim/windows/default-machine';
import { ExtensionFixture, grantSettings } from '../support/extension-fixture';

describe('lifecycle commands', () => {
  let fixture: ExtensionFixture;
  const start = new Date('2026-11-24T20:00:00Z');
  const later = (minutes: number) => new Date(start.getTime() + minutes * 60_000);

  beforeEach(async () => {
    fixture = await ExtensionFixture.create();
  });
  afterEach(() => fixture.remove());

  it('records a grant and tells the owner level, ticket, expiry and time left', async () => {
    expect((await fixture.run('install', { now: start })).exitCode).toBe(0);
    await new SimulatedHost(fixture.machinePath).execute(
      [op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] })],
      { phase: 'owner' },
    );
    await fixture.writeSettings(0, { publicSettings: grantSettings(start) });
    expect((await fixture.run('enable', { sequenceNumber: 0, now: start })).exitCode).toBe(0);
    const status = await fixture.status(0);
    expect(status.status).toMatchObject({ operation: 'Enable', status: 'success', code: 0 });
    expect(status.status.formattedMessage.message).toBe(
      'Access: Diagnostics for support request TKT-2611240001 until 2026-11-25T03:59:00Z (7 h 59 min left). Settings 0 applied.',
    );
    const state = await fixture.state();
    expect(state.applied.desired.grant).toMatchObject({ level: 'Diagnostics', expiresAt: '2026-11-25T03:59:00.000Z' });
  });

  it('never extends a grant when enable runs again with the same settings (after a reboot)', async () => {
    await fixture.run('install', { now: start });
    await fixture.writeSettings(0, { publicSettings: grantSettings(start) });
    await fixture.run('enable', { sequenceNumber: 0, now: start });
    await fixture.run('enable', { sequenceNumber: 0, now: later(180) });
    expect((await fixture.state()).applied.desired.grant.expiresAt).toBe('2026-11-25T03:59:00.000Z');
    expect((await fixture.status(0)).status.formattedMessage.message).toContain('until 2026-11-25T03:59:00Z (4 h 59 min left)');
  });

  it('leaves state.json as it is when a run changes nothing, and rewrites it when something changes', async () => {
    await fixture.run('install', { now: start });
    await fixture.writeSettings(0, { publicSettings: grantSettings(start) });
    await fixture.run('enable', { sequenceNumber: 0, now: start });
    const stateFile = `${fixture.dataFolder}/state.json`;
    const written = await fs.stat(stateFile);
    await fixture.run('enable', { sequenceNumber: 0, now: start });
    // The same file, not a rewrite of the same bytes: a no-op enable costs no write and no flush to disk.
    expect((await fs.stat(stateFile)).ino).toBe(written.ino);
    await fixture.run('disable', { sequenceNumber: 0, now: start });
    expect((await fs.stat(stateFile)).ino).not.toBe(written.ino);
    expect((await fixture.state()).enabled).toBe(false);
  });

  it('reports an applied grant whose expiry passed as expired, not as bad settings', async () => {
    await fixture.run('install', { now: start });
    await fixture.writeSettings(0, { publicSettings: grantSettings(start) });
    await fixture.run('enable', { sequenceNumber: 0, now: start });
    const afterExpiry = await fixture.run('enable', { sequenceNumber: 0, now: later(9 * 60) });
    expect(afterExpiry.exitCode).toBe(0);
    expect((await fixture.status(0)).status.formattedMessage.message).toMatch(
      /^Access: none \(the Diagnostics grant for support request TKT-2611240001 expired at 2026-11-25T03:59:00Z\)/,
    );
  });

  it('accepts times with seven fractional digits, as .NET and Azure tooling write them, to the millisecond', async () => {
    await fixture.run('install', { now: start });
    await fixture.writeSettings(0, {
      publicSettings: {
        ...grantSettings(start, {
          expiresAt: '2026-11-25T03:59:00.9876543Z',
          consent: { termsVersion: '2026.1', acceptedAt: '2026-11-24T19:59:00.1234567Z', acceptedBy: 'owner@contoso.example' },
        }),
        observedLicense: { kind: 'PayAsYouGo', observedAt: '2026-11-24T19:58:00.0000001Z' },
      },
    });
    expect((await fixture.run('enable', { sequenceNumber: 0, now: start })).exitCode).toBe(0);
    expect((await fixture.state()).applied.desired.grant).toMatchObject({
      expiresAt: '2026-11-25T03:59:00.987Z',
      consent: { acceptedAt: '2026-11-24T19:59:00.123Z' },
    });
    expect((await fixture.status(0)).status.formattedMessage.message).toContain('until 2026-11-25T03:59:00.987Z');
  });

  it('accepts the DiagnosticsRepair alias as DiagnosticsAndRepair and level None as a revoke', async () => {
    await fixture.run('install', { now: start });
    await fixture.writeSettings(0, { publicSettings: grantSettings(start, { level: 'DiagnosticsRepair' }) });
    await fixture.run('enable', { sequenceNumber: 0, now: start });
    expect((await fixture.state()).applied.desired.grant.level).toBe('DiagnosticsAndRepair');
    await fixture.writeSettings(1, { publicSettings: { schemaVersion: 1, access: { level: 'None' } } });
    expect((await fixture.run('enable', { sequenceNumber: 1, now: later(5) })).exitCode).toBe(0);
    expect((await fixture.state()).applied.desired.grant).toBeUndefined();
    expect((await fixture.status(1)).status.formattedMessage.message).toBe('Access: none. Settings 1 applied.');
  });

  it('keeps state through the upgrade marker protocol and removes everything on a real uninstall', async () => {
    await fixture.run('install', { now: start });
    await fixture.writeSettings(0, { publicSettings: grantSettings(start) });
    await fixture.run('enable', { sequenceNumber: 0, now: start });
    // The manager runs the NEW version's update, then the OLD version's uninstall.
    const update = await fixture.runAs('1.1.0', 'update', { env: { AZURE_GUEST_AGENT_UPDATING_FROM_VERSION: '1.0.0' }, now: later(1) });
    expect(update.exitCode).toBe(0);
    expect(JSON.parse(await fs.readFile(`${fixture.dataFolder}/upgrade.json`, 'utf8'))).toMatchObject({
      fromVersion: '1.0.0',
      toVersion: '1.1.0',
    });
    expect((await fixture.run('uninstall', { now: later(2) })).exitCode).toBe(0);
    expect((await fixture.state()).applied.desired.grant.grantId).toBe('3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f');
    await fixture.runAs('1.1.0', 'install', { now: later(3) });
    await expect(fs.access(`${fixture.dataFolder}/upgrade.json`)).rejects.toThrow();
    expect((await fixture.state()).extensionVersion).toBe('1.1.0');
    // A plain uninstall of the current version leaves nothing behind.
    expect((await fixture.runAs('1.1.0', 'uninstall', { now: later(4) })).exitCode).toBe(0);
    await expect(fs.access(fixture.dataFolder)).rejects.toThrow();
  });

  it('warns when the version an Azure Policy asks for (versionMarker) is newer, or of another major, than the one running', async () => {
    await fixture.run('install', { now: start });
    await fixture.writeSettings(0, { publicSettings: { schemaVersion: 1, access: { level: 'None' }, versionMarker: '1.0' } });
    await fixture.run('enable', { sequenceNumber: 0, now: start });
    expect((await fixture.status(0)).status).toMatchObject({
      status: 'success',
      formattedMessage: { message: 'Access: none. Settings 0 applied.' },
    });
    await fixture.writeSettings(1, { publicSettings: { schemaVersion: 1, access: { level: 'None' }, versionMarker: '1.1' } });
    expect((await fixture.run('enable', { sequenceNumber: 1, now: start })).exitCode).toBe(0);
    expect((await fixture.status(1)).status).toMatchObject({
      status: 'warning',
      formattedMessage: {
        message:
          'Access: none. Settings 1 applied. The settings ask for version 1.1 (versionMarker) but 1.0.0 runs: update the extension to 1.1, or change the marker.',
      },
    });
    // A newer minor version came by automatic upgrade: what the marker asked for, or better.
    await fixture.writeSettings(2, { publicSettings: { schemaVersion: 1, access: { level: 'None' }, versionMarker: '1.0' } });
    await fixture.runAs('1.2.0', 'enable', { sequenceNumber: 2, now: start });
    expect((await fixture.status(2)).status.status).toBe('success');
    await fixture.writeSettings(3, { publicSettings: { schemaVersion: 1, access: { level: 'None' }, versionMarker: '2.0' } });
    await fixture.runAs('1.2.0', 'enable', { sequenceNumber: 3, now: start });
    expect((await fixture.status(3)).status.status).toBe('warning');
  });

  it('ends access at an uninstall without a prior disable with its history line and event, and says what stays', async () => {
    await fixture.run('install', { now: start });
    await new SimulatedHost(fixture.machinePath).execute(
      [op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] })],
      { phase: 'owner' },
    );
    await fixture.writeSettings(0, { publicSettings: grantSettings(start) });
    expect((await fixture.run('enable', { sequenceNumber: 0, now: start })).exitCode).toBe(0);
    const node = async () => (await fixture.machine()).nodes['ARC-NODE-1']!;
    const history = async () =>
      Buffer.from((await node()).files['c:\\programdata\\arcremotesupport\\history.jsonl']!.contentBase64!, 'base64').toString('utf8');
    const revokedByUninstall = async () =>
      (await node()).events.filter((event) => event.eventId === 1003 && event.message.includes('by uninstall'));

    // The data folder cannot be removed: uninstall stops there, after access and its audit.
    await updateMachine(fixture.machinePath, (machine) => {
      machine.faults = [{ operation: 'removePath', action: 'fail', code: 'AccessDenied', message: 'in use', remaining: 10 }];
    });
    expect((await fixture.run('uninstall', { sequenceNumber: 0, now: later(30) })).exitCode).toBe(1);
    expect((await node()).groups['arcremotesupport diagnostics']?.members ?? []).toEqual([]);
    const lastLine = JSON.parse((await history()).trim().split('\n').pop()!);
    expect(lastLine).toMatchObject({
      change: 'revoked',
      by: 'uninstall',
      level: 'None',
      grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f',
      supportRequestId: 'TKT-2611240001',
    });
    expect((await revokedByUninstall()).map((event) => event.message)).toEqual([
      'Remote support access revoked: level None, grant 3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f, audit 20261124T203000Z-revoked-3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f, expires 2026-11-25T03:59:00Z, support request TKT-2611240001, terms 2026.1, by uninstall.',
    ]);

    // Run again once the fault is gone: finished, without a second record of the same revoke.
    await updateMachine(fixture.machinePath, (machine) => {
      machine.faults = [];
    });
    expect((await fixture.run('uninstall', { sequenceNumber: 0, now: later(31) })).exitCode).toBe(0);
    expect(await revokedByUninstall()).toHaveLength(1);
    expect((await node()).files['c:\\programdata\\arcremotesupport']).toBeUndefined();
    expect((await fixture.status(0)).status.formattedMessage.message).toBe(
      "Uninstalled: access is off, and the groups, JEA endpoint and module, scheduled tasks, agent, owner's module, state, history and transcripts were removed. " +
        "Kept by design as the audit record: the entries of source 'ArcRemoteSupport' in the Windows Application event log (every access change, uninstall included, kept as long as that log keeps entries) " +
        "and the registration of that source, which Event Viewer needs to show them. The extension manager's own folders (settings, status and this handler's log) are the manager's to remove.",
    );
  });

  it('writes no access change at an uninstall when nobody had access', async () => {
    await fixture.run('install', { now: start });
    await fixture.writeSettings(0, { publicSettings: { schemaVersion: 1, access: { level: 'None' } } });
    await fixture.run('enable', { sequenceNumber: 0, now: start });
    expect((await fixture.run('uninstall', { sequenceNumber: 0, now: later(1) })).exitCode).toBe(0);
    expect((await fixture.machine()).nodes['ARC-NODE-1']!.events.filter((event) => event.eventId === 1003)).toEqual([]);
  });

  it('journals every run with the manager environment, failures included', async () => {
    await fixture.run('install', { now: start });
    await fixture.writeSettingsText(0, '{broken');
    await fixture.run('enable', { sequenceNumber: 0, now: start, env: { AZURE_GUEST_AGENT_EXTENSION_VERSION: '1.0.0' } });
    const lines = (await fs.readFile(`${fixture.dataFolder}/operations.jsonl`, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.operation, line.status])).toEqual([
      ['install', 'success'],
      ['enable', 'error'],
    ]);
    expect(lines[1].environment).toEqual({ AZURE_GUEST_AGENT_EXTENSION_VERSION: '1.0.0', ConfigSequenceNumber: '0' });
    expect(lines[1].problem).toContain("Invalid setting 'settings file'");
  });
});

describe('a grant nobody can use', () => {
  it('warns the owner when the engineers group is empty, naming the group and the node', async () => {
    const fixture = await ExtensionFixture.create();
    try {
      const now = new Date((await fixture.machine()).clock.nowUtc);
      await fixture.run('install', { sequenceNumber: 0 });
      await fixture.writeSettings(1, { publicSettings: grantSettings(now) });
      expect((await fixture.run('enable', { sequenceNumber: 1 })).exitCode).toBe(0);
      const status = (await fixture.status(1)).status;
      expect(status.status).toBe('warning');
      expect(status.substatus[0]).toMatchObject({ name: 'Node ARC-NODE-1', status: 'warning' });
      expect(status.substatus[0]!.formattedMessage.message).toContain(
        "the group 'ArcRemoteSupport Engineers' is empty. Add the support engineers' accounts to it on ARC-NODE-1",
      );
    } finally {
      await fixture.remove();
    }
  });
});
