/**
 * The Retention task's purge, as a pure plan: from the desired-state record, the history, the
 * transcript folder's listing and the channel's session records to the operations that delete
 * what is older than the retention period. The agent's `retention` command reads them and runs the
 * operations. The used-ticket file is not the audit's: it keeps tickets from being used twice,
 * and is left alone.
 */
import { op, type OperationRequest } from '../windows/operations';
import { parseDesiredRecord } from './desired-record';
import { LOG_COLLECTION_RECORD_FILE_NAME } from './log-collection-record';
import {
  CHANNEL_SESSIONS_FOLDER,
  HISTORY_FILE,
  LAST_LOG_COLLECTION_NAME,
  LOG_COLLECTIONS_FOLDER,
  LOG_STAGING_FOLDER,
  TRANSCRIPT_FOLDER,
} from './node-layout';
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
  /** The log collection records' folder entries (absent or empty when it could not be listed). */
  logCollectionRecords?: Array<{ name: string; lastWriteTimeUtc: string }>;
  /** The log staging folder's entries: bundles and journals of collections not finished. */
  logStaging?: Array<{ name: string; lastWriteTimeUtc: string }>;
  now: Date;
}

/** Local staging of a log collection is kept at most this long, whatever the retention period (issue 13). */
export const LOG_STAGING_DAYS = 7;

export interface RetentionPlan {
  days: number;
  removedTranscripts: number;
  removedSessionRecords: number;
  removedLogCollectionRecords: number;
  removedStagingFiles: number;
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
  // A collection record is written when the collection ends: its file's time is its end.
  const oldCollections = (inputs.logCollectionRecords ?? []).filter(
    (file) => LOG_COLLECTION_RECORD_FILE_NAME.test(file.name) && Date.parse(file.lastWriteTimeUtc) < cutoff,
  );
  operations.push(...oldCollections.map((file) => op('removePath', { path: `${LOG_COLLECTIONS_FOLDER}\\${file.name}` })));
  // The last one's copy (LAST_LOG_COLLECTION_FILE) is no older than its record: it goes with it.
  const oldCopy = (inputs.logCollectionRecords ?? []).filter(
    (file) => file.name.toLowerCase() === LAST_LOG_COLLECTION_NAME && Date.parse(file.lastWriteTimeUtc) < cutoff,
  );
  operations.push(...oldCopy.map((file) => op('removePath', { path: `${LOG_COLLECTIONS_FOLDER}\\${file.name}` })));
  const stagingCutoff = inputs.now.getTime() - LOG_STAGING_DAYS * 86_400_000;
  const oldStaging = (inputs.logStaging ?? []).filter((file) => Date.parse(file.lastWriteTimeUtc) < stagingCutoff);
  operations.push(...oldStaging.map((file) => op('removePath', { path: `${LOG_STAGING_FOLDER}\\${file.name}` })));
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
    removedLogCollectionRecords: oldCollections.length,
    removedStagingFiles: oldStaging.length,
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
  const logs =
    plan.removedLogCollectionRecords + plan.removedStagingFiles > 0
      ? `, ${plan.removedLogCollectionRecords} log collection record(s), ${plan.removedStagingFiles} log staging file(s)`
      : '';
  return `retention: kept ${plan.days} days; removed ${plan.removedTranscripts} transcript(s), ${plan.removedSessionRecords} channel session record(s)${logs} and ${entries} history entr${entries === 1 ? 'y' : 'ies'}`;
}
