/**
 * sb-hc-action=connect: a Send (or Manage) token unless the hybrid connection lets anyone send, the
 * hybrid connection enabled, a listener connected; then one listener, picked at random, is offered the
 * connection and the sender's upgrade waits for it.
 */
import { randomInt, randomUUID } from 'crypto';
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import { authorize, refuseToken } from './authorize';
import { presentedToken, refuseHandshake, TEXT } from './handshake';
import type { RelayCore } from './relay-core';
import { disabledText, type HybridConnection } from './relay-namespace';
import type { RelayTarget } from './relay-target';

const TRACKING_ID = /^[\x21-\x7e]{1,128}$/;

export function handleConnect(
  core: RelayCore,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: RelayTarget,
  entity: HybridConnection,
  hostname: string,
): void {
  if (entity.requiresClientAuthorization) {
    const verdict = authorize(core.namespace, entity, hostname, 'Send', presentedToken(request, target.query));
    if (!verdict.ok) return refuseToken(socket, verdict);
  }
  if (entity.disabled) return refuseHandshake(socket, 403, disabledText(entity.name));
  const listeners = [...entity.listeners];
  if (listeners.length === 0) return refuseHandshake(socket, 404, TEXT.noListener);
  const id = target.query.get('sb-hc-id') ?? randomUUID();
  if (!TRACKING_ID.test(id)) return refuseHandshake(socket, 400, 'Invalid request: sb-hc-id must be 1 to 128 visible ASCII characters');
  const applicationQuery = new URLSearchParams([...target.query].filter(([name]) => !name.toLowerCase().startsWith('sb-hc-')));
  core.rendezvous.open({
    entity,
    listener: listeners[randomInt(listeners.length)]!,
    sender: { request, socket, head },
    id,
    base: `wss://${core.host}/$hc/${target.rawPath}`,
    applicationQuery,
    slowAcceptMs: core.faults.slowAcceptMs,
  });
}
