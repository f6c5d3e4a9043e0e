/**
 * The grants that ended on a node, and why. A grant id that was revoked (level None, the owner's
 * local revoke, disable), expired or replaced never gives access on that node again, whatever
 * the extension manager replays (an older or reset sequence number, an old settings file, the
 * same number with other content): only a new grant id, that is a new consent, does.
 *
 * The list lives in the node's desired-state record (desired.json), so the handler decides with
 * it for every node it converges and the node agent honours it at every Reconcile. The node's
 * history, only ever appended to, tells the same (disables aside) when the record was written
 * back from an older copy; and the handler keeps a copy of this node's list in its state
 * (state.json), so a record that was lost or replaced gets it back. A grant expires at most MAX_GRANT_DAYS after its
 * consent, and its consent came before it could end: an entry older than that (plus a margin for
 * clocks) can never match a grant that is still valid, and is pruned.
 */
import { ConfigurationError } from '../extension/errors';
import { readHistory } from './access-history';
import type { DesiredRecord } from './desired-record';
import { formatUtc, isExpired, MAX_GRANT_DAYS, type Grant } from './desired-state';

export type GrantEndReason = 'revoked' | 'revoked-locally' | 'disabled' | 'expired' | 'replaced';
const REASONS: readonly string[] = ['revoked', 'revoked-locally', 'disabled', 'expired', 'replaced'];

export interface EndedGrant {
  grantId: string;
  /** When it ended: the revoke, the disable, the replacement, or its own expiry time. */
  endedAt: Date;
  reason: GrantEndReason;
  /** The Windows user of a local revoke, or the id of the grant that replaced it. */
  by?: string;
}

/** A grant expires at most 14 days after consent; one more day covers clocks that disagree. */
export const ENDED_GRANT_KEPT_DAYS = MAX_GRANT_DAYS + 1;
/** A bound on the file whatever happens: far more grants than any node ends within the kept days. */
export const MAX_ENDED_GRANTS = 256;
/**
 * The extension manager runs the old version's disable just before the new version's update; a
 * disable that ended a grant within this time before the update was that step, not the owner's.
 */
export const UPDATE_DISABLE_WINDOW_MINUTES = 15;

/** The local revoke's mark on the Windows user who made it (core/local-revoke.ts writes it). */
export const LOCAL_REVOKE_MARK = ' (local)';

function sameGrantId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function findEndedGrant(ended: readonly EndedGrant[] | undefined, grantId: string): EndedGrant | undefined {
  return ended?.find((entry) => sameGrantId(entry.grantId, grantId));
}

/**
 * The ended grant that stops `grant` from giving access: it ended on the node before. A grant
 * whose own expiry has passed gives no access anyway and is not named.
 */
export function endedGrantBlocking(
  grant: Grant | null | undefined,
  ended: readonly EndedGrant[] | undefined,
  now: Date,
): EndedGrant | undefined {
  if (!grant || isExpired(grant, now)) return undefined;
  return findEndedGrant(ended, grant.grantId);
}

/**
 * One list from several: one entry per grant id (the first end is the one that counts: it is
 * when the grant stopped giving access), entries past the kept days dropped, oldest first.
 */
export function mergeEndedGrants(now: Date, ...lists: Array<readonly EndedGrant[] | undefined>): EndedGrant[] {
  const byId = new Map<string, EndedGrant>();
  for (const entry of lists.flatMap((list) => list ?? [])) {
    const key = entry.grantId.toLowerCase();
    const known = byId.get(key);
    if (!known || entry.endedAt.getTime() < known.endedAt.getTime()) byId.set(key, entry);
  }
  const cutoff = now.getTime() - ENDED_GRANT_KEPT_DAYS * 86_400_000;
  const kept = [...byId.values()]
    .filter((entry) => entry.endedAt.getTime() > cutoff)
    .sort((a, b) => a.endedAt.getTime() - b.endedAt.getTime());
  return kept.slice(Math.max(0, kept.length - MAX_ENDED_GRANTS));
}

