/**
 * The listener's connection state as plain values, for the extension's substatus and
 * Get-RemoteSupportAccess: disconnected, connecting, connected, or refused with the relay's code.
 * Messages are redacted before they get here; nothing in a state is secret.
 */
import type { RelayFailureKind } from './relay-error';

/** Why the listener stopped trying with its current token or endpoint. */
export type RefusalReason =
  /** 401 from the relay: the token is invalid for it (bad signature, unknown rule, expired). */
  | 'unauthorized'
  /** 403 from the relay: the token lacks Listen or is for another hybrid connection. */
  | 'forbidden'
  /** 404: the hybrid connection does not exist (deleted or never created). */
  | 'no-endpoint'
  /** 403 EntityDisabled: the hybrid connection is disabled. */
  | 'disabled'
  /** 403 QuotaExceeded: the hybrid connection already has its maximum of listeners. */
  | 'quota-exceeded'
  /** The token's expiry has passed (checked locally; such a token is never sent). */
  | 'token-expired'
  /** The relay closed the control channel with 1008: the token expired or a renewal was refused. */
  | 'token-rejected'
  /** The token provider gave nothing usable (no token, an unreadable one, or an error). */
  | 'token-missing';

export type ListenerErrorKind = RelayFailureKind | 'token-expired' | 'token-rejected' | 'token-missing' | 'ping-timeout' | 'closed';

export interface ListenerError {
  kind: ListenerErrorKind;
  /** Redacted, meant for the machine's owner. */
  message: string;
  /** The HTTP status of a refused handshake. */
  httpStatus?: number;
  /** The WebSocket close code when the relay closed the control channel. */
  closeCode?: number;
  /** ISO 8601. */
  at: string;
}

export type ListenerState =
  | { status: 'disconnected'; lastError: ListenerError | null; nextAttemptAt: string | null }
  | { status: 'connecting'; attempt: number; lastError: ListenerError | null }
  | { status: 'connected'; since: string; lastError: ListenerError | null }
  | {
      status: 'refused';
      reason: RefusalReason;
      /** The relay's HTTP status (401, 403, 404) or null when the refusal is local or a close code. */
      httpStatus: number | null;
      lastError: ListenerError;
      /** When the next listen attempt is due; null while waiting for a new token. */
      nextAttemptAt: string | null;
    };

/** One line for a status message, e.g. "refused (401 unauthorized): …". */
export function describeListenerState(state: ListenerState): string {
  switch (state.status) {
    case 'connected':
      return `connected since ${state.since}`;
    case 'connecting':
      return `connecting (attempt ${state.attempt})${state.lastError ? `; last error: ${state.lastError.message}` : ''}`;
    case 'disconnected':
      return `disconnected${state.lastError ? `: ${state.lastError.message}` : ''}${state.nextAttemptAt ? `; next attempt at ${state.nextAttemptAt}` : ''}`;
    case 'refused':
      return (
        `refused (${state.httpStatus === null ? '' : `${state.httpStatus} `}${state.reason}): ${state.lastError.message}` +
        (state.nextAttemptAt ? `; next attempt at ${state.nextAttemptAt}` : '; waiting for a new token')
      );
  }
}
