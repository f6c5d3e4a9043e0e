/**
 * The bad-settings corpus: every case must give status `error`, exit code 53 and a message that
 * names the field, shows the value received and says what is accepted, while the access applied
 * before (settings 0, a valid grant) stays exactly as it was.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { createTestCertificate, encryptToCms, type TestCertificate } from '../../sim/arm/protected-settings-cms';
import { makeTempDir } from '../support/cms';
import { ExtensionFixture, grantSettings, iso } from '../support/extension-fixture';

const NOW = new Date();
const SECRET = 'pr0tected-Secret-Value-4417';
const hours = (count: number) => new Date(NOW.getTime() + count * 3_600_000);

type Case = {
  name: string;
  /** The quoted field the message must name. */
  field: string;
  /** A fragment of the value received that the message must show. */
  received: string;
  settings: (certificates: Certificates) => Promise<Record<string, unknown> | string | Buffer>;
};

interface Certificates {
  mine: TestCertificate;
  other: TestCertificate;
}

const grant = (overrides: Record<string, unknown> = {}) => grantSettings(NOW, overrides);
const withPublic = (publicSettings: unknown) => ({ publicSettings });
const withAccess = (access: Record<string, unknown>) => withPublic({ schemaVersion: 1, access });
const consent = (overrides: Record<string, unknown>) => ({
  termsVersion: '2026.1',
  acceptedAt: iso(NOW),
  acceptedBy: 'owner@contoso.example',
  ...overrides,
});
const runtime = (handlerSettings: unknown) => JSON.stringify({ runtimeSettings: [{ handlerSettings }] });
const constant = (value: Record<string, unknown> | string | Buffer) => async () => value;
/** Settings text with `replacement` put, as raw text, where `marker` (a string value) was. */
const rawAt = (settings: unknown, marker: string, replacement: string | Buffer) => {
  const [before, after] = JSON.stringify(settings).split(JSON.stringify(marker));
  return Buffer.concat([Buffer.from(before!), Buffer.from(replacement), Buffer.from(after!)]);
};
const acceptedBy = (value: string) => runtime(withPublic(grant({ consent: consent({ acceptedBy: value }) })));
/** A grant whose level is then given a second time: JSON.parse would let the last one win. */
const twice = (text: string, key: string, first: string, second: string) =>
  text.replace(`"${key}":${first}`, `"${key}":${first},"${key}":${second}`);

