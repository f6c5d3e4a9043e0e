/**
 * Engineer tickets: only an EdDSA ticket signed with the grant's key, for this grant and machine,
 * unexpired, within the grant and never seen before opens a session; each refusal says why, and
 * the token never appears in what is said. A level claim is ignored, never trusted.
 */
import { generateKeyPairSync } from 'crypto';
import { SignJWT } from 'jose';
import { MemoryJtiStore, type JtiStore } from '../../../channel/session/jti-store';
import { importTicketPublicKey, issueTicket, verifyTicket, type VerifyTicketOptions } from '../../../channel/session/ticket';
import { GRANT, HOUR, b64, ed25519, signedPayload, ticket, ticketInput } from './ticket-fixtures';

const keys = ed25519();

function options(overrides: Partial<VerifyTicketOptions> = {}): VerifyTicketOptions {
  return {
    publicKey: keys.publicKey,
    ...GRANT,
    now: new Date(),
    grantExpiresAt: new Date(Date.now() + 2 * HOUR),
    seen: new MemoryJtiStore(),
    ...overrides,
  };
}

async function refusal(token: unknown, overrides: Partial<VerifyTicketOptions> = {}) {
  const verdict = await verifyTicket(token, options(overrides));
  if (verdict.ok) throw new Error('the ticket was accepted');
  if (typeof token === 'string') expect(verdict.message).not.toContain(token);
  return verdict;
}

describe('a good ticket', () => {
  it('is accepted with its claims, and no level among them', async () => {
    const input = ticketInput();
    const verdict = await verifyTicket(await issueTicket(keys.privateKey, input), options());
    expect(verdict).toEqual({
      ok: true,
      claims: {
        grantId: GRANT.grantId,
        machine: GRANT.machine,
        engineer: 'alex@support.example',
        ticketId: input.ticketId,
        expiresAt: new Date(Math.floor(input.expiresAt.getTime() / 1000) * 1000),
      },
      ignoredClaims: [],
    });
  });

  it('matches machine and node names without regard to letter case, and a node-bound ticket only on its node', async () => {
    expect((await verifyTicket(await ticket(keys.privateKey, { machine: 'arc-node-1', node: 'Arc-Node-1' }), options())).ok).toBe(true);
    expect(await refusal(await ticket(keys.privateKey, { node: 'ARC-NODE-2' }))).toMatchObject({ reason: 'other-node' });
  });

  it('claiming a level is not trusted for it: the claim is ignored and named', async () => {
    const token = await signedPayload(keys.privateKey, {
      grantId: GRANT.grantId,
      machine: GRANT.machine,
      engineer: 'alex@support.example',
      jti: 'with-level',
      exp: Math.floor(Date.now() / 1000) + 600,
      level: 'DiagnosticsAndRepair',
    });
    const verdict = await verifyTicket(token, options());
    expect(verdict.ok && verdict.ignoredClaims).toEqual(['level']);
    expect(verdict.ok && Object.keys(verdict.claims)).not.toContain('level');
  });
});

