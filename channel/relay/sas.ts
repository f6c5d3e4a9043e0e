/**
 * Service Bus shared access signatures, as Azure Relay checks them:
 * `SharedAccessSignature sr={enc(resource)}&sig={enc(base64(HMAC-SHA256(key, enc(resource) + "\n" + se)))}&se={unix s}&skn={rule}`.
 * The HMAC key is the UTF-8 bytes of the key string (not its base64 decoding), as both Microsoft
 * clients do. Audiences are compared without scheme, port or trailing slash, because the two
 * Microsoft clients disagree on those (hyco-ws signs `http://ns:443/hc`, .NET `http://ns/hc/`).
 */
import { createHmac, timingSafeEqual } from 'crypto';

const PREFIX = 'SharedAccessSignature ';
const FIELDS = ['sr', 'sig', 'se', 'skn'] as const;

export interface SasSigningInput {
  /** The audience, e.g. `http://contoso.servicebus.windows.net/my-hc` (see hybridConnectionResource). */
  resourceUri: string;
  /** The authorization rule's name. */
  keyName: string;
  /** The rule's primary or secondary key, used as UTF-8 text. */
  key: string;
  /** Rounded down to the second, so a token never outlives the moment it was asked for. */
  expiresAt: Date;
}

export function signSas(input: SasSigningInput): string {
  const expiry = Math.floor(input.expiresAt.getTime() / 1000);
  if (!Number.isFinite(expiry) || expiry <= 0) {
    throw new RangeError(`SAS expiresAt: received ${String(input.expiresAt)}. Give a valid date after 1970.`);
  }
  if (!input.keyName) throw new RangeError('SAS keyName: received an empty name. Give the authorization rule name.');
  if (!input.key) throw new RangeError(`SAS key for rule '${input.keyName}': received an empty key. Give the rule's key.`);
  const audience = encodeURIComponent(input.resourceUri);
  const signature = hmac(input.key, `${audience}\n${expiry}`).toString('base64');
  return `${PREFIX}sr=${audience}&sig=${encodeURIComponent(signature)}&se=${expiry}&skn=${encodeURIComponent(input.keyName)}`;
}

export interface ParsedSas {
  /** The audience as signed, decoded. */
  resourceUri: string;
  keyName: string;
  expiresAt: Date;
  /** The exact text the signature covers: the `sr` field as it appears in the token, "\n", `se`. */
  signedText: string;
  signature: Buffer;
}

export type SasRefusal = 'malformed' | 'wrong-audience' | 'unknown-key' | 'bad-signature' | 'expired';

export type SasParseResult = { ok: true; token: ParsedSas } | { ok: false; reason: 'malformed'; detail: string };

/** Reads a token without checking it. The detail never quotes the signature. */
export function parseSas(token: string): SasParseResult {
  const malformed = (detail: string): SasParseResult => ({ ok: false, reason: 'malformed', detail });
  if (typeof token !== 'string' || !token.startsWith(PREFIX)) return malformed(`it does not start with '${PREFIX.trim()}'`);
  const raw = new Map<string, string>();
  for (const pair of token.slice(PREFIX.length).split('&')) {
    const equals = pair.indexOf('=');
    const name = equals < 0 ? pair : pair.slice(0, equals);
    if (!(FIELDS as readonly string[]).includes(name)) return malformed(`it has an unknown field '${name.slice(0, 20)}'`);
    if (raw.has(name)) return malformed(`it has the field '${name}' twice`);
    raw.set(name, equals < 0 ? '' : pair.slice(equals + 1));
  }
  const missing = FIELDS.filter((name) => !raw.get(name));
  if (missing.length > 0) return malformed(`it lacks ${missing.join(', ')}`);
  const se = raw.get('se') as string;
  if (!/^\d{1,12}$/.test(se)) return malformed(`its expiry 'se' is not a number of seconds`);
  let resourceUri: string;
  let keyName: string;
  let signatureText: string;
  try {
    resourceUri = decodeURIComponent(raw.get('sr') as string);
    keyName = decodeURIComponent(raw.get('skn') as string);
    signatureText = decodeURIComponent(raw.get('sig') as string);
  } catch {
    return malformed('a field is not valid URL encoding');
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureText)) return malformed(`its signature 'sig' is not base64`);
  return {
    ok: true,
    token: {
      resourceUri,
      keyName,
      expiresAt: new Date(Number(se) * 1000),
      signedText: `${raw.get('sr')}\n${se}`,
      signature: Buffer.from(signatureText, 'base64'),
    },
  };
}

