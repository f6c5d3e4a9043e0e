/**
 * The grant's channel (DESIGN section 8), written by the owner's CLI at grant, in two parts:
 * - public settings (schema-checked): `"channel": { "relayNamespace": "<ns>.servicebus.windows.net",
 *   "relayNamespaceId": "<ARM id>", "machine": "<Arc machine>", "hybridConnections": { "<NODE>": "<name>" } }`;
 * - protected settings, only what is secret or keyed to the grant: `"channel": { "ticketPublicKey":
 *   "<Ed25519 SPKI PEM or JWK>", "listenTokens": { "<NODE>": "SharedAccessSignature ..." } }`.
 * Identifiers stay public on purpose: every string of protected settings is redacted from logs and
 * status, and a machine or node name must stay readable there. One hybrid connection per grant and
 * node. Checked before anything is applied; an error names the field and the fix, never a token.
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

/** The channel per node name (upper case). */
export type ChannelSettings = Map<string, NodeChannelSettings>;

/** A listen token may outlive its grant by the relay's clock skew, not more. */
const TOKEN_GRACE_MS = 5 * 60_000;
const PUBLIC = 'channel';
const PROTECTED = 'protectedSettings.channel';

interface PublicChannel {
  relayNamespace: string;
  machine: string;
  hybridConnections: Record<string, string>;
}

/**
 * Undefined when neither part speaks of a channel, or no grant is given (nothing to listen for);
 * 'keep' when only the public part came: a manager or `deploy` re-sent the public settings without
 * the protected ones (Azure never returns those), and each node keeps the channel it has for the grant.
 */
export function readChannelSettings(
  publicSettings: Record<string, unknown>,
  protectedSettings: Record<string, unknown> | undefined,
  grant: Grant | undefined,
  now: Date,
): ChannelSettings | 'keep' | undefined {
  const visible = publicSettings.channel as PublicChannel | undefined;
  const secret = protectedSettings?.channel;
  if (visible === undefined && secret === undefined) return undefined;
  if (!grant) return undefined;
  if (secret === undefined) return 'keep';
  if (visible === undefined)
    throw new ConfigurationError(
      PUBLIC,
      'nothing, while protected settings carry a channel',
      'the public channel section the CLI writes with it: run grant again',
    );
  const section = objectAt(PROTECTED, secret, 'an object with ticketPublicKey and listenTokens, beside the public channel section');
  try {
    checkEndpoint({ namespace: visible.relayNamespace, name: 'hc' });
  } catch (error) {
    throw new ConfigurationError(`${PUBLIC}.relayNamespace`, describeValue(visible.relayNamespace), (error as Error).message);
  }
  const ticketText = section.ticketPublicKey;
  if (typeof ticketText !== 'string' || ticketText.trim() === '' || ticketText.length > 8192)
    throw new ConfigurationError(
      `${PROTECTED}.ticketPublicKey`,
      shapeOf(ticketText),
      "the grant's Ed25519 ticket public key (SPKI PEM or JWK)",
    );
  try {
    importTicketPublicKey(ticketText);
  } catch (error) {
    throw new ConfigurationError(`${PROTECTED}.ticketPublicKey`, 'a key that cannot be used', `${(error as Error).message}`);
  }
  const tokens = objectAt(
    `${PROTECTED}.listenTokens`,
    section.listenTokens,
    'an object with one Listen token per node name of channel.hybridConnections',
  );
  const channels: ChannelSettings = new Map();
  for (const [node, hybridConnection] of Object.entries(visible.hybridConnections)) {
    const endpoint = { namespace: visible.relayNamespace, name: hybridConnection };
    const tokenField = `${PROTECTED}.listenTokens.${node}`;
    const listenToken = Object.entries(tokens).find(([name]) => name.toUpperCase() === node.toUpperCase())?.[1];
    if (typeof listenToken !== 'string')
      throw new ConfigurationError(tokenField, shapeOf(listenToken), `the Listen token the CLI minted for ${hybridConnection}`);
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
        machine: visible.machine,
        relayNamespace: visible.relayNamespace,
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
