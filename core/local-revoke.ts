/**
 * The owner's local revoke (Disable-RemoteSupport on the node, run through the node agent): what it
 * does to the desired-state record, and the mark it leaves in the history. The record's list of
 * ended grants keeps the grant from coming back with extension settings that still carry it; the
 * history's line with the local mark (read by core/ended-grants.ts) says the same to a node whose
 * record lost the list.
 * Only a new grant, with a new id, gives access again.
 */
import type { DesiredRecord } from './desired-record';
import { LOCAL_REVOKE_MARK } from './ended-grants';
import { findUnsafeCharacter } from '../extension/unsafe-text';

/** Who revoked, as the history and the event name them: the Windows user, marked as local. */
export function localRevoker(windowsUser: string): string {
  const user = windowsUser.trim();
  if (user === '' || findUnsafeCharacter(user)) {
    throw new Error(`--by must name the Windows user who revokes (DOMAIN\\user), not ${JSON.stringify(windowsUser)}`);
  }
  return `${user}${LOCAL_REVOKE_MARK}`;
}

/** The record after a local revoke: no grant; enabled, retention and a covering node's mark kept. */
export function locallyRevoked(record: DesiredRecord): DesiredRecord {
  return { ...record, grant: null };
}
