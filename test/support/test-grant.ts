/**
 * The grant the domain tests plan with: Diagnostics until 04:00 UTC, consented a minute before
 * their NOW (2026-11-24T20:00:00Z). Tests that need another field pass it.
 */
import type { Grant } from '../../core/desired-state';

export const TEST_GRANT_ID = '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f';

export function testGrant(overrides: Partial<Grant> = {}): Grant {
  return {
    level: 'Diagnostics',
    grantId: TEST_GRANT_ID,
    expiresAt: new Date('2026-11-25T04:00:00Z'),
    supportRequestId: 'TKT-1',
    consent: { termsVersion: '2026.1', acceptedAt: new Date('2026-11-24T19:59:00Z'), acceptedBy: 'owner@contoso.example' },
    ...overrides,
  };
}
