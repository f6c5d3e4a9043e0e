/**
 * A grant that ended never comes back: whatever the extension manager replays after a revoke by
 * settings, a local revoke, a disable, an expiry or a replacement (an older sequence number, a
 * reset one, an old settings file with a newer time, the same number with the old or other
 * content), and across an update, the handler refuses it with exit 53 naming the grant and why it
 * ended, and nobody gets access. The node agent does not give back a grant a replayed record carries.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { runAgentCommand } from '../../agent/commands';
import { parseDesiredRecord } from '../../core/desired-record';
import { DESIRED_STATE_FILE, GROUPS } from '../../core/node-layout';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { op } from '../../windows/operations';
import { ExtensionFixture, grantSettings, iso } from '../support/extension-fixture';

const START = new Date('2026-11-24T20:00:00Z');
const later = (minutes: number) => new Date(START.getTime() + minutes * 60_000);
const X = '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f';
const Y = '7a1c9e2b-4d3f-4a5b-8c6d-0e1f2a3b4c5d';
const ENGINEER = 'CONTOSO\\engineer1';
const REVOKE = { publicSettings: { schemaVersion: 1, access: { level: 'None' }, retentionDays: 30 } };
const grantX = { publicSettings: grantSettings(START) };

describe('a grant that ended never comes back', () => {
  let fixture: ExtensionFixture;
  let host: SimulatedHost;

  beforeEach(async () => {
    fixture = await ExtensionFixture.create();
    host = new SimulatedHost(fixture.machinePath);
    expect((await fixture.run('install', { now: START })).exitCode).toBe(0);
    await host.execute([op('setLocalGroupMembers', { name: GROUPS.engineers, members: [ENGINEER] })], { phase: 'owner' });
    await fixture.writeSettings(0, grantX);
    expect((await fixture.run('enable', { sequenceNumber: 0, now: START })).exitCode).toBe(0);
    expect(await access()).toEqual([ENGINEER]);
  });
  afterEach(() => fixture.remove());

  /** Who holds access on this node: the members of both access groups. */
  const access = async () => {
    const outcomes = await host.execute([op('getLocalGroup', { name: GROUPS.diagnostics }), op('getLocalGroup', { name: GROUPS.repair })], {
      phase: 'check',
    });
    return outcomes.flatMap((outcome) => (outcome.ok ? (outcome.value as { members: string[] }).members : ['unreadable']));
  };
  const record = async () => {
    const [outcome] = await host.execute([op('readFile', { path: DESIRED_STATE_FILE })], { phase: 'check' });
    return outcome?.ok ? (outcome.value as { content: string | null }).content : null;
  };
  /** Runs enable and expects the refusal: exit 53, the field, the grant, when and why it ended, and the fix. */
  const expectRefused = async (run: Promise<{ exitCode: number }>, sequenceNumber: number, grantId: string, ended: string) => {
    expect((await run).exitCode).toBe(53);
    const status = (await fixture.status(sequenceNumber)).status;
    expect(status).toMatchObject({ status: 'error', code: 53 });
    expect(status.formattedMessage.message).toBe(
      `Invalid setting 'access.grantId': received "${grantId}", a grant that ${ended}; a grant that ended never gives access again. ` +
        'Accepted: a new grant: grant access again, which records a new consent under a new grantId (or set access.level to None). ' +
        'These settings were not applied; the configuration in force before is unchanged.',
    );
  };
  const revokedAt = (time: Date) => `ended at ${iso(time)} because it was revoked (access level None in the extension settings)`;

  it('refuses an older sequence number replayed after a revoke by settings', async () => {
    await fixture.writeSettings(1, REVOKE);
    expect((await fixture.run('enable', { sequenceNumber: 1, now: later(5) })).exitCode).toBe(0);
    expect(await access()).toEqual([]);
    const stateAfterRevoke = await fixture.stateText();

    await expectRefused(fixture.run('enable', { sequenceNumber: 0, now: later(10) }), 0, X, revokedAt(later(5)));
    expect(await access()).toEqual([]);
    expect(await fixture.stateText()).toBe(stateAfterRevoke);
  });

  it('refuses the old grant under a reset sequence number, and gives access for a new grant id only', async () => {
    await fixture.writeSettings(1, REVOKE);
    await fixture.run('enable', { sequenceNumber: 1, now: later(5) });
    // The manager starts counting again: 0 carries the old grant.
    await fixture.writeSettings(0, grantX);
    await expectRefused(fixture.run('enable', { sequenceNumber: 0, now: later(10) }), 0, X, revokedAt(later(5)));
    expect(await access()).toEqual([]);

    await fixture.writeSettings(0, { publicSettings: grantSettings(later(10), { grantId: Y }) });
    expect((await fixture.run('enable', { sequenceNumber: 0, now: later(10) })).exitCode).toBe(0);
    expect(await access()).toEqual([ENGINEER]);
  });

  it('refuses an old settings file left on disk when its time is newer and no sequence number is given', async () => {
    await fixture.writeSettings(1, REVOKE);
    await fixture.run('enable', { sequenceNumber: 1, now: later(5) });
    const future = new Date(Date.now() + 3_600_000);
    await fs.utimes(path.join(fixture.configFolder, '0.settings'), future, future);

    await expectRefused(fixture.run('enable', { now: later(10) }), 0, X, revokedAt(later(5)));
    expect(await access()).toEqual([]);
  });

  it('refuses the same sequence number with the old content, or with other content for the same grant', async () => {
    await fixture.writeSettings(0, REVOKE);
    expect((await fixture.run('enable', { sequenceNumber: 0, now: later(5) })).exitCode).toBe(0);
    await fixture.writeSettings(0, grantX);
    await expectRefused(fixture.run('enable', { sequenceNumber: 0, now: later(10) }), 0, X, revokedAt(later(5)));
    // Another level and a later expiry under the same grant id: still that grant.
    await fixture.writeSettings(0, { publicSettings: grantSettings(START, { level: 'DiagnosticsAndRepair' }, 10) });
    await expectRefused(fixture.run('enable', { sequenceNumber: 0, now: later(15) }), 0, X, revokedAt(later(5)));
    expect(await access()).toEqual([]);
  });

  it("refuses the grant after the owner's local revoke, naming who revoked it", async () => {
    const revoke = await runAgentCommand(['revoke', '--local', '--by', 'CONTOSO\\admin'], host, later(5));
    expect(revoke.exitCode).toBe(0);
    expect(await access()).toEqual([]);

    await expectRefused(
      fixture.run('enable', { sequenceNumber: 0, now: later(10) }),
      0,
      X,
      `ended at ${iso(later(5))} because the machine's owner revoked it on the machine (CONTOSO\\admin)`,
    );
    expect(await access()).toEqual([]);
  });

  it('reports an expired grant replayed unchanged as expired, and refuses it with a later expiry', async () => {
    const expiry = new Date(START.getTime() - 60_000 + 8 * 3_600_000);
    const afterExpiry = later(9 * 60);
    expect((await runAgentCommand(['reconcile'], host, afterExpiry)).exitCode).toBe(0);
    expect(await access()).toEqual([]);
    // After a reboot the manager runs enable again with the same settings: nothing to refuse, nothing given.
    expect((await fixture.run('enable', { sequenceNumber: 0, now: afterExpiry })).exitCode).toBe(0);
    expect((await fixture.status(0)).status.formattedMessage.message).toMatch(
      /^Access: none \(the Diagnostics grant for support request TKT-2611240001 expired at /,
    );

    await fixture.writeSettings(1, { publicSettings: grantSettings(START, {}, 12) });
    await expectRefused(fixture.run('enable', { sequenceNumber: 1, now: afterExpiry }), 1, X, `ended at ${iso(expiry)} because it expired`);
    expect(await access()).toEqual([]);
  });

  it('refuses a grant another grant replaced, and keeps the new one in force', async () => {
    await fixture.writeSettings(1, { publicSettings: grantSettings(later(5), { grantId: Y, level: 'DiagnosticsAndRepair' }) });
    expect((await fixture.run('enable', { sequenceNumber: 1, now: later(5) })).exitCode).toBe(0);

    await expectRefused(
      fixture.run('enable', { sequenceNumber: 0, now: later(10) }),
      0,
      X,
      `ended at ${iso(later(5))} because grant ${Y} replaced it`,
    );
    const [, repair] = await host.execute(
      [op('getLocalGroup', { name: GROUPS.diagnostics }), op('getLocalGroup', { name: GROUPS.repair })],
      { phase: 'check' },
    );
    expect(repair).toEqual({ ok: true, value: { exists: true, members: [ENGINEER] } });
    expect((await fixture.state()).applied.desired.grant.grantId).toBe(Y);
  });

  it('refuses the grant a disable ended when enable brings the same settings back', async () => {
    expect((await fixture.run('disable', { now: later(5) })).exitCode).toBe(0);
    expect(await access()).toEqual([]);
    await expectRefused(
      fixture.run('enable', { sequenceNumber: 0, now: later(10) }),
      0,
      X,
      `ended at ${iso(later(5))} because the extension was disabled`,
    );
    expect(await access()).toEqual([]);
  });

  it("keeps the grant through the manager's update order, and keeps refusing an ended one after it", async () => {
    const update = async (from: string, to: string, at: Date, sequenceNumber: number) => {
      expect((await fixture.runAs(from, 'disable', { sequenceNumber, now: at })).exitCode).toBe(0);
      expect(
        (await fixture.runAs(to, 'update', { sequenceNumber, now: at, env: { AZURE_GUEST_AGENT_UPDATING_FROM_VERSION: from } })).exitCode,
      ).toBe(0);
      expect((await fixture.runAs(from, 'uninstall', { sequenceNumber, now: at })).exitCode).toBe(0);
      expect((await fixture.runAs(to, 'install', { sequenceNumber, now: at })).exitCode).toBe(0);
      return fixture.runAs(to, 'enable', { sequenceNumber, now: at });
    };
    // The old version's disable is the update's first step: the grant survives it.
    expect((await update('1.0.0', '1.1.0', later(5), 0)).exitCode).toBe(0);
    expect(await access()).toEqual([ENGINEER]);
    expect((await fixture.status(0)).status.formattedMessage.message).toMatch(
      /^Access: Diagnostics for support request TKT-2611240001 until /,
    );

    await fixture.writeSettings(1, REVOKE);
    expect((await fixture.runAs('1.1.0', 'enable', { sequenceNumber: 1, now: later(10) })).exitCode).toBe(0);
    expect((await update('1.1.0', '1.2.0', later(15), 1)).exitCode).toBe(0);
    // Both the handler's state and the node's record kept the ended grant through the update.
    expect((await fixture.state()).endedGrants).toEqual([{ grantId: X, endedAt: later(10).toISOString(), reason: 'revoked' }]);
    expect(parseDesiredRecord(await record()).record.endedGrants).toEqual([{ grantId: X, endedAt: later(10), reason: 'revoked' }]);
    await expectRefused(fixture.runAs('1.2.0', 'enable', { sequenceNumber: 0, now: later(20) }), 0, X, revokedAt(later(10)));
    expect(await access()).toEqual([]);

    // A real uninstall leaves nothing behind, the list included.
    expect((await fixture.runAs('1.2.0', 'uninstall', { sequenceNumber: 1, now: later(25) })).exitCode).toBe(0);
    await expect(fs.access(fixture.dataFolder)).rejects.toThrow();
    expect(await record()).toBeNull();
  });

  it('does not lift a disable the owner made long before an update', async () => {
    expect((await fixture.run('disable', { now: later(5) })).exitCode).toBe(0);
    expect(
      (await fixture.runAs('1.1.0', 'update', { now: later(120), env: { AZURE_GUEST_AGENT_UPDATING_FROM_VERSION: '1.0.0' } })).exitCode,
    ).toBe(0);
    expect((await fixture.run('uninstall', { now: later(120) })).exitCode).toBe(0);
    expect((await fixture.runAs('1.1.0', 'install', { now: later(120) })).exitCode).toBe(0);
    await expectRefused(
      fixture.runAs('1.1.0', 'enable', { sequenceNumber: 0, now: later(121) }),
      0,
      X,
      `ended at ${iso(later(5))} because the extension was disabled`,
    );
    expect(await access()).toEqual([]);
  });

  it("gives the handler's copy back to a record replaced by an older one, and the agent does not give that record's grant again", async () => {
    const before = await record();
    await fixture.writeSettings(1, REVOKE);
    await fixture.run('enable', { sequenceNumber: 1, now: later(5) });
    // The record from before the revoke is written back: it carries the grant and no list.
    await host.execute([op('writeFile', { path: DESIRED_STATE_FILE, content: before! })], { phase: 'replay' });
    expect(parseDesiredRecord(await record()).record.grant?.grantId).toBe(X);

    const reconcile = await runAgentCommand(['reconcile'], host, later(20));
    expect(reconcile.exitCode).toBe(0);
    expect(reconcile.output).toContain(`grant ${X} ${revokedAt(later(5))}: it gives no access again`);
    expect(await access()).toEqual([]);
    expect(parseDesiredRecord(await record()).record).toMatchObject({ grant: null, endedGrants: [{ grantId: X, reason: 'revoked' }] });

    // The old record again, and a history that lost the revoke (retention): the handler's copy still knows.
    await host.execute(
      [
        op('writeFile', { path: DESIRED_STATE_FILE, content: before! }),
        op('removePath', { path: 'C:\\ProgramData\\ArcRemoteSupport\\history.jsonl' }),
      ],
      { phase: 'replay' },
    );
    expect((await fixture.run('install', { now: later(30) })).exitCode).toBe(0);
    expect(await access()).toEqual([]);
    expect(parseDesiredRecord(await record()).record).toMatchObject({ grant: null, endedGrants: [{ grantId: X, reason: 'revoked' }] });
  });
});
