/**
 * sb-hc-action=accept: a listener answers an `accept` message at its address. Without a status it
 * accepts: both handshakes complete and the two sockets become a relayed pair. With
 * sb-hc-statusCode and sb-hc-statusDescription it rejects: the sender gets that status, the listener
 * 410 (the documented end of a successful reject). A used, expired or unknown address is 403.
 */
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import { refuseHandshake, TEXT } from './handshake';
import type { RelayCore } from './relay-core';
import { RelayedPair } from './relayed-pair';
import { RENDEZVOUS_KEY, type PendingRendezvous } from './rendezvous';
import type { RelayTarget } from './relay-target';

export function handleAccept(core: RelayCore, request: IncomingMessage, socket: Duplex, head: Buffer, target: RelayTarget): void {
  const pending = core.rendezvous.find(target.query.get(RENDEZVOUS_KEY));
  if (!pending || !addressMatches(pending, target)) return refuseHandshake(socket, 403, TEXT.badAddress);
  if (target.query.has('sb-hc-statusCode')) return reject(pending, socket, target.query);

  pending.end();
  const sender = pending.details.sender;
  // The sender's socket closing ends the rendezvous; this catches one that went in this same instant.
  if (sender.socket.destroyed || !sender.socket.writable) return refuseHandshake(socket, 403, TEXT.badAddress);
  const protocol = commonProtocol(offeredProtocols(request), offeredProtocols(sender.request));
  core.upgrader.chooseProtocol(request, protocol);
  core.upgrader.chooseProtocol(sender.request, protocol);
  core.upgrader.server.handleUpgrade(request, socket, head, (listenerSide) => {
    core.upgrader.server.handleUpgrade(sender.request, sender.socket, sender.head, (senderSide) => {
      new RelayedPair(pending.details.entity, listenerSide, senderSide);
      core.tallies.pairsMade += 1;
    });
  });
}

function reject(pending: PendingRendezvous, socket: Duplex, query: URLSearchParams): void {
  const code = query.get('sb-hc-statusCode') ?? '';
  const description = query.get('sb-hc-statusDescription');
  if (!/^[45]\d\d$/.test(code)) {
    return refuseHandshake(
      socket,
      400,
      `Invalid request: sb-hc-statusCode '${code.slice(0, 10)}' is not an HTTP error status (400 to 599)`,
    );
  }
  if (!description) return refuseHandshake(socket, 400, 'Invalid request: a reject needs sb-hc-statusDescription with sb-hc-statusCode');
  pending.refuse(Number(code), description);
  refuseHandshake(socket, 410, TEXT.rejected);
}

function addressMatches(pending: PendingRendezvous, target: RelayTarget): boolean {
  return target.name.toLowerCase() === pending.details.entity.name.toLowerCase() && target.query.get('sb-hc-id') === pending.details.id;
}

function offeredProtocols(request: IncomingMessage): string[] {
  return (request.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== '');
}

/** The listener's first protocol that the sender also offered; both legs then speak it. */
function commonProtocol(listenerOffers: string[], senderOffers: string[]): string | undefined {
  return listenerOffers.find((protocol) => senderOffers.includes(protocol));
}
