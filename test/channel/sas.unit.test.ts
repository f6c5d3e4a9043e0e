import { audienceCovers, audienceOf, parseSas, sasExpiry, signSas, verifySas } from '../../channel/relay/sas';

// hyco-ws 1.0.5, Microsoft's Node client, is the reference signer (a devDependency, never shipped).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- hyco-ws 1.0.5 ships no types
const hyco = require('hyco-ws') as { createRelayToken(uri: string, keyName: string, key: string, expirySeconds?: number): string };

const NOW = Date.UTC(2026, 0, 1, 0, 0, 0);
const DOTNET_AUDIENCE = 'http://contoso.servicebus.windows.net/rs-node-1/';

function keysFor(rules: Record<string, string[]>) {
  return (keyName: string) => rules[keyName] ?? [];
}

describe('signSas: known answers', () => {
  // Expected signatures computed with openssl (`openssl dgst -sha256 -hmac KEY -binary | base64`) over
  // "http%3A%2F%2Fcontoso.servicebus.windows.net%2Frs-node-1%2F\n1767225600": an implementation independent of ours.
  it('signs the .NET form of the audience with the key taken as UTF-8 text', () => {
    const token = signSas({
      resourceUri: DOTNET_AUDIENCE,
      keyName: 'agent-listen',
      key: 'k3y/With+Base64=Chars',
      expiresAt: new Date(NOW),
    });
    expect(token).toBe(
      'SharedAccessSignature sr=http%3A%2F%2Fcontoso.servicebus.windows.net%2Frs-node-1%2F' +
        `&sig=${encodeURIComponent('VTJoFkGl9Na6Nhe0JTEWiKLj+/du/hiRHAjzyry/Sbw=')}&se=1767225600&skn=agent-listen`,
    );
  });

  it('uses the UTF-8 bytes of a non-ASCII key, not Latin-1 or a base64 decoding', () => {
    const token = signSas({ resourceUri: DOTNET_AUDIENCE, keyName: 'r', key: 'clé-ünïcode', expiresAt: new Date(NOW) });
    expect(parseSas(token)).toMatchObject({ ok: true });
    expect(token).toContain(`sig=${encodeURIComponent('CpJ+OjY1D0Zk8sU1XnlzROCyXj5UMwKpP+HkN/bn658=')}&`);
  });

  it('rounds the expiry down to the second so a token never outlives the time asked for', () => {
    const token = signSas({ resourceUri: DOTNET_AUDIENCE, keyName: 'r', key: 'k', expiresAt: new Date(NOW + 999) });
    expect(token).toContain('&se=1767225600&');
    expect(sasExpiry(token)?.getTime()).toBe(NOW);
  });

  it('produces byte for byte what hyco-ws createRelayToken produces for the same audience and expiry', () => {
    const reference = hyco.createRelayToken('wss://contoso.servicebus.windows.net:443/$hc/rs-node-1', 'agent-listen', 'clé-ünïcode', 600);
    const parsed = parseSas(reference);
    if (!parsed.ok) throw new Error(parsed.detail);
    // hyco-ws keeps the port and drops '$hc' and the trailing slash.
    expect(parsed.token.resourceUri).toBe('http://contoso.servicebus.windows.net:443/rs-node-1');
    const ours = signSas({
      resourceUri: parsed.token.resourceUri,
      keyName: 'agent-listen',
      key: 'clé-ünïcode',
      expiresAt: parsed.token.expiresAt,
    });
    expect(ours).toBe(reference);
  });

  it('refuses to sign without a key, a rule name or a valid expiry, naming the field', () => {
    expect(() => signSas({ resourceUri: DOTNET_AUDIENCE, keyName: 'r', key: '', expiresAt: new Date(NOW) })).toThrow(
      /SAS key for rule 'r'/,
    );
    expect(() => signSas({ resourceUri: DOTNET_AUDIENCE, keyName: '', key: 'k', expiresAt: new Date(NOW) })).toThrow(/keyName/);
    expect(() => signSas({ resourceUri: DOTNET_AUDIENCE, keyName: 'r', key: 'k', expiresAt: new Date('nope') })).toThrow(/expiresAt/);
  });
});

