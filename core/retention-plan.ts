/**
 * The Retention task's purge, as a pure plan: from the desired-state record, the history, the
 * transcript folder's listing and the channel's session records to the operations that delete
 * what is older than the retention period. The agent's `retention` command reads them and runs the
 * operations. The used-ticket file is not the audit's: it keeps tickets from being used twice,
 * and is left alone.
 */
import { op, type OperationRequest } from '../windows/operations';
import { parseDesiredRecord } from './desired-record';
import { CHANNEL_SESSIONS_FOLDER, HISTORY_FILE, TRANSCRIPT_FOLDER } from './node-layout';
import { parseSessionRecord, SESSION_RECORD_FILE_NAME } from './session-record';

/** Nothing is kept longer, whatever the record says (DESIGN section 1). */
export const MAX_RETENTION_DAYS = 90;

export interface RetentionInputs {
  /** desired.json, or null when the node has none. */
  desiredRecord: string | null;
  /** history.jsonl, or null when the node has none. */
  history: string | null;
  /** The transcript folder's entries (empty when it could not be listed). */
  transcripts: Array<{ name: string; lastWriteTimeUtc: string }>;
  /** The session record folder's files, each with its content (null when it could not be read). */
  sessionRecords: Array<{ name: string; lastWriteTimeUtc: string; content: string | null }>;
  now: Date;
}

export interface RetentionPlan {
  days: number;
  removedTranscripts: number;
  removedSessionRecords: number;
  removedHistoryEntries: number;
  /** Empty when nothing is old enough to delete. */
  operations: OperationRequest[];
}

export function planRetention(inputs: RetentionInputs): RetentionPlan {
  const days = Math.min(MAX_RETENTION_DAYS, parseDesiredRecord(inputs.desiredRecord).record.retentionDays);
  const cutoff = inputs.now.getTime() - days * 86_400_000;
  const old = inputs.transcripts.filter((entry) => Date.parse(entry.lastWriteTimeUtc) < cutoff);
  const operations: OperationRequest[] = old.map((entry) => op('removePath', { path: `${TRANSCRIPT_FOLDER}\\${entry.name}` }));
  const oldRecords = inputs.sessionRecords.filter((file) => SESSION_RECORD_FILE_NAME.test(file.name) && sessionRecordTime(file) < cutoff);
  operations.push(...oldRecords.map((file) => op('removePath', { path: `${CHANNEL_SESSIONS_FOLDER}\\${file.name}` })));
  const lines = (inputs.history ?? '').split('\n').filter(Boolean);
  // A line that cannot be read has no time to keep it by: it goes.
  const kept = lines.filter((line) => {
    try {
      return Date.parse(JSON.parse(line).at) >= cutoff;
    } catch {
      return false;
    }
  });
  if (kept.length !== lines.length)
    operations.push(op('writeFile', { path: HISTORY_FILE, content: kept.map((line) => `${line}\n`).join('') }));
  return {
    days,
    removedTranscripts: old.length,
    removedSessionRecords: oldRecords.length,
    removedHistoryEntries: lines.length - kept.length,
    operations,
  };
}

/** A session record is as old as the session's end; one that does not say is as old as its file. */
function sessionRecordTime(file: RetentionInputs['sessionRecords'][number]): number {
  const ended = Date.parse(parseSessionRecord(file.content ?? '')?.endedAt ?? '');
  return Number.isNaN(ended) ? Date.parse(file.lastWriteTimeUtc) : ended;
}

/** The command's one-line report. */
export function describeRetention(plan: RetentionPlan): string {
  const entries = plan.removedHistoryEntries;
  return `retention: kept ${plan.days} days; removed ${plan.removedTranscripts} transcript(s), ${plan.removedSessionRecords} channel session record(s) and ${entries} history entr${entries === 1 ? 'y' : 'ies'}`;
}
