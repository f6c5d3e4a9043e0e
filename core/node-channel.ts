/**
 * What a node's desired-state record says about the channel of the grant in force (DESIGN section
 * 8): where the agent listens and which key signs the engineers' tickets. Nothing here is secret:
 * the listen token itself is kept machine-protected beside the record (CHANNEL_TOKEN_FILE), and
 * the record names it only by digest and expiry, so a new token is written once and an unchanged
 * one never again.
 */
export interface NodeChannel {
  /** The grant the channel belongs to: a channel never outlives or changes grants. */
  grantId: string;
  /** The Arc machine the grant was made on: engineers' tickets must name it. */
  machine: string;
  /** The relay namespace host, e.g. contoso-support.servicebus.windows.net. */
  relayNamespace: string;
  /** This node's hybrid connection in it. */
  hybridConnection: string;
  /** The Ed25519 public key (SPKI PEM or JWK text) the grant's tickets are signed with. */
  ticketPublicKey: string;
  /** SHA-256 (hex) of the listen token: tells a new token from the one already stored. */
  listenTokenDigest: string;
  /** When the listen token expires (its `se`). */
  listenTokenExpiresAt: Date;
}

export function storeNodeChannel(channel: NodeChannel): Record<string, string> {
  return {
    grantId: channel.grantId,
    machine: channel.machine,
    relayNamespace: channel.relayNamespace,
    hybridConnection: channel.hybridConnection,
    ticketPublicKey: channel.ticketPublicKey,
    listenTokenDigest: channel.listenTokenDigest,
    listenTokenExpiresAt: channel.listenTokenExpiresAt.toISOString(),
  };
}

/** Reads the record's channel; anything malformed gives no channel (fail closed: nobody connects). */
export function readNodeChannel(value: unknown): NodeChannel | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const fields = value as Record<string, unknown>;
  const text = (name: string) => (typeof fields[name] === 'string' && fields[name] !== '' ? (fields[name] as string) : undefined);
  const grantId = text('grantId');
  const machine = text('machine');
  const relayNamespace = text('relayNamespace');
  const hybridConnection = text('hybridConnection');
  const ticketPublicKey = text('ticketPublicKey');
  const listenTokenDigest = text('listenTokenDigest');
  const expires = new Date(text('listenTokenExpiresAt') ?? NaN);
  if (
    !grantId ||
    !machine ||
    !relayNamespace ||
    !hybridConnection ||
    !ticketPublicKey ||
    !listenTokenDigest ||
    Number.isNaN(expires.getTime())
  )
    return undefined;
  return { grantId, machine, relayNamespace, hybridConnection, ticketPublicKey, listenTokenDigest, listenTokenExpiresAt: expires };
}
