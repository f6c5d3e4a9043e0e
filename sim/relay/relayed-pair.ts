/**
 * A sender's and a listener's rendezvous WebSockets joined: every message goes across unchanged
 * (text stays text, binary stays binary; fragments arrive as the whole message), with backpressure.
 * Closing one side closes the other with the codes the service documents: the sender sees 1000 when
 * the listener shuts the socket down (whatever code the listener used), the listener 1001 when the
 * sender goes. Token expiry does not touch a pair: only the peers, a delete/disable (1001) or a
 * fault end it.
 */
import WebSocket from 'ws';
import { closeReason } from './close-reason';
import type { HybridConnection, LiveSocket } from './relay-namespace';

// Pause reading a side while this much of its traffic still waits to be written to the other.
const PAUSE_ABOVE_BYTES = 2 * 1024 * 1024;
// Resume it once the other side has taken most of that.
const RESUME_BELOW_BYTES = 512 * 1024;

export class RelayedPair implements LiveSocket {
  private live = true;
  private dropped = false;

  constructor(
    private readonly entity: HybridConnection,
    private readonly listener: WebSocket,
    private readonly sender: WebSocket,
  ) {
    entity.pairs.add(this);
    this.forward(listener, sender);
    this.forward(sender, listener);
    for (const side of [listener, sender]) side.on('error', () => undefined);
    listener.on('close', () => this.sideClosed(sender, 1000, 'The listener shut down the socket'));
    sender.on('close', () => this.sideClosed(listener, 1001, 'The sender client shut down the connection'));
  }

  close(code: number, reason: string): void {
    if (!this.live) return;
    this.forget();
    closeIfOpen(this.listener, code, reason);
    closeIfOpen(this.sender, code, reason);
  }

  dropSilently(): void {
    this.forget();
    this.dropped = true;
    this.listener.pause();
    this.sender.pause();
  }

  private sideClosed(other: WebSocket, code: number, reason: string): void {
    if (!this.live) return;
    this.forget();
    closeIfOpen(other, code, reason);
  }

  private forward(from: WebSocket, to: WebSocket): void {
    let queuedBytes = 0;
    from.on('message', (data, isBinary) => {
      if (this.dropped || to.readyState !== WebSocket.OPEN) return;
      const message = data as Buffer;
      queuedBytes += message.length;
      to.send(message, { binary: isBinary }, () => {
        queuedBytes -= message.length;
        if (from.isPaused && queuedBytes < RESUME_BELOW_BYTES && !this.dropped) from.resume();
      });
      if (queuedBytes > PAUSE_ABOVE_BYTES) from.pause();
    });
  }

  private forget(): void {
    this.live = false;
    this.entity.pairs.delete(this);
  }
}

function closeIfOpen(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, closeReason(reason));
}
