/**
 * A revoke never fails on a technicality: the access level in any letter case, the alias too, and
 * settings that say nothing about access are reported for what they are: the grant in force stays,
 * and the status says so and how to revoke it.
 */
import { GROUPS } from '../../core/node-layout';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { op } from '../../windows/operations';
import { ExtensionFixture, grantSettings, iso } from '../support/extension-fixture';

const START = new Date('2026-11-24T20:00:00Z');
const later = (minutes: number) => new Date(START.getTime() + minutes * 60_000);
const X = '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f';
const ENGINEER = 'CONTOSO\\engineer1';
const grantX = { publicSettings: grantSettings(START) };

describe('a revoke never fails on a technicality', () => {
  let fixture: ExtensionFixture;
  let host: SimulatedHost;

  beforeEach(async () => {
    fixture = await ExtensionFixture.create();
    host = new SimulatedHost(fixture.machinePath);
    await fixture.run('install', { now: START });
    await host.execute([op('setLocalGroupMembers', { name: GROUPS.engineers, members: [ENGINEER] })], { phase: 'owner' });
  });
  afterEach(() => fixture.remove());

  const members = async (group: string) => {
    const [outcome] = await host.execute([op('getLocalGroup', { name: group })], { phase: 'check' });
    return outcome?.ok ? (outcome.value as { members: string[] }).members : null;
  };

  it.each(['none', 'NONE', 'nOnE'])('revokes with level %s', async (level) => {
    await fixture.writeSettings(0, grantX);
    await fixture.run('enable', { sequenceNumber: 0, now: START });
    await fixture.writeSettings(1, { publicSettings: { schemaVersion: 1, access: { level } } });
    expect((await fixture.run('enable', { sequenceNumber: 1, now: later(5) })).exitCode).toBe(0);
    expect((await fixture.status(1)).status.formattedMessage.message).toBe('Access: none. Settings 1 applied.');
    expect(await members(GROUPS.diagnostics)).toEqual([]);
  });

  it.each([
    ['diagnostics', 'Diagnostics', GROUPS.diagnostics],
    ['DIAGNOSTICSANDREPAIR', 'DiagnosticsAndRepair', GROUPS.repair],
    ['diagnosticsrepair', 'DiagnosticsAndRepair', GROUPS.repair],
  ])('grants level %s as %s', async (level, canonical, group) => {
    await fixture.writeSettings(0, { publicSettings: grantSettings(START, { level }) });
    expect((await fixture.run('enable', { sequenceNumber: 0, now: START })).exitCode).toBe(0);
    expect((await fixture.state()).applied.desired.grant.level).toBe(canonical);
    expect(await members(group)).toEqual([ENGINEER]);
  });

  it('says that settings without an access section, or an empty file, leave the grant in force, and how to revoke it', async () => {
    await fixture.writeSettings(0, grantX);
    await fixture.run('enable', { sequenceNumber: 0, now: START });
    const until = iso(new Date(START.getTime() - 60_000 + 8 * 3_600_000));

    await fixture.writeSettings(1, { publicSettings: { schemaVersion: 1, retentionDays: 30 } });
    expect((await fixture.run('enable', { sequenceNumber: 1, now: later(60) })).exitCode).toBe(0);
    expect((await fixture.status(1)).status).toMatchObject({
      status: 'warning',
      formattedMessage: {
        message: `Access: Diagnostics for support request TKT-2611240001 until ${until} (6 h 59 min left). Settings 1 carry no access section: grant ${X} stays in force until ${until}; set access.level to None to revoke it.`,
      },
    });
    expect(await members(GROUPS.diagnostics)).toEqual([ENGINEER]);

    await fixture.writeSettingsText(2, '');
    expect((await fixture.run('enable', { sequenceNumber: 2, now: later(120) })).exitCode).toBe(0);
    expect((await fixture.status(2)).status.formattedMessage.message).toBe(
      `Access: Diagnostics for support request TKT-2611240001 until ${until} (5 h 59 min left). Settings 2 are empty: grant ${X} stays in force until ${until}; set access.level to None to revoke it.`,
    );
    expect(await members(GROUPS.diagnostics)).toEqual([ENGINEER]);
  });

  it('says what settings without an access section did when no grant is in force', async () => {
    await fixture.writeSettings(0, { publicSettings: { schemaVersion: 1 } });
    expect((await fixture.run('enable', { sequenceNumber: 0, now: START })).exitCode).toBe(0);
    expect((await fixture.status(0)).status).toMatchObject({
      status: 'success',
      formattedMessage: { message: 'Access: none. Settings 0 carry no access section; no grant is in force.' },
    });
  });
});
