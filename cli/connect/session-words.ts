/**
 * What `connect` tells the engineer when the channel does not open or ends: the case in plain
 * words and what to do, never a stack trace and never a token. Each failure also has a short kind
 * for `--output json`.
 */
import { RelayConnectError } from '../../channel/relay/relay-error';
import { SessionRefusedError, type SessionEnd } from '../../channel/session/engineer-session';

export interface Explained {
  kind: string;
  message: string;
}

export function explainOpenFailure(error: unknown, where: { namespace: string; hybridConnection: string; node: string }): Explained {
  const target = `${where.hybridConnection} in ${where.namespace}`;
  if (error instanceof RelayConnectError) {
    switch (error.kind) {
      case 'no-listener':
      case 'not-established':
        return {
          kind: 'no-listener',
          message: `Node ${where.node} is not listening on ${target} yet: the grant has not been applied there (its extension applies it within minutes of the grant) or the node's agent is not running. Try again in a minute; the machine's owner can check with: arc-remote-support status.`,
        };
      case 'no-endpoint':
        return {
          kind: 'revoked',
          message: `The hybrid connection ${target} no longer exists: the access was revoked or has ended. Ask the machine's owner for a new grant.`,
        };
      case 'unauthorized':
      case 'forbidden':
        return {
          kind: 'unauthorized',
          message: `The relay refused the ticket's Send token for ${target} (expired or no longer valid). Ask the machine's owner for a new ticket: arc-remote-support ticket --machine <machine> --grant <grant id>.`,
        };
      case 'tls':
        return {
          kind: 'relay-unreachable',
          message: `${error.message} A proxy that inspects TLS needs its CA in NODE_EXTRA_CA_CERTS.`,
        };
      case 'network':
      case 'proxy':
      case 'timeout':
      case 'server-error':
        return {
          kind: 'relay-unreachable',
          message: `The relay ${where.namespace} cannot be reached: ${error.message} Check the network, DNS and HTTPS_PROXY, then try again.`,
        };
      default:
        return { kind: error.kind, message: `The relay did not connect ${target}: ${error.message}` };
    }
  }
  if (error instanceof SessionRefusedError) return { kind: 'refused', message: explainRefusal(error, where.node) };
  return { kind: 'error', message: `The session could not be opened: ${error instanceof Error ? error.message : String(error)}` };
}

function explainRefusal(error: SessionRefusedError, node: string): string {
  const again = "Ask the machine's owner for a new ticket (arc-remote-support ticket).";
  switch (error.reason) {
    case 'reused':
      return `Node ${node} refused the ticket: it was used before, and each ticket opens one session. ${again}`;
    case 'expired':
    case 'outlives-grant':
      return `Node ${node} refused the ticket: ${error.message} ${again}`;
    case 'other-grant':
      return `Node ${node} refused the ticket: it is for another grant than the one in force there (access was revoked or granted again). ${error.message} ${again}`;
    case 'other-machine':
    case 'other-node':
      return `Node ${node} refused the ticket: ${error.message} Use the ticket made for this machine and node, or choose another with --node.`;
    case 'bad-signature':
      return `Node ${node} refused the ticket: it is not signed with the key of the grant in force there. ${again}`;
    case 'too-many-sessions':
      return `Node ${node} refused the session: ${error.message} Close another session of this grant first.`;
    case 'connection-closed':
      return `Node ${node} closed the connection before accepting the ticket: the grant may have just ended. ${again}`;
    default:
      return `Node ${node} refused the session (${error.reason}): ${error.message}`;
  }
}

export function explainEnd(end: SessionEnd): Explained {
  switch (end.reason) {
    case 'revoked':
      return { kind: 'revoked', message: "The session ended: the machine's owner revoked access." };
    case 'expired':
      return { kind: 'expired', message: 'The session ended: the grant expired.' };
    case 'connection-closed':
      return {
        kind: 'connection-closed',
        message:
          "The session ended: the connection closed. The access may have been revoked (its hybrid connection deleted), the node's agent stopped, or the network dropped.",
      };
    default:
      return { kind: end.reason, message: `The session ended: ${end.message}` };
  }
}
