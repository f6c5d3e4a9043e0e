/**
 * A rendezvous WebSocket (ws 8) as the session's socket. Closing starts the close handshake and,
 * should the peer or the relay not answer it, ends the TCP connection after a grace period, so an
 * ended session never lingers.
 */
import type WebSocket from 'ws';
import type { SessionSocket } from './session-host';

/** How long a close handshake may take before the connection is cut. */
export const CLOSE_GRACE_MS = 1000;

function bytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

export function sessionSocketFromWebSocket(socket: WebSocket, closeGraceMs: number = CLOSE_GRACE_MS): SessionSocket {
  // Errors are followed by 'close', which ends the session; unhandled they would crash the agent.
  socket.on('error', () => undefined);
  return {
    send: (text) => socket.send(text),
    close: (code, reason) => {
      if (socket.readyState === socket.CLOSED) return;
      const cut = setTimeout(() => socket.terminate(), closeGraceMs);
      socket.once('close', () => clearTimeout(cut));
      socket.close(code, reason);
    },
    onMessage: (listener) => socket.on('message', (data, isBinary) => listener(bytes(data), isBinary)),
    onClose: (listener) => socket.once('close', () => listener()),
  };
}
