/**
 * The audit record of one access change: a history line and a Windows event that carry the same
 * id. The id makes writing a record again harmless: a history line or an event with that id is
 * already there, so a retry after a failed write adds it once. Pure.
 */
import { formatUtc } from './desired-state';

export type AccessChangeKind = 'granted' | 'changed' | 'revoked' | 'expired';

export interface AccessChangeEntry {
  at: Date;
  change: AccessChangeKind;
  /** Who made the change: the owner's consent identity, "expiry", "disable", ... */
  by: string;
  level: string;
  grantId: string | null;
  expiresAt: Date | null;
  supportRequestId: string | null;
  termsVersion: string | null;
}

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

/** The id of a change: when, what and which grant, e.g. 20261125T035900Z-expired-<grant id>. */
export function auditId(entry: Pick<AccessChangeEntry, 'at' | 'change' | 'grantId'>): string {
  return `${formatUtc(entry.at).replace(/[-:.]/g, '')}-${entry.change}-${entry.grantId ?? 'none'}`;
}

export function auditRecord(entry: AccessChangeEntry, keepsHistory: boolean): AuditRecord {
  const id = auditId(entry);
  const expiresAt = entry.expiresAt ? formatUtc(entry.expiresAt) : null;
  const historyLine = JSON.stringify({
    at: formatUtc(entry.at),
    change: entry.change,
    by: entry.by,
    level: entry.level,
    grantId: entry.grantId,
    expiresAt,
    supportRequestId: entry.supportRequestId,
    termsVersion: entry.termsVersion,
    auditId: id,
  });
  return {
    id,
    historyLine: keepsHistory ? historyLine : null,
    event: {
      eventId: EVENT_IDS[entry.change],
      level: entry.change === 'granted' || entry.change === 'changed' ? 'Information' : 'Warning',
      message:
        `Remote support access ${entry.change}: level ${entry.level}, grant ${entry.grantId ?? 'none'}, audit ${id}, expires ${expiresAt ?? 'n/a'}, ` +
        `support request ${entry.supportRequestId ?? 'n/a'}, terms ${entry.termsVersion ?? 'n/a'}, by ${entry.by}.`,
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
  const ids = new Set<string>();
  for (const entry of historyEntries(history)) if (typeof entry.auditId === 'string') ids.add(entry.auditId);
  return ids;
}

/** What a history line says. */
export interface RecordedChange {
  change: string;
  grantId: string | null;
  level: string;
  expiresAt: string | null;
}

/** The last change of a list of history lines (the file's text, or lines still to be written). */
export function lastRecordedChange(lines: Array<string | null>): RecordedChange | null {
  const entries = lines.flatMap((text) => historyEntries(text));
  const last = entries[entries.length - 1];
  if (!last || typeof last.change !== 'string') return null;
  return {
    change: last.change,
    grantId: typeof last.grantId === 'string' ? last.grantId : null,
    level: typeof last.level === 'string' ? last.level : '',
    expiresAt: typeof last.expiresAt === 'string' ? last.expiresAt : null,
  };
}

function historyEntries(text: string | null): Array<Record<string, unknown>> {
  if (!text) return [];
  return text.split('\n').flatMap((line) => {
    try {
      const value: unknown = JSON.parse(line);
      return value && typeof value === 'object' && !Array.isArray(value) ? [value as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}
