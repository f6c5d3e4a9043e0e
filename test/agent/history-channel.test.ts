/**
 * `agent history` and the channel: each engineer's session over the relay, from its record in
 * CHANNEL_SESSIONS_FOLDER, among the access changes and transcripts, on the simulated machine.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { runAgentCommand } from '../../agent/commands';
import { CHANNEL_SESSIONS_FOLDER, DATA_FOLDER, HISTORY_FILE, TRANSCRIPT_FOLDER } from '../../core/node-layout';
import { serializeSessionRecord, sessionRecordPath, type SessionRecord } from '../../core/session-record';
import { createDefaultMachine, updateMachine, writeMachine } from '../../sim/windows/default-machine';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { op } from '../../windows/operations';
import { makeTempDir } from '../support/cms';

const NOW = new Date('2026-11-24T20:00:00Z');
const GRANT_ID = '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f';
const GRANTED = JSON.stringify({
  at: '2026-11-24T18:00:00Z',
  change: 'granted',
  by: 'owner@contoso.example',
  level: 'Diagnostics',
  grantId: GRANT_ID,
  expiresAt: '2026-11-25T02:00:00Z',
  supportRequestId: 'TKT-2611240001',
  termsVersion: '2026.1',
});
const SESSION: SessionRecord = {
  sessionId: '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
  grantId: GRANT_ID,
  engineer: 'jürgen@support.example',
  ticketId: 'tkt-jti-0001',
  relayConnectionId: 'relay-conn-42',
  level: 'Diagnostics',
  startedAt: '2026-11-24T19:00:00.000Z',
  endedAt: '2026-11-24T19:20:00.000Z',
  endReason: 'revoked',
  detail: 'The grant was revoked on this node.',
  commands: [
    {
      id: 'c1',
      command: 'Get-Service -Name WinRM',
      startedAt: '2026-11-24T19:01:00.000Z',
      endedAt: '2026-11-24T19:01:02.000Z',
      outcome: 'completed',
      outputBytes: 512,
    },
    {
      id: 'c2',
      command: 'Restart-Service -Name Spooler',
      startedAt: '2026-11-24T19:02:00.000Z',
      endedAt: '2026-11-24T19:02:00.000Z',
      outcome: 'failed',
      error: "The term 'Restart-Service' is not recognized",
      outputBytes: 0,
    },
  ],
  commandsRejected: {},
  processId: 5150,
  transcriptFolder: '',
  account: 'ArcRS-3f2b8c1e',
};
const REFUSED: SessionRecord = {
  ...SESSION,
  sessionId: '7d8e9f00-1a2b-4c3d-8e4f-5a6b7c8d9e0f',
  engineer: null,
  ticketId: null,
  level: null,
  startedAt: '2026-11-24T19:30:00.000Z',
  endedAt: '2026-11-24T19:30:00.000Z',
  endReason: 'refused',
  refusal: 'bad-signature',
  detail: 'The ticket signature does not verify.',
  commands: [],
  processId: null,
};

describe('agent history and channel sessions', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => fs.rm(dir, { recursive: true, force: true }))));

  async function node(files: Record<string, string>) {
    const dir = await makeTempDir('ars-history-channel');
    dirs.push(dir);
    const modelPath = path.join(dir, 'model.json');
    await writeMachine(modelPath, createDefaultMachine({ nowUtc: NOW.toISOString(), nodes: 1 }));
    const host = new SimulatedHost(modelPath);
    const outcomes = await host.execute(
      [
        op('ensureDirectory', { path: DATA_FOLDER }),
        op('ensureDirectory', { path: TRANSCRIPT_FOLDER }),
        op('writeFile', { path: HISTORY_FILE, content: `${GRANTED}\n` }),
        // The agent makes the folder with its first record.
        ...(Object.keys(files).length > 0 ? [op('ensureDirectory', { path: CHANNEL_SESSIONS_FOLDER })] : []),
        ...Object.entries(files).map(([file, content]) => op('writeFile', { path: file, content })),
      ],
      { phase: 'test' },
    );
    expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
    const history = (...argv: string[]) => runAgentCommand(['history', ...argv], host, NOW);
    return {
      modelPath,
      history,
      lines: async (...argv: string[]) => {
        const result = await history('--json', ...argv);
        expect(result.exitCode).toBe(0);
        return result.output.split('\n').map((line) => JSON.parse(line));
      },
    };
  }

  const sessions = {
    [sessionRecordPath(SESSION.sessionId)]: serializeSessionRecord(SESSION),
    [sessionRecordPath(REFUSED.sessionId)]: serializeSessionRecord(REFUSED),
  };

  it('lists each channel session by its start, with the engineer, level, grant, end and why, ticket id, relay connection and command count', async () => {
    const n = await node(sessions);
    const lines = await n.lines();
    expect(lines.map((line) => [line.entry.kind, line.entry.time])).toEqual([
      ['ChannelSession', '2026-11-24T19:30:00Z'],
      ['ChannelSession', '2026-11-24T19:00:00Z'],
      ['Granted', '2026-11-24T18:00:00Z'],
    ]);
    expect(lines[1].entry).toEqual({
      time: '2026-11-24T19:00:00Z',
      kind: 'ChannelSession',
      by: 'jürgen@support.example',
      level: 'Diagnostics',
      grantId: GRANT_ID,
      supportRequestId: null,
      expiresAt: null,
      termsVersion: null,
      runAsUser: null,
      endTime: '2026-11-24T19:20:00Z',
      path: `${CHANNEL_SESSIONS_FOLDER}\\${SESSION.sessionId}.json`,
      transcript: null,
      sessionId: SESSION.sessionId,
      endReason: 'revoked',
      detail: 'The grant was revoked on this node.',
      ticketId: 'tkt-jti-0001',
      relayConnectionId: 'relay-conn-42',
      account: 'ArcRS-3f2b8c1e',
      commandCount: 2,
      // The command list and the transcripts' folder only when asked for.
      commands: null,
      transcriptFolder: null,
      logCollection: null,
    });
    // ASCII only, for Windows PowerShell's console code page.
    expect((await n.history('--json')).output).toMatch(/^[\x20-\x7e\n]+$/);
    expect(lines[0].entry).toMatchObject({
      by: null,
      level: null,
      endReason: 'refused',
      detail: 'The ticket signature does not verify.',
      commandCount: 0,
    });
    // The other kinds carry no channel fields.
    expect(lines[2].entry).toMatchObject({ kind: 'Granted', sessionId: null, endReason: null, commandCount: null });

    const plain = (await n.history()).output.split('\n');
    expect(plain[1]).toBe('2026-11-24T19:00:00Z  ChannelSession  jürgen@support.example  Diagnostics');
  });

  it('adds the commands with their outcome and output size, and the transcript folder, with --include-transcript', async () => {
    const n = await node(sessions);
    const [, session] = await n.lines('--include-transcript');
    expect(session.entry.commands).toEqual(SESSION.commands);
    expect(session.entry.transcriptFolder).toBe(TRANSCRIPT_FOLDER);
  });

  it('filters channel sessions by their start with --from', async () => {
    const n = await node(sessions);
    const lines = await n.lines('--from', '2026-11-24T19:15:00Z');
    expect(lines.map((line) => line.entry.sessionId)).toEqual([REFUSED.sessionId]);
  });

  it('warns of a record it cannot read and lists the others; ignores files that are not records', async () => {
    const broken = `${CHANNEL_SESSIONS_FOLDER}\\11111111-2222-4333-8444-555555555555.json`;
    const n = await node({ ...sessions, [broken]: '{"schemaVersion": 1, "sessionId": ', [`${CHANNEL_SESSIONS_FOLDER}\\notes.txt`]: 'x' });
    const lines = await n.lines();
    expect(lines[0]).toEqual({ warning: `Cannot read the channel session record ${broken}: it is not a session record` });
    expect(lines.filter((line) => line.entry?.kind === 'ChannelSession')).toHaveLength(2);
  });

  it('warns when the record folder cannot be listed, and still lists the rest; says nothing when it does not exist', async () => {
    const none = await node({});
    expect(await none.lines()).toEqual([{ entry: expect.objectContaining({ kind: 'Granted' }) }]);

    const n = await node(sessions);
    await updateMachine(n.modelPath, (machine) => {
      machine.faults.push({ operation: 'listDirectory', target: CHANNEL_SESSIONS_FOLDER, action: 'fail', message: 'Access is denied' });
    });
    expect(await n.lines()).toEqual([
      { warning: `Cannot list the channel session records in ${CHANNEL_SESSIONS_FOLDER}: Access is denied` },
      { entry: expect.objectContaining({ kind: 'Granted' }) },
    ]);
  });
});
