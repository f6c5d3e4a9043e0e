/**
 * Every WebSocket handshake arrives here: it is counted (listen attempts), met by the listen-refusal
 * fault, checked for a served host, a /$hc/ path, a known action and a well-formed upgrade, then
 * handed to listen, connect or accept. Refusals are plain HTTP statuses, as the service answers.
 */
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import { handleAccept } from './accept';
import { handleConnect } from './connect';
import { refuseHandshake, TEXT, webSocketUpgradeProblem } from './handshake';
import { handleListen } from './listen';
import type { RelayCore } from './relay-core';
import { parseRelayTarget, queryOf, servedHostname } from './relay-target';

const ACTIONS = ['listen', 'connect', 'accept'];

const FAULT_TEXT: Record<500 | 401 | 403, string> = {
  500: 'Internal Server Error: something went wrong in the service',
  401: 'Unauthorized: the security token is missing, malformed or invalid',
  403: 'Forbidden: the security token is not valid for this path and action',
};

export function handleRelayUpgrade(core: RelayCore, request: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  const action = queryOf(request.url).get('sb-hc-action');
  if (action === 'listen') {
    core.tallies.listenAttempts += 1;
    core.tallies.listenAttemptTimes.push(Date.now());
    const refusals = core.faults.refusals;
    if (refusals.remaining > 0) {
      refusals.remaining -= 1;
      return refuseHandshake(socket, refusals.status, FAULT_TEXT[refusals.status]);
    }
  }
  const hostname = servedHostname(request);
  const target = parseRelayTarget(request.url);
  if (!hostname || !target) return refuseHandshake(socket, 404, TEXT.noEndpoint);
  if (action === null || !ACTIONS.includes(action)) {
    return refuseHandshake(
      socket,
      400,
      `Invalid request: sb-hc-action is ${action === null ? 'missing' : `'${action.slice(0, 20)}'`}, it must be listen, connect or accept`,
    );
  }
  const problem = webSocketUpgradeProblem(request);
  if (problem) return refuseHandshake(socket, 400, `Invalid request: ${problem}`);
  if (action === 'accept') return handleAccept(core, request, socket, head, target);
  const entity = core.namespace.find(target.name);
  if (!entity) return refuseHandshake(socket, 404, TEXT.noEndpoint);
  if (action === 'listen') return handleListen(core, request, socket, head, target, entity, hostname);
  return handleConnect(core, request, socket, head, target, entity, hostname);
}
