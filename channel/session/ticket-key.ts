/**
 * The grant's ticket key, checked with Node's crypto alone: the handler validates the key that came
 * in protected settings without loading the JWT library the agent verifies tickets with.
 */
import { createPublicKey, type KeyObject } from 'crypto';

export function checkEd25519(key: KeyObject, kind: 'public' | 'private'): void {
  if (key.type !== kind || key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(
      `Ticket ${kind} key: received a ${key.asymmetricKeyType ?? key.type} ${key.type} key. Give an Ed25519 ${kind} key.`,
    );
  }
}

/**
 * The grant's ticket public key from its text in protected settings: SPKI PEM or an OKP JWK
 * (`{"kty":"OKP","crv":"Ed25519","x":…}`). Anything else throws, naming what was received.
 */
export function importTicketPublicKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    const trimmed = text.trim();
    key = trimmed.startsWith('{') ? createPublicKey({ key: JSON.parse(trimmed), format: 'jwk' }) : createPublicKey(trimmed);
  } catch (error) {
    throw new TypeError(
      `Ticket public key: it is neither an SPKI PEM nor a JWK (${(error as Error).message}). Give the Ed25519 public key the grant was created with.`,
    );
  }
  checkEd25519(key, 'public');
  return key;
}