describe('verifySas', () => {
  const keys = keysFor({ 'agent-listen': ['primary-key-1', 'secondary-key-2'] });
  const valid = (resourceUri = DOTNET_AUDIENCE, key = 'primary-key-1', keyName = 'agent-listen') =>
    signSas({ resourceUri, keyName, key, expiresAt: new Date(NOW + 3_600_000) });

  it('accepts a hyco-ws token (port in the audience, no trailing slash) for the .NET-form audience, and the reverse', () => {
    const fromHyco = hyco.createRelayToken('wss://contoso.servicebus.windows.net:443/$hc/rs-node-1', 'agent-listen', 'primary-key-1', 600);
    expect(verifySas(fromHyco, { resourceUri: DOTNET_AUDIENCE, keys, now: Date.now() })).toMatchObject({
      ok: true,
      keyName: 'agent-listen',
    });
    expect(verifySas(valid(), { resourceUri: 'wss://contoso.servicebus.windows.net:443/$hc/rs-node-1', keys, now: NOW })).toMatchObject({
      ok: true,
      expiresAt: new Date(NOW + 3_600_000),
    });
  });

  it('accepts the secondary key as well as the primary', () => {
    expect(verifySas(valid(DOTNET_AUDIENCE, 'secondary-key-2'), { resourceUri: DOTNET_AUDIENCE, keys, now: NOW }).ok).toBe(true);
  });

  it('refuses a tampered signature', () => {
    const token = valid();
    const tampered = token.replace(/sig=([^&]+)/, (_all, sig: string) => `sig=${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`);
    expect(verifySas(tampered, { resourceUri: DOTNET_AUDIENCE, keys, now: NOW })).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a token signed with a key the rule does not have', () => {
    expect(verifySas(valid(DOTNET_AUDIENCE, 'guessed'), { resourceUri: DOTNET_AUDIENCE, keys, now: NOW })).toMatchObject({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('refuses an unknown rule name', () => {
    expect(
      verifySas(valid(DOTNET_AUDIENCE, 'primary-key-1', 'engineer-send'), { resourceUri: DOTNET_AUDIENCE, keys, now: NOW }),
    ).toMatchObject({
      ok: false,
      reason: 'unknown-key',
    });
  });

  it('refuses a token for another hybrid connection, including one whose name merely starts the same', () => {
    expect(
      verifySas(valid('http://contoso.servicebus.windows.net/rs-node-2/'), { resourceUri: DOTNET_AUDIENCE, keys, now: NOW }),
    ).toMatchObject({
      ok: false,
      reason: 'wrong-audience',
    });
    expect(
      verifySas(valid('http://contoso.servicebus.windows.net/rs-node'), { resourceUri: DOTNET_AUDIENCE, keys, now: NOW }),
    ).toMatchObject({
      ok: false,
      reason: 'wrong-audience',
    });
    expect(
      verifySas(valid('http://other.servicebus.windows.net/rs-node-1/'), { resourceUri: DOTNET_AUDIENCE, keys, now: NOW }),
    ).toMatchObject({
      ok: false,
      reason: 'wrong-audience',
    });
  });

  it('lets a namespace-wide token cover the namespace hybrid connections', () => {
    expect(verifySas(valid('http://contoso.servicebus.windows.net/'), { resourceUri: DOTNET_AUDIENCE, keys, now: NOW }).ok).toBe(true);
  });

  it('refuses an expired token, and one that expires this very second', () => {
    const token = valid();
    expect(verifySas(token, { resourceUri: DOTNET_AUDIENCE, keys, now: NOW + 3_600_000 })).toMatchObject({ ok: false, reason: 'expired' });
    expect(verifySas(token, { resourceUri: DOTNET_AUDIENCE, keys, now: new Date(NOW + 3_600_001) })).toMatchObject({
      ok: false,
      reason: 'expired',
    });
  });

  it.each([
    ['no prefix', 'sr=a&sig=b&se=1&skn=c'],
    ['a missing field', 'SharedAccessSignature sr=a&sig=AAAA&se=1'],
    ['a repeated field', 'SharedAccessSignature sr=a&sr=b&sig=AAAA&se=1&skn=c'],
    ['an unknown field', 'SharedAccessSignature sr=a&sig=AAAA&se=1&skn=c&x=1'],
    ['a non-numeric expiry', 'SharedAccessSignature sr=a&sig=AAAA&se=soon&skn=c'],
    ['a signature that is not base64', 'SharedAccessSignature sr=a&sig=%%%&se=1&skn=c'],
  ])('refuses a malformed token (%s) without quoting it', (_case, token) => {
    const result = verifySas(token, { resourceUri: DOTNET_AUDIENCE, keys, now: NOW });
    expect(result).toMatchObject({ ok: false, reason: 'malformed' });
    if (!result.ok) expect(result.detail).not.toContain('AAAA');
  });

  it('never tells the signature in a refusal detail', () => {
    const token = valid(DOTNET_AUDIENCE, 'guessed');
    const sig = decodeURIComponent(/sig=([^&]+)/.exec(token)?.[1] ?? '');
    const result = verifySas(token, { resourceUri: DOTNET_AUDIENCE, keys, now: NOW });
    expect(JSON.stringify(result)).not.toContain(sig);
  });
});

describe('audiences', () => {
  it('compare without scheme, port, $hc, case or trailing slash', () => {
    expect(audienceOf('wss://Contoso.servicebus.windows.net:443/$hc/RS-node-1/')).toBe('contoso.servicebus.windows.net/rs-node-1');
    expect(audienceOf('sb://contoso.servicebus.windows.net/rs-node-1')).toBe('contoso.servicebus.windows.net/rs-node-1');
    expect(audienceCovers('http://ns.example/hc', 'http://ns.example/hc/suffix')).toBe(true);
    expect(audienceCovers('http://ns.example/hc', 'http://ns.example/hc2')).toBe(false);
    expect(audienceCovers('', 'http://ns.example/hc')).toBe(false);
  });
});
