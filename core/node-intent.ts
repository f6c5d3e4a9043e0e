/**
 * From a desired-state record to what one node must look like at `now`: the grant in force (none
 * when disabled or expired), the history lines and events for an access change, and the JEA and
 * task definitions. Pure, like plan.
 */
import { expireTask, reconcileTask, retentionTask } from './task-definitions';
import { formatUtc, isExpired, type Grant } from './desired-state';
import { serializeDesiredRecord, type DesiredRecord } from './desired-record';
import { expireTaskName } from './node-layout';
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
  const historyLines: string[] = [];
  const events: NodeIntent['events'] = [];
  if (change) {
    const subject = grant ?? record.grant ?? previous.grant;
    const entry = {
      at: formatUtc(now),
      change,
      by: change === 'expired' ? 'expiry' : inputs.changedBy,
      level: grant?.level ?? 'None',
      grantId: subject?.grantId ?? null,
      expiresAt: subject ? formatUtc(subject.expiresAt) : null,
      supportRequestId: subject?.supportRequestId ?? null,
      termsVersion: subject?.consent.termsVersion ?? null,
    };
    // Escaped: whatever reached them (settings are checked, a record on disk may not be) cannot start a line or reorder text.
    historyLines.push(escapeUnsafe(JSON.stringify(entry)));
    events.push({
      eventId: EVENT_IDS[change],
      level: change === 'granted' || change === 'changed' ? 'Information' : 'Warning',
      message: escapeUnsafe(
        `Remote support access ${change}: level ${entry.level}, grant ${entry.grantId ?? 'none'}, expires ${entry.expiresAt ?? 'n/a'}, support request ${entry.supportRequestId ?? 'n/a'}, terms ${entry.termsVersion ?? 'n/a'}, by ${entry.by}.`,
      ),
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

const EVENT_IDS: Record<Exclude<AccessChange, null>, number> = { granted: 1001, changed: 1002, revoked: 1003, expired: 1004 };

function accessChange(previousGrant: Grant | null, grant: Grant | undefined, record: DesiredRecord, hadAccess: boolean, now: Date): AccessChange {
  if (grant) {
    if (!hadAccess || !previousGrant || previousGrant.grantId !== grant.grantId) return 'granted';
    return previousGrant.level !== grant.level || previousGrant.expiresAt.getTime() !== grant.expiresAt.getTime() ? 'changed' : null;
  }
  if (!hadAccess) return null;
  return record.grant && isExpired(record.grant, now) ? 'expired' : 'revoked';
}
