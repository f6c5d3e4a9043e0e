/**
 * desired.json on each node: what access the node must have, for the agent's Reconcile and Expire
 * tasks to converge to without the extension manager. Its only times are when listed grants
 * ended, kept from the run that ended them: the same desire gives the same bytes and re-running
 * changes nothing.
 */
import { DEFAULT_RETENTION_DAYS, type Grant, type GrantLevel } from './desired-state';
import { readEndedGrants, storeEndedGrants, type EndedGrant } from './ended-grants';
import { readNodeChannel, storeNodeChannel, type NodeChannel } from './node-channel';
import { readLogUploadGrant, storeLogUploadGrant, type LogUploadGrant } from './log-upload-grant';

export interface DesiredRecord {
  enabled: boolean;
  retentionDays: number;
  grant: Grant | null;
  /**
   * Set on a cluster peer the extension of another node covers (`cluster.installOnPeers`): that
   * node's name. Absent on a node whose own extension manages it.
   */
  managedFrom?: string;
  /**
   * The grants that ended on this node (core/ended-grants.ts): none of them gives access again.
   * Absent when there is none.
   */
  endedGrants?: EndedGrant[];
  /** The channel of the grant (core/node-channel.ts); absent without a grant or without a channel. */
  channel?: NodeChannel;
  /** The log uploads the grant allows (core/log-upload-grant.ts); absent without a grant or without them. */
  logUpload?: LogUploadGrant;
}

export const NO_ACCESS: DesiredRecord = { enabled: true, retentionDays: DEFAULT_RETENTION_DAYS, grant: null };

export function serializeDesiredRecord(record: DesiredRecord): string {
  const grant = record.grant && {
    level: record.grant.level,
    grantId: record.grant.grantId,
    expiresAt: record.grant.expiresAt.toISOString(),
    supportRequestId: record.grant.supportRequestId,
    consent: {
      termsVersion: record.grant.consent.termsVersion,
      acceptedAt: record.grant.consent.acceptedAt.toISOString(),
      acceptedBy: record.grant.consent.acceptedBy,
    },
  };
  const managedFrom = record.managedFrom ? { managedFrom: record.managedFrom } : {};
  const endedGrants = record.endedGrants?.length ? { endedGrants: storeEndedGrants(record.endedGrants) } : {};
  // Only the grant's own channel: a channel without its grant is not kept.
  const channel = grant && record.channel?.grantId === grant.grantId ? { channel: storeNodeChannel(record.channel) } : {};
  const logUpload = grant && record.logUpload?.grantId === grant.grantId ? { logUpload: storeLogUploadGrant(record.logUpload) } : {};
  return `${JSON.stringify({ schemaVersion: 1, enabled: record.enabled, retentionDays: record.retentionDays, ...managedFrom, grant: grant ?? null, ...channel, ...logUpload, ...endedGrants }, null, 2)}\n`;
}

/**
 * Reads desired.json. Missing means nothing was ever granted. Unreadable or corrupt means the
 * same, with the problem named: access fails closed.
 */
export function parseDesiredRecord(text: string | null): { record: DesiredRecord; problem?: string } {
  if (text === null) return { record: NO_ACCESS };
  try {
    const value = JSON.parse(text);
    if (value?.schemaVersion !== 1 || typeof value.enabled !== 'boolean') throw new Error('unexpected fields');
    const grant = value.grant;
    const endedGrants = readEndedGrants(value.endedGrants);
    const channel = grant ? readNodeChannel(value.channel) : undefined;
    const logUpload = grant ? readLogUploadGrant(value.logUpload) : undefined;
    return {
      record: {
        enabled: value.enabled,
        retentionDays: Number.isInteger(value.retentionDays) ? value.retentionDays : DEFAULT_RETENTION_DAYS,
        ...(typeof value.managedFrom === 'string' && value.managedFrom ? { managedFrom: value.managedFrom } : {}),
        grant: grant
          ? {
              level: grant.level as GrantLevel,
              grantId: String(grant.grantId),
              expiresAt: validDate(grant.expiresAt),
              supportRequestId: String(grant.supportRequestId),
              consent: {
                termsVersion: String(grant.consent.termsVersion),
                acceptedAt: validDate(grant.consent.acceptedAt),
                acceptedBy: String(grant.consent.acceptedBy),
              },
            }
          : null,
        ...(channel && channel.grantId === String(grant.grantId) ? { channel } : {}),
        ...(logUpload && logUpload.grantId === String(grant.grantId) ? { logUpload } : {}),
        ...(endedGrants.length > 0 ? { endedGrants } : {}),
      },
    };
  } catch (error) {
    return {
      record: { ...NO_ACCESS },
      problem: `the desired-state record is unreadable (${(error as Error).message}); access is off until it is written again`,
    };
  }
}

function validDate(text: unknown): Date {
  const date = new Date(String(text));
  if (Number.isNaN(date.getTime())) throw new Error(`bad time ${JSON.stringify(text)}`);
  return date;
}
