/**
 * A listener's control channel, once open. As the service documents, the relay never closes it
 * cleanly: 1008 when the token's expiry passes (or a renewToken is refused), 1001 when the hybrid
 * connection is deleted or disabled, 1011 on a (simulated) fault. With an idle timeout, a channel on
 * which nothing arrives (frame, ping or pong) is dropped without a close frame, as a load balancer
 * drops an idle connection. The listener may send only renewToken messages.
 */
import type { Duplex } from 'stream';
import WebSocket from 'ws';
import { closeReason } from './close-reason';
import { Deadline } from './deadline';
import type { HybridConnection, ListenerSocket } from './relay-namespace';
import type { TokenVerdict } from './sas-verifier';

export interface ControlChannelOptions {
  entity: HybridConnection;
  /** The raw socket under the WebSocket: destroyed when idle, paused when silently dropped. */
  socket: Duplex;
  expiresAtMs: number;
  idleTimeoutMs: number;
  verifyRenewal(token: string): TokenVerdict;
}

export const TOKEN_EXPIRED = 'The security token has expired, therefore the authorization policy is violated';

export class ControlChannel implements ListenerSocket {
  private readonly expiry: Deadline;
  private idleTimer: NodeJS.Timeout | undefined;
  private live = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: ControlChannelOptions,
  ) {
    options.entity.listeners.add(this);
    this.expiry = new Deadline(options.expiresAtMs, () => this.close(1008, TOKEN_EXPIRED));
    ws.on('message', (data, isBinary) => {
      this.touch();
      this.onMessage(data as Buffer, isBinary);
    });
    ws.on('ping', () => this.touch());
    ws.on('pong', () => this.touch());
    // An error is always followed by 'close'.
    ws.on('error', () => undefined);
    ws.on('close', () => this.forget());
    this.touch();
  }

  sendAccept(message: unknown): boolean {
    if (!this.live || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  close(code: number, reason: string): void {
    if (!this.live) return;
    this.forget();
    this.ws.close(code, closeReason(reason));
  }

  dropSilently(): void {
    this.forget();
    this.ws.pause();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) return this.close(1008, 'A listener sends only renewToken text messages on the control channel');
    let message: unknown;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      return this.close(1008, 'The control channel message is not JSON');
    }
    const token = (message as { renewToken?: { token?: unknown } } | null)?.renewToken?.token;
    if (typeof token !== 'string')
      return this.close(1008, 'Unsupported control message: a listener sends only {"renewToken":{"token":...}}');
    const verdict = this.options.verifyRenewal(token);
    if (!verdict.ok) return this.close(1008, `renewToken refused: ${verdict.reason}`);
    this.expiry.moveTo(verdict.expiresAtMs);
  }

  private touch(): void {
    if (!this.live || this.options.idleTimeoutMs <= 0) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.forget();
      this.options.socket.destroy();
    }, this.options.idleTimeoutMs);
  }

  private forget(): void {
    this.live = false;
    this.expiry.clear();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.options.entity.listeners.delete(this);
  }
}
