/**
 * Why a WebSocket to the relay did not open, as a value a caller can act on. The relay answers a
 * refused handshake with a plain HTTP status whose text tells the cases apart: 404 "Endpoint does
 * not exist" (no such hybrid connection) against 404 "There are no listeners connected" (it exists,
 * nobody listens) and the rendezvous that no listener accepted in time ("ConnectionNotEstablished").
 * Messages pass through redactSecrets, so no token or credential is ever quoted.
 */
import { redactSecrets } from './redact';

export type RelayFailureKind =
  /** 401: token missing, malformed, badly signed, unknown rule or expired. */
  | 'unauthorized'
  /** 403: valid token without the right (Listen/Send) or for another entity; or a used rendezvous address. */
  | 'forbidden'
  /** 404 "Endpoint does not exist": no such hybrid connection. */
  | 'no-endpoint'
  /** 403 "EntityDisabled": the hybrid connection exists but is disabled; the token is not at fault. */
  | 'disabled'
  /** 403 "QuotaExceeded": the hybrid connection already has its 25 listeners; the token is not at fault. */
  | 'quota-exceeded'
  /** 404 "There are no listeners connected": the hybrid connection exists, nobody listens. */
  | 'no-listener'
  /** No listener accepted the rendezvous in time. */
  | 'not-established'
  /** 410: the expected answer to a rendezvous reject. */
  | 'gone'
  /** Another 4xx: a listener's reject status reaches the sender this way, or a malformed request. */
  | 'refused'
  /** 5xx from the relay. */
  | 'server-error'
  /** The certificate was not trusted, did not match, or TLS could not be negotiated (TLS 1.2 or later only). */
  | 'tls'
  /** The HTTP proxy refused or failed the CONNECT tunnel. */
  | 'proxy'
  /** DNS, refused or reset connections. */
  | 'network'
  /** No answer within the handshake timeout. */
  | 'timeout';

export class RelayConnectError extends Error {
  constructor(
    readonly kind: RelayFailureKind,
    message: string,
    /** The HTTP status of a refused handshake. */
    readonly status?: number,
    /** Node's error code for transport failures (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE, ECONNREFUSED). */
    readonly code?: string,
  ) {
    super(redactSecrets(message));
    this.name = 'RelayConnectError';
  }
}

/** Maps a refused handshake's status and text (reason phrase and body) to its kind. */
export function kindOfStatus(status: number, text: string): RelayFailureKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) {
    // Service Bus answers these two with 403 too; neither says anything about the token.
    if (/QuotaExceeded/i.test(text)) return 'quota-exceeded';
    if (/EntityDisabled|is disabled/i.test(text)) return 'disabled';
    return 'forbidden';
  }
  if (status === 410) return 'gone';
  if (status === 404) {
    if (/no listeners? (are )?connected|NoListenerConnected/i.test(text)) return 'no-listener';
    if (/ConnectionNotEstablished|not (been )?accepted|did not accept/i.test(text)) return 'not-established';
    // "Endpoint does not exist", and any other 404 (the .NET client also reads 404 as endpoint not found).
    return 'no-endpoint';
  }
  if (status === 408 || status === 504) return 'not-established';
  if (status >= 500) return 'server-error';
  return 'refused';
}

const TLS_CODES =
  /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)/;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
]);

/** Maps a transport error (from `ws`, `tls`, `net` or the proxy tunnel) to a RelayConnectError. */
export function transportFailure(error: unknown, target: string): RelayConnectError {
  if (error instanceof RelayConnectError) return error;
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if ((code && TLS_CODES.test(code)) || /certificate|ssl|tls/i.test(message)) {
    // OpenSSL's messages carry a location; keep the reason ("tlsv1 alert protocol version").
    const reason = /SSL routines:(?:[^:]*:)?([^:]+)/.exec(message)?.[1] ?? message;
    const certificate = (code && /CERT|UNABLE_TO|ALTNAME|HOSTNAME/.test(code)) || /certificate/i.test(message);
    const hint = certificate
      ? "the relay's certificate is not trusted or does not match. Check the clock, a proxy's TLS inspection and the trusted CAs."
      : 'TLS 1.2 or later could not be negotiated. The relay (or a proxy inspecting TLS) must offer TLS 1.2+.';
    return new RelayConnectError('tls', `TLS to ${target} failed (${code ? `${code}: ` : ''}${reason}): ${hint}`, undefined, code);
  }
  if (code && NETWORK_CODES.has(code)) {
    return new RelayConnectError(
      'network',
      `Cannot reach ${target} (${code}). Check DNS, the firewall (outbound 443) and the proxy.`,
      undefined,
      code,
    );
  }
  if (/timed out/i.test(message)) {
    return new RelayConnectError('timeout', `${target} did not answer in time (${message}).`, undefined, code);
  }
  return new RelayConnectError('network', `Connection to ${target} failed: ${message}`, undefined, code);
}
