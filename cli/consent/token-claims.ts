/**
 * Who is running the CLI, read from the access token Azure issued. The payload of a JWT is not
 * verified here: Azure verifies the token; the claims only label the consent record.
 */
export interface TokenIdentity {
  /** The claim that named the caller, e.g. `upn`. */
  claim: string;
  value: string;
}

// A person first (upn, preferred_username, unique_name), then an application or managed identity.
const IDENTITY_CLAIMS = ['upn', 'preferred_username', 'unique_name', 'appid', 'oid', 'sub'] as const;

export function decodeJwtPayload(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function identityFromToken(token: string): TokenIdentity | undefined {
  const payload = decodeJwtPayload(token);
  if (!payload) return undefined;
  for (const claim of IDENTITY_CLAIMS) {
    const value = payload[claim];
    if (typeof value === 'string' && value.trim()) return { claim, value: value.trim() };
  }
  return undefined;
}
