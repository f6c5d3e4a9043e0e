/** The channel's protected settings: accepted when bound to the grant, refused by field with the fix, never quoting a token. */
import { generateKeyPairSync } from 'crypto';
import { signSas } from '../../channel/relay/sas';
import type { Grant } from '../../core/desired-state';
import { isConfigurationError } from '../../extension/errors';
import { readChannelSettings } from '../../handlers/channel-settings';

const NOW = new Date('2026-11-24T20:00:00Z');
const grant: Grant = {
  level: 'Diagnostics',
  grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f',
  expiresAt: new Date('2026-11-25T04:00:00Z'),
  supportRequestId: 'TKT-1',
  consent: { termsVersion: '2026.1', acceptedAt: new Date('2026-11-24T19:59:00Z'), acceptedBy: 'owner@contoso.example' },
};
const NAMESPACE = 'contoso-support.servicebus.windows.net';
const KEY = 'listen-key-0123456789abcdef0123456789abcdef';
const publicKey = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
const token = (hc: string, expiresAt = grant.expiresAt) =>
  signSas({ resourceUri: `http://${NAMESPACE}/${hc}/`, keyName: 'agent-listen', key: KEY, expiresAt });

function settings(overrides: Record<string, unknown> = {}, node: Record<string, unknown> = {}) {
  return {
    channel: {
      grantId: grant.grantId,
      machine: 'arc-web-01',
      relayNamespace: NAMESPACE,
      ticketPublicKey: publicKey,
      nodes: { web01: { hybridConnection: 'rs-web01-3f2b8c1e', listenToken: token('rs-web01-3f2b8c1e'), ...node } },
      ...overrides,
    },
  };
}

function refusal(value: Record<string, unknown>): { field: string; message: string } {
  try {
    readChannelSettings(value, grant, NOW);
  } catch (error) {
    if (isConfigurationError(error)) return { field: error.field, message: error.message };
    throw error;
  }
  throw new Error('accepted');
}

describe('the channel in protected settings', () => {
  it('gives each node its hybrid connection, keyed by upper-case name, with the token only beside the record', () => {
    const channels = readChannelSettings(settings(), grant, NOW)!;
    const web01 = channels.get('WEB01')!;
    expect(web01.record).toMatchObject({ grantId: grant.grantId, machine: 'arc-web-01', hybridConnection: 'rs-web01-3f2b8c1e' });
    expect(web01.record.listenTokenExpiresAt.toISOString()).toBe(grant.expiresAt.toISOString());
    expect(JSON.stringify(web01.record)).not.toContain('sig=');
    expect(web01.listenToken).toMatch(/^SharedAccessSignature /);
  });

  it('says nothing when there is no channel section, and ignores one without a grant', () => {
    expect(readChannelSettings({}, grant, NOW)).toBeUndefined();
    expect(readChannelSettings(settings(), undefined, NOW)).toBeUndefined();
  });

  it.each([
    ['another grant', settings({ grantId: '00000000-0000-4000-8000-000000000000' }), 'protectedSettings.channel.grantId'],
    [
      'a namespace with a scheme',
      settings({ relayNamespace: 'https://x.servicebus.windows.net' }),
      'protectedSettings.channel.relayNamespace',
    ],
    [
      'a key that is not Ed25519',
      settings({
        ticketPublicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      }),
      'protectedSettings.channel.ticketPublicKey',
    ],
    [
      'a token for another hybrid connection',
      settings({}, { listenToken: token('rs-other') }),
      'protectedSettings.channel.nodes.web01.listenToken',
    ],
    [
      'a token that outlives the grant',
      settings({}, { listenToken: token('rs-web01-3f2b8c1e', new Date('2026-11-26T00:00:00Z')) }),
      'protectedSettings.channel.nodes.web01.listenToken',
    ],
    [
      'an expired token',
      settings({}, { listenToken: token('rs-web01-3f2b8c1e', new Date('2026-11-24T19:00:00Z')) }),
      'protectedSettings.channel.nodes.web01.listenToken',
    ],
    ['a token that is not a SAS', settings({}, { listenToken: 'Bearer SECRETVALUE' }), 'protectedSettings.channel.nodes.web01.listenToken'],
    ['nodes given as text', settings({ nodes: 'SECRETVALUE' }), 'protectedSettings.channel.nodes'],
    ['a machine name with a slash', settings({ machine: 'a/b' }), 'protectedSettings.channel.machine'],
  ])('refuses %s, naming the field, never quoting a secret', (_name, value, field) => {
    const { field: named, message } = refusal(value);
    expect(named).toBe(field);
    expect(message).toMatch(/Accepted: /);
    expect(message).not.toContain('SECRETVALUE');
    expect(message).not.toMatch(/sig=[A-Za-z0-9%]/);
  });
});
