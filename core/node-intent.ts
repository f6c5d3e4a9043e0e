/**
 * From a desired-state record to what one node must look like at `now`: the grant in force (none
 * when disabled or expired), the history lines and events for an access change, and the JEA and
 * task definitions. Pure, like plan.
 */
import { expireTask, reconcileTask, retentionTask } from './task-definitions';
import { formatUtc, isExpired, type Grant } from './desired-state';
import { serializeDesiredRecord, type DesiredRecord } from './desired-record';
import { accessGivenInHistory, formatHistoryLine, type AccessChangeKind, type HistoryEntry } from './access-history';
import { HISTORY_FILE, expireTaskName } from './node-layout';
import { endedGrantBlocking } from './ended-grants';
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

export type AccessChange = AccessChangeKind | null;

/** The grant in force: enabled, not yet expired, and not a grant that already ended on the node. */
export function grantInForce(record: DesiredRecord, now: Date): Grant | undefined {
  if (!record.enabled || !record.grant || isExpired(record.grant, now)) return undefined;
  return endedGrantBlocking(record.grant, record.endedGrants, now) ? undefined : record.grant;
}

export function buildNodeIntent(inputs: IntentInputs): NodeIntent {
  const { record, previous, observed, now, jea } = inputs;
  const grant = grantInForce(record, now);
  // Access was on if anyone holds it, or if the history's last word gave it: removal runs before the
  // history line is written, so after a crash in between only the history still tells.
  const given = accessGivenInHistory(observed.files[HISTORY_FILE] ?? null);
  const hadAccess = observed.groups.diagnostics.members.length > 0 || observed.groups.repair.members.length > 0 || given !== null;
  // The grant the change is about: the one in force, else the one that ends, else the history's.
  const about = grant ?? record.grant ?? previous.grant;
  const subject = about
    ? {
        grantId: about.grantId,
        expiresAt: about.expiresAt,
        supportRequestId: about.supportRequestId,
        termsVersion: about.consent.termsVersion,
      }
    : given;
  const change = accessChange(previous.grant, grant, subject?.expiresAt ?? null, hadAccess, now);
  const audit = change
    ? auditOf({
        at: now,
        change,
        by: change === 'expired' ? 'expiry' : inputs.changedBy,
        level: grant?.level ?? 'None',
        grantId: subject?.grantId ?? null,
        expiresAt: subject?.expiresAt ?? null,
        supportRequestId: subject?.supportRequestId ?? null,
        termsVersion: subject?.termsVersion ?? null,
      })
    : undefined;
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
 * force ends with its history line and event like any other revoke. Access counts as given while
 * anyone holds it or the history's last word gave it, so a run killed after the history line does
 * not write it twice, and one killed before it still writes it.
 */
export function buildRemovalIntent(inputs: RemovalInputs): NodeIntent {
  const { previous, observed, now } = inputs;
  const removal: NodeIntent = {
    present: false,
    enabled: false,
    desiredRecord: '',
    historyLines: [],
    events: [],
    tasks: { reconcile: '', retention: '' },
  };
  const grant = grantInForce(previous, now);
  const given = accessGivenInHistory(observed.files[HISTORY_FILE] ?? null);
  const hadAccess = observed.groups.diagnostics.members.length > 0 || observed.groups.repair.members.length > 0 || given !== null;
  if (!hadAccess) return removal;
  const about = grant ?? previous.grant;
  const subject = about
    ? {
        grantId: about.grantId,
        expiresAt: about.expiresAt,
        supportRequestId: about.supportRequestId,
        termsVersion: about.consent.termsVersion,
      }
    : given;
  const expired = !grant && subject?.expiresAt != null && subject.expiresAt.getTime() <= now.getTime();
  const audit = auditOf({
    at: now,
    change: expired ? 'expired' : 'revoked',
    by: expired ? 'expiry' : inputs.changedBy,
    level: 'None',
    grantId: subject?.grantId ?? null,
    expiresAt: subject?.expiresAt ?? null,
    supportRequestId: subject?.supportRequestId ?? null,
    termsVersion: subject?.termsVersion ?? null,
  });
  return { ...removal, historyLines: [audit.historyLine], events: [audit.event] };
}

/**
 * The history line and the event of one access change. Both are escaped: whatever reached them
 * (settings are checked, but a record on disk may not be) cannot start a line or reorder text.
 */
function auditOf(entry: HistoryEntry): { historyLine: string; event: NodeIntent['events'][number] } {
  const expires = entry.expiresAt ? formatUtc(entry.expiresAt) : 'n/a';
  return {
    historyLine: escapeUnsafe(formatHistoryLine(entry)),
    event: {
      eventId: EVENT_IDS[entry.change],
      level: entry.change === 'granted' || entry.change === 'changed' ? 'Information' : 'Warning',
      message: escapeUnsafe(
        `Remote support access ${entry.change}: level ${entry.level}, grant ${entry.grantId ?? 'none'}, expires ${expires}, support request ${entry.supportRequestId ?? 'n/a'}, terms ${entry.termsVersion ?? 'n/a'}, by ${entry.by}.`,
      ),
    },
  };
}

const EVENT_IDS: Record<Exclude<AccessChange, null>, number> = { granted: 1001, changed: 1002, revoked: 1003, expired: 1004 };

function accessChange(
  previousGrant: Grant | null,
  grant: Grant | undefined,
  endingExpiresAt: Date | null,
  hadAccess: boolean,
  now: Date,
): AccessChange {
  if (grant) {
    if (!hadAccess || !previousGrant || previousGrant.grantId !== grant.grantId) return 'granted';
    return previousGrant.level !== grant.level || previousGrant.expiresAt.getTime() !== grant.expiresAt.getTime() ? 'changed' : null;
  }
  if (!hadAccess) return null;
  return endingExpiresAt && endingExpiresAt.getTime() <= now.getTime() ? 'expired' : 'revoked';
}
