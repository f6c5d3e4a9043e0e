/**
 * Audit records not written yet: a history line or a Windows event whose write failed (the event
 * log service stopped, a full disk). Access is taken away whatever the audit write does, so a
 * failed write must not be lost: the node keeps the record in its data folder
 * (PENDING_AUDIT_FILE) and every later run (handler or agent) writes it again, once: a part
 * already in the history or in the event log (found by its id) is not written twice. Pure.
 */
import type { AuditEvent, AuditRecord } from './audit-record';
import { PENDING_AUDIT_FILE } from './node-layout';

export interface PendingAudit {
  id: string;
  /** The history line still to be appended; null when it is written (or the node keeps no history). */
  historyLine: string | null;
  /** The event still to be written; null when it is in the event log. */
  event: AuditEvent | null;
  /** Why each missing part is missing, as the last attempt failed. */
  why: { history?: string; event?: string };
}

export type AuditPart = 'history' | 'event';

/**
 * One audit write of a run: the part, the records it carried, and what came of it. 'not-run': a
 * step before it that takes access away failed, so the change it records did not happen (yet).
 */
export interface AuditAttempt {
  part: AuditPart;
  ids: string[];
  result: 'written' | 'failed' | 'not-run';
  error?: string;
}

export function parsePendingAudit(text: string | null): { records: PendingAudit[]; problem: string | null } {
  if (text === null) return { records: [], problem: null };
  try {
    const value = JSON.parse(text) as { schemaVersion?: unknown; records?: unknown };
    if (value?.schemaVersion === 1 && Array.isArray(value.records) && value.records.every(isPendingAudit))
      return { records: value.records, problem: null };
  } catch {
    // reported below
  }
  return {
    records: [],
    problem: `${PENDING_AUDIT_FILE} is unreadable, so the audit records in it cannot be written again: read it, record what it holds, and delete it`,
  };
}

export function serializePendingAudit(records: PendingAudit[]): string {
  return `${JSON.stringify({ schemaVersion: 1, records }, null, 2)}\n`;
}

export interface AuditState {
  /** What the node's pending file held before the run. */
  before: PendingAudit[];
  /** The records of this run's access change. */
  records: AuditRecord[];
  /** False when everything of ours is removed: history lines have nowhere to go. */
  keepsHistory: boolean;
  /** Ids already in the history file, and in the event log (null: the log was not read). */
  inHistory: Set<string>;
  logged: Set<string> | null;
  attempts: AuditAttempt[];
}

/**
 * What is still to be written after a run. A waiting part is done when found written (its id in
 * the history or the event log) or written now, and otherwise keeps waiting. A part of this run's
 * record waits when its write failed; when it did not run, the access change it records did not
 * happen, and the next run finds the change again: nothing waits for it.
 */
export function pendingAfter(state: AuditState): PendingAudit[] {
  const attemptOf = (part: AuditPart, id: string) => state.attempts.find((attempt) => attempt.ids.includes(id) && attempt.part === part);
  const waitingIds = new Set(state.before.map((record) => record.id));
  const fresh = state.records
    .filter((record) => !waitingIds.has(record.id))
    .map((record): PendingAudit => ({ id: record.id, historyLine: record.historyLine, event: record.event, why: {} }));
  const remaining: PendingAudit[] = [];
  for (const candidate of [...state.before, ...fresh]) {
    const waiting = waitingIds.has(candidate.id);
    const still = (part: AuditPart, present: boolean, done: boolean): { missing: boolean; why?: string } => {
      if (!present || done) return { missing: false };
      const attempt = attemptOf(part, candidate.id);
      if (attempt?.result === 'written') return { missing: false };
      if (attempt?.result === 'failed') return { missing: true, why: attempt.error ?? 'the write failed' };
      return waiting ? { missing: true, why: candidate.why[part] ?? 'not written yet' } : { missing: false };
    };
    const history = still('history', candidate.historyLine !== null && state.keepsHistory, state.inHistory.has(candidate.id));
    const event = still('event', candidate.event !== null, state.logged?.has(candidate.id) ?? false);
    if (!history.missing && !event.missing) continue;
    remaining.push({
      id: candidate.id,
      historyLine: history.missing ? candidate.historyLine : null,
      event: event.missing ? candidate.event : null,
      why: { ...(history.missing ? { history: history.why } : {}), ...(event.missing ? { event: event.why } : {}) },
    });
  }
  return remaining;
}

/** After a run: what is still not recorded, and where it waits (null: it could not be kept, see problem). */
export interface AuditReport {
  unrecorded: PendingAudit[];
  keptIn: string | null;
  /** Why the records could not be kept, or why the waiting ones could not be read. */
  problem: string | null;
}

export const ALL_RECORDED: AuditReport = { unrecorded: [], keptIn: null, problem: null };

/** Whether the run's audit needs telling: something not recorded, or a pending file that cannot be read. */
export function auditIncomplete(report: AuditReport): boolean {
  return report.unrecorded.length > 0 || report.problem !== null;
}

/** For a status or the agent's output: what was not recorded, why, and where it waits. */
export function describeAuditReport(report: AuditReport): string {
  const parts = report.unrecorded.flatMap((record) => [
    ...(record.historyLine !== null ? [`the history line of audit ${record.id} (${record.why.history ?? 'not written yet'})`] : []),
    ...(record.event !== null ? [`event ${record.event.eventId} of audit ${record.id} (${record.why.event ?? 'not written yet'})`] : []),
  ]);
  if (parts.length === 0) return report.problem ? `Audit: ${report.problem}.` : '';
  const kept = report.keptIn
    ? `Kept in ${report.keptIn}; the next run on the node writes it.`
    : `It could not be kept for the next run (${report.problem ?? 'unknown reason'}): this message is its only record.`;
  return `Audit not recorded: ${parts.join('; ')}. ${kept}`;
}

/** Whether a record waits for its event: the event log is then read, to write it once. */
export function waitsForEvent(pendingText: string | null): boolean {
  return parsePendingAudit(pendingText).records.some((record) => record.event !== null);
}

function isPendingAudit(value: unknown): value is PendingAudit {
  const record = value as PendingAudit | null;
  return (
    typeof record === 'object' &&
    record !== null &&
    typeof record.id === 'string' &&
    (record.historyLine === null || typeof record.historyLine === 'string') &&
    (record.event === null ||
      (typeof record.event === 'object' && typeof record.event.eventId === 'number' && typeof record.event.message === 'string')) &&
    typeof record.why === 'object' &&
    record.why !== null
  );
}
