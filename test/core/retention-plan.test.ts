/** The Retention task's purge plan: what is older than the retention period goes, the rest stays. */
import { serializeDesiredRecord } from '../../core/desired-record';
import {
  CHANNEL_SESSIONS_FOLDER,
  HISTORY_FILE,
  LAST_LOG_COLLECTION_FILE,
  LOG_COLLECTIONS_FOLDER,
  LOG_STAGING_FOLDER,
  TRANSCRIPT_FOLDER,
} from '../../core/node-layout';
import { describeRetention, planRetention, type RetentionInputs } from '../../core/retention-plan';

const NOW = new Date('2026-11-24T20:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000).toISOString();
const record = (retentionDays: number) => serializeDesiredRecord({ enabled: true, retentionDays, grant: null });
const entry = (days: number, change = 'granted') => JSON.stringify({ at: daysAgo(days), change, by: 'owner@contoso.example' });
const plan = (inputs: Partial<RetentionInputs>) =>
  planRetention({ desiredRecord: record(30), history: null, transcripts: [], sessionRecords: [], now: NOW, ...inputs });

describe('retention plan', () => {
  it('deletes transcripts last written before the cutoff and keeps the newer ones', () => {
    const result = plan({
      transcripts: [
        { name: 'old.txt', lastWriteTimeUtc: daysAgo(31) },
        { name: 'edge.txt', lastWriteTimeUtc: daysAgo(30) },
        { name: 'new.txt', lastWriteTimeUtc: daysAgo(1) },
      ],
    });
    expect(result.operations).toEqual([{ op: 'removePath', path: `${TRANSCRIPT_FOLDER}\\old.txt` }]);
    expect(result.removedTranscripts).toBe(1);
  });

  it('rewrites the history with only the entries since the cutoff, in their order', () => {
    const result = plan({ history: `${entry(40)}\n${entry(10, 'revoked')}\n${entry(45)}\n${entry(2, 'expired')}\n` });
    expect(result.operations).toEqual([
      { op: 'writeFile', path: HISTORY_FILE, content: `${entry(10, 'revoked')}\n${entry(2, 'expired')}\n` },
    ]);
    expect(result.removedHistoryEntries).toBe(2);
    expect(describeRetention(result)).toBe(
      'retention: kept 30 days; removed 0 transcript(s), 0 channel session record(s) and 2 history entries',
    );
  });

  it('drops history lines that are not JSON or carry no time, and keeps the readable recent ones', () => {
    const result = plan({ history: `not json\n${entry(1)}\n{"change":"granted"}\n` });
    expect(result.operations).toEqual([{ op: 'writeFile', path: HISTORY_FILE, content: `${entry(1)}\n` }]);
    expect(describeRetention(result)).toBe(
      'retention: kept 30 days; removed 0 transcript(s), 0 channel session record(s) and 2 history entries',
    );
  });

  it('keeps nothing longer than 90 days, whatever the record asks', () => {
    const result = plan({
      desiredRecord: record(365),
      transcripts: [{ name: 'a.txt', lastWriteTimeUtc: daysAgo(91) }],
      history: `${entry(91)}\n${entry(89)}\n`,
    });
    expect(result.days).toBe(90);
    expect(result.operations.map((operation) => operation.op)).toEqual(['removePath', 'writeFile']);
    expect(describeRetention(result)).toBe(
      'retention: kept 90 days; removed 1 transcript(s), 0 channel session record(s) and 1 history entry',
    );
  });

  it('uses the default period (90 days) when the record is missing or unreadable', () => {
    for (const desiredRecord of [null, 'not json']) {
      const result = plan({ desiredRecord, history: `${entry(91)}\n${entry(31)}\n` });
      expect(result.days).toBe(90);
      expect(result.removedHistoryEntries).toBe(1);
    }
  });

  it('deletes channel session records that ended before the cutoff, by their end time, else by their file time', () => {
    const id = (n: number) => `0000000${n}-1111-4222-8333-444444444444`;
    const ended = (days: number) =>
      JSON.stringify({ schemaVersion: 1, sessionId: 'x', startedAt: daysAgo(days + 1), endedAt: daysAgo(days) });
    const result = plan({
      sessionRecords: [
        // Ended 31 days ago, though its file was touched since (a copy or a restore).
        { name: `${id(1)}.json`, lastWriteTimeUtc: daysAgo(1), content: ended(31) },
        // Ended within the period, though its file time is old.
        { name: `${id(2)}.json`, lastWriteTimeUtc: daysAgo(40), content: ended(29) },
        // Unreadable: its file time decides.
        { name: `${id(3)}.json`, lastWriteTimeUtc: daysAgo(31), content: null },
        { name: `${id(4)}.json`, lastWriteTimeUtc: daysAgo(2), content: 'not json' },
        // Not a record: not ours to delete.
        { name: 'notes.txt', lastWriteTimeUtc: daysAgo(100), content: 'x' },
      ],
    });
    expect(result.operations).toEqual([
      { op: 'removePath', path: `${CHANNEL_SESSIONS_FOLDER}\\${id(1)}.json` },
      { op: 'removePath', path: `${CHANNEL_SESSIONS_FOLDER}\\${id(3)}.json` },
    ]);
    expect(describeRetention(result)).toBe(
      'retention: kept 30 days; removed 0 transcript(s), 2 channel session record(s) and 0 history entries',
    );
  });

  it('deletes log collection records (and the copy of the last one) past the period, and log staging after 7 days whatever the period', () => {
    const id = (n: number) => `0000000${n}-5d4a-4e7b-9c2d-1a2b3c4d5e6f.json`;
    const result = plan({
      logCollectionRecords: [
        { name: id(1), lastWriteTimeUtc: daysAgo(31) },
        { name: id(2), lastWriteTimeUtc: daysAgo(29) },
        { name: 'notes.txt', lastWriteTimeUtc: daysAgo(60) },
        { name: 'last.json', lastWriteTimeUtc: daysAgo(31) },
      ],
      logStaging: [
        { name: `${id(3)}.zip`, lastWriteTimeUtc: daysAgo(8) },
        { name: `${id(4)}.journal.json`, lastWriteTimeUtc: daysAgo(6) },
      ],
    });
    expect(result.operations).toEqual([
      { op: 'removePath', path: `${LOG_COLLECTIONS_FOLDER}\\${id(1)}` },
      { op: 'removePath', path: LAST_LOG_COLLECTION_FILE },
      { op: 'removePath', path: `${LOG_STAGING_FOLDER}\\${id(3)}.zip` },
    ]);
    expect(describeRetention(result)).toBe(
      'retention: kept 30 days; removed 0 transcript(s), 0 channel session record(s), 1 log collection record(s), 1 log staging file(s) and 0 history entries',
    );
  });

  it('plans nothing when nothing is old enough, so the history is not rewritten', () => {
    const result = plan({ history: `${entry(29)}\n`, transcripts: [{ name: 'new.txt', lastWriteTimeUtc: daysAgo(29) }] });
    expect(result.operations).toEqual([]);
    expect(describeRetention(result)).toBe(
      'retention: kept 30 days; removed 0 transcript(s), 0 channel session record(s) and 0 history entries',
    );
  });
});
