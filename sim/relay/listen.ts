/**
 * sb-hc-action=listen: a Listen (or Manage) token for this hybrid connection, the hybrid connection
 * enabled, fewer listeners than the quota; then the control channel opens. The quota refusal is 403
 * with the text QuotaExceeded, the status Service Bus gives an exceeded quota.
 */
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import { authorize, refuseToken } from './authorize';
import { ControlChannel } from './control-channel';
import { presentedToken, refuseHandshake } from './handshake';
import type { RelayCore } from './relay-core';
import { disabledText, type HybridConnection } from './relay-namespace';
import type { RelayTarget } from './relay-target';

export function handleListen(
  core: RelayCore,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: RelayTarget,
  entity: HybridConnection,
  hostname: string,
): void {
  if (target.hasSuffix)
    return refuseHandshake(socket, 400, 'Invalid request: a listener registers on the hybrid connection itself, remove the path suffix');
  const verdict = authorize(core.namespace, entity, hostname, 'Listen', presentedToken(request, target.query));
  if (!verdict.ok) return refuseToken(socket, verdict);
  if (entity.disabled) return refuseHandshake(socket, 403, disabledText(entity.name));
  if (entity.listeners.size >= core.settings.maxListeners) {
    return refuseHandshake(
      socket,
      403,
      `QuotaExceeded: the hybrid connection '${entity.name}' already has ${core.settings.maxListeners} listeners, the most it allows`,
    );
  }
  core.upgrader.server.handleUpgrade(request, socket, head, (ws) => {
    new ControlChannel(ws, {
      entity,
      socket,
      expiresAtMs: verdict.expiresAtMs,
      idleTimeoutMs: core.settings.idleTimeoutMs,
      verifyRenewal: (token) => authorize(core.namespace, entity, hostname, 'Listen', token),
    });
  });
}
