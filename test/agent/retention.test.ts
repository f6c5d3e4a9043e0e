/**
 * The agent's `retention` command (the daily Retention task) on the simulated machine: it deletes
 * the support transcripts, channel session records and history entries older than the retention
 * period (30 days in these settings), and keeps the newer ones.
 */
import { promises as fs } from 'fs';
import { runAgentCommand } from '../../agent/commands';
import { serializeDesiredRecord } from '../../core/desired-record';
import {
  CHANNEL_SESSIONS_FOLDER,
  DATA_FOLDER,
  DESIRED_STATE_FILE,
  GROUPS,
  HISTORY_FILE,
  TRANSCRIPT_FOLDER,
  USED_TICKETS_FILE,
} from '../../core/node-layout';
import { serializeSessionRecord, sessionRecordPath, type SessionRecord } from '../../core/session-record';
import { op } from '../../windows/operations';
import { createDefaultMachine, updateMachine, writeMachine } from '../../sim/windows/default-machine';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { makeTempDir } from '../support/cms';
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
      output: 'retention: kept 30 days; removed 0 transcript(s), 0 channel session record(s) and 0 history entries',
    });
    expect(await transcripts()).toEqual(['day-0.txt', 'day-20.txt']);

    await setClock(daysLater(31));
    expect(await runAgentCommand(['retention'], host, daysLater(31))).toEqual({
      exitCode: 0,
      output: 'retention: kept 30 days; removed 1 transcript(s), 0 channel session record(s) and 1 history entry',
    });
    expect(await transcripts()).toEqual(['day-20.txt']);
    expect(await history()).toEqual(['expired']);
  });
});

describe('the agent retention command and the channel', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => fs.rm(dir, { recursive: true, force: true }))));

  it('deletes the channel session records of sessions that ended before the cutoff, and leaves the used-ticket file alone', async () => {
    const dir = await makeTempDir('ars-retention-sessions');
    dirs.push(dir);
    const modelPath = `${dir}/model.json`;
    await writeMachine(modelPath, createDefaultMachine({ nowUtc: iso(daysLater(31)), nodes: 1 }));
    const host = new SimulatedHost(modelPath);
    const session = (sessionId: string, endedAt: Date): SessionRecord => ({
      sessionId,
      grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f',
      engineer: 'alice@support.example',
      ticketId: 'jti-1',
      relayConnectionId: 'relay-1',
      level: 'Diagnostics',
      startedAt: new Date(endedAt.getTime() - 600_000).toISOString(),
      endedAt: endedAt.toISOString(),
      endReason: 'closed',
      detail: 'The engineer ended the session.',
      commands: [],
      commandsRejected: {},
      processId: 1,
      transcriptFolder: '',
      account: 'ArcRS-3f2b8c1e',
    });
    const OLD = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
    const RECENT = '7d8e9f00-1a2b-4c3d-8e4f-5a6b7c8d9e0f';
    const usedTickets = '{"ids":["jti-1"]}';
    const seeded = await host.execute(
      [
        op('ensureDirectory', { path: DATA_FOLDER }),
        op('ensureDirectory', { path: CHANNEL_SESSIONS_FOLDER }),
        op('writeFile', { path: DESIRED_STATE_FILE, content: serializeDesiredRecord({ enabled: true, retentionDays: 30, grant: null }) }),
        op('writeFile', { path: sessionRecordPath(OLD), content: serializeSessionRecord(session(OLD, START)) }),
        op('writeFile', { path: sessionRecordPath(RECENT), content: serializeSessionRecord(session(RECENT, daysLater(20))) }),
        op('writeFile', { path: USED_TICKETS_FILE, content: usedTickets }),
      ],
      { phase: 'the channel agent' },
    );
    expect(seeded.filter((outcome) => !outcome.ok)).toEqual([]);

    expect(await runAgentCommand(['retention'], host, daysLater(31))).toEqual({
      exitCode: 0,
      output: 'retention: kept 30 days; removed 0 transcript(s), 1 channel session record(s) and 0 history entries',
    });
    const [listing, tickets] = await host.execute(
      [op('listDirectory', { path: CHANNEL_SESSIONS_FOLDER }), op('readFile', { path: USED_TICKETS_FILE })],
      { phase: 'check' },
    );
    expect((listing as { value: { entries: Array<{ name: string }> } }).value.entries.map((entry) => entry.name)).toEqual([
      `${RECENT}.json`,
    ]);
    expect((tickets as { value: { content: string } }).value.content).toBe(usedTickets);
  });
});
