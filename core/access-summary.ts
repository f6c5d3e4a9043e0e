import { describeDuration, formatUtc, type DesiredState } from './desired-state';

/** The one line an owner reads in the portal: level, ticket, expiry and time left. */
export function describeAccess(desired: DesiredState, now: Date): string {
  const { grant } = desired;
  if (!grant) return 'Access: none.';
  const left = grant.expiresAt.getTime() - now.getTime();
  if (left <= 0)
    return `Access: none (the ${grant.level} grant for support request ${grant.supportRequestId} expired at ${formatUtc(grant.expiresAt)}).`;
  return `Access: ${grant.level} for support request ${grant.supportRequestId} until ${formatUtc(grant.expiresAt)} (${describeDuration(left)} left).`;
}
