/**
 * The grant's log upload SAS in protected settings: accepted for the grant, kept on a public-only
 * re-send, absent when the grant carries none; a bad SAS is refused naming the field, never the signature.
 */
import { createHash } from 'crypto';
import type { Grant } from '../../core/desired-state';
import { isConfigurationError } from '../../extension/errors';
import { readLogUploadSettings } from '../../handlers/log-upload-settings';
import { testGrant } from '../support/test-grant';

const NOW = new Date('2026-11-24T20:00:00Z');
const SIGNATURE = 'c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ%3D%3D';
const grant: Grant = testGrant();
const sas = (fields: Record<string, string> = {}) => {
  const query = new URLSearchParams({ sv: '2024-11-04', sr: 'c', sp: 'cw', se: '2026-11-25T04:00:00Z', ...fields });
  return `https://contosologs.blob.core.windows.net/support?${query.toString()}&sig=${SIGNATURE}`;
};
const read = (protectedSettings: Record<string, unknown> | undefined, given: Grant | undefined = grant) =>
  readLogUploadSettings(protectedSettings, given, NOW, { allowStorageEmulator: false });

function refusal(run: () => unknown): { field: string; message: string } {
  try {
    run();
  } catch (error) {
    if (isConfigurationError(error)) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error('accepted');
}

describe("the grant's log upload SAS in settings", () => {
  it('gives the SAS apart from its record, which names the grant, the container and a digest only', () => {
    const settings = read({ logUpload: { containerSas: sas() } });
    if (settings === undefined || settings === 'keep') throw new Error(`expected the SAS, got ${String(settings)}`);
    expect(settings.sas).toBe(sas());
    expect(settings.record).toEqual({
      grantId: grant.grantId,
      container: 'contosologs/support',
      sasDigest: createHash('sha256').update(sas()).digest('hex'),
      sasExpiresAt: new Date('2026-11-25T04:00:00Z'),
    });
    expect(JSON.stringify(settings.record)).not.toContain(SIGNATURE);
  });

  it('keeps the stored SAS when protected settings did not come (a public-only re-send)', () => {
    expect(read(undefined)).toBe('keep');
  });

  it('gives none for a grant whose protected settings carry no log upload, and none without a grant', () => {
    expect(read({ channel: {} })).toBeUndefined();
    expect(readLogUploadSettings({ logUpload: { containerSas: sas() } }, undefined, NOW, { allowStorageEmulator: false })).toBeUndefined();
  });

  it.each([
    ['not an object', { logUpload: 'https://x' }, 'protectedSettings.logUpload'],
    ['no containerSas', { logUpload: {} }, 'protectedSettings.logUpload.containerSas'],
    ['a SAS that can read', { logUpload: { containerSas: sas({ sp: 'rcw' }) } }, 'protectedSettings.logUpload.containerSas.sp'],
    ['a blob SAS', { logUpload: { containerSas: sas({ sr: 'b' }) } }, 'protectedSettings.logUpload.containerSas.sr'],
    ['an expired SAS', { logUpload: { containerSas: sas({ se: '2026-11-24T19:00:00Z' }) } }, 'protectedSettings.logUpload.containerSas.se'],
    [
      'a host that is not Azure Storage',
      { logUpload: { containerSas: `https://example.org/support?sp=cw&sr=c&se=2026-11-25T04:00:00Z&sig=${SIGNATURE}` } },
      'protectedSettings.logUpload.containerSas.host',
    ],
  ])('refuses %s, naming the field and never the signature', (_name, settings, field) => {
    const refused = refusal(() => read(settings));
    expect(refused.field).toBe(field);
    expect(refused.message).toContain(field);
    expect(refused.message).not.toContain(SIGNATURE);
    expect(refused.message).not.toContain(decodeURIComponent(SIGNATURE));
  });
});
