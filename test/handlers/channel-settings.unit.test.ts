/** The channel's protected settings: accepted when bound to the grant, refused by field with the fix, never quoting a token. */
import { generateKeyPairSync } from 'crypto';
import { signSas } from '../../channel/relay/sas';
import type { Grant } from '../../core/desired-state';
import { isConfigurationError } from '../../extension/errors';
import { readChannelSettings, type ChannelSettings } from '../../handlers/channel-settings';
import { testGrant } from '../support/test-grant';

const NOW = new Date('2026-11-24T20:00:00Z');
const grant: Grant = testGrant();
const NAMESPACE = 'contoso-support.servicebus.windows.net';
const KEY = 'listen-key-0123456789abcdef0123456789abcdef';
const publicKey = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
const token = (hc: string, expiresAt = grant.expiresAt) =>
  signSas({ resourceUri: `http://${NAMESPACE}/${hc}/`, keyName: 'agent-listen', key: KEY, expiresAt });

function settings(publicChannel: Record<string, unknown> = {}, secret: Record<string, unknown> = {}, tokens: Record<string, unknown> = {}) {
  return {
    publicSettings: {
      channel: { relayNamespace: NAMESPACE, machine: 'arc-web-01', hybridConnections: { web01: 'rs-web01-3f2b8c1e' }, ...publicChannel },
    },
    protectedSettings: {
      channel: { ticketPublicKey: publicKey, listenTokens: { web01: token('rs-web01-3f2b8c1e'), ...tokens }, ...secret },
    },
  };
}

function refusal(value: ReturnType<typeof settings>): { field: string; message: string } {
  try {
    readChannelSettings(value.publicSettings, value.protectedSettings, grant, NOW);
  } catch (error) {
    if (isConfigurationError(error)) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error('accepted');
}

describe('the channel in protected settings', () => {
  it('gives each node its hybrid connection, keyed by upper-case name, with the token only beside the record', () => {
    const { publicSettings, protectedSettings } = settings();
    const channels = readChannelSettings(publicSettings, protectedSettings, grant, NOW) as ChannelSettings;
    const web01 = channels.get('WEB01')!;
    expect(web01.record).toMatchObject({ grantId: grant.grantId, machine: 'arc-web-01', hybridConnection: 'rs-web01-3f2b8c1e' });
    expect(web01.record.listenTokenExpiresAt.toISOString()).toBe(grant.expiresAt.toISOString());
    expect(JSON.stringify(web01.record)).not.toContain('sig=');
    expect(web01.listenToken).toMatch(/^SharedAccessSignature /);
  });

  it('says nothing when there is no channel section, and ignores one without a grant', () => {
    expect(readChannelSettings({}, {}, grant, NOW)).toBeUndefined();
    const { publicSettings, protectedSettings } = settings();
    expect(readChannelSettings(publicSettings, protectedSettings, undefined, NOW)).toBeUndefined();
  });

  it("keeps each node's channel when only the public part is re-sent (Azure never returns protected settings)", () => {
    const { publicSettings } = settings();
    expect(readChannelSettings(publicSettings, undefined, grant, NOW)).toBe('keep');
    expect(readChannelSettings(publicSettings, {}, grant, NOW)).toBe('keep');
  });

  it('refuses protected channel settings without their public part', () => {
    const { protectedSettings } = settings();
    expect(() => readChannelSettings({}, protectedSettings, grant, NOW)).toThrow(/Invalid setting 'channel'/);
  });

  it.each([
    ['a namespace with a scheme', settings({ relayNamespace: 'https://x.servicebus.windows.net' }), 'channel.relayNamespace'],
    [
      'a key that is not Ed25519',
      settings(
        {},
        {
          ticketPublicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString(),
        },
      ),
      'protectedSettings.channel.ticketPublicKey',
    ],
    [
      'a token for another hybrid connection',
      settings({}, {}, { web01: token('rs-other') }),
      'protectedSettings.channel.listenTokens.web01',
    ],
    [
      'a token that outlives the grant',
      settings({}, {}, { web01: token('rs-web01-3f2b8c1e', new Date('2026-11-26T00:00:00Z')) }),
      'protectedSettings.channel.listenTokens.web01',
    ],
    [
      'an expired token',
      settings({}, {}, { web01: token('rs-web01-3f2b8c1e', new Date('2026-11-24T19:00:00Z')) }),
      'protectedSettings.channel.listenTokens.web01',
    ],
    ['a token that is not a SAS', settings({}, {}, { web01: 'Bearer SECRETVALUE' }), 'protectedSettings.channel.listenTokens.web01'],
    [
      'no token for a node',
      settings({ hybridConnections: { web01: 'rs-web01-3f2b8c1e', web02: 'rs-web02' } }),
      'protectedSettings.channel.listenTokens.web02',
    ],
    ['tokens given as text', settings({}, { listenTokens: 'SECRETVALUE' }), 'protectedSettings.channel.listenTokens'],
  ])('refuses %s, naming the field, never quoting a secret', (_name, value, field) => {
    const { field: named, message } = refusal(value);
    expect(named).toBe(field);
    expect(message).toMatch(/Accepted: /);
    expect(message).not.toContain('SECRETVALUE');
    expect(message).not.toMatch(/sig=[A-Za-z0-9%]/);
  });
});
