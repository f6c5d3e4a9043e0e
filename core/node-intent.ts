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
    ? { grantId: about.grantId, expiresAt: about.expiresAt, supportRequestId: about.supportRequestId, termsVersion: about.consent.termsVersion }
    : given;
  const change = accessChange(previous.grant, grant, subject?.expiresAt ?? null, hadAccess, now);
  const historyLines: string[] = [];
  const events: NodeIntent['events'] = [];
  if (change) {
    const entry: HistoryEntry = {
      at: now,
      change,
      by: change === 'expired' ? 'expiry' : inputs.changedBy,
      level: grant?.level ?? 'None',
      grantId: subject?.grantId ?? null,
      expiresAt: subject?.expiresAt ?? null,
      supportRequestId: subject?.supportRequestId ?? null,
      termsVersion: subject?.termsVersion ?? null,
    };
    historyLines.push(formatHistoryLine(entry));
    const expires = entry.expiresAt ? formatUtc(entry.expiresAt) : 'n/a';
    events.push({
      eventId: EVENT_IDS[change],
      level: change === 'granted' || change === 'changed' ? 'Information' : 'Warning',
      message: `Remote support access ${change}: level ${entry.level}, grant ${entry.grantId ?? 'none'}, expires ${expires}, support request ${entry.supportRequestId ?? 'n/a'}, terms ${entry.termsVersion ?? 'n/a'}, by ${entry.by}.`,
    });
  }
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

/** The intent that removes everything of the extension from a node. */
export function removalIntent(): NodeIntent {
  return { present: false, enabled: false, desiredRecord: '', historyLines: [], events: [], tasks: { reconcile: '', retention: '' } };
}

const EVENT_IDS: Record<Exclude<AccessChange, null>, number> = { granted: 1001, changed: 1002, revoked: 1003, expired: 1004 };

function accessChange(previousGrant: Grant | null, grant: Grant | undefined, endingExpiresAt: Date | null, hadAccess: boolean, now: Date): AccessChange {
  if (grant) {
    if (!hadAccess || !previousGrant || previousGrant.grantId !== grant.grantId) return 'granted';
    return previousGrant.level !== grant.level || previousGrant.expiresAt.getTime() !== grant.expiresAt.getTime() ? 'changed' : null;
  }
  if (!hadAccess) return null;
  return endingExpiresAt && endingExpiresAt.getTime() <= now.getTime() ? 'expired' : 'revoked';
}
