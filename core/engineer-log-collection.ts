/**
 * The engineer's log collection (DESIGN section 9) rests on the grant in force: it may be asked
 * only while a grant whose owner allowed log uploads (core/log-upload-grant.ts) is in force, and it
 * stops, before its commit, as soon as that grant is no longer the one in force (revoked, expired,
 * replaced) or no longer allows uploads. Pure: both agent commands read desired.json and the
 * node's clock, and ask here.
 */
import { parseDesiredRecord } from './desired-record';
import { isExpired, type Grant } from './desired-state';
import type { LogUploadGrant } from './log-upload-grant';
import { grantInForce } from './node-intent';

export type EngineerCollectionGrant = { ok: true; grant: Grant; upload: LogUploadGrant } | { ok: false; refusal: string };

/** The grant an engineer's request rests on now, or why none may be asked (one line, for the engineer). */
export function grantForEngineerCollection(desiredText: string | null, now: Date): EngineerCollectionGrant {
  const { record, problem } = parseDesiredRecord(desiredText);
  if (problem) return { ok: false, refusal: `no grant is known to be in force on this node: ${problem}.` };
  const grant = grantInForce(record, now);
  if (!grant) {
    const ended = record.grant && isExpired(record.grant, now);
    return {
      ok: false,
      refusal: ended
        ? `the grant ${record.grant!.grantId} expired at ${record.grant!.expiresAt.toISOString()}: ask the owner for a new grant.`
        : 'no grant is in force on this node: ask the owner to grant access first.',
    };
  }
  if (record.logUpload?.grantId !== grant.grantId)
    return {
      ok: false,
      refusal: `the owner did not allow log uploads with this grant (${grant.grantId}): ask the owner to grant again with --log-container-sas-file.`,
    };
  return { ok: true, grant, upload: record.logUpload };
}

export type GrantEndReason = 'revoked' | 'expired' | 'replaced';

/**
 * Why the grant a collection rests on no longer allows it, or null while it does. A record that
 * cannot be read counts as revoked: the collection stops (fail closed).
 */
export function endedCollectionGrant(
  grantId: string,
  desiredText: string | null,
  now: Date,
): { reason: GrantEndReason; detail: string } | null {
  const { record, problem } = parseDesiredRecord(desiredText);
  if (problem) return { reason: 'revoked', detail: `no grant is known to be in force: ${problem}` };
  const grant = record.grant;
  if (!grant) return { reason: 'revoked', detail: `the grant ${grantId} was revoked` };
  if (grant.grantId !== grantId) return { reason: 'replaced', detail: `the grant ${grantId} was replaced by the grant ${grant.grantId}` };
  if (isExpired(grant, now))
    return {
      reason: 'expired',
      detail: `the grant ${grantId} expired at ${grant.expiresAt.toISOString()} (node clock ${now.toISOString()})`,
    };
  if (!grantInForce(record, now)) return { reason: 'revoked', detail: `the grant ${grantId} was revoked` };
  if (record.logUpload?.grantId !== grantId)
    return { reason: 'revoked', detail: `the owner withdrew log uploads from the grant ${grantId}` };
  return null;
}
