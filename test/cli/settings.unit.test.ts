/** The settings the CLI builds pass the extension's own schema validator and the handler's rules. */
import { ConfigurationError } from '../../extension/errors';
import { toDesiredState } from '../../core/desired-state';
import { InputError } from '../../cli/errors';
import { checkSupportRequestId, newGrant } from '../../cli/settings/new-grant';
import { ProtectedSettings, REDACTED, redactRequestBody } from '../../cli/settings/protected-settings';
import {
  activeGrant,
  configureSettings,
  deploySettings,
  grantSettings,
  revokeSettings,
  storedLevel,
} from '../../cli/settings/public-settings';
import { checkPublicSettings } from '../../cli/settings/settings-check';
import { TERMS_VERSION } from '../../cli/terms';
import { promises as fs } from 'fs';
import os from 'os';
import path from 'path';

const NOW = new Date('2026-11-24T20:00:00.250Z');
const LICENSE = { kind: 'PayAsYouGo' as const, observedAt: '2026-11-24T20:00:00Z' };

function grant() {
  return newGrant({
    level: 'Diagnostics',
    durationMs: 8 * 3_600_000,
    supportRequestId: 'TKT-2611240001',
    acceptedBy: 'owner@contoso.example',
    now: NOW,
  });
}

describe('a new grant', () => {
  it('has a UUID, whole-second consent time and an expiry measured from it', () => {
    const made = grant();
    expect(made.grantId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(made.consent).toEqual({ termsVersion: TERMS_VERSION, acceptedAt: '2026-11-24T20:00:00Z', acceptedBy: 'owner@contoso.example' });
    expect(made.expiresAt).toBe('2026-11-25T04:00:00Z');
    expect(grant().grantId).not.toBe(made.grantId);
  });

  it("is accepted by the handler's own desired-state rules at both ends of the range", () => {
    for (const durationMs of [60 * 60_000, 14 * 86_400_000]) {
      const made = newGrant({ level: 'DiagnosticsAndRepair', durationMs, supportRequestId: 'T-1', acceptedBy: 'a@b', now: NOW });
      const desired = toDesiredState(grantSettings(undefined, made, LICENSE));
      expect(desired.grant?.expiresAt.getTime()).toBe(Date.parse(made.expiresAt));
      expect(desired.grant?.level).toBe('DiagnosticsAndRepair');
    }
  });

  it("checks the support request id with the schema's rule", () => {
    expect(checkSupportRequestId('TKT 1/2 #3')).toBe('TKT 1/2 #3');
    expect(() => checkSupportRequestId('-starts-with-dash')).toThrow(InputError);
    expect(() => checkSupportRequestId('x'.repeat(65))).toThrow(/--support-request/);
  });
});

describe('settings for each command', () => {
  it('deploy starts with no access, retention 90 and the license seen', () => {
    expect(deploySettings(undefined, { observedLicense: LICENSE })).toEqual({
      schemaVersion: 1,
      access: { level: 'None' },
      retentionDays: 90,
      observedLicense: LICENSE,
    });
    expect(deploySettings(undefined, { observedLicense: LICENSE, retentionDays: 30 }).retentionDays).toBe(30);
  });

  it('deploy over an existing extension keeps its access, retention and the settings it does not manage', () => {
    const current = grantSettings({ retentionDays: 14, cluster: { installOnPeers: true }, versionMarker: '1.0' }, grant(), LICENSE);
    const redeployed = deploySettings(current, { observedLicense: { kind: 'SoftwareAssurance', observedAt: '2026-11-25T00:00:00Z' } });
    expect(redeployed.access).toEqual(current.access);
    expect(redeployed).toMatchObject({
      retentionDays: 14,
      cluster: { installOnPeers: true },
      versionMarker: '1.0',
      observedLicense: { kind: 'SoftwareAssurance' },
    });
  });

  it('grant keeps retention and replaces access and the license', () => {
    const made = grant();
    const settings = grantSettings({ schemaVersion: 1, access: { level: 'None' }, retentionDays: 30 }, made, LICENSE);
    expect(settings).toEqual({ schemaVersion: 1, access: made, retentionDays: 30, observedLicense: LICENSE });
  });

  it('configure changes level and retention, keeping grant id, expiry and consent', () => {
    const made = grant();
    const current = grantSettings(undefined, made, LICENSE);
    const { settings, droppedExpiredGrant } = configureSettings(current, { level: 'DiagnosticsAndRepair', retentionDays: 7 }, NOW);
    expect(droppedExpiredGrant).toBe(false);
    expect(settings.access).toEqual({ ...made, level: 'DiagnosticsAndRepair' });
    expect(settings.retentionDays).toBe(7);
  });

  it('configure sends an expired grant as no access: it must never come back', () => {
    const current = grantSettings(undefined, grant(), LICENSE);
    const later = new Date('2026-11-25T04:00:00Z');
    expect(activeGrant(current, later)).toBeUndefined();
    const { settings, droppedExpiredGrant } = configureSettings(current, { retentionDays: 10 }, later);
    expect(droppedExpiredGrant).toBe(true);
    expect(settings.access).toEqual({ level: 'None' });
  });

  it('revoke sets level None and keeps retention', () => {
    const current = grantSettings({ retentionDays: 45 }, grant(), LICENSE);
    expect(revokeSettings(current)).toMatchObject({ access: { level: 'None' }, retentionDays: 45, observedLicense: LICENSE });
  });

  it("refuses to build settings the schema refuses, with the handler's message", () => {
    expect(() => deploySettings({ retentionDays: 400 }, { observedLicense: LICENSE })).toThrow(ConfigurationError);
    expect(() => revokeSettings({ unknownKey: 1 })).toThrow(/Invalid setting 'unknownKey'/);
    expect(() => checkPublicSettings({ schemaVersion: 1, access: { level: 'Diagnostics' } })).toThrow(/access.grantId/);
  });
});

describe('a level stored in any letter case, read as the handler reads it', () => {
  it.each(['None', 'none', 'NONE', 'nOnE'])('%s gives no grant, and configure sends None without calling it an expired grant', (level) => {
    const current = { schemaVersion: 1, access: { level }, retentionDays: 30 };
    expect(storedLevel(current)).toBe('None');
    expect(activeGrant(current, NOW)).toBeUndefined();
    const { settings, droppedExpiredGrant } = configureSettings(current, { retentionDays: 10 }, NOW);
    expect(droppedExpiredGrant).toBe(false);
    expect(settings).toMatchObject({ access: { level: 'None' }, retentionDays: 10 });
  });

  it.each([
    ['diagnostics', 'Diagnostics'],
    ['DIAGNOSTICS', 'Diagnostics'],
    ['diagnosticsandrepair', 'DiagnosticsAndRepair'],
    ['DiagnosticsREPAIR', 'DiagnosticsAndRepair'],
  ])('%s is a grant of %s, kept under its canonical name', (level, canonical) => {
    const made = grant();
    const current = { schemaVersion: 1, access: { ...made, level }, retentionDays: 30 };
    expect(storedLevel(current)).toBe(canonical);
    expect(activeGrant(current, NOW)).toEqual({ ...made, level: canonical });
    const { settings, droppedExpiredGrant } = configureSettings(current, { retentionDays: 10 }, NOW);
    expect(droppedExpiredGrant).toBe(false);
    expect(settings.access).toEqual({ ...made, level: canonical });
  });

  it('an expired grant in any letter case is dropped; no access section is None; an unknown level is no grant', () => {
    const later = new Date('2026-11-25T04:00:00Z');
    const expired = { schemaVersion: 1, access: { ...grant(), level: 'diagnostics' } };
    expect(configureSettings(expired, {}, later)).toMatchObject({ droppedExpiredGrant: true, settings: { access: { level: 'None' } } });
    expect(storedLevel({ schemaVersion: 1 })).toBe('None');
    expect(storedLevel(undefined)).toBe('None');
    for (const level of ['Full', 'Diagnostic', 1]) {
      expect(storedLevel({ access: { ...grant(), level } })).toBeUndefined();
      expect(activeGrant({ access: { ...grant(), level } }, NOW)).toBeUndefined();
    }
  });
});

describe('protected settings', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ars-protected-'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('are read from a JSON file and never shown: redacted from text and request bodies', async () => {
    const file = path.join(dir, 'p.json');
    await fs.writeFile(file, JSON.stringify({ token: 's3cr3t-value', nested: { pin: 123456 } }));
    const secret = await ProtectedSettings.fromFile(file);
    expect(secret.forRequest()).toEqual({ token: 's3cr3t-value', nested: { pin: 123456 } });
    expect(secret.redact('Azure said: bad token s3cr3t-value (pin 123456)')).toBe(`Azure said: bad token ${REDACTED} (pin ${REDACTED})`);
    expect(redactRequestBody({ properties: { settings: { a: 1 }, protectedSettings: secret.forRequest() } })).toEqual({
      properties: { settings: { a: 1 }, protectedSettings: REDACTED },
    });
  });

  it('refuse unreadable, invalid or non-object files without quoting their content', async () => {
    const invalid = path.join(dir, 'bad.json');
    await fs.writeFile(invalid, '{"token": "leak-me"');
    await expect(ProtectedSettings.fromFile(invalid)).rejects.toThrow(/not valid JSON/);
    await expect(ProtectedSettings.fromFile(invalid)).rejects.not.toThrow(/leak-me/);
    const array = path.join(dir, 'array.json');
    await fs.writeFile(array, '["a"]');
    await expect(ProtectedSettings.fromFile(array)).rejects.toThrow(/one JSON object/);
    await expect(ProtectedSettings.fromFile(path.join(dir, 'missing.json'))).rejects.toThrow(
      /--protected-settings-file: received .*ENOENT/,
    );
  });
});