export interface SasVerification {
  /** The audience the caller wants access to (any scheme; port and trailing slash ignored). */
  resourceUri: string;
  /** The keys valid for a rule name at this audience (primary and secondary); none when unknown. */
  keys: (keyName: string) => readonly string[];
  now: Date | number;
}

export type SasVerifyResult = { ok: true; keyName: string; expiresAt: Date } | { ok: false; reason: SasRefusal; detail: string };

export function verifySas(token: string, check: SasVerification): SasVerifyResult {
  const parsed = parseSas(token);
  if (!parsed.ok) return parsed;
  const { resourceUri, keyName, expiresAt, signedText, signature } = parsed.token;
  if (!audienceCovers(resourceUri, check.resourceUri)) {
    return {
      ok: false,
      reason: 'wrong-audience',
      detail: `the token is for '${audienceOf(resourceUri)}', not '${audienceOf(check.resourceUri)}'`,
    };
  }
  const keys = check.keys(keyName).filter((key) => key.length > 0);
  if (keys.length === 0) return { ok: false, reason: 'unknown-key', detail: `no rule named '${keyName}' applies here` };
  // Every key is tried (no early exit), so timing does not tell which one matched.
  const matches = keys.map((key) => {
    const expected = hmac(key, signedText);
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  });
  if (!matches.includes(true)) return { ok: false, reason: 'bad-signature', detail: `the signature does not match rule '${keyName}'` };
  const now = typeof check.now === 'number' ? check.now : check.now.getTime();
  if (expiresAt.getTime() <= now) return { ok: false, reason: 'expired', detail: `the token expired at ${expiresAt.toISOString()}` };
  return { ok: true, keyName, expiresAt };
}

/**
 * `host/path` in lower case, without scheme, port, the `$hc` segment of WebSocket addresses, or
 * trailing slashes: `wss://NS:443/$hc/hc/` and `http://ns/hc` are the same audience.
 */
export function audienceOf(uri: string): string {
  const withoutScheme = uri.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  const authority = slash < 0 ? withoutScheme : withoutScheme.slice(0, slash);
  const path = slash < 0 ? '' : (withoutScheme.slice(slash).split(/[?#]/)[0] ?? '');
  const host = authority.replace(/^[^@]*@/, '').replace(/:\d*$/, '');
  const segments = path.split('/').filter((segment) => segment.length > 0);
  if (segments[0] === '$hc') segments.shift();
  return [host, ...segments].join('/').toLowerCase();
}

/**
 * True when a token signed for `tokenAudience` grants `requested`: the same entity, or a parent of
 * it at a path-segment boundary (a namespace-wide token covers its hybrid connections; `ns/hc`
 * never covers `ns/hc-2`).
 */
export function audienceCovers(tokenAudience: string, requested: string): boolean {
  const granted = audienceOf(tokenAudience);
  const wanted = audienceOf(requested);
  if (!granted) return false;
  return wanted === granted || wanted.startsWith(`${granted}/`);
}

/** When a token stops being valid, or undefined when it cannot be read. */
export function sasExpiry(token: string): Date | undefined {
  const parsed = parseSas(token);
  return parsed.ok ? parsed.token.expiresAt : undefined;
}

function hmac(key: string, text: string): Buffer {
  return createHmac('sha256', Buffer.from(key, 'utf8')).update(text, 'utf8').digest();
}
