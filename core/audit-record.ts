/**
 * The audit record of one access change: a history line and a Windows event that carry the same
 * id. The id makes writing a record again harmless: a history line or an event with that id is
 * already there, so a retry after a failed write adds it once. The line is written and read by
 * core/access-history.ts; both parts are escaped, so whatever reached them (settings are checked,
 * but a record on disk may not be) cannot start a line or reorder text. Pure.
 */
import { formatHistoryLine, readHistory, type AccessChangeKind, type HistoryEntry } from './access-history';
import { formatUtc } from './desired-state';
import { escapeUnsafe } from '../extension/unsafe-text';

export type { AccessChangeKind } from './access-history';

/** What one access change says: a history entry before it gets its audit id. */
export type AccessChangeEntry = Omit<HistoryEntry, 'auditId'>;

export interface AuditEvent {
  eventId: number;
  level: 'Information' | 'Warning';
  message: string;
}

export interface AuditRecord {
  id: string;
  /** The line for the history file; null where the node keeps no history (everything of ours removed). */
  historyLine: string | null;
  event: AuditEvent;
}

const EVENT_IDS: Record<AccessChangeKind, number> = { granted: 1001, changed: 1002, revoked: 1003, expired: 1004 };

/**
 * The id of a change: when, what and which grant, e.g. 20261125T035900Z-expired-<grant id>; escaped
 * and without spaces, so that the event's message gives it back whole.
 */
export function auditId(entry: Pick<AccessChangeEntry, 'at' | 'change' | 'grantId'>): string {
  return escapeUnsafe(`${formatUtc(entry.at).replace(/[-:.]/g, '')}-${entry.change}-${entry.grantId ?? 'none'}`).replace(/\s/g, '_');
}

export function auditRecord(entry: AccessChangeEntry, keepsHistory: boolean): AuditRecord {
  const id = auditId(entry);
  const expiresAt = entry.expiresAt ? formatUtc(entry.expiresAt) : null;
  return {
    id,
    historyLine: keepsHistory ? escapeUnsafe(formatHistoryLine({ ...entry, auditId: id })) : null,
    event: {
      eventId: EVENT_IDS[entry.change],
      level: entry.change === 'granted' || entry.change === 'changed' ? 'Information' : 'Warning',
      message: escapeUnsafe(
        `Remote support access ${entry.change}: level ${entry.level}, grant ${entry.grantId ?? 'none'}, audit ${id}, expires ${expiresAt ?? 'n/a'}, ` +
          `support request ${entry.supportRequestId ?? 'n/a'}, terms ${entry.termsVersion ?? 'n/a'}, by ${entry.by}.`,
      ),
    },
  };
}

/** The ids of the records whose events are in the log (our event messages name them). */
export function auditIdsInEvents(events: Array<{ message: string }>): string[] {
  return events.flatMap((event) => {
    const match = /, audit (\S+), /.exec(event.message);
    return match ? [match[1]!] : [];
  });
}

/** The ids of the records whose lines are in a history file's text. */
export function auditIdsInHistory(history: string | null): Set<string> {
  return new Set(readHistory(history).flatMap((entry) => (entry.auditId !== undefined ? [entry.auditId] : [])));
}
