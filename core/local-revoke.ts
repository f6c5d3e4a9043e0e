/**
 * The owner's local revoke (Disable-RemoteSupport on the node, run through the node agent): what it
 * does to the desired-state record, and the mark it leaves in the history so that extension
 * settings still carrying the same grant do not bring it back. Only a new grant, with a new id,
 * gives access again.
 */
import { readHistory } from './access-history';
import type { DesiredRecord } from './desired-record';
import { findUnsafeCharacter } from '../extension/unsafe-text';

const LOCAL_MARK = ' (local)';

/** Who revoked, as the history and the event name them: the Windows user, marked as local. */
export function localRevoker(windowsUser: string): string {
  const user = windowsUser.trim();
  if (user === '' || findUnsafeCharacter(user)) {
    throw new Error(`--by must name the Windows user who revokes (DOMAIN\\user), not ${JSON.stringify(windowsUser)}`);
  }
  return `${user}${LOCAL_MARK}`;
}

/** The record after a local revoke: no grant; enabled, retention and a covering node's mark kept. */
export function locallyRevoked(record: DesiredRecord): DesiredRecord {
  return { ...record, grant: null };
}

/** The record without its grant when the history shows the owner revoked that very grant locally. */
export function withoutLocallyRevokedGrant(record: DesiredRecord, history: string | null): DesiredRecord {
  const grantId = record.grant?.grantId;
  if (!grantId) return record;
  const revokedLocally = readHistory(history).some(
    (entry) => entry.change === 'revoked' && entry.grantId === grantId && entry.by.endsWith(LOCAL_MARK),
  );
  return revokedLocally ? { ...record, grant: null } : record;
}
