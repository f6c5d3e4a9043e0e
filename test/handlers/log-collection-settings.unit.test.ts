/** The owner's log collection request in settings: accepted as asked, refused by field with the fix, the SAS signature never quoted. */
import { isConfigurationError } from '../../extension/errors';
import { readLogCollectionSettings } from '../../handlers/log-collection-settings';

const NOW = new Date('2026-11-24T20:00:00Z');
const SIGNATURE = 'c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ%3D%3D';
const sas = (fields: Record<string, string> = {}) => {
  const query = new URLSearchParams({ sv: '2024-11-04', sr: 'c', sp: 'cw', se: '2026-11-25T04:00:00Z', ...fields });
  return `https://contosologs.blob.core.windows.net/support?${query.toString()}&sig=${SIGNATURE}`;
};
const request = (overrides: Record<string, unknown> = {}) => ({
  logCollection: {
    requestId: '6f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
    window: { from: '2026-11-24T08:00:00Z', to: '2026-11-24T19:00:00Z' },
    categories: ['ArcRemoteSupport', 'EventLogs'],
    ...overrides,
  },
});
const read = (publicSettings: Record<string, unknown>, containerSas: unknown = sas()) =>
  readLogCollectionSettings(publicSettings, { logCollection: { containerSas } }, NOW, { allowStorageEmulator: false });

function refusal(run: () => unknown): { field: string; message: string } {
  try {
    run();
  } catch (error) {
    if (isConfigurationError(error)) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error('accepted');
}

describe("the owner's log collection request", () => {
  it('gives the request as asked, the id in lower case, the SAS apart', () => {
    const settings = read(request({ requestId: '6F1E2D3C-4B5A-4C6D-8E7F-9A0B1C2D3E4F' }))!;
    expect(settings.request).toMatchObject({
      collectionId: '6f1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
      trigger: 'owner',
      categories: ['ArcRemoteSupport', 'EventLogs'],
      includeSecurityLog: false,
      grantId: null,
    });
    expect(JSON.stringify(settings.request)).not.toContain(SIGNATURE);
    expect(settings.containerSas).toContain(SIGNATURE);
  });

  it('asks nothing when neither part speaks of a collection', () => {
    expect(readLogCollectionSettings({}, {}, NOW, { allowStorageEmulator: false })).toBeUndefined();
  });

  it.each([
    ['a request id that is not a UUID', () => read(request({ requestId: 'logs-please' })), 'logCollection.requestId'],
    [
      'a window longer than 24 hours',
      () => read(request({ window: { from: '2026-11-23T08:00:00Z', to: '2026-11-24T19:00:00Z' } })),
      'logCollection.window',
    ],
    [
      'a window ending in the future',
      () => read(request({ window: { from: '2026-11-24T19:00:00Z', to: '2026-11-24T21:00:00Z' } })),
      'logCollection.window',
    ],
    ['a category outside the fixed set', () => read(request({ categories: ['C:\\\\Users'] })), 'logCollection.categories'],
    ['includeSecurityLog as text', () => read(request({ includeSecurityLog: 'yes' })), 'logCollection.includeSecurityLog'],
    ['a SAS that may read', () => read(request(), sas({ sp: 'rcw' })), 'protectedSettings.logCollection.containerSas'],
    ['a SAS over http', () => read(request(), sas().replace('https:', 'http:')), 'protectedSettings.logCollection.containerSas'],
    [
      'a SAS for another host',
      () => read(request(), sas().replace('contosologs.blob.core.windows.net', 'logs.example.com')),
      'protectedSettings.logCollection.containerSas',
    ],
    ['an expired SAS', () => read(request(), sas({ se: '2026-11-24T19:00:00Z' })), 'protectedSettings.logCollection.containerSas'],
    [
      'a SAS without its public request',
      () => readLogCollectionSettings({}, { logCollection: { containerSas: sas() } }, NOW, { allowStorageEmulator: false }),
      'logCollection',
    ],
  ])('refuses %s, naming the field, never quoting the signature', (_name, run, field) => {
    const { field: named, message } = refusal(run);
    expect(named.startsWith(field)).toBe(true);
    expect(message).toMatch(/Accepted: /);
    expect(message).not.toContain(SIGNATURE);
    expect(message).not.toContain(decodeURIComponent(SIGNATURE));
  });

  it('accepts the storage emulator on loopback only when the simulated host allows it', () => {
    const local = 'http://127.0.0.1:10000/devstoreaccount1/support?sv=2024-11-04&sr=c&sp=cw&se=2026-11-25T04:00:00Z&sig=' + SIGNATURE;
    expect(() => read(request(), local)).toThrow(/containerSas/);
    expect(
      readLogCollectionSettings(request(), { logCollection: { containerSas: local } }, NOW, { allowStorageEmulator: true }),
    ).toBeDefined();
  });
});