const cases: Case[] = [
  { name: 'text that is not JSON', field: 'settings file', received: 'not JSON', settings: constant('{"runtimeSettings": [') },
  { name: 'a JSON array instead of an object', field: 'settings file', received: 'an array', settings: constant('[1, 2]') },
  { name: 'no runtimeSettings', field: 'runtimeSettings', received: 'nothing', settings: constant('{"settings": {}}') },
  {
    name: 'runtimeSettings not an array',
    field: 'runtimeSettings',
    received: 'an object',
    settings: constant('{"runtimeSettings": {"handlerSettings": {}}}'),
  },
  { name: 'runtimeSettings empty', field: 'runtimeSettings', received: '0 item', settings: constant('{"runtimeSettings": []}') },
  {
    name: 'runtimeSettings with two elements',
    field: 'runtimeSettings',
    received: '2 item',
    settings: constant('{"runtimeSettings": [{"handlerSettings": {}}, {"handlerSettings": {}}]}'),
  },
  { name: 'handlerSettings a string', field: 'runtimeSettings[0].handlerSettings', received: '"x"', settings: constant(runtime('x')) },
  { name: 'publicSettings an array', field: 'publicSettings', received: 'an array', settings: constant(runtime({ publicSettings: [1] })) },
  {
    name: 'a misspelt top-level property',
    field: 'acess',
    received: 'does not know',
    settings: constant(runtime({ publicSettings: { acess: { level: 'None' } } })),
  },
  {
    name: 'an unknown schema version',
    field: 'schemaVersion',
    received: 'number 2',
    settings: constant(runtime({ publicSettings: { schemaVersion: 2 } })),
  },
  {
    name: 'access a string',
    field: 'access',
    received: '"Diagnostics"',
    settings: constant(runtime(withPublic({ access: 'Diagnostics' }))),
  },
  {
    name: 'an unknown access level',
    field: 'access.level',
    received: '"Administrator"',
    settings: async () => runtime(withPublic(grant({ level: 'Administrator' }))),
  },
  {
    name: 'an access level of the wrong type',
    field: 'access.level',
    received: 'number 5',
    settings: async () => runtime(withPublic(grant({ level: 5 }))),
  },
  {
    name: 'no access level',
    field: 'access.level',
    received: 'nothing',
    settings: constant(runtime(withAccess({ grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f' }))),
  },
  {
    name: 'an unknown access property',
    field: 'access.duration',
    received: 'does not know',
    settings: async () => runtime(withPublic(grant({ duration: 'PT8H' }))),
  },
  {
    name: 'no grant id',
    field: 'access.grantId',
    received: 'nothing',
    settings: async () => runtime(withPublic(grant({ grantId: undefined }))),
  },
  {
    name: 'a grant id that is not a UUID',
    field: 'access.grantId',
    received: '"grant-1"',
    settings: async () => runtime(withPublic(grant({ grantId: 'grant-1' }))),
  },
  {
    name: 'an expiry that is not a time',
    field: 'access.expiresAt',
    received: '"tomorrow"',
    settings: async () => runtime(withPublic(grant({ expiresAt: 'tomorrow' }))),
  },
  {
    name: 'an expiry without a UTC zone',
    field: 'access.expiresAt',
    received: '"2026-11-25T04:00:00"',
    settings: async () => runtime(withPublic(grant({ expiresAt: '2026-11-25T04:00:00' }))),
  },
  {
    name: 'an expiry on a day that does not exist',
    field: 'access.expiresAt',
    received: '"2027-02-30T04:00:00Z"',
    settings: async () => runtime(withPublic(grant({ expiresAt: '2027-02-30T04:00:00Z' }))),
  },
  {
    name: 'an expiry in the past',
    field: 'access.expiresAt',
    received: 'already passed',
    settings: async () =>
      runtime(
        withPublic(
          grant({
            grantId: 'a1b2c3d4-0000-4000-8000-000000000001',
            expiresAt: iso(hours(-2)),
            consent: consent({ acceptedAt: iso(hours(-10)) }),
          }),
        ),
      ),
  },
  {
    name: 'an expiry 59 minutes after consent',
    field: 'access.expiresAt',
    received: '59 min after the consent',
    settings: async () => runtime(withPublic(grant({ expiresAt: iso(new Date(NOW.getTime() + 59 * 60_000)), consent: consent({}) }))),
  },
  {
    name: 'an expiry over 14 days after consent',
    field: 'access.expiresAt',
    received: '14 d 1 min after',
    settings: async () =>
      runtime(withPublic(grant({ expiresAt: iso(new Date(NOW.getTime() + (14 * 24 * 60 + 1) * 60_000)), consent: consent({}) }))),
  },
  {
    name: 'an expiry before the consent',
    field: 'access.expiresAt',
    received: 'before the consent',
    settings: async () => runtime(withPublic(grant({ expiresAt: iso(hours(-1)), consent: consent({}) }))),
  },
  {
    name: 'no consent',
    field: 'access.consent',
    received: 'nothing',
    settings: async () => runtime(withPublic(grant({ consent: undefined }))),
  },
  {
    name: 'consent without who accepted',
    field: 'access.consent.acceptedBy',
    received: 'nothing',
    settings: async () => runtime(withPublic(grant({ consent: { termsVersion: '2026.1', acceptedAt: iso(NOW) } }))),
  },
  {
    name: 'a terms version of the wrong type',
    field: 'access.consent.termsVersion',
    received: 'number 3',
    settings: async () => runtime(withPublic(grant({ consent: consent({ termsVersion: 3 }) }))),
  },
  {
    name: 'consent accepted in the future',
    field: 'access.consent.acceptedAt',
    received: iso(hours(1)).slice(0, 16),
    settings: async () => runtime(withPublic(grant({ expiresAt: iso(hours(9)), consent: consent({ acceptedAt: iso(hours(1)) }) }))),
  },
  {
    name: 'a ticket id with control characters',
    field: 'access.supportRequestId',
    received: '"TKT\\n1"',
    settings: async () => runtime(withPublic(grant({ supportRequestId: 'TKT\n1' }))),
  },
  {
    name: 'a ticket id over 64 characters',
    field: 'access.supportRequestId',
    received: '"TTTTT',
    settings: async () => runtime(withPublic(grant({ supportRequestId: 'T'.repeat(65) }))),
  },
  // Audit text: nothing that could forge what the history, event log or status show.
  {
    name: 'who accepted with a right-to-left override',
    field: 'access.consent.acceptedBy',
    received: 'received "admin\\u202emoc.elpmaxe@evE", text with U+202E (a bidirectional formatting character) at character 6',
    settings: async () => acceptedBy('admin\u202emoc.elpmaxe@evE'),
  },
  {
    name: 'who accepted with a line separator',
    field: 'access.consent.acceptedBy',
    received: 'U+2028 (a line separator)',
    settings: async () => acceptedBy('owner@contoso.example\u2028by: attacker'),
  },
  {
    name: 'who accepted with a paragraph separator',
    field: 'access.consent.acceptedBy',
    received: 'U+2029 (a paragraph separator)',
    settings: async () => acceptedBy('owner\u2029x'),
  },
  {
    name: 'who accepted with a bidirectional isolate',
    field: 'access.consent.acceptedBy',
    received: 'U+2066 (a bidirectional formatting character)',
    settings: async () => acceptedBy('owner\u2066x\u2069'),
  },
  {
    name: 'who accepted with a right-to-left mark',
    field: 'access.consent.acceptedBy',
    received: 'U+200F (a bidirectional formatting character)',
    settings: async () => acceptedBy('owner\u200f'),
  },
  {
    name: 'who accepted with a C1 control character',
    field: 'access.consent.acceptedBy',
    received: 'U+0085 (a control character)',
    settings: async () => acceptedBy('owner\u0085x'),
  },
  {
    name: 'who accepted with an escaped NUL',
    field: 'access.consent.acceptedBy',
    received: 'U+0000 (a NUL character)',
    settings: async () => acceptedBy('owner\u0000'),
  },
  {
    name: 'who accepted with a lone surrogate',
    field: 'access.consent.acceptedBy',
    received: 'U+D800 (a lone surrogate)',
    settings: async () => acceptedBy('owner\ud800'),
  },
  {
    name: 'who accepted with a raw tab inside the string',
    field: 'access.consent.acceptedBy',
    received: 'raw control character U+0009',
    settings: async () => rawAt(JSON.parse(acceptedBy('MARK')), 'MARK', '"owner\tx"'),
  },
  {
    name: 'who accepted in bytes that are not UTF-8',
    field: 'access.consent.acceptedBy',
    received: 'not valid UTF-8 (0xC3 0x28',
    settings: async () => rawAt(JSON.parse(acceptedBy('MARK')), 'MARK', Buffer.from([0x22, 0x6f, 0xc3, 0x28, 0x22])),
  },
  {
    name: 'a ticket id with a surrogate encoded in UTF-8',
    field: 'access.supportRequestId',
    received: 'not valid UTF-8 (0xED 0xA0 0x80',
    settings: async () =>
      rawAt(
        JSON.parse(runtime(withPublic(grant({ supportRequestId: 'MARK' })))),
        'MARK',
        Buffer.from([0x22, 0x54, 0xed, 0xa0, 0x80, 0x22]),
      ),
  },
  {
    name: 'an unknown key with a bidirectional override',
    field: 'acc\\u202eess',
    received: 'a key with U+202E',
    settings: constant(runtime(withPublic({ 'acc\u202eess': {} }))),
  },
  {
    name: 'a ticket id with a paragraph separator',
    field: 'access.supportRequestId',
    received: 'U+2029',
    settings: async () => runtime(withPublic(grant({ supportRequestId: 'TKT\u20291' }))),
  },
  // A key given twice: JSON.parse lets the last value win, which could turn a revoke into a grant.
  {
    name: 'the access level given twice',
    field: 'access.level',
    received: 'the key "level" a second time',
    settings: async () => twice(runtime(withPublic(grant({ level: 'None' }))), 'level', '"None"', '"Diagnostics"'),
  },
  {
    name: 'the access level given twice, the second spelt with an escape',
    field: 'access.level',
    received: 'a second time',
    settings: async () =>
      twice(runtime(withPublic(grant({ level: 'None' }))), 'level', '"None"', '"Diagnostics"').replace(
        /"level":"Diagnostics"/,
        '"\\u006cevel":"Diagnostics"',
      ),
  },
  {
    name: 'access given twice',
    field: 'access',
    received: 'the key "access" a second time',
    settings: async () => runtime(withPublic(grant())).replace('"access":', '"access":{"level":"None"},"access":'),
  },
  {
    name: 'a consent time given twice',
    field: 'access.consent.acceptedAt',
    received: 'a second time',
    settings: async () =>
      runtime(withPublic(grant())).replace(/"acceptedAt":("[^"]*")/, `"acceptedAt":$1,"acceptedAt":"${iso(hours(-1))}"`),
  },
  {
    name: 'publicSettings given twice in the wrapper',
    field: 'publicSettings',
    received: 'the key "publicSettings" a second time',
    settings: async () =>
      runtime(withPublic(withAccess({ level: 'None' }).publicSettings)).replace(
        '"publicSettings":',
        `"publicSettings":${JSON.stringify(grant())},"publicSettings":`,
      ),
  },
  {
    name: 'runtimeSettings given twice',
    field: 'runtimeSettings',
    received: 'a second time',
    settings: async () => runtime(withPublic(grant())).replace('{"runtimeSettings":', '{"runtimeSettings":[],"runtimeSettings":'),
  },
  {
    name: 'a key given twice in the protected settings',
    field: 'protectedSettings.token',
    received: 'the same key twice',
    settings: async ({ mine }) =>
      runtime({
        publicSettings: grant(),
        protectedSettingsCertThumbprint: mine.thumbprint,
        protectedSettings: await encryptToCms(`{"token":"${SECRET}","token":"x${SECRET}"}`, mine.crtPath, 'aes256'),
      }),
  },
  // Timestamps: RFC 3339 UTC with up to seven fractional digits, real dates only, every such field.
  {
    name: 'an expiry with eight fractional digits',
    field: 'access.expiresAt',
    received: '.12345678Z"',
    settings: async () => runtime(withPublic(grant({ expiresAt: iso(hours(8)).replace('Z', '.12345678Z') }))),
  },
  {
    name: 'an expiry with a UTC offset instead of Z',
    field: 'access.expiresAt',
    received: '+00:00"',
    settings: async () => runtime(withPublic(grant({ expiresAt: iso(hours(8)).replace('Z', '+00:00') }))),
  },
  {
    name: 'an expiry at hour 24',
    field: 'access.expiresAt',
    received: 'T24:00:00.5Z',
    settings: async () => runtime(withPublic(grant({ expiresAt: `${iso(hours(24)).slice(0, 10)}T24:00:00.5Z` }))),
  },
  {
    name: 'a consent time on a day that does not exist, with fractions',
    field: 'access.consent.acceptedAt',
    received: '"2026-02-29T20:00:00.1234567Z"',
    settings: async () => runtime(withPublic(grant({ consent: consent({ acceptedAt: '2026-02-29T20:00:00.1234567Z' }) }))),
  },
  {
    name: 'a license observation on a day that does not exist',
    field: 'observedLicense.observedAt',
    received: '"2026-04-31T20:00:00Z"',
    settings: async () => runtime(withPublic({ ...grant(), observedLicense: { kind: 'PayAsYouGo', observedAt: '2026-04-31T20:00:00Z' } })),
  },
  {
    name: 'a retention of 91 days',
    field: 'retentionDays',
    received: 'number 91',
    settings: async () => runtime(withPublic({ ...grant(), retentionDays: 91 })),
  },
  {
    name: 'a retention of 0 days',
    field: 'retentionDays',
    received: 'number 0',
    settings: async () => runtime(withPublic({ ...grant(), retentionDays: 0 })),
  },
  {
    name: 'a retention of a fraction of days',
    field: 'retentionDays',
    received: 'number 30.5',
    settings: async () => runtime(withPublic({ ...grant(), retentionDays: 30.5 })),
  },
  {
    name: 'a retention given as text',
    field: 'retentionDays',
    received: '"30"',
    settings: async () => runtime(withPublic({ ...grant(), retentionDays: '30' })),
  },
  {
    name: 'installOnPeers given as text',
    field: 'cluster.installOnPeers',
    received: '"yes"',
    settings: async () => runtime(withPublic({ ...grant(), cluster: { installOnPeers: 'yes' } })),
  },
  {
    name: 'an unknown cluster option',
    field: 'cluster.nodes',
    received: 'a property this extension does not know',
    settings: async () => runtime(withPublic({ ...grant(), cluster: { nodes: ['ARC-NODE-2'] } })),
  },
  {
    name: 'a version marker with a patch number',
    field: 'versionMarker',
    received: '"1.0.0"',
    settings: async () => runtime(withPublic({ ...grant(), versionMarker: '1.0.0' })),
  },
  {
    name: 'an oversize settings file',
    field: 'settings file',
    received: 'bytes in 1.settings',
    settings: async () => runtime({ publicSettings: grant(), padding: 'x'.repeat(70 * 1024) }),
  },
  {
    name: 'protected settings without a thumbprint',
    field: 'protectedSettingsCertThumbprint',
    received: 'nothing',
    settings: async ({ mine }) =>
      runtime({ publicSettings: grant(), protectedSettings: await encryptToCms(`{"token":"${SECRET}"}`, mine.crtPath, 'aes256') }),
  },
  {
    name: 'a thumbprint that is not hexadecimal',
    field: 'protectedSettingsCertThumbprint',
    received: '"not-a-thumbprint"',
    settings: async ({ mine }) =>
      runtime({
        publicSettings: grant(),
        protectedSettingsCertThumbprint: 'not-a-thumbprint',
        protectedSettings: await encryptToCms(`{"token":"${SECRET}"}`, mine.crtPath, 'aes256'),
      }),
  },
  {
    name: 'a thumbprint of a certificate that is not installed',
    field: 'protectedSettingsCertThumbprint',
    received: '0123456789ABCDEF0123456789ABCDEF01234567',
    settings: async ({ mine }) =>
      runtime({
        publicSettings: grant(),
        protectedSettingsCertThumbprint: '0123456789ABCDEF0123456789ABCDEF01234567',
        protectedSettings: await encryptToCms(`{"token":"${SECRET}"}`, mine.crtPath, 'aes256'),
      }),
  },
  {
    name: 'protected settings that are not base64',
    field: 'protectedSettings',
    received: 'base64',
    settings: async ({ mine }) =>
      runtime({ publicSettings: grant(), protectedSettingsCertThumbprint: mine.thumbprint, protectedSettings: '%%% not base64 %%%' }),
  },
  {
    name: 'protected settings that are base64 but not CMS',
    field: 'protectedSettings',
    received: 'CMS',
    settings: async ({ mine }) =>
      runtime({
        publicSettings: grant(),
        protectedSettingsCertThumbprint: mine.thumbprint,
        protectedSettings: Buffer.from('just some bytes, not CMS').toString('base64'),
      }),
  },
  {
    name: 'protected settings encrypted to another certificate',
    field: 'protectedSettings',
    received: 'could not be decrypted',
    settings: async ({ mine, other }) =>
      runtime({
        publicSettings: grant(),
        protectedSettingsCertThumbprint: mine.thumbprint,
        protectedSettings: await encryptToCms(`{"token":"${SECRET}"}`, other.crtPath, 'des3'),
      }),
  },
  {
    name: 'protected settings that decrypt to text, not JSON',
    field: 'protectedSettings',
    received: 'not a JSON object',
    settings: async ({ mine }) =>
      runtime({
        publicSettings: grant(),
        protectedSettingsCertThumbprint: mine.thumbprint,
        protectedSettings: await encryptToCms(`token=${SECRET}`, mine.crtPath, 'aes256'),
      }),
  },
  {
    name: 'protected settings that decrypt to a JSON array',
    field: 'protectedSettings',
    received: 'not a JSON object',
    settings: async ({ mine }) =>
      runtime({
        publicSettings: grant(),
        protectedSettingsCertThumbprint: mine.thumbprint,
        protectedSettings: await encryptToCms(`["${SECRET}"]`, mine.crtPath, 'des3'),
      }),
  },
  {
    name: 'protected settings that are a number',
    field: 'protectedSettings',
    received: 'type number',
    settings: async ({ mine }) =>
      runtime({ publicSettings: grant(), protectedSettingsCertThumbprint: mine.thumbprint, protectedSettings: 12345 }),
  },
];

describe('bad settings', () => {
  let certificates: Certificates;
  let certificateFolder: string;

  beforeAll(async () => {
    certificateFolder = await makeTempDir('ars-bad-certs');
    const otherFolder = await makeTempDir('ars-other-cert');
    certificates = { mine: await createTestCertificate(certificateFolder), other: await createTestCertificate(otherFolder) };
  });

  afterAll(async () => {
    await fs.rm(certificateFolder, { recursive: true, force: true });
  });

  it('has at least 30 cases, each with its own name', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((item) => item.name)).size).toBe(cases.length);
  });

  it.each(cases.map((item) => [item.name, item] as const))(
    '%s: error, exit 53, the field named, nothing applied changes',
    async (_name, item) => {
      const fixture = await ExtensionFixture.create();
      try {
        expect((await fixture.run('install')).exitCode).toBe(0);
        await fixture.writeSettings(0, { publicSettings: grant() });
        expect((await fixture.run('enable', { sequenceNumber: 0, certDir: certificateFolder })).exitCode).toBe(0);
        const appliedBefore = await fixture.stateText();
        const statusBefore = await fixture.status(0);

        const settings = await item.settings(certificates);
        await fixture.writeSettingsText(1, typeof settings === 'string' || Buffer.isBuffer(settings) ? settings : JSON.stringify(settings));
        const result = await fixture.run('enable', { sequenceNumber: 1, certDir: certificateFolder });

        const status = await fixture.status(1);
        expect(result.exitCode).toBe(53);
        expect(status.status.status).toBe('error');
        expect(status.status.code).toBe(53);
        const message = status.status.formattedMessage.message;
        expect(message).toContain(`'${item.field}'`);
        expect(message).toContain(item.received);
        expect(message).toMatch(/Accepted: (?!accepted)\S/i);
        // Received values are echoed escaped: nothing raw that could forge a line or reorder text.
        const raw = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
        expect(await fs.readFile(path.join(fixture.root, 'status', '1.status'), 'utf8')).not.toMatch(raw);
        for (const line of (await fs.readFile(path.join(fixture.dataFolder, 'operations.jsonl'), 'utf8')).trimEnd().split('\n'))
          expect(line).not.toMatch(raw);
        expect(result.stderr.trimEnd()).not.toMatch(raw);
        // The grant applied by settings 0 is untouched, and so is its status.
        expect(await fixture.stateText()).toBe(appliedBefore);
        expect(await fixture.status(0)).toEqual(statusBefore);
        // Whatever the protected settings held never reaches status or logs.
        expect(message).not.toContain(SECRET);
        expect(await fixture.logText()).not.toContain(SECRET);
      } finally {
        await fixture.remove();
      }
    },
  );

  it('accepts an empty settings file as "no settings yet"', async () => {
    const fixture = await ExtensionFixture.create();
    try {
      await fixture.writeSettingsText(0, '');
      const result = await fixture.run('enable', { sequenceNumber: 0 });
      expect(result.exitCode).toBe(0);
      const status = await fixture.status(0);
      expect(status.status.status).toBe('success');
      expect(status.status.formattedMessage.message).toBe('Access: none. No settings received yet.');
    } finally {
      await fixture.remove();
    }
  });

  it.each([
    ['missing', null],
    ['not JSON', '{"handlerEnvironment": '],
    ['without a status folder', JSON.stringify([{ version: 1, handlerEnvironment: { logFolder: '/tmp', configFolder: '/tmp' } }])],
  ])('a %s HandlerEnvironment.json gives a clear message on stderr and exit 52', async (_name, content) => {
    const fixture = await ExtensionFixture.create();
    try {
      const file = path.join(fixture.root, 'HandlerEnvironment.json');
      if (content === null) await fs.rm(file);
      else await fs.writeFile(file, content);
      const result = await fixture.run('enable', { sequenceNumber: 0 });
      expect(result.exitCode).toBe(52);
      expect(result.stderr).toContain('HandlerEnvironment.json');
      expect(result.stderr).toMatch(/reinstall the extension/);
    } finally {
      await fixture.remove();
    }
  });
});
