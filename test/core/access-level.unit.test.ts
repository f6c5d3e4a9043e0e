/**
 * Access levels as Azure matches enums, without regard to letter case: the settings schema and
 * the desired state accept None, Diagnostics, DiagnosticsAndRepair and the alias
 * DiagnosticsRepair in any case and give the canonical name; anything else names access.level.
 * Settings without an access section ask nothing about access.
 */
import { SettingsSchema } from '../../extension/settings-schema';
import settingsSchema from '../../manifests/settings.schema.json';
import validateSettings from '../../manifests/settings.validator';
import { normalizeLevel, toDesiredState } from '../../core/desired-state';

const X = '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f';

describe('access levels in any letter case', () => {
  const schema = new SettingsSchema(validateSettings, settingsSchema);
  const settings = (level: string) => ({
    schemaVersion: 1,
    access: {
      level,
      grantId: X,
      expiresAt: '2026-11-25T04:00:00Z',
      supportRequestId: 'TKT-1',
      consent: { termsVersion: '2026.1', acceptedAt: '2026-11-24T19:59:00Z', acceptedBy: 'owner' },
    },
  });

  it.each([
    ['None', 'None'],
    ['none', 'None'],
    ['NONE', 'None'],
    ['nONe', 'None'],
    ['Diagnostics', 'Diagnostics'],
    ['diagnostics', 'Diagnostics'],
    ['DIAGNOSTICS', 'Diagnostics'],
    ['DiagnosticsAndRepair', 'DiagnosticsAndRepair'],
    ['diagnosticsandrepair', 'DiagnosticsAndRepair'],
    ['DIAGNOSTICSANDREPAIR', 'DiagnosticsAndRepair'],
    ['DiagnosticsRepair', 'DiagnosticsAndRepair'],
    ['diagnosticsrepair', 'DiagnosticsAndRepair'],
    ['DIAGNOSTICSREPAIR', 'DiagnosticsAndRepair'],
  ])('accepts %s as %s', (level, canonical) => {
    expect(normalizeLevel(level)).toBe(canonical);
    expect(() => schema.check(settings(level))).not.toThrow();
    // A revoke needs nothing but the level.
    if (canonical === 'None') expect(() => schema.check({ schemaVersion: 1, access: { level } })).not.toThrow();
    const desired = toDesiredState(settings(level));
    expect(desired.grant?.level ?? 'None').toBe(canonical);
    expect(desired.accessStated).toBe(true);
  });

  it.each(['Full', 'DiagnosticsAnd', ' none', 'none ', 'Diagnostics And Repair', 'toString', ''])(
    'refuses %j, naming access.level',
    (level) => {
      expect(normalizeLevel(level)).toBeUndefined();
      expect(() => schema.check(settings(level))).toThrow("Invalid setting 'access.level'");
    },
  );

  it('asks for the grant fields with a grant level in any case', () => {
    expect(() => schema.check({ schemaVersion: 1, access: { level: 'diagnostics' } })).toThrow("Invalid setting 'access.grantId'");
  });

  it('reads settings without an access section as saying nothing about access', () => {
    expect(toDesiredState({ schemaVersion: 1, retentionDays: 30 })).toEqual({ retentionDays: 30, accessStated: false });
  });
});
