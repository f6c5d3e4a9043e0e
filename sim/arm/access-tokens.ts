/**
 * The tokens the emulator issues: JWT-shaped (header.payload.signature, base64url) with the claims
 * Resource Manager reads, remembered so that only issued, unexpired tokens for ARM are accepted.
 */
import { randomBytes, randomUUID } from 'crypto';

export const ARM_AUDIENCE = 'https://management.azure.com';
export const EMULATED_UPN = 'owner@contoso.example';
const TOKEN_LIFETIME_SECONDS = 3600;

export interface IssuedToken {
  token: string;
  resource: string;
  /** Seconds since the epoch. */
  expiresOn: number;
}

export type TokenCheck = { ok: true } | { ok: false; code: string; message: string };

export class TokenIssuer {
  readonly tenantId = randomUUID();
  readonly objectId = randomUUID();
  private readonly issued = new Map<string, IssuedToken>();
  private readonly byResource = new Map<string, IssuedToken>();
  /** ARM's own audience, and the emulator's URL, which a client pointed at it may ask a token for. */
  private readonly audiences = new Set([ARM_AUDIENCE]);

  allowAudience(uri: string): void {
    this.audiences.add(normaliseResource(uri));
  }

  /** A token for `resource` (reused while it has at least five minutes left, as a token cache would). */
  issue(resource: string): IssuedToken {
    const audience = normaliseResource(resource);
    const now = Math.floor(Date.now() / 1000);
    const cached = this.byResource.get(audience);
    if (cached && cached.expiresOn - now > 300) return cached;
    const claims = {
      aud: audience,
      iss: `https://sts.windows.net/${this.tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + TOKEN_LIFETIME_SECONDS,
      oid: this.objectId,
      tid: this.tenantId,
      upn: EMULATED_UPN,
      ver: '1.0',
    };
    const token = [base64url({ typ: 'JWT', alg: 'RS256' }), base64url(claims), randomBytes(32).toString('base64url')].join('.');
    const issued = { token, resource: audience, expiresOn: claims.exp };
    this.issued.set(token, issued);
    this.byResource.set(audience, issued);
    return issued;
  }

  /** Checks an Authorization header the way ARM does: present, issued here, unexpired, for ARM. */
  check(authorization: string | undefined): TokenCheck {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match?.[1]) {
      return { ok: false, code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is missing." };
    }
    const issued = this.issued.get(match[1]);
    if (!issued) {
      return {
        ok: false,
        code: 'AuthenticationFailed',
        message: 'Authentication failed. The access token was not issued by this emulator.',
      };
    }
    if (issued.expiresOn <= Math.floor(Date.now() / 1000)) {
      return {
        ok: false,
        code: 'ExpiredAuthenticationToken',
        message: 'The access token expiry UTC time is earlier than current UTC time.',
      };
    }
    if (!this.audiences.has(issued.resource)) {
      return {
        ok: false,
        code: 'InvalidAuthenticationTokenAudience',
        message: `The access token has been obtained for wrong audience or resource '${issued.resource}'. It should exactly match with one of the allowed audiences '${[...this.audiences].join("', '")}'.`,
      };
    }
    return { ok: true };
  }
}

/** 'https://management.azure.com/.default' and 'https://management.azure.com/' name the same resource. */
export function normaliseResource(resourceOrScope: string): string {
  return resourceOrScope.replace(/\/\.default$/, '').replace(/\/+$/, '');
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
