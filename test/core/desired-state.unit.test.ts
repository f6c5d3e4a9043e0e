/**
 * Timestamps in settings: RFC 3339 UTC with up to seven fractional digits (the round-trip format
 * .NET and Azure tooling write), real calendar dates only, right to the millisecond, in every
 * timestamp field.
 */
import { ConfigurationError } from '../../extension/errors';
import { parseUtcTimestamp, toDesiredState } from '../../core/desired-state';
import { SettingsSchema } from '../../extension/settings-schema';
import settingsSchema from '../../manifests/settings.schema.json';
import validateSettings from '../../manifests/settings.validator';

const schema = new SettingsSchema(validateSettings, settingsSchema);

const grantWith = (times: { expiresAt?: string; acceptedAt?: string; observedAt?: string }) => ({
  schemaVersion: 1,
  access: {
    level: 'Diagnostics',
    grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f',
    expiresAt: times.expiresAt ?? '2026-11-25T04:00:00Z',
    supportRequestId: 'TKT-1',
    consent: { termsVersion: '2026.1', acceptedAt: times.acceptedAt ?? '2026-11-24T20:00:00Z', acceptedBy: 'owner@contoso.example' },
  },
  ...(times.observedAt ? { observedLicense: { kind: 'PayAsYouGo', observedAt: times.observedAt } } : {}),
});

/** Settings as the handler takes them: the schema first, then what a schema cannot say. */
const desired = (settings: Record<string, unknown>) => {
  schema.check(settings);
  return toDesiredState(settings);
};

const refusal = (settings: Record<string, unknown>): ConfigurationError => {
  try {
    desired(settings);
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('accepted');
};

describe('UTC timestamps', () => {
  it.each([
    ['2026-11-25T04:00:00Z', Date.UTC(2026, 10, 25, 4, 0, 0, 0)],
    ['2026-11-25T04:00:00.1Z', Date.UTC(2026, 10, 25, 4, 0, 0, 100)],
    ['2026-11-25T04:00:00.12Z', Date.UTC(2026, 10, 25, 4, 0, 0, 120)],
    ['2026-11-25T04:00:00.123Z', Date.UTC(2026, 10, 25, 4, 0, 0, 123)],
    ['2026-11-25T04:00:00.1234Z', Date.UTC(2026, 10, 25, 4, 0, 0, 123)],
    ['2026-11-25T04:00:00.1234567Z', Date.UTC(2026, 10, 25, 4, 0, 0, 123)],
    // Cut, never rounded up: an expiry must not move later, not even across a second.
    ['2026-12-31T23:59:59.9999999Z', Date.UTC(2026, 11, 31, 23, 59, 59, 999)],
    ['2026-11-25T04:00:00.0000001Z', Date.UTC(2026, 10, 25, 4, 0, 0, 0)],
    ['2028-02-29T00:00:00Z', Date.UTC(2028, 1, 29)],
    ['2000-02-29T12:00:00Z', Date.UTC(2000, 1, 29, 12)],
  ])('reads %s to the millisecond', (text, milliseconds) => {
    expect(parseUtcTimestamp(text)?.getTime()).toBe(milliseconds);
  });

  it.each([
    '2026-11-25T04:00:00.12345678Z',
    '2026-11-25T04:00:00.Z',
    '2026-11-25T04:00:00+00:00',
    '2026-11-25T04:00:00',
    '2026-11-25t04:00:00z',
    '2026-11-25 04:00:00Z',
    '2026-11-25T04:00Z',
    '2026-11-25T24:00:00Z',
    '2026-11-25T23:60:00Z',
    '2026-12-31T23:59:60Z',
    '2026-02-29T00:00:00Z',
    '2100-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-01T00:00:00Z',
    '2026-01-00T00:00:00Z',
    ' 2026-11-25T04:00:00Z',
    '2026-11-25T04:00:00Z\n',
    '２０２６-11-25T04:00:00Z',
  ])('refuses %j', (text) => {
    expect(parseUtcTimestamp(text)).toBeUndefined();
  });

  it('accepts seven fractional digits in expiresAt, acceptedAt and observedAt, and measures the window in milliseconds', () => {
    const state = desired(
      grantWith({
        expiresAt: '2026-11-25T04:00:00.1234567Z',
        acceptedAt: '2026-11-24T20:00:00.7654321Z',
        observedAt: '2026-11-24T19:00:00.0000001Z',
      }),
    );
    expect(state.grant?.expiresAt.toISOString()).toBe('2026-11-25T04:00:00.123Z');
    expect(state.grant?.consent.acceptedAt.toISOString()).toBe('2026-11-24T20:00:00.765Z');
  });

  it('refuses an expiry a millisecond short of 60 minutes after the consent', () => {
    const error = refusal(grantWith({ acceptedAt: '2026-11-24T20:00:00.0019999Z', expiresAt: '2026-11-24T21:00:00.0009999Z' }));
    expect(error.field).toBe('access.expiresAt');
    expect(
      desired(grantWith({ acceptedAt: '2026-11-24T20:00:00.0019999Z', expiresAt: '2026-11-24T21:00:00.0029999Z' })).grant,
    ).toBeDefined();
  });

  it.each([
    ['access.expiresAt', grantWith({ expiresAt: '2026-11-25T04:00:00.12345678Z' })],
    ['access.consent.acceptedAt', grantWith({ acceptedAt: '2026-11-24T20:00:00.1234567+01:00' })],
    ['observedLicense.observedAt', grantWith({ observedAt: '2026-11-24T20:00:00.12345678Z' })],
    ['access.expiresAt', grantWith({ expiresAt: '2027-02-29T04:00:00.5Z' })],
    ['access.consent.acceptedAt', grantWith({ acceptedAt: '2026-11-31T20:00:00.1234567Z' })],
    ['observedLicense.observedAt', grantWith({ observedAt: '2026-11-24T24:00:00.1234567Z' })],
  ])('names %s when it is not a real RFC 3339 UTC time', (field, settings) => {
    expect(refusal(settings).field).toBe(field);
  });
});
