/**
 * Opens a grant's channel on one machine: per node a hybrid connection with its Listen and Send
 * rules, a Listen token that expires with the grant, and what the extension must carry: the
 * protected `channel` section (the listen tokens and the ticket public key) and the public part
 * (namespace, machine and hybrid connection per node; policy, status and revoke read it too). If anything fails, what was
 * created is deleted again: a failed grant leaves no hybrid connection behind.
 */
import { hybridConnectionResource } from '../../channel/relay/endpoint';
import { signSas } from '../../channel/relay/sas';
import type { GrantRecord } from '../settings/public-settings';
import type { ChannelMarker } from '../settings/public-settings';
import type { ChannelRecord, GrantKeyPair } from './grant-key-store';
import { hybridConnectionName, LISTEN_RULE, SEND_RULE } from './hybrid-connection-names';
import type { RelayNamespaces, ResolvedNamespace, RuleKey } from './relay-namespaces';

export interface OpenedChannel {
  protectedChannel: Record<string, unknown>;
  marker: ChannelMarker;
  record: ChannelRecord;
  sendKeys: Record<string, RuleKey>;
  /** Deletes the hybrid connections made (after a failed extension write). */
  rollback(): Promise<string[]>;
}

export async function openChannel(input: {
  relay: RelayNamespaces;
  namespace: ResolvedNamespace;
  grant: GrantRecord;
  keys: GrantKeyPair;
  machineId: string;
  machine: string;
  /** Node names, upper case; one for a standalone machine. */
  nodes: string[];
}): Promise<OpenedChannel> {
  const { relay, namespace, grant } = input;
  const made: string[] = [];
  const rollback = async () => {
    const problems: string[] = [];
    for (const name of made) {
      await relay.deleteHybridConnection(namespace, name).catch((error: Error) => problems.push(`${name}: ${error.message}`));
    }
    return problems;
  };
  try {
    const nodes: Record<string, { hybridConnection: string; listenToken: string }> = {};
    const sendKeys: Record<string, RuleKey> = {};
    for (const node of input.nodes) {
      const name = hybridConnectionName(input.machine, grant.grantId, input.nodes.length > 1 ? node : undefined);
      made.push(name);
      await relay.createHybridConnection(namespace, name);
      const listen = await relay.ruleKey(namespace, name, LISTEN_RULE);
      nodes[node] = {
        hybridConnection: name,
        // The relay ends listening when the grant ends, whatever the node does.
        listenToken: signSas({
          resourceUri: hybridConnectionResource({ namespace: namespace.host, name }),
          keyName: listen.keyName,
          key: listen.key,
          expiresAt: new Date(grant.expiresAt),
        }),
      };
      sendKeys[node] = await relay.ruleKey(namespace, name, SEND_RULE);
    }
    return {
      // Only the secrets (and the key they go with) are protected; the names are in the marker.
      protectedChannel: {
        ticketPublicKey: input.keys.publicKeyPem,
        listenTokens: Object.fromEntries(Object.entries(nodes).map(([node, entry]) => [node, entry.listenToken])),
      },
      marker: {
        relayNamespace: namespace.host,
        relayNamespaceId: namespace.id,
        machine: input.machine,
        hybridConnections: Object.fromEntries(Object.entries(nodes).map(([node, entry]) => [node, entry.hybridConnection])),
      },
      record: {
        grantId: grant.grantId,
        level: grant.level,
        expiresAt: grant.expiresAt,
        supportRequestId: grant.supportRequestId,
        machineId: input.machineId,
        machine: input.machine,
        relayNamespaceId: namespace.id,
        relayHost: namespace.host,
        nodes: Object.fromEntries(Object.entries(nodes).map(([node, entry]) => [node, entry.hybridConnection])),
      },
      sendKeys,
      rollback,
    };
  } catch (error) {
    await rollback();
    throw error;
  }
}
