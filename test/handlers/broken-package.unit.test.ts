/**
 * A package whose files cannot be read (a role capability file deleted or locked, a half-copied
 * update) fails closed: it never gives access, and it never keeps access from being taken away.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { GROUPS } from '../../core/node-layout';
import { op } from '../../windows/operations';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { ExtensionFixture, grantSettings } from '../support/extension-fixture';

const START = new Date('2026-11-24T20:00:00Z');
const ROLE_FILE = path.join('jea', 'RoleCapabilities', 'ArcRemoteSupportDiagnostics.psrc');

describe('a broken package', () => {
  let fixture: ExtensionFixture;
  const diagnosticsMembers = async () =>
    (await fixture.machine()).nodes['ARC-NODE-1']!.groups[GROUPS.diagnostics.toLowerCase()]?.members ?? [];

  beforeEach(async () => {
    fixture = await ExtensionFixture.create();
    expect((await fixture.run('install', { now: START })).exitCode).toBe(0);
    await new SimulatedHost(fixture.machinePath).execute(
      [op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] })],
      {
        phase: 'owner',
      },
    );
  });
  afterEach(() => fixture.remove());

  it('still takes access away at a revoke, then fails naming the missing file', async () => {
    await fixture.writeSettings(1, { publicSettings: grantSettings(START) });
    expect((await fixture.run('enable', { sequenceNumber: 1, now: START })).exitCode).toBe(0);
    expect(await diagnosticsMembers()).toEqual(['CONTOSO\\engineer1']);

    await fs.rm(path.join(fixture.root, ROLE_FILE));
    await fixture.writeSettings(2, { publicSettings: { schemaVersion: 1, access: { level: 'None' } } });
    const revoke = await fixture.run('enable', { sequenceNumber: 2, now: START });

    expect(await diagnosticsMembers()).toEqual([]);
    expect(revoke.exitCode).toBe(52);
    const status = (await fixture.status(2)).status;
    expect(status.status).toBe('error');
    expect(status.formattedMessage.message).toMatch(
      /package is incomplete .*ArcRemoteSupportDiagnostics\.psrc.*access was not given, and any access in force was taken away\. Reinstall the extension\./,
    );
  });

  it('never gives access with files it cannot read', async () => {
    await fs.rm(path.join(fixture.root, ROLE_FILE));
    await fixture.writeSettings(1, { publicSettings: grantSettings(START) });
    expect((await fixture.run('enable', { sequenceNumber: 1, now: START })).exitCode).toBe(52);
    expect(await diagnosticsMembers()).toEqual([]);
  });
});
