/**
 * From a desired-state record to what one node must look like at `now`: the grant in force (none
 * when disabled or expired), the history lines and events for an access change, and the JEA and
 * task definitions. Pure, like plan.
 */
import { expireTask, reconcileTask, retentionTask } from './task-definitions';
import { formatUtc, isExpired, type Grant } from './desired-state';
import { serializeDesiredRecord, type DesiredRecord } from './desired-record';
import { HISTORY_FILE, expireTaskName } from './node-layout';
import { escapeUnsafe } from '../extension/unsafe-text';
import type { AgentInstallation, ManagedFile, NodeIntent, ObservedNode } from './node-plan';

export interface JeaDefinition {
  files: ManagedFile[];
  sessionConfiguration: string;
}

export interface IntentInputs {
  record: DesiredRecord;
  /** What the node last recorded (its desired.json), to tell what changed. */
  previous: DesiredRecord;
  observed: ObservedNode;
  now: Date;
  /** Who made this change, for the history: the owner's consent identity, "expiry", a local user. */
  changedBy: string;
  /** The handler installs JEA and the agent; the node agent leaves them alone. */
  jea?: JeaDefinition;
  agent?: AgentInstallation;
}

export type AccessChange = 'granted' | 'changed' | 'revoked' | 'expired' | null;

/** The grant in force: enabled, and not yet expired. */
export function grantInForce(record: DesiredRecord, now: Date): Grant | undefined {
  return record.enabled && record.grant && !isExpired(record.grant, now) ? record.grant : undefined;
}

export function buildNodeIntent(inputs: IntentInputs): NodeIntent {
  const { record, previous, observed, now, jea } = inputs;
  const grant = grantInForce(record, now);
  const hadAccess = observed.groups.diagnostics.members.length > 0 || observed.groups.repair.members.length > 0;
  const change = accessChange(previous.grant, grant, record, hadAccess, now);
  const audit = change ? accessAudit(change, grant ?? record.grant ?? previous.grant, grant?.level ?? 'None', change === 'expired' ? 'expiry' : inputs.changedBy, now) : undefined;
  const historyLines = audit ? [audit.historyLine] : [];
  const events: NodeIntent['events'] = audit ? [audit.event] : [];
  return {
    present: true,
    enabled: record.enabled,
    grant,
    desiredRecord: serializeDesiredRecord(record),
    historyLines,
    events,
    jea: jea && { files: jea.files, sessionConfiguration: jea.sessionConfiguration },
    agent: inputs.agent,
    tasks: {
      reconcile: reconcileTask({ registeredAt: now }),
      retention: retentionTask({ registeredAt: now }),
      expire: grant
        ? {
            name: expireTaskName(grant.grantId),
            xml: expireTask({ grantId: grant.grantId, expiresAt: grant.expiresAt, registeredAt: now }),
            // Same grant, new period: the task's trigger must move.
            replace: previous.grant?.grantId === grant.grantId && previous.grant.expiresAt.getTime() !== grant.expiresAt.getTime(),
          }
        : undefined,
    },
  };
}

export interface RemovalInputs {
  /** What the node last recorded (its desired.json): kept until the very last step of a removal. */
  previous: DesiredRecord;
  observed: ObservedNode;
  now: Date;
  changedBy: string;
}

/**
 * Uninstall, or the release of a covered peer: everything of ours goes, and access that was in
 * force ends with its history line and event like any other revoke. A run killed after writing
 * them finds its line at the end of the history and does not write them twice.
 */
export function buildRemovalIntent(inputs: RemovalInputs): NodeIntent {
  const { previous, observed, now } = inputs;
  const removal: NodeIntent = { present: false, enabled: false, desiredRecord: '', historyLines: [], events: [], tasks: { reconcile: '', retention: '' } };
  const grant = grantInForce(previous, now);
  const hadAccess = observed.groups.diagnostics.members.length > 0 || observed.groups.repair.members.length > 0;
  if (!grant && !hadAccess) return removal;
  const expired = !grant && previous.grant !== null && isExpired(previous.grant, now);
  const audit = accessAudit(expired ? 'expired' : 'revoked', grant ?? previous.grant, 'None', expired ? 'expiry' : inputs.changedBy, now);
  if (lastHistoryEntryMatches(observed.files[HISTORY_FILE] ?? null, audit.entry)) return removal;
  return { ...removal, historyLines: [audit.historyLine], events: [audit.event] };
}

/**
 * The history line and the event of one access change. Both are escaped: whatever reached them
 * (settings are checked, but a record on disk may not be) cannot start a line or reorder text.
 */
function accessAudit(change: Exclude<AccessChange, null>, subject: Grant | null | undefined, level: string, by: string, now: Date) {
  const entry = {
    at: formatUtc(now),
    change,
    by,
    level,
    grantId: subject?.grantId ?? null,
    expiresAt: subject ? formatUtc(subject.expiresAt) : null,
    supportRequestId: subject?.supportRequestId ?? null,
    termsVersion: subject?.consent.termsVersion ?? null,
  };
  const event = {
    eventId: EVENT_IDS[change],
    level: change === 'granted' || change === 'changed' ? ('Information' as const) : ('Warning' as const),
    message: escapeUnsafe(
      `Remote support access ${change}: level ${entry.level}, grant ${entry.grantId ?? 'none'}, expires ${entry.expiresAt ?? 'n/a'}, support request ${entry.supportRequestId ?? 'n/a'}, terms ${entry.termsVersion ?? 'n/a'}, by ${entry.by}.`,
    ),
  };
  return { entry, historyLine: escapeUnsafe(JSON.stringify(entry)), event };
}

/** Whether the history already ends with this change (same change, grant and author). */
function lastHistoryEntryMatches(history: string | null, entry: { change: string; by: string; grantId: string | null }): boolean {
  const last = (history ?? '').trimEnd().split('\n').pop();
  if (!last) return false;
  try {
    const recorded = JSON.parse(last);
    return recorded.change === entry.change && recorded.by === entry.by && recorded.grantId === entry.grantId;
  } catch {
    return false;
  }
}

const EVENT_IDS: Record<Exclude<AccessChange, null>, number> = { granted: 1001, changed: 1002, revoked: 1003, expired: 1004 };

function accessChange(previousGrant: Grant | null, grant: Grant | undefined, record: DesiredRecord, hadAccess: boolean, now: Date): AccessChange {
  if (grant) {
    if (!hadAccess || !previousGrant || previousGrant.grantId !== grant.grantId) return 'granted';
    return previousGrant.level !== grant.level || previousGrant.expiresAt.getTime() !== grant.expiresAt.getTime() ? 'changed' : null;
  }
  if (!hadAccess) return null;
  return record.grant && isExpired(record.grant, now) ? 'expired' : 'revoked';
}
