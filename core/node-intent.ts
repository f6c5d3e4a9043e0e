/**
 * From a desired-state record to what one node must look like at `now`: the grant in force (none
 * when disabled or expired), the history lines and events for an access change, and the JEA and
 * task definitions. Pure, like plan.
 */
import { channelTask, expireTask, reconcileTask, retentionTask } from './task-definitions';
import { hostSecret } from '../windows/operations';
import { isExpired, type Grant } from './desired-state';
import { serializeDesiredRecord, type DesiredRecord } from './desired-record';
import { accessGivenInHistory, type AccessChangeKind, type HistoryEntry } from './access-history';
import { auditRecord, type AccessChangeEntry } from './audit-record';
import { HISTORY_FILE, PENDING_AUDIT_FILE, channelUserName, expireTaskName } from './node-layout';
import { endedGrantBlocking } from './ended-grants';
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
  /** Set the data folders' rights even where the folders exist. */
  resetFolderRights?: boolean;
  /** The node's computer name (its probe): names the channel's account as a group member. */
  computerName?: string;
  /** The listen token of the record's channel, from the protected settings (handler only). */
  channelToken?: string;
  /** The log upload SAS of the record's grant, from the protected settings (handler only). */
  logUploadSas?: string;
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
  const given = givenInAuditTrail(observed);
  // The grant the change is about: the one in force, else the one that ends, else the history's.
  const subject = subjectOf(grant ?? record.grant ?? previous.grant ?? undefined, given);
  const change = accessChange(previous.grant, grant, subject?.expiresAt ?? null, observed, given, now);
  const audit = change ? [auditRecord(entryOf(change, subject, grant, change === 'expired' ? 'expiry' : inputs.changedBy, now), true)] : [];
  return {
    present: true,
    enabled: record.enabled,
    grant,
    desiredRecord: serializeDesiredRecord(record),
    audit,
    jea: jea && { files: jea.files, sessionConfiguration: jea.sessionConfiguration },
    agent: inputs.agent,
    ...(inputs.resetFolderRights ? { resetFolderRights: true } : {}),
    ...channelOf(inputs, grant),
    ...logUploadOf(inputs, grant),
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
 * The channel of the grant in force: its account (a member of the level's group while the grant
 * lasts), the listen token to store when it is new, and the long-running Channel task. No account
 * without the computer name to name it by.
 */
function channelOf(inputs: IntentInputs, grant: Grant | undefined): Pick<NodeIntent, 'channel'> {
  const channel = inputs.record.channel;
  if (!grant || !channel || channel.grantId !== grant.grantId || !inputs.computerName) return {};
  const account = channelUserName(grant.grantId);
  const stored = inputs.previous.channel?.listenTokenDigest === channel.listenTokenDigest;
  return {
    channel: {
      account,
      member: `${inputs.computerName}\\${account}`,
      ...(inputs.channelToken !== undefined ? { token: { secret: hostSecret(inputs.channelToken), changed: !stored } } : {}),
      task: channelTask({ registeredAt: inputs.now }),
    },
  };
}

/**
 * The log uploads of the grant in force: the SAS to store when the settings brought one (`changed`:
 * not the one stored). No grant, or a grant without them: none, and the stored SAS goes.
 */
function logUploadOf(inputs: IntentInputs, grant: Grant | undefined): Pick<NodeIntent, 'logUpload'> {
  const upload = inputs.record.logUpload;
  if (!grant || !upload || upload.grantId !== grant.grantId) return {};
  const stored = inputs.previous.logUpload?.sasDigest === upload.sasDigest;
  return {
    logUpload: inputs.logUploadSas !== undefined ? { sas: { secret: hostSecret(inputs.logUploadSas), changed: !stored } } : {},
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
 * Uninstall, or the release of a covered peer: everything of ours goes, and access that was held
 * ends with its history line and event like any other revoke (the line is written before the data
 * folder goes; the Windows event log is the record that stays). Access counts as held while anyone
 * holds it, a session is open, or the audit trail's last word gave it, so a run killed after the
 * history line does not write it twice, and one killed before it still writes it.
 */
export function buildRemovalIntent(inputs: RemovalInputs): NodeIntent {
  const { previous, observed, now } = inputs;
  const grant = grantInForce(previous, now);
  const given = givenInAuditTrail(observed);
  const subject = subjectOf(grant ?? previous.grant ?? undefined, given);
  const change = accessChange(null, undefined, subject?.expiresAt ?? null, observed, given, now);
  const audit = change
    ? [auditRecord(entryOf(change, subject, undefined, change === 'expired' ? 'expiry' : inputs.changedBy, now), true)]
    : [];
  return { present: false, enabled: false, desiredRecord: '', audit, tasks: { reconcile: '', retention: '' } };
}

type Subject = Pick<HistoryEntry, 'grantId' | 'expiresAt' | 'supportRequestId' | 'termsVersion'>;

/** What a change is about: the grant named, else the grant the audit trail's last word gave. */
function subjectOf(about: Grant | undefined, given: HistoryEntry | null): Subject | null {
  if (about)
    return {
      grantId: about.grantId,
      expiresAt: about.expiresAt,
      supportRequestId: about.supportRequestId,
      termsVersion: about.consent.termsVersion,
    };
  return given;
}

/** The entry of a change: about `subject` (the grant given, ended or changed), at the level now in force. */
function entryOf(change: AccessChangeKind, subject: Subject | null, grant: Grant | undefined, by: string, now: Date): AccessChangeEntry {
  return {
    at: now,
    change,
    by,
    level: grant?.level ?? 'None',
    grantId: subject?.grantId ?? null,
    expiresAt: subject?.expiresAt ?? null,
    supportRequestId: subject?.supportRequestId ?? null,
    termsVersion: subject?.termsVersion ?? null,
  };
}

/**
 * The last entry of the audit trail when it gave access: the history, then the lines still waiting
 * to be written after it. Access is taken away before its record is written, so a run that could
 * not write (or did not get to write) the record leaves only this for the next run to find.
 */
function givenInAuditTrail(observed: ObservedNode): HistoryEntry | null {
  const waiting = parsePendingAudit(observed.files[PENDING_AUDIT_FILE] ?? null).records.map((record) => record.historyLine);
  return accessGivenInHistory(observed.files[HISTORY_FILE] ?? null, ...waiting);
}

/**
 * The change to record. Access was held when someone is in a level group or the audit trail's
 * last word gave it; where no grant is in force, an open session counts too.
 */
function accessChange(
  previousGrant: Grant | null,
  grant: Grant | undefined,
  endingExpiresAt: Date | null,
  observed: ObservedNode,
  given: HistoryEntry | null,
  now: Date,
): AccessChange {
  const holding = observed.groups.diagnostics.members.length > 0 || observed.groups.repair.members.length > 0 || given !== null;
  if (grant) {
    if (!holding || !previousGrant || previousGrant.grantId !== grant.grantId) return 'granted';
    return previousGrant.level !== grant.level || previousGrant.expiresAt.getTime() !== grant.expiresAt.getTime() ? 'changed' : null;
  }
  if (!holding && observed.openSessions === 0) return null;
  return endingExpiresAt && endingExpiresAt.getTime() <= now.getTime() ? 'expired' : 'revoked';
}