/**
 * The grants a change of the record from `previous` to `next` at `now` ends: a grant whose
 * expiry has passed (at its expiry time), the previous grant when another replaces it or none
 * follows (revoked; locally when `changedBy` carries the local mark), and the previous grant when
 * the extension is disabled.
 */
export function endsOfChange(previous: DesiredRecord, next: DesiredRecord, now: Date, changedBy: string): EndedGrant[] {
  const ends: EndedGrant[] = [];
  for (const grant of [previous.grant, next.grant]) {
    if (grant && isExpired(grant, now)) ends.push({ grantId: grant.grantId, endedAt: grant.expiresAt, reason: 'expired' });
  }
  const old = previous.grant;
  if (!old || isExpired(old, now)) return ends;
  if (next.grant && !sameGrantId(next.grant.grantId, old.grantId)) {
    ends.push({ grantId: old.grantId, endedAt: now, reason: 'replaced', by: next.grant.grantId });
  } else if (!next.grant) {
    const local = changedBy.endsWith(LOCAL_REVOKE_MARK);
    ends.push({
      grantId: old.grantId,
      endedAt: now,
      reason: local ? 'revoked-locally' : 'revoked',
      ...(local ? { by: changedBy.slice(0, -LOCAL_REVOKE_MARK.length) } : {}),
    });
  } else if (previous.enabled && !next.enabled) {
    ends.push({ grantId: old.grantId, endedAt: now, reason: 'disabled' });
  }
  return ends;
}

/**
 * The grants the node's history shows ended: revoked (by the settings, the owner on the node, the
 * agent), expired, or replaced by a later grant. The history is only appended to, so it still tells
 * when the record was written back from an older copy. A revoke by disable is not read here: the
 * extension manager disables the old version at every update and the grant then comes back; the
 * record's list keeps disables (and withoutUpdateDisable lifts the update's own).
 */
export function endedGrantsInHistory(history: string | null): EndedGrant[] {
  const ended: EndedGrant[] = [];
  let given: string | null = null;
  for (const entry of readHistory(history)) {
    const id = entry.grantId;
    if (id === null) continue;
    if (entry.change === 'granted' || entry.change === 'changed') {
      if (given !== null && !sameGrantId(given, id)) ended.push({ grantId: given, endedAt: entry.at, reason: 'replaced', by: id });
      given = id;
      continue;
    }
    if (given !== null && sameGrantId(given, id)) given = null;
    if (entry.change === 'expired') ended.push({ grantId: id, endedAt: entry.expiresAt ?? entry.at, reason: 'expired' });
    else if (entry.by.endsWith(LOCAL_REVOKE_MARK))
      ended.push({ grantId: id, endedAt: entry.at, reason: 'revoked-locally', by: entry.by.slice(0, -LOCAL_REVOKE_MARK.length) });
    else if (!isDisable(entry.by)) ended.push({ grantId: id, endedAt: entry.at, reason: 'revoked' });
  }
  return ended;
}

/** Who the history names for a disable: the handler's own, or a covering node's ("disable (from NODE)"). */
export const DISABLE_CHANGED_BY = 'disable';
function isDisable(by: string): boolean {
  return by === DISABLE_CHANGED_BY || by.startsWith(`${DISABLE_CHANGED_BY} (from `);
}

/**
 * What ended on a node, as it tells: its record's list, its history, and its record's grant if
 * that expired; with `also` (the handler's copy of this node's list).
 */
export function knownEndedGrants(record: DesiredRecord, history: string | null, now: Date, also?: readonly EndedGrant[]): EndedGrant[] {
  return mergeEndedGrants(now, record.endedGrants, endedGrantsInHistory(history), also, endsOfChange(record, record, now, ''));
}

