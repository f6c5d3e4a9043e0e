/**
 * Expiry that cannot be missed, on the simulated clock: access ends at the expiry through the
 * Expire task even if the extension manager never runs again; a node powered off across the
 * expiry revokes at boot; a corrupt desired-state record revokes.
 */
import { agentTaskRunner, type AgentRun } from '../../sim/windows/agent-task-runner';
import { GROUPS, DESIRED_STATE_FILE, expireTaskName } from '../../core/node-layout';
import { op } from '../../windows/operations';
import { advanceClock, powerOff, powerOn } from '../../sim/windows/simulation';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { ExtensionFixture, grantSettings } from '../support/extension-fixture';

const START = new Date('2026-11-24T20:00:00Z');
const at = (hours: number) => new Date(START.getTime() + hours * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const GRANT_ID = '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f';

describe('expiry on the simulated clock', () => {
  let fixture: ExtensionFixture;
  let host: SimulatedHost;
  const runs: AgentRun[] = [];

  beforeEach(async () => {
    runs.length = 0;
    fixture = await ExtensionFixture.create((machine) => (machine.clock.nowUtc = at(0)));
    host = new SimulatedHost(fixture.machinePath);
    expect((await fixture.run('install', { sequenceNumber: 0, now: START })).exitCode).toBe(0);
    // The owner names the support engineers once.
    await host.execute([op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] })], { phase: 'owner' });
    await fixture.writeSettings(1, { publicSettings: grantSettings(START) });
    expect((await fixture.run('enable', { sequenceNumber: 1, now: START })).exitCode).toBe(0);
  });
  afterEach(() => fixture.remove());

  const members = async (group: string) => {
    const [outcome] = await host.execute([op('getLocalGroup', { name: group })], { phase: 'check' });
    return outcome?.ok ? (outcome.value as { members: string[] }).members : null;
  };
  const tasks = async () => {
    const [outcome] = await host.execute([op('listTasks', { folder: '\\ArcRemoteSupport\\' })], { phase: 'check' });
    return outcome?.ok ? (outcome.value as { names: string[] }).names : [];
  };
  const history = async () => {
    const [outcome] = await host.execute([op('readFile', { path: 'C:\\ProgramData\\ArcRemoteSupport\\history.jsonl' })], {
      phase: 'check',
    });
    const content = outcome?.ok ? (outcome.value as { content: string | null }).content : null;
    return (content ?? '')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  };

  it('gives the engineers access until the expiry task ends it, with no extension manager run', async () => {
    expect(await members(GROUPS.diagnostics)).toEqual(['CONTOSO\\engineer1']);
    expect(await tasks()).toEqual(expect.arrayContaining([expireTaskName(GRANT_ID), 'Reconcile', 'Retention']));

    await advanceClock(fixture.machinePath, at(7.9), agentTaskRunner(fixture.machinePath, runs));
    expect(await members(GROUPS.diagnostics)).toEqual(['CONTOSO\\engineer1']);

    await advanceClock(fixture.machinePath, at(8), agentTaskRunner(fixture.machinePath, runs));
    const expire = runs.find((run) => run.task === expireTaskName(GRANT_ID));
    expect(expire).toMatchObject({ exitCode: 0, argv: ['expire', '--grant', GRANT_ID], timeUtc: '2026-11-25T03:59:00Z' });
    expect(await members(GROUPS.diagnostics)).toEqual([]);
    expect(await tasks()).not.toContain(expireTaskName(GRANT_ID));
    expect((await history()).map((entry) => entry.change)).toEqual(['granted', 'expired']);
    const events = (await fixture.machine()).nodes['ARC-NODE-1']!.events.map((event) => event.eventId);
    expect(events).toEqual([1001, 1004]);
  });

  it('revokes at boot when the node was powered off across the expiry', async () => {
    await powerOff(fixture.machinePath, 'ARC-NODE-1');
    await advanceClock(fixture.machinePath, at(30), agentTaskRunner(fixture.machinePath, runs));
    expect(runs).toEqual([]);
    await powerOn(fixture.machinePath, 'ARC-NODE-1', agentTaskRunner(fixture.machinePath, runs));
    expect(runs.map((run) => run.task)).toContain('Reconcile');
    expect(await members(GROUPS.diagnostics)).toEqual([]);
    expect((await history()).map((entry) => entry.change)).toEqual(['granted', 'expired']);
  });

  it('revokes when the desired-state record is corrupt (fail closed)', async () => {
    await host.execute([op('writeFile', { path: DESIRED_STATE_FILE, content: '{ garbled' })], { phase: 'corrupt' });
    await advanceClock(fixture.machinePath, at(0.25), agentTaskRunner(fixture.machinePath, runs));
    const reconcile = runs.find((run) => run.task === 'Reconcile');
    expect(reconcile?.output).toContain('the desired-state record is unreadable');
    expect(await members(GROUPS.diagnostics)).toEqual([]);
  });
});
