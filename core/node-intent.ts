/**
 * From a desired-state record to what one node must look like at `now`: the grant in force (none
 * when disabled or expired), the history lines and events for an access change, and the JEA and
 * task definitions. Pure, like plan.
 */
import { expireTask, reconcileTask, retentionTask } from './task-definitions';
import { isExpired, type Grant } from './desired-state';
import { parseDesiredRecord, serializeDesiredRecord, type DesiredRecord } from './desired-record';
import { auditRecord, lastRecordedChange, type AccessChangeEntry, type AccessChangeKind } from './audit-record';
import { DESIRED_STATE_FILE, HISTORY_FILE, PENDING_AUDIT_FILE, expireTaskName } from './node-layout';
import type { AgentInstallation, ManagedFile, NodeIntent, ObservedNode } from './node-plan';
import { parsePendingAudit } from './pending-audit';

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

/** The grant in force: enabled, and not yet expired. */
export function grantInForce(record: DesiredRecord, now: Date): Grant | undefined {
  return record.enabled && record.grant && !isExpired(record.grant, now) ? record.grant : undefined;
}

export function buildNodeIntent(inputs: IntentInputs): NodeIntent {
  const { record, previous, observed, now, jea } = inputs;
  const grant = grantInForce(record, now);
  const change = accessChange(previous.grant, grant, record, observed, now);
  const subject = grant ?? record.grant ?? previous.grant ?? undefined;
  const audit = change ? [auditRecord(entryOf(change, subject, grant, change === 'expired' ? 'expiry' : inputs.changedBy, now), true)] : [];
  return {
    present: true,
    enabled: record.enabled,
    grant,
    desiredRecord: serializeDesiredRecord(record),
    audit,
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

/**
 * The intent that removes everything of the extension from a node. Taking access away is audited
 * like any revoke (the grant the node's record names), by its event only: the history goes with
 * the data folder, and the Windows event log is the record that stays.
 */
export function removalIntent(inputs: { observed: ObservedNode; now: Date; changedBy: string }): NodeIntent {
  const { record } = parseDesiredRecord(inputs.observed.files[DESIRED_STATE_FILE] ?? null);
  const change = accessChange(null, undefined, record, inputs.observed, inputs.now);
  const audit = change ? [auditRecord(entryOf(change, record.grant ?? undefined, undefined, inputs.changedBy, inputs.now), false)] : [];
  return { present: false, enabled: false, desiredRecord: '', audit, tasks: { reconcile: '', retention: '' } };
}

/** The entry of a change: about `subject` (the grant given, ended or changed), at the level now in force. */
function entryOf(change: AccessChangeKind, subject: Grant | undefined, grant: Grant | undefined, by: string, now: Date): AccessChangeEntry {
  return {
    at: now,
    change,
    by,
    level: grant?.level ?? 'None',
    grantId: subject?.grantId ?? null,
    expiresAt: subject?.expiresAt ?? null,
    supportRequestId: subject?.supportRequestId ?? null,
    termsVersion: subject?.consent.termsVersion ?? null,
  };
}

/**
 * Whether access was held: someone is in a level group. Where no grant is in force, also an open
 * session, or an audit trail whose last word gave access: a run that took access away and could
 * not write (or did not get to write) its record, leaves that for the next run to find.
 */
function accessChange(previousGrant: Grant | null, grant: Grant | undefined, record: DesiredRecord, observed: ObservedNode, now: Date): AccessChange {
  const holding = observed.groups.diagnostics.members.length > 0 || observed.groups.repair.members.length > 0;
  if (grant) {
    if (!holding || !previousGrant || previousGrant.grantId !== grant.grantId) return 'granted';
    return previousGrant.level !== grant.level || previousGrant.expiresAt.getTime() !== grant.expiresAt.getTime() ? 'changed' : null;
  }
  if (!holding && observed.openSessions === 0 && !lastWordGaveAccess(observed)) return null;
  return record.grant && isExpired(record.grant, now) ? 'expired' : 'revoked';
}

/** The last change of the history, or of the lines still waiting to be written after it. */
function lastWordGaveAccess(observed: ObservedNode): boolean {
  const waiting = parsePendingAudit(observed.files[PENDING_AUDIT_FILE] ?? null).records.map((record) => record.historyLine);
  const last = lastRecordedChange([observed.files[HISTORY_FILE] ?? null, ...waiting]);
  return last?.change === 'granted' || last?.change === 'changed';
}
