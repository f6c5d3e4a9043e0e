/**
 * The engineer's ticket: a JWT signed with the grant's Ed25519 key (JWS alg EdDSA), whose public
 * half reached the node in the extension's protected settings. It names the grant, the machine
 * (and optionally the node), the engineer, a single-use id (`jti`) and an expiry no later than the
 * grant's. It carries no level: the node's grant decides the level, so a `level` claim (or any
 * other claim this module does not know) is ignored and listed in `ignoredClaims` for the record.
 *
 * The token itself is a bearer secret: no message, error or result of this module contains it.
 */
import type { KeyObject } from 'crypto';
import { SignJWT, compactVerify, decodeProtectedHeader } from 'jose';
import type { JtiStore } from './jti-store';
import { checkEd25519, importTicketPublicKey } from './ticket-key';

export { importTicketPublicKey };

/** The only signature algorithm accepted. `none`, HMAC and RSA tickets are refused. */
export const TICKET_ALGORITHM = 'EdDSA';
/** A ticket is a few hundred characters; anything much longer is not one of ours. */
export const MAX_TICKET_CHARS = 4096;
/** Longest grant id, machine, node, engineer or ticket id accepted in a ticket. */
export const MAX_CLAIM_CHARS = 256;

export interface TicketInput {
  grantId: string;
  /** The Arc machine's name. */
  machine: string;
  /** The Windows computer name, when the ticket is for one node only. */
  node?: string;
  /** The engineer's sign-in name or support alias, for the record. */
  engineer: string;
  /** The single-use id (`jti`). */
  ticketId: string;
  expiresAt: Date;
}

export interface TicketClaims {
  grantId: string;
  machine: string;
  node?: string;
  engineer: string;
  ticketId: string;
  /** Whole seconds (JWT NumericDate). */
  expiresAt: Date;
}

export type TicketRefusal =
  | 'malformed'
  | 'wrong-algorithm'
  | 'bad-signature'
  | 'other-grant'
  | 'other-machine'
  | 'other-node'
  | 'not-yet-valid'
  | 'expired'
  | 'outlives-grant'
  | 'reused'
  | 'replay-store-unavailable';

export type TicketVerdict =
  { ok: true; claims: TicketClaims; ignoredClaims: string[] } | { ok: false; reason: TicketRefusal; message: string };

export interface VerifyTicketOptions {
  /** The grant's Ed25519 public key (see importTicketPublicKey). */
  publicKey: KeyObject;
  grantId: string;
  machine: string;
  /** This node's name; a ticket that names another node is refused. */
  node: string;
  now: Date;
  grantExpiresAt: Date;
  seen: JtiStore;
}

const KNOWN_CLAIMS = new Set(['grantId', 'machine', 'node', 'engineer', 'jti', 'exp', 'iat', 'nbf']);
/** Printable text only: these values go into the audit record. */
const CLAIM_TEXT = /^[^\p{Cc}]+$/u;

/** A claim value for an error message: JSON, cut short. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function checkText(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CLAIM_CHARS || !CLAIM_TEXT.test(value)) {
    throw new TypeError(`Ticket ${field}: received ${shown(value)}. Give printable text of 1 to ${MAX_CLAIM_CHARS} characters.`);
  }
  return value;
}

/** Signs a ticket (the control plane and tests). The expiry is rounded down to a whole second. */
export async function issueTicket(privateKey: KeyObject, input: TicketInput): Promise<string> {
  checkEd25519(privateKey, 'private');
  const payload: Record<string, string> = {
    grantId: checkText('grantId', input.grantId),
    machine: checkText('machine', input.machine),
    engineer: checkText('engineer', input.engineer),
  };
  if (input.node !== undefined) payload.node = checkText('node', input.node);
  const jti = checkText('ticketId', input.ticketId);
  if (!(input.expiresAt instanceof Date) || Number.isNaN(input.expiresAt.getTime())) {
    throw new TypeError(`Ticket expiresAt: received ${String(input.expiresAt)}. Give a valid Date no later than the grant's expiry.`);
  }
  return new SignJWT(payload)
    .setProtectedHeader({ alg: TICKET_ALGORITHM, typ: 'JWT' })
    .setJti(jti)
    .setIssuedAt()
    .setExpirationTime(Math.floor(input.expiresAt.getTime() / 1000))
    .sign(privateKey);
}

const refuse = (reason: TicketRefusal, message: string): TicketVerdict => ({ ok: false, reason, message });

