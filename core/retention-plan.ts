/**
 * The Retention task's purge, as a pure plan: from the desired-state record, the history and the
 * transcript folder's listing to the operations that delete what is older than the retention
 * period. The agent's `retention` command reads the three and runs the operations.
 */
import { op, type OperationRequest } from '../windows/operations';
import { parseDesiredRecord } from './desired-record';
import { HISTORY_FILE, TRANSCRIPT_FOLDER } from './node-layout';

/** Nothing is kept longer, whatever the record says (DESIGN section 1). */
export const MAX_RETENTION_DAYS = 90;

export interface RetentionInputs {
  /** desired.json, or null when the node has none. */
  desiredRecord: string | null;
  /** history.jsonl, or null when the node has none. */
  history: string | null;
  /** The transcript folder's entries (empty when it could not be listed). */
  transcripts: Array<{ name: string; lastWriteTimeUtc: string }>;
  now: Date;
}

export interface RetentionPlan {
  days: number;
  removedTranscripts: number;
  removedHistoryEntries: number;
  /** Empty when nothing is old enough to delete. */
  operations: OperationRequest[];
}

export function planRetention(inputs: RetentionInputs): RetentionPlan {
  const days = Math.min(MAX_RETENTION_DAYS, parseDesiredRecord(inputs.desiredRecord).record.retentionDays);
  const cutoff = inputs.now.getTime() - days * 86_400_000;
  const old = inputs.transcripts.filter((entry) => Date.parse(entry.lastWriteTimeUtc) < cutoff);
  const operations: OperationRequest[] = old.map((entry) => op('removePath', { path: `${TRANSCRIPT_FOLDER}\\${entry.name}` }));
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
  return { days, removedTranscripts: old.length, removedHistoryEntries: lines.length - kept.length, operations };
}

/** The command's one-line report. */
export function describeRetention(plan: RetentionPlan): string {
  const entries = plan.removedHistoryEntries;
  return `retention: kept ${plan.days} days; removed ${plan.removedTranscripts} transcript(s) and ${entries} history entr${entries === 1 ? 'y' : 'ies'}`;
}
