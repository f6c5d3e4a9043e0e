import { ConfigurationError, describeValue } from '../extension/errors';

/**
 * The access the machine's owner wants, as typed values. Public settings are first checked
 * against the JSON Schema (shape, enums, patterns); this module adds what a schema cannot say:
 * real dates (every timestamp of the settings), and the expiry window measured from the owner's
 * consent.
 */
export type GrantLevel = 'Diagnostics' | 'DiagnosticsAndRepair';

export interface Consent {
  termsVersion: string;
  acceptedAt: Date;
  acceptedBy: string;
}

export interface Grant {
  level: GrantLevel;
  grantId: string;
  /** Absolute UTC expiry. Never recomputed from a duration: enable re-runs after every reboot. */
  expiresAt: Date;
  supportRequestId: string;
  consent: Consent;
}

export interface DesiredState {
  /** Undefined means no access (level None), or nothing said about it (see `accessStated`). */
  grant?: Grant;
  retentionDays: number;
  /**
   * False when the settings carry no access section (or are empty): they ask nothing about
   * access, so the access in force stays as it is. Only level None revokes.
   */
  accessStated: boolean;
}

export const DEFAULT_RETENTION_DAYS = 90;
export const MIN_GRANT_MINUTES = 60;
export const MAX_GRANT_DAYS = 14;
/** Consent times from a clock slightly ahead of the machine's are tolerated, not more. */
export const CONSENT_CLOCK_SKEW_MINUTES = 5;

/** By lower-case name: Azure matches enum values without regard to letter case. */
const LEVELS: Record<string, GrantLevel | 'None'> = {
  none: 'None',
  diagnostics: 'Diagnostics',
  diagnosticsandrepair: 'DiagnosticsAndRepair',
  diagnosticsrepair: 'DiagnosticsAndRepair',
};

/** The canonical level for a name in any letter case, the alias included; undefined when unknown. */
export function normalizeLevel(text: string): GrantLevel | 'None' | undefined {
  return Object.prototype.hasOwnProperty.call(LEVELS, text.toLowerCase()) ? LEVELS[text.toLowerCase()] : undefined;
}

interface SchemaCheckedSettings {
  access?: {
    level: string;
    grantId?: string;
    expiresAt?: string;
    supportRequestId?: string;
    consent?: { termsVersion: string; acceptedAt: string; acceptedBy: string };
  };
  retentionDays?: number;
  observedLicense?: { kind: string; observedAt: string };
}

/**
 * Turns schema-checked public settings into the desired state. Does not judge whether the grant
 * has already expired: that depends on what was applied before (see `isExpired`).
 */
export function toDesiredState(publicSettings: Record<string, unknown>): DesiredState {
  const settings = publicSettings as SchemaCheckedSettings;
  if (settings.observedLicense) parseUtc('observedLicense.observedAt', settings.observedLicense.observedAt);
  const retentionDays = settings.retentionDays ?? DEFAULT_RETENTION_DAYS;
  const access = settings.access;
  if (!access) return { retentionDays, accessStated: false };
  const level = normalizeLevel(access.level);
  // The schema admits only the known levels; anything else here gives no access.
  if (level === 'None' || level === undefined) return { retentionDays, accessStated: true };

  const consent = access.consent!;
  const acceptedAt = parseUtc('access.consent.acceptedAt', consent.acceptedAt);
  const expiresAt = parseUtc('access.expiresAt', access.expiresAt!);
  const minutes = (expiresAt.getTime() - acceptedAt.getTime()) / 60_000;
  if (minutes < MIN_GRANT_MINUTES || minutes > MAX_GRANT_DAYS * 24 * 60) {
    throw new ConfigurationError(
      'access.expiresAt',
      `${describeValue(access.expiresAt)}, ${describeDuration(Math.abs(minutes) * 60_000)} ${minutes < 0 ? 'before' : 'after'} the consent at ${consent.acceptedAt}`,
      `an expiry between ${MIN_GRANT_MINUTES} minutes and ${MAX_GRANT_DAYS} days after access.consent.acceptedAt`,
    );
  }
  return {
    retentionDays,
    accessStated: true,
    grant: {
      level,
      grantId: access.grantId!.toLowerCase(),
      expiresAt,
      supportRequestId: access.supportRequestId!,
      consent: { termsVersion: consent.termsVersion, acceptedAt, acceptedBy: consent.acceptedBy },
    },
  };
}

/** Rejects consent given in the future (by more than a little clock skew): it cannot be real. */
export function checkConsentTime(grant: Grant, now: Date): void {
  if (grant.consent.acceptedAt.getTime() - now.getTime() > CONSENT_CLOCK_SKEW_MINUTES * 60_000) {
    throw new ConfigurationError(
      'access.consent.acceptedAt',
      describeValue(formatUtc(grant.consent.acceptedAt)),
      `a time no later than this machine's clock (${formatUtc(now)}) plus ${CONSENT_CLOCK_SKEW_MINUTES} minutes; check the clock of the machine that recorded the consent`,
    );
  }
}

export function isExpired(grant: Grant, now: Date): boolean {
  return grant.expiresAt.getTime() <= now.getTime();
}

/** A new grant that has already expired is bad input: it would give nothing, and was surely a mistake. */
export function rejectExpiredNewGrant(grant: Grant, now: Date): never {
  throw new ConfigurationError(
    'access.expiresAt',
    `${describeValue(formatUtc(grant.expiresAt))}, which has already passed (now ${formatUtc(now)})`,
    'a future UTC time; grant access again with a new expiry',
  );
}

export function formatUtc(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

/** "7 h 59 min" style, for status lines an owner reads. */
export function describeDuration(milliseconds: number): string {
  const totalMinutes = Math.max(0, Math.floor(milliseconds / 60_000));
  const days = Math.floor(totalMinutes / (24 * 60));
  const hours = Math.floor((totalMinutes % (24 * 60)) / 60);
  const minutes = totalMinutes % 60;
  const parts = [days ? `${days} d` : '', hours ? `${hours} h` : '', `${minutes} min`].filter(Boolean);
  return parts.join(' ');
}

/**
 * RFC 3339 in UTC as the settings carry it: `YYYY-MM-DDTHH:MM:SSZ`, with up to seven fractional
 * digits of a second (the round-trip format .NET and Azure tooling write). Parsed field by field,
 * not by the lenient Date parser, so an impossible date (2026-02-30, 24:00, a leap second) is
 * refused instead of rolled over. Kept to the millisecond; further digits are cut, never rounded up,
 * so an expiry never moves later.
 */
const UTC_TIMESTAMP = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,7}))?Z$/;

export function parseUtcTimestamp(text: string): Date | undefined {
  const match = UTC_TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const milliseconds = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  if (month < 1 || month > 12) return undefined;
  const lastDay = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > lastDay || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, milliseconds);
  return date;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function parseUtc(field: string, text: string): Date {
  const date = parseUtcTimestamp(text);
  if (!date) {
    throw new ConfigurationError(
      field,
      describeValue(text),
      'a real calendar date and time in UTC, such as 2026-11-25T04:00:00Z (up to seven fractional digits of a second)',
    );
  }
  return date;
}