const sameName = (a: string, b: string) => a.localeCompare(b, 'en', { sensitivity: 'accent' }) === 0;

/**
 * Checks a ticket in this order: shape, algorithm, signature, grant, machine, node, validity
 * window, then single use. The id is recorded only for a ticket that passed everything else, so a
 * forged or misdirected ticket cannot burn a real one's id.
 */
export async function verifyTicket(token: unknown, options: VerifyTicketOptions): Promise<TicketVerdict> {
  checkEd25519(options.publicKey, 'public');
  if (typeof token !== 'string' || token.length > MAX_TICKET_CHARS || !/^[\w-]+\.[\w-]*\.[\w-]*$/.test(token)) {
    return refuse('malformed', `The ticket is not a compact JWS of at most ${MAX_TICKET_CHARS} characters.`);
  }
  let algorithm: unknown;
  try {
    algorithm = decodeProtectedHeader(token).alg;
  } catch {
    return refuse('malformed', 'The ticket header is not base64url JSON.');
  }
  if (algorithm !== TICKET_ALGORITHM) {
    return refuse(
      'wrong-algorithm',
      `The ticket is signed with ${JSON.stringify(algorithm ?? null)}; only ${TICKET_ALGORITHM} is accepted.`,
    );
  }

  let payloadBytes: Uint8Array;
  try {
    payloadBytes = (await compactVerify(token, options.publicKey, { algorithms: [TICKET_ALGORITHM] })).payload;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
      return refuse('bad-signature', "The ticket's signature does not verify with this grant's public key.");
    }
    return refuse('malformed', `The ticket is not a valid JWS (${code ?? 'unreadable'}).`);
  }

  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payloadBytes)) as Record<string, unknown>;
  } catch {
    return refuse('malformed', 'The ticket payload is not JSON.');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return refuse('malformed', 'The ticket payload is not a JSON object.');
  }

  let claims: TicketClaims;
  try {
    claims = {
      grantId: checkText('grantId', payload.grantId),
      machine: checkText('machine', payload.machine),
      engineer: checkText('engineer', payload.engineer),
      ticketId: checkText('jti', payload.jti),
      expiresAt: new Date(checkSeconds('exp', payload.exp) * 1000),
    };
    if (payload.node !== undefined) claims.node = checkText('node', payload.node);
    if (payload.nbf !== undefined) checkSeconds('nbf', payload.nbf);
  } catch (error) {
    return refuse('malformed', (error as Error).message);
  }

  if (claims.grantId !== options.grantId) {
    return refuse('other-grant', `The ticket is for grant '${claims.grantId}'; this node's grant is '${options.grantId}'.`);
  }
  if (!sameName(claims.machine, options.machine)) {
    return refuse('other-machine', `The ticket is for machine '${claims.machine}'; this is '${options.machine}'.`);
  }
  if (claims.node !== undefined && !sameName(claims.node, options.node)) {
    return refuse('other-node', `The ticket is for node '${claims.node}'; this is '${options.node}'.`);
  }
  const now = options.now.getTime();
  if (typeof payload.nbf === 'number' && payload.nbf * 1000 > now) {
    return refuse('not-yet-valid', `The ticket is valid from ${new Date(payload.nbf * 1000).toISOString()}.`);
  }
  if (claims.expiresAt.getTime() <= now) {
    return refuse('expired', `The ticket expired at ${claims.expiresAt.toISOString()}.`);
  }
  if (claims.expiresAt.getTime() > options.grantExpiresAt.getTime()) {
    return refuse(
      'outlives-grant',
      `The ticket expires at ${claims.expiresAt.toISOString()}, after the grant (${options.grantExpiresAt.toISOString()}).`,
    );
  }

  let use;
  try {
    use = await options.seen.use(claims.ticketId, claims.expiresAt, options.now);
  } catch (error) {
    return refuse('replay-store-unavailable', `The node could not record the ticket id: ${(error as Error).message}`);
  }
  if (use === 'reused') return refuse('reused', `Ticket '${claims.ticketId}' was used before; a ticket opens one session.`);
  if (use === 'full') return refuse('replay-store-unavailable', 'The node holds too many unexpired ticket ids to record another.');

  return { ok: true, claims, ignoredClaims: Object.keys(payload).filter((name) => !KNOWN_CLAIMS.has(name)) };
}

function checkSeconds(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 253402300799) {
    throw new TypeError(`Ticket ${field}: received ${shown(value)}. Give a NumericDate (seconds since 1970).`);
  }
  return value;
}
