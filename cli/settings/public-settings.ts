/**
 * The public settings the CLI sends (DESIGN section 4), built from the extension's current
 * settings so that what the CLI does not manage (e.g. `cluster`, a policy's `versionMarker`) is kept.
 */
import { DEFAULT_RETENTION_DAYS, normalizeLevel, type GrantLevel } from '../../core/desired-state';
import { checkPublicSettings } from './settings-check';

export type LicenseKind = 'PayAsYouGo' | 'SoftwareAssurance';

export interface ObservedLicense {
  kind: LicenseKind;
  observedAt: string;
}

export interface Consent {
  termsVersion: string;
  acceptedAt: string;
  acceptedBy: string;
}

/** The grant made once per run and sent, identical, to every target. */
export interface GrantRecord {
  level: GrantLevel;
  grantId: string;
  expiresAt: string;
  supportRequestId: string;
  consent: Consent;
  /** Present (false) only when the owner skipped reading the support request from Azure Support. */
  supportRequestChecked?: false;
}

/**
 * The public part of a grant's channel (the node reads it with the protected part; policy, status
 * and revoke read it alone): no token, no key. Names stay public: every protected string is
 * redacted from the handler's logs and status.
 */
export interface ChannelMarker {
  relayNamespace: string;
  relayNamespaceId: string;
  machine: string;
  /** Hybrid connection per node (upper-case computer name). */
  hybridConnections: Record<string, string>;
}

/** The hybrid connection names of a marker, in node order. */
export function markerConnections(marker: ChannelMarker): string[] {
  return Object.values(marker.hybridConnections);
}

export type AccessSettings = { level: 'None' } | GrantRecord;

/** The owner's log collection request (public part; its container SAS goes in protected settings). */
export interface LogCollectionRequest {
  requestId: string;
  window: { from: string; to: string };
  categories: string[];
  includeSecurityLog?: boolean;
}

export interface PublicSettings extends Record<string, unknown> {
  schemaVersion: 1;
  access: AccessSettings;
  retentionDays: number;
  observedLicense?: ObservedLicense;
  channel?: ChannelMarker;
  logCollection?: LogCollectionRequest;
}

type Current = Record<string, unknown> | undefined;

/**
 * What stored settings carry over to the next write: everything but a log collection request. The
 * request is one-shot and its SAS, in protected settings, is not sent again (Azure never returns
 * it): kept alone, it would make the handler refuse every later write, a revoke included.
 */
function carried(current: Current): Record<string, unknown> {
  const { logCollection: _oneShot, ...rest } = current ?? {};
  return rest;
}

function currentRetention(current: Current): number {
  const days = current?.retentionDays;
  return typeof days === 'number' ? days : DEFAULT_RETENTION_DAYS;
}

function finish(settings: PublicSettings): PublicSettings {
  checkPublicSettings(settings);
  return settings;
}

/**
 * `status --refresh`: the settings Azure has, sent again only so that the handler runs and reports
 * (with a new forceUpdateTag); the one-shot log collection request is not among them (see carried).
 */
export function refreshSettings(current: Current): PublicSettings {
  return finish({ ...carried(current) } as PublicSettings);
}

/**
 * Deploying a new extension starts with no access. Deploying over an existing one keeps its access
 * and retention: a redeploy must not silently revoke (or keep a stale) grant the owner set.
 */
export function deploySettings(current: Current, options: { retentionDays?: number; observedLicense: ObservedLicense }): PublicSettings {
  const keptAccess = current?.access as AccessSettings | undefined;
  return finish({
    ...carried(current),
    schemaVersion: 1,
    access: keptAccess ?? { level: 'None' },
    retentionDays: options.retentionDays ?? currentRetention(current),
    observedLicense: options.observedLicense,
  });
}

/** A new grant replaces the channel marker: its own when it opens a channel, none otherwise. */
export function grantSettings(
  current: Current,
  grant: GrantRecord,
  observedLicense: ObservedLicense,
  channel?: ChannelMarker,
): PublicSettings {
  return finish({
    ...withoutChannel(current),
    schemaVersion: 1,
    access: { ...grant },
    retentionDays: currentRetention(current),
    observedLicense,
    ...(channel ? { channel } : {}),
  });
}

/** The settings without the channel marker: a channel ends with its grant. */
function withoutChannel(current: Current): Record<string, unknown> {
  const { channel: _ended, ...rest } = carried(current);
  return rest;
}

/** The channel marker of these settings, if any. */
export function channelMarker(current: Current): ChannelMarker | undefined {
  const channel = current?.channel as Partial<ChannelMarker> | undefined;
  return channel &&
    typeof channel.relayNamespaceId === 'string' &&
    typeof channel.hybridConnections === 'object' &&
    channel.hybridConnections !== null &&
    !Array.isArray(channel.hybridConnections)
    ? (channel as ChannelMarker)
    : undefined;
}

/**
 * Changes level and/or retention; the grant id, expiry and consent stay those the owner accepted.
 * A grant that has expired is sent as no access: it must never come back.
 */
export function configureSettings(
  current: Current,
  change: { level?: GrantLevel; retentionDays?: number },
  now: Date,
): { settings: PublicSettings; droppedExpiredGrant: boolean } {
  const grant = activeGrant(current, now);
  const droppedExpiredGrant = current?.access !== undefined && storedLevel(current) !== 'None' && !grant;
  const nextAccess: AccessSettings = grant ? { ...grant, ...(change.level ? { level: change.level } : {}) } : { level: 'None' };
  return {
    droppedExpiredGrant,
    settings: finish({
      ...(grant ? carried(current) : withoutChannel(current)),
      schemaVersion: 1,
      access: nextAccess,
      retentionDays: change.retentionDays ?? currentRetention(current),
    }),
  };
}

/**
 * The owner's log collection request added to what the machine has: the grant in force stays
 * (an expired one is sent as no access, as configure sends it: it must never come back).
 */
export function collectLogsSettings(current: Current, request: LogCollectionRequest, now: Date): PublicSettings {
  const { settings } = configureSettings(current, {}, now);
  return finish({ ...settings, logCollection: { ...request } });
}

export function revokeSettings(current: Current): PublicSettings {
  return finish({ ...withoutChannel(current), schemaVersion: 1, access: { level: 'None' }, retentionDays: currentRetention(current) });
}

/**
 * The level stored settings give, read as the handler reads it: in any letter case, the alias
 * included, so a stored `none` is a revoke and not a grant. Settings without an access level give
 * None; a level the handler does not know is undefined.
 */
export function storedLevel(current: Current): GrantLevel | 'None' | undefined {
  const level = (current?.access as { level?: unknown } | undefined)?.level;
  if (level === undefined) return 'None';
  return typeof level === 'string' ? normalizeLevel(level) : undefined;
}

/** The grant in force in these settings, if any and not yet expired, with its level's canonical name. */
export function activeGrant(current: Current, now: Date): GrantRecord | undefined {
  const level = storedLevel(current);
  if (level === 'None' || level === undefined) return undefined;
  const grant = current!.access as GrantRecord;
  const expires = Date.parse(grant.expiresAt ?? '');
  return Number.isFinite(expires) && expires > now.getTime() ? { ...grant, level } : undefined;
}
