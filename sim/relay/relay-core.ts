/** What the handshake handlers share: the namespace, the waiting senders, the switches and tallies. */
import type { IncomingMessage } from 'http';
import { WebSocketServer } from 'ws';
import type { RelayNamespace } from './relay-namespace';
import type { RendezvousBook } from './rendezvous';

export interface RelaySettings {
  rendezvousTimeoutMs: number;
  idleTimeoutMs: number;
  maxListeners: number;
}

export interface FaultState {
  refusals: { remaining: number; status: 500 | 401 | 403 };
  slowAcceptMs: number;
}

export interface Tallies {
  listenAttempts: number;
  listenAttemptTimes: number[];
  pairsMade: number;
}

export interface RelayCore {
  /** '127.0.0.1:<port>' */
  host: string;
  settings: RelaySettings;
  namespace: RelayNamespace;
  rendezvous: RendezvousBook;
  upgrader: Upgrader;
  faults: FaultState;
  tallies: Tallies;
}

// The service answers any payload size a rendezvous carries; this is the ceiling ws and hyco-ws use.
const LARGEST_MESSAGE_BYTES = 100 * 1024 * 1024;

/**
 * Completes WebSocket handshakes (no compression: each leg is the relay's own WebSocket), with the
 * subprotocol the relay chose for a rendezvous, the same on both legs.
 */
export class Upgrader {
  private readonly chosenProtocols = new WeakMap<IncomingMessage, string>();
  readonly server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: LARGEST_MESSAGE_BYTES,
    clientTracking: false,
    handleProtocols: (_offered, request) => this.chosenProtocols.get(request) ?? false,
  });

  chooseProtocol(request: IncomingMessage, protocol: string | undefined): void {
    if (protocol !== undefined) this.chosenProtocols.set(request, protocol);
  }
}
