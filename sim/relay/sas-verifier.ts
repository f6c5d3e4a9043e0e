/**
 * The relay's own check of a Service Bus shared access signature, written apart from the product's
 * signer so that each cross-checks the other:
 *
 *   SharedAccessSignature sr={urlencoded resource}&sig={urlencoded base64 HMAC-SHA256}&se={unix seconds}&skn={rule}
 *
 * The HMAC key is the UTF-8 bytes of the key string (not its base64 decoding), over the resource
 * exactly as the token carries it (URL-encoded) + "\n" + se. The resource is the audience: it must be
 * the hybrid connection's URI or a prefix of it at a path boundary, compared without scheme, port,
 * letter case or trailing slash (hyco-ws signs 'http://{ns}:443/{hc}', .NET 'http://{ns}/{hc}/').
 * Reasons never repeat the signature.
 */
import { createHmac, timingSafeEqual } from 'crypto';
import type { AuthorizationRule } from './types';

export type TokenVerdict = { ok: true; ruleName: string; expiresAtMs: number } | { ok: false; status: 401 | 403; reason: string };

export interface TokenDemand {
  /** The hybrid connection's URI without scheme or port, lower case: '127.0.0.1/rs-node-1'. */
  entity: string;
  right: 'Listen' | 'Send';
  /** Every rule of that name that could have signed: the hybrid connection's and the namespace's. */
  rulesNamed(keyName: string): AuthorizationRule[];
  nowMs: number;
}

const PREFIX = 'SharedAccessSignature ';
const FIELDS = ['sr', 'sig', 'se', 'skn'] as const;
const LONGEST_TOKEN = 4096;
const SHA256_BYTES = 32;

interface ParsedToken {
  /** As it appears in the token: what was signed. */
  encodedResource: string;
  audience: string;
  signature: Buffer;
  expiry: string;
  keyName: string;
}

export function verifyToken(token: string | undefined, demand: TokenDemand): TokenVerdict {
  if (token === undefined || token === '') {
    return refuse(401, 'no token: send a SharedAccessSignature in the sb-hc-token query parameter or the ServiceBusAuthorization header');
  }
  const parsed = parseToken(token);
  if (typeof parsed === 'string') return refuse(401, `malformed token: ${parsed}`);

  const rules = demand.rulesNamed(parsed.keyName);
  if (rules.length === 0) return refuse(401, `no authorization rule named '${parsed.keyName}' on this hybrid connection or its namespace`);
  const signed = `${parsed.encodedResource}\n${parsed.expiry}`;
  let signer: AuthorizationRule | undefined;
  for (const rule of rules) {
    for (const key of [rule.primaryKey, rule.secondaryKey]) {
      // Every key is compared, in constant time, whatever matched before.
      if (key !== undefined && signatureMatches(parsed.signature, key, signed) && !signer) signer = rule;
    }
  }
  if (!signer) return refuse(401, `the signature does not match the keys of rule '${parsed.keyName}'`);

  const expiresAtMs = Number(parsed.expiry) * 1000;
  if (expiresAtMs <= demand.nowMs) return refuse(401, `the token expired at ${new Date(expiresAtMs).toISOString()} (se=${parsed.expiry})`);
  if (!(demand.entity === parsed.audience || demand.entity.startsWith(`${parsed.audience}/`))) {
    return refuse(
      403,
      `the token's resource '${decodeURIComponent(parsed.encodedResource)}' is not this hybrid connection (http://${demand.entity})`,
    );
  }
  if (!signer.rights.includes(demand.right) && !signer.rights.includes('Manage')) {
    return refuse(403, `rule '${signer.name}' grants ${signer.rights.join(', ') || 'nothing'}, not ${demand.right}`);
  }
  return { ok: true, ruleName: signer.name, expiresAtMs };
}

/** 'http://Contoso.example:443/hyco/' -> 'contoso.example/hyco'; undefined when it is no URI. */
export function normaliseAudience(resource: string): string | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(resource) ? resource : `http://${resource}`;
  try {
    const url = new URL(withScheme);
    if (url.search !== '' || url.hash !== '' || url.username !== '' || url.hostname === '') return undefined;
    return `${url.hostname}${decodeURIComponent(url.pathname)}`.replace(/\/+$/, '').toLowerCase();
  } catch {
    return undefined;
  }
}

function parseToken(token: string): ParsedToken | string {
  if (token.length > LONGEST_TOKEN) return `longer than ${LONGEST_TOKEN} characters`;
  if (!token.startsWith(PREFIX)) return `it does not start with '${PREFIX.trim()}'`;
  const fields = new Map<string, string>();
  for (const pair of token.slice(PREFIX.length).split('&')) {
    const separator = pair.indexOf('=');
    const name = separator < 0 ? pair : pair.slice(0, separator);
    if (!(FIELDS as readonly string[]).includes(name)) return `unexpected field '${name.slice(0, 20)}' (a token has sr, sig, se and skn)`;
    if (fields.has(name)) return `field '${name}' appears twice`;
    fields.set(name, separator < 0 ? '' : pair.slice(separator + 1));
  }
  const missing = FIELDS.filter((name) => !fields.get(name));
  if (missing.length > 0) return `missing ${missing.join(', ')}`;
  const encodedResource = fields.get('sr')!;
  const expiry = fields.get('se')!;
  if (!/^\d{1,12}$/.test(expiry)) return 'se is not a number of seconds since 1970';
  const resource = decodeOrUndefined(encodedResource);
  const audience = resource === undefined ? undefined : normaliseAudience(resource);
  if (audience === undefined) return 'sr is not a URI';
  const signatureText = decodeOrUndefined(fields.get('sig')!);
  if (signatureText === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(signatureText)) return 'sig is not URL-encoded base64';
  const keyName = decodeOrUndefined(fields.get('skn')!);
  if (keyName === undefined) return 'skn is not URL-encoded';
  return { encodedResource, audience, signature: Buffer.from(signatureText, 'base64'), expiry, keyName };
}

function signatureMatches(given: Buffer, key: string, signed: string): boolean {
  const expected = createHmac('sha256', Buffer.from(key, 'utf8')).update(signed, 'utf8').digest();
  // The length is no secret (always 32 for SHA-256); timingSafeEqual needs equal lengths.
  return given.length === SHA256_BYTES && timingSafeEqual(given, expected);
}

function decodeOrUndefined(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function refuse(status: 401 | 403, reason: string): TokenVerdict {
  return { ok: false, status, reason };
}
