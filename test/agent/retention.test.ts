/**
 * The agent's `retention` command (the daily Retention task) on the simulated machine: it deletes
 * the support transcripts and history entries older than the retention period (30 days in these
 * settings), and keeps the newer ones.
 */
import { runAgentCommand } from '../../agent/commands';
import { GROUPS, HISTORY_FILE, TRANSCRIPT_FOLDER } from '../../core/node-layout';
import { op } from '../../windows/operations';
import { updateMachine } from '../../sim/windows/default-machine';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { ExtensionFixture, grantSettings } from '../support/extension-fixture';

const START = new Date('2026-11-24T20:00:00Z');
const daysLater = (days: number) => new Date(START.getTime() + days * 86_400_000);
const iso = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('the agent retention command', () => {
  let fixture: ExtensionFixture;
  afterEach(() => fixture.remove());

  it('deletes transcripts and history entries older than the retention period, and keeps the newer ones', async () => {
    fixture = await ExtensionFixture.create((machine) => (machine.clock.nowUtc = iso(START)));
    const host = new SimulatedHost(fixture.machinePath);
    const setClock = (date: Date) => updateMachine(fixture.machinePath, (machine) => void (machine.clock.nowUtc = iso(date)));
    const writeTranscript = (name: string) =>
      host.execute([op('writeFile', { path: `${TRANSCRIPT_FOLDER}\\${name}`, content: 'PS> Get-Service\n' })], {
        phase: 'a support session',
      });
    const transcripts = async () => {
      const [outcome] = await host.execute([op('listDirectory', { path: TRANSCRIPT_FOLDER })], { phase: 'check' });
      return outcome?.ok ? (outcome.value as { entries: Array<{ name: string }> }).entries.map((entry) => entry.name).sort() : null;
    };
    const history = async () => {
      const [outcome] = await host.execute([op('readFile', { path: HISTORY_FILE })], { phase: 'check' });
      const content = outcome?.ok ? (outcome.value as { content: string | null }).content : null;
      return (content ?? '')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).change);
    };

    expect((await fixture.run('install', { sequenceNumber: 0, now: START })).exitCode).toBe(0);
    await host.execute([op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] })], { phase: 'owner' });
    await fixture.writeSettings(1, { publicSettings: grantSettings(START) });
    expect((await fixture.run('enable', { sequenceNumber: 1, now: START })).exitCode).toBe(0);
    await writeTranscript('day-0.txt');
    // Twenty days later (the grant ended at its expiry long before): another session, and the owner sets None.
    await setClock(daysLater(20));
    await writeTranscript('day-20.txt');
    await fixture.writeSettings(2, { publicSettings: { schemaVersion: 1, access: { level: 'None' }, retentionDays: 30 } });
    expect((await fixture.run('enable', { sequenceNumber: 2, now: daysLater(20) })).exitCode).toBe(0);
    expect(await history()).toEqual(['granted', 'expired']);

    expect(await runAgentCommand(['retention'], host, daysLater(29))).toEqual({
      exitCode: 0,
      output: 'retention: kept 30 days; removed 0 transcript(s) and 0 history entries',
    });
    expect(await transcripts()).toEqual(['day-0.txt', 'day-20.txt']);

    await setClock(daysLater(31));
    expect(await runAgentCommand(['retention'], host, daysLater(31))).toEqual({
      exitCode: 0,
      output: 'retention: kept 30 days; removed 1 transcript(s) and 1 history entry',
    });
    expect(await transcripts()).toEqual(['day-20.txt']);
    expect(await history()).toEqual(['expired']);
  });
});
