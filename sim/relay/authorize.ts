/** The token check for one hybrid connection on the host the client dialled, and its refusal. */
import type { Duplex } from 'stream';
import { refuseHandshake } from './handshake';
import type { HybridConnection, RelayNamespace } from './relay-namespace';
import { verifyToken, type TokenVerdict } from './sas-verifier';

export function authorize(
  namespace: RelayNamespace,
  entity: HybridConnection,
  hostname: string,
  right: 'Listen' | 'Send',
  token: string | undefined,
): TokenVerdict {
  return verifyToken(token, {
    entity: `${hostname}/${entity.name.toLowerCase()}`,
    right,
    rulesNamed: (keyName) => namespace.rulesNamed(entity, keyName),
    nowMs: Date.now(),
  });
}

export function refuseToken(socket: Duplex, verdict: Extract<TokenVerdict, { ok: false }>): void {
  refuseHandshake(socket, verdict.status, `${verdict.status === 401 ? 'Unauthorized' : 'Forbidden'}: ${verdict.reason}`);
}