describe('refused tickets', () => {
  it('signed with another key, or with a payload swapped in: bad signature', async () => {
    expect(await refusal(await ticket(ed25519().privateKey))).toMatchObject({ reason: 'bad-signature' });
    const [header, , signature] = (await ticket(keys.privateKey)).split('.');
    const otherPayload = (await ticket(keys.privateKey, { grantId: 'grant-other' })).split('.')[1];
    const spliced = `${header}.${otherPayload}.${signature}`;
    expect(await refusal(spliced)).toMatchObject({ reason: 'bad-signature' });
  });

  it('alg none, HS256 and RS256 are refused as the wrong algorithm', async () => {
    const payload = { ...GRANT, engineer: 'x', jti: 'n1', exp: Math.floor(Date.now() / 1000) + 600 };
    expect(await refusal(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`)).toMatchObject({ reason: 'wrong-algorithm' });
    const hs256 = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32));
    expect(await refusal(hs256)).toMatchObject({ reason: 'wrong-algorithm' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs256 = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
    expect(await refusal(rs256)).toMatchObject({ reason: 'wrong-algorithm' });
  });

  it('for another grant or machine', async () => {
    const other = await refusal(await ticket(keys.privateKey, { grantId: 'grant-other' }));
    expect(other).toMatchObject({ reason: 'other-grant' });
    expect(other.message).toContain("'grant-other'");
    expect(await refusal(await ticket(keys.privateKey, { machine: 'ARC-NODE-9' }))).toMatchObject({ reason: 'other-machine' });
  });

  it('expired, or expiring after the grant', async () => {
    const token = await ticket(keys.privateKey, { expiresAt: new Date(Date.now() + 60_000) });
    expect(await refusal(token, { now: new Date(Date.now() + 61_000) })).toMatchObject({ reason: 'expired' });
    const long = await ticket(keys.privateKey, { expiresAt: new Date(Date.now() + 3 * HOUR) });
    expect(await refusal(long)).toMatchObject({ reason: 'outlives-grant' });
  });

  it('used a second time; a forged copy with the same id, refused first, does not burn the real one', async () => {
    const seen = new MemoryJtiStore();
    const input = ticketInput();
    const forged = await issueTicket(ed25519().privateKey, input);
    expect(await refusal(forged, { seen })).toMatchObject({ reason: 'bad-signature' });
    const token = await issueTicket(keys.privateKey, input);
    expect((await verifyTicket(token, options({ seen }))).ok).toBe(true);
    expect(await refusal(token, { seen })).toMatchObject({ reason: 'reused' });
  });

  it('malformed: not a string, not a JWS, too long, missing or bad claims, control characters', async () => {
    expect(await refusal(undefined)).toMatchObject({ reason: 'malformed' });
    expect(await refusal('not-a-ticket')).toMatchObject({ reason: 'malformed' });
    expect(await refusal(`${'a'.repeat(5000)}.b.c`)).toMatchObject({ reason: 'malformed' });
    expect(await refusal('%%%.b.c')).toMatchObject({ reason: 'malformed' });
    const noEngineer = await signedPayload(keys.privateKey, { ...GRANT, jti: 'm1', exp: Math.floor(Date.now() / 1000) + 60 });
    expect(await refusal(noEngineer)).toMatchObject({ reason: 'malformed', message: expect.stringContaining('engineer') });
    const textExpiry = await signedPayload(keys.privateKey, { ...GRANT, engineer: 'e', jti: 'm2', exp: 'tomorrow' });
    expect(await refusal(textExpiry)).toMatchObject({ reason: 'malformed', message: expect.stringContaining('exp') });
    const controlChars = await signedPayload(keys.privateKey, { ...GRANT, engineer: 'e\u001b[31m', jti: 'm3', exp: 4102444800 });
    expect(await refusal(controlChars)).toMatchObject({ reason: 'malformed' });
  });

  it('not valid yet (nbf in the future)', async () => {
    const token = await signedPayload(keys.privateKey, {
      ...GRANT,
      engineer: 'e',
      jti: 'nbf-1',
      exp: Math.floor(Date.now() / 1000) + 600,
      nbf: Math.floor(Date.now() / 1000) + 300,
    });
    expect(await refusal(token)).toMatchObject({ reason: 'not-yet-valid' });
  });

  it('when the replay store is full or cannot write, the ticket is refused (fail closed)', async () => {
    const full = new MemoryJtiStore({ maxEntries: 1 });
    expect((await verifyTicket(await ticket(keys.privateKey), options({ seen: full }))).ok).toBe(true);
    expect(await refusal(await ticket(keys.privateKey), { seen: full })).toMatchObject({ reason: 'replay-store-unavailable' });
    const broken: JtiStore = { use: () => Promise.reject(new Error('disk full')) };
    expect(await refusal(await ticket(keys.privateKey), { seen: broken })).toMatchObject({
      reason: 'replay-store-unavailable',
      message: expect.stringContaining('disk full'),
    });
  });
});

describe('keys and issuing', () => {
  it('imports the public key from SPKI PEM or JWK, and refuses a key that is not Ed25519', async () => {
    const pem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const jwk = JSON.stringify(keys.publicKey.export({ format: 'jwk' }));
    for (const text of [pem, jwk]) {
      expect((await verifyTicket(await ticket(keys.privateKey), options({ publicKey: importTicketPublicKey(text) }))).ok).toBe(true);
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => importTicketPublicKey(rsa)).toThrow(/received a rsa public key\. Give an Ed25519 public key/);
    expect(() => importTicketPublicKey('not a key')).toThrow(/neither an SPKI PEM nor a JWK/);
  });

  it('refuses to issue with a bad field, naming it', async () => {
    await expect(issueTicket(keys.privateKey, ticketInput({ engineer: '' }))).rejects.toThrow(/Ticket engineer: received ""/);
    await expect(issueTicket(keys.privateKey, ticketInput({ expiresAt: new Date('nope') }))).rejects.toThrow(/Ticket expiresAt/);
    await expect(issueTicket(keys.publicKey, ticketInput())).rejects.toThrow(/Give an Ed25519 private key/);
  });
});
