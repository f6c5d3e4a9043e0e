/**
 * history.jsonl on each node: one JSON line per access change (who, when, level, expiry, ticket,
 * terms). Written and read here only: the intent appends lines, the node agent reads them for
 * the owner (Get-RemoteSupportSessionHistory, Get-RemoteSupportAccess -IncludeExpired), and a
 * local revoke is found in them.
 */
import { formatUtc } from './desired-state';

export type AccessChangeKind = 'granted' | 'changed' | 'revoked' | 'expired';
const KINDS: readonly string[] = ['granted', 'changed', 'revoked', 'expired'];

export interface HistoryEntry {
  at: Date;
  change: AccessChangeKind;
  /** The owner's consent identity, "expiry", "agent reconcile", "<DOMAIN\user> (local)"... */
  by: string;
  /** The level in force after the change: None after a revoke or expiry. */
  level: string;
  grantId: string | null;
  expiresAt: Date | null;
  supportRequestId: string | null;
  termsVersion: string | null;
  /**
   * The id of the audit record this line belongs to (core/audit-record.ts): its event carries the
   * same id, and a line written again after a failed write is found by it. Absent on older lines.
   */
  auditId?: string;
}

/** One history line, its fields always in this order. */
export function formatHistoryLine(entry: HistoryEntry): string {
  return JSON.stringify({
    at: formatUtc(entry.at),
    change: entry.change,
    by: entry.by,
    level: entry.level,
    grantId: entry.grantId,
    expiresAt: entry.expiresAt ? formatUtc(entry.expiresAt) : null,
    supportRequestId: entry.supportRequestId,
    termsVersion: entry.termsVersion,
    ...(entry.auditId !== undefined ? { auditId: entry.auditId } : {}),
  });
}

/** The entries, oldest first. A line that is not an access change (cut short by a crash, foreign) is skipped. */
export function readHistory(text: string | null): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    if (line.trim() === '') continue;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const at = timeOf(value?.at);
    if (!at || typeof value.change !== 'string' || !KINDS.includes(value.change)) continue;
    entries.push({
      at,
      change: value.change as AccessChangeKind,
      by: stringOf(value.by) ?? '',
      level: stringOf(value.level) ?? '',
      grantId: stringOf(value.grantId),
      expiresAt: timeOf(value.expiresAt),
      supportRequestId: stringOf(value.supportRequestId),
      termsVersion: stringOf(value.termsVersion),
      ...(typeof value.auditId === 'string' ? { auditId: value.auditId } : {}),
    });
  }
  return entries;
}

/**
 * The history's last entry when its last word is that access was given (granted or changed, not
 * ended since). `texts`: the history file, then any lines still waiting to be written after it
 * (core/pending-audit.ts), whose word is later.
 */
export function accessGivenInHistory(...texts: Array<string | null>): HistoryEntry | null {
  const last = texts.flatMap((text) => readHistory(text)).pop();
  return last?.change === 'granted' || last?.change === 'changed' ? last : null;
}

export type PastGrantState = 'Revoked' | 'Expired' | 'Ended';

export interface PastGrant {
  grantId: string;
  level: string;
  /** Revoked or Expired by its last entry; Ended when a later grant replaced it. */
  state: PastGrantState;
  expiresAt: Date | null;
  supportRequestId: string | null;
  termsVersion: string | null;
  /** Who made the 'granted' entry, and when. */
  acceptedBy: string | null;
  acceptedAt: Date | null;
  endedAt: Date | null;
  endedBy: string | null;
  /** The time of its last entry: past grants are listed newest first by it. */
  lastEntryAt: Date;
}

/** One grant per grant id in the history except `exceptGrantId` (the recorded one), newest first. */
export function pastGrants(entries: HistoryEntry[], exceptGrantId: string | null): PastGrant[] {
  const grants = new Map<string, PastGrant>();
  for (const entry of entries) {
    const id = entry.grantId;
    if (id === null || id === exceptGrantId) continue;
    let grant = grants.get(id);
    if (!grant) {
      grant = {
        grantId: id,
        level: 'None',
        state: 'Ended',
        expiresAt: null,
        supportRequestId: null,
        termsVersion: null,
        acceptedBy: null,
        acceptedAt: null,
        endedAt: null,
        endedBy: null,
        lastEntryAt: entry.at,
      };
      grants.set(id, grant);
    }
    grant.lastEntryAt = entry.at;
    if (entry.level && entry.level !== 'None') grant.level = entry.level;
    if (entry.expiresAt) grant.expiresAt = entry.expiresAt;
    if (entry.supportRequestId !== null) grant.supportRequestId = entry.supportRequestId;
    if (entry.termsVersion !== null) grant.termsVersion = entry.termsVersion;
    if (entry.change === 'granted')
      Object.assign(grant, { acceptedBy: entry.by, acceptedAt: entry.at, state: 'Ended', endedAt: null, endedBy: null });
    if (entry.change === 'revoked') Object.assign(grant, { state: 'Revoked', endedAt: entry.at, endedBy: entry.by });
    if (entry.change === 'expired') Object.assign(grant, { state: 'Expired', endedAt: entry.at, endedBy: entry.by });
  }
  return [...grants.values()].sort((a, b) => b.lastEntryAt.getTime() - a.lastEntryAt.getTime());
}

function stringOf(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function timeOf(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? null : time;
}
