/**
 * The channel's part of the protected settings (DESIGN section 8), written by the owner's CLI at
 * grant:
 *   "channel": { "grantId": "<the access grant's id>", "machine": "<Arc machine name>", "relayNamespace": "<ns>.servicebus.windows.net",
 *                "ticketPublicKey": "<Ed25519 SPKI PEM or JWK>",
 *                "nodes": { "<NODE>": { "hybridConnection": "<name>", "listenToken": "SharedAccessSignature ..." } } }
 * One hybrid connection per grant and node. Checked here before anything is applied; an error
 * names the field and the fix and never quotes a token.
 */
import { createHash } from 'crypto';
import { checkEndpoint, hybridConnectionResource } from '../channel/relay/endpoint';
import { audienceOf, parseSas } from '../channel/relay/sas';
import { importTicketPublicKey } from '../channel/session/ticket-key';
import type { Grant } from '../core/desired-state';
import type { NodeChannel } from '../core/node-channel';
import { ConfigurationError, describeValue } from '../extension/errors';

/** One node's channel, with the secret the record does not keep. */
export interface NodeChannelSettings {
  record: NodeChannel;
  listenToken: string;
}

/** The channel per node name (upper case), or undefined when the settings carry none. */
export type ChannelSettings = Map<string, NodeChannelSettings>;

/** A listen token may outlive its grant by the relay's clock skew, not more. */
const TOKEN_GRACE_MS = 5 * 60_000;
const FIELD = 'protectedSettings.channel';

export function readChannelSettings(
  protectedSettings: Record<string, unknown> | undefined,
  grant: Grant | undefined,
  now: Date,
): ChannelSettings | undefined {
  const value = protectedSettings?.channel;
  if (value === undefined) return undefined;
  const section = objectAt(FIELD, value, 'an object with grantId, relayNamespace, ticketPublicKey and nodes');
  if (!grant) return undefined; // No grant: nothing to listen for; the section is ignored.
  const grantId = textAt(`${FIELD}.grantId`, section.grantId, `the access grant's id, ${grant.grantId}`);
  if (grantId.toLowerCase() !== grant.grantId.toLowerCase())
    throw new ConfigurationError(
      `${FIELD}.grantId`,
      describeValue(grantId),
      `the id of the grant in access.grantId (${grant.grantId}): a channel belongs to one grant`,
    );
  const machine = textAt(`${FIELD}.machine`, section.machine, 'the name of the Arc machine the grant was made on');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(machine))
    throw new ConfigurationError(`${FIELD}.machine`, describeValue(machine), 'an Arc machine name: 1 to 64 letters, digits, . _ -');
  const relayNamespace = textAt(
    `${FIELD}.relayNamespace`,
    section.relayNamespace,
    "the relay namespace's host name, e.g. contoso-support.servicebus.windows.net",
  );
  try {
    checkEndpoint({ namespace: relayNamespace, name: 'hc' });
  } catch (error) {
    throw new ConfigurationError(`${FIELD}.relayNamespace`, describeValue(relayNamespace), (error as Error).message);
  }
  const ticketText = textAt(`${FIELD}.ticketPublicKey`, section.ticketPublicKey, "the grant's Ed25519 ticket public key (SPKI PEM or JWK)");
  try {
    importTicketPublicKey(ticketText);
  } catch (error) {
    throw new ConfigurationError(`${FIELD}.ticketPublicKey`, 'a key that cannot be used', `${(error as Error).message}`);
  }
  const nodes = objectAt(
    `${FIELD}.nodes`,
    section.nodes,
    'an object with one entry per node name: { "hybridConnection": ..., "listenToken": ... }',
  );
  const channels: ChannelSettings = new Map();
  for (const [node, entryValue] of Object.entries(nodes)) {
    const at = `${FIELD}.nodes.${node}`;
    const entry = objectAt(at, entryValue, 'an object with hybridConnection and listenToken');
    const hybridConnection = textAt(`${at}.hybridConnection`, entry.hybridConnection, "the node's hybrid connection name");
    const endpoint = { namespace: relayNamespace, name: hybridConnection };
    try {
      checkEndpoint(endpoint);
    } catch (error) {
      throw new ConfigurationError(`${at}.hybridConnection`, describeValue(hybridConnection), (error as Error).message);
    }
    const listenToken = entry.listenToken;
    const tokenField = `${at}.listenToken`;
    if (typeof listenToken !== 'string')
      throw new ConfigurationError(tokenField, shapeOf(listenToken), 'the Listen SAS token the CLI minted for this hybrid connection');
    const parsed = parseSas(listenToken);
    if (!parsed.ok)
      throw new ConfigurationError(
        tokenField,
        'a token that is not a Shared Access Signature',
        `a token 'SharedAccessSignature sr=...&sig=...&se=...&skn=...' (${parsed.detail})`,
      );
    if (audienceOf(parsed.token.resourceUri) !== audienceOf(hybridConnectionResource(endpoint)))
      throw new ConfigurationError(
        tokenField,
        `a token for another audience (${describeValue(audienceOf(parsed.token.resourceUri))})`,
        `a token signed for ${hybridConnectionResource(endpoint)}`,
      );
    const expiresAt = parsed.token.expiresAt;
    if (expiresAt.getTime() <= now.getTime())
      throw new ConfigurationError(
        tokenField,
        `a token that expired at ${expiresAt.toISOString()}`,
        'a token minted for this grant, expiring with it: run grant again',
      );
    if (expiresAt.getTime() > grant.expiresAt.getTime() + TOKEN_GRACE_MS)
      throw new ConfigurationError(
        tokenField,
        `a token that expires at ${expiresAt.toISOString()}, after the grant (${grant.expiresAt.toISOString()})`,
        "a token that expires with the grant, so the relay ends listening at the grant's end",
      );
    channels.set(node.toUpperCase(), {
      listenToken,
      record: {
        grantId: grant.grantId,
        machine,
        relayNamespace,
        hybridConnection,
        ticketPublicKey: ticketText,
        listenTokenDigest: createHash('sha256').update(listenToken).digest('hex'),
        listenTokenExpiresAt: expiresAt,
      },
    });
  }
  return channels;
}

/** Protected settings are never quoted where a secret could sit: only the kind of value is named. */
function shapeOf(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'text' : `a ${typeof value}`;
}

function objectAt(field: string, value: unknown, accepted: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigurationError(field, shapeOf(value), accepted);
  return value as Record<string, unknown>;
}

function textAt(field: string, value: unknown, accepted: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 8192)
    throw new ConfigurationError(field, shapeOf(value), accepted);
  return value;
}
