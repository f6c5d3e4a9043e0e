import { randomUUID } from 'crypto';
import { formatUtc, type GrantLevel } from '../../core/desired-state';
import { InputError } from '../errors';
import { TERMS_VERSION } from '../terms';
import type { GrantRecord } from './public-settings';
import { checkPublicSettings } from './settings-check';

/**
 * One grant per run: the same id, expiry and consent go to every target, so the fleet shares one
 * audit record and `--resume` can finish it later. Times are whole UTC seconds, and the expiry is
 * measured from the consent time exactly as the handler measures it.
 */
export function newGrant(input: {
  level: GrantLevel;
  durationMs: number;
  supportRequestId: string;
  acceptedBy: string;
  now: Date;
  /** False when the owner skipped reading the support request (recorded in the grant). */
  supportRequestChecked?: false;
}): GrantRecord {
  const acceptedAt = new Date(Math.floor(input.now.getTime() / 1000) * 1000);
  const grant: GrantRecord = {
    level: input.level,
    grantId: randomUUID(),
    expiresAt: formatUtc(new Date(acceptedAt.getTime() + input.durationMs)),
    supportRequestId: input.supportRequestId,
    consent: { termsVersion: TERMS_VERSION, acceptedAt: formatUtc(acceptedAt), acceptedBy: input.acceptedBy },
    ...(input.supportRequestChecked === false ? { supportRequestChecked: false as const } : {}),
  };
  checkPublicSettings({ schemaVersion: 1, access: grant });
  return grant;
}

/** Checks `--support-request` with the schema's own rule before anything else happens. */
export function checkSupportRequestId(text: string): string {
  try {
    checkPublicSettings({ schemaVersion: 1, access: { level: 'None', supportRequestId: text } });
    return text;
  } catch {
    throw new InputError(
      '--support-request',
      text,
      'Give the support ticket id: 1 to 64 letters, digits, spaces and . _ : # / - characters, starting with a letter or digit.',
    );
  }
}