/** `next` carrying what ended: `known` and what the change from `previous` ends. */
export function recordEnds(
  previous: DesiredRecord,
  next: DesiredRecord,
  known: readonly EndedGrant[],
  now: Date,
  changedBy: string,
): DesiredRecord {
  return withEndedGrants(next, mergeEndedGrants(now, known, endsOfChange(previous, next, now, changedBy)));
}

/** The record with this list of ended grants (none: without the field). */
export function withEndedGrants(record: DesiredRecord, endedGrants: EndedGrant[]): DesiredRecord {
  const { endedGrants: _before, ...rest } = record;
  return endedGrants.length > 0 ? { ...rest, endedGrants } : rest;
}

/**
 * The list without the ends of the disable the extension manager ran as the first step of an
 * update (at `updatedAt`): the grant it ended comes back with the new version.
 */
export function withoutUpdateDisable(ended: readonly EndedGrant[], updatedAt: Date): EndedGrant[] {
  const from = updatedAt.getTime() - UPDATE_DISABLE_WINDOW_MINUTES * 60_000;
  return ended.filter(
    (entry) => !(entry.reason === 'disabled' && entry.endedAt.getTime() >= from && entry.endedAt.getTime() <= updatedAt.getTime()),
  );
}

/** "ended at <time> because <reason>", for statuses and errors an owner reads. */
export function describeEnd(entry: EndedGrant): string {
  return `ended at ${formatUtc(entry.endedAt)} because ${describeEndReason(entry)}`;
}

/** Why it ended, as a clause: "it expired", "grant <id> replaced it"... */
export function describeEndReason(entry: EndedGrant): string {
  return REASON_TEXT[entry.reason](entry.by);
}

const REASON_TEXT: Record<GrantEndReason, (by: string | undefined) => string> = {
  revoked: () => 'it was revoked (access level None in the extension settings)',
  'revoked-locally': (by) => `the machine's owner revoked it on the machine${by ? ` (${by})` : ''}`,
  disabled: () => 'the extension was disabled',
  expired: () => 'it expired',
  replaced: (by) => (by ? `grant ${by} replaced it` : 'another grant replaced it'),
};

/** Settings that carry a grant that ended on this node: exit 53, nothing applied. */
export function refuseEndedGrant(entry: EndedGrant): never {
  throw new ConfigurationError(
    'access.grantId',
    `${JSON.stringify(entry.grantId)}, a grant that ${describeEnd(entry)}; a grant that ended never gives access again`,
    'a new grant: grant access again, which records a new consent under a new grantId (or set access.level to None)',
  );
}

/** The list as JSON (desired.json, state.json): times as ISO strings. */
export interface StoredEndedGrant {
  grantId: string;
  endedAt: string;
  reason: string;
  by?: string;
}

export function storeEndedGrants(ended: readonly EndedGrant[]): StoredEndedGrant[] {
  return ended.map((entry) => ({
    grantId: entry.grantId,
    endedAt: entry.endedAt.toISOString(),
    reason: entry.reason,
    ...(entry.by !== undefined ? { by: entry.by } : {}),
  }));
}

/** Reads a stored list; throws naming the first entry that is not one (the caller fails closed). */
export function readEndedGrants(value: unknown): EndedGrant[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Error('endedGrants is not a list');
  return value.map((item, index) => {
    const entry = item as Partial<StoredEndedGrant> | null;
    const endedAt = new Date(String(entry?.endedAt));
    if (
      typeof entry?.grantId !== 'string' ||
      entry.grantId === '' ||
      Number.isNaN(endedAt.getTime()) ||
      !REASONS.includes(String(entry.reason))
    ) {
      throw new Error(`endedGrants[${index}] is not an ended grant`);
    }
    return {
      grantId: entry.grantId,
      endedAt,
      reason: entry.reason as GrantEndReason,
      ...(typeof entry.by === 'string' ? { by: entry.by } : {}),
    };
  });
}
