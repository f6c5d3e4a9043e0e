/** Consent: the terms must be accepted, and the token says who accepted. */
import { acceptTerms, requireWayToAccept } from '../../cli/consent/accept-terms';
import { decodeJwtPayload, identityFromToken } from '../../cli/consent/token-claims';
import { InputError } from '../../cli/errors';
import { TERMS_VERSION, termsText } from '../../cli/terms';

function jwt(claims: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.signature`;
}

describe('who accepted, from the access token', () => {
  it('prefers the person: upn, then preferred_username, then unique_name', () => {
    expect(identityFromToken(jwt({ upn: 'owner@contoso.example', preferred_username: 'x', appid: 'y' }))).toEqual({
      claim: 'upn',
      value: 'owner@contoso.example',
    });
    expect(identityFromToken(jwt({ preferred_username: 'ops@contoso.example', unique_name: 'z' }))).toEqual({
      claim: 'preferred_username',
      value: 'ops@contoso.example',
    });
    expect(identityFromToken(jwt({ unique_name: 'live.com#me@example.com' }))?.value).toBe('live.com#me@example.com');
  });

  it('names an application or managed identity by appid', () => {
    expect(identityFromToken(jwt({ appid: '5b1c0e6e-0000-4000-8000-000000000001', oid: 'o' }))).toEqual({
      claim: 'appid',
      value: '5b1c0e6e-0000-4000-8000-000000000001',
    });
  });

  it('reads nothing from tokens that are not JWTs', () => {
    expect(decodeJwtPayload('opaque-token')).toBeUndefined();
    expect(decodeJwtPayload('a.!!!.c')).toBeUndefined();
    expect(identityFromToken(jwt({ aud: 'x' }))).toBeUndefined();
  });
});

describe('accepting the terms', () => {
  const terms = termsText({
    level: 'Diagnostics',
    machines: 3,
    duration: '8 h 0 min',
    expiresAt: '2026-11-25T04:00:00Z',
    supportRequestId: 'TKT-1',
  });

  it('shows the terms with their version, level, ticket and expiry', () => {
    expect(terms).toContain(`version ${TERMS_VERSION}`);
    expect(terms).toContain('Diagnostics access to 3 machine(s)');
    expect(terms).toContain('TKT-1');
    expect(terms).toContain('for 8 h 0 min from your acceptance (until about 2026-11-25T04:00:00Z UTC)');
  });

  it('accepts the flag without asking', async () => {
    const shown: string[] = [];
    const ask = jest.fn();
    await acceptTerms({ acceptedByFlag: true, interactive: false, terms, show: (text) => shown.push(text), ask });
    expect(shown).toEqual([terms]);
    expect(ask).not.toHaveBeenCalled();
  });

  it('asks at a terminal and refuses a no', async () => {
    await expect(
      acceptTerms({ acceptedByFlag: false, interactive: true, terms, show: () => undefined, ask: async () => true }),
    ).resolves.toBeUndefined();
    await expect(
      acceptTerms({ acceptedByFlag: false, interactive: true, terms, show: () => undefined, ask: async () => false }),
    ).rejects.toThrow(InputError);
  });

  it('refuses without the flag when nobody can answer, with the fix', () => {
    const shown: string[] = [];
    expect(() => requireWayToAccept({ acceptedByFlag: false, interactive: false, terms, show: (text) => shown.push(text) })).toThrow(
      /--accept-terms: received nothing\. The terms above must be accepted.*add --accept-terms/,
    );
    expect(shown).toEqual([terms]);
  });
});
