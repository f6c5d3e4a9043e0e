/** Keys, tickets and a grant shared by the session tests. */
import { generateKeyPairSync, type KeyObject } from 'crypto';
import { SignJWT } from 'jose';
import { issueTicket, type TicketInput } from '../../../channel/session/ticket';

export const HOUR = 3_600_000;

export function ed25519(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

export const GRANT = { grantId: 'grant-7f3a', machine: 'ARC-NODE-1', node: 'ARC-NODE-1' };

let tickets = 0;

/** A valid ticket's fields for GRANT, expiring in an hour (overridable). */
export function ticketInput(overrides: Partial<TicketInput> = {}): TicketInput {
  tickets += 1;
  return {
    grantId: GRANT.grantId,
    machine: GRANT.machine,
    engineer: 'alex@support.example',
    ticketId: `ticket-${tickets}-${Date.now()}`,
    expiresAt: new Date(Date.now() + HOUR),
    ...overrides,
  };
}

export function ticket(privateKey: KeyObject, overrides: Partial<TicketInput> = {}): Promise<string> {
  return issueTicket(privateKey, ticketInput(overrides));
}

/** A token with any payload, signed EdDSA: for claims issueTicket would never write. */
export function signedPayload(privateKey: KeyObject, payload: Record<string, unknown>): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA' }).sign(privateKey);
}

export const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
