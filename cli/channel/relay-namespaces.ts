/**
 * The owner's relay namespace through @azure/arm-relay: find it, make a grant's hybrid connection
 * (client authorization required) with a Listen and a Send rule scoped to it, read a rule's key,
 * list and delete hybrid connections. Keys are returned to the caller to sign tokens with and are
 * never logged or put in an error.
 */
import type { RelayAPI } from '@azure/arm-relay';
import { isRestError } from '@azure/core-rest-pipeline';
import { withDeadline } from '../arm/deadline';
import { InputError } from '../errors';
import { LISTEN_RULE, SEND_RULE } from './hybrid-connection-names';
import { namespaceId, type RelayNamespaceRef } from './namespace-names';

export { namespaceFromId, namespaceId, parseNamespaceArgument, type RelayNamespaceRef } from './namespace-names';

export interface ResolvedNamespace extends RelayNamespaceRef {
  id: string;
  /** The host senders and listeners dial, from the namespace's serviceBusEndpoint. */
  host: string;
}

export interface RuleKey {
  keyName: string;
  key: string;
}

export class RelayNamespaces {
  constructor(
    private readonly client: (subscriptionId: string) => RelayAPI,
    private readonly timeoutMs: number,
  ) {}

  /** Reads the namespace (its resource group found by listing the subscription when not given). */
  async resolve(
    wanted: { name: string; subscriptionId?: string; resourceGroup?: string },
    defaultSubscription: string,
    option: string,
  ): Promise<ResolvedNamespace> {
    const subscriptionId = wanted.subscriptionId ?? defaultSubscription;
    const client = this.client(subscriptionId);
    let resourceGroup = wanted.resourceGroup;
    if (!resourceGroup) {
      resourceGroup = await withDeadline(
        `Listing relay namespaces of subscription ${subscriptionId}`,
        this.timeoutMs,
        false,
        async (abortSignal) => {
          for await (const namespace of client.namespaces.list({ abortSignal })) {
            if (namespace.name?.toLowerCase() === wanted.name.toLowerCase())
              return /\/resourceGroups\/([^/]+)\//i.exec(namespace.id ?? '')?.[1];
          }
          return undefined;
        },
      );
      if (!resourceGroup)
        throw new InputError(
          option,
          wanted.name,
          `No relay namespace of that name is in subscription ${subscriptionId}. Create it (az relay namespace create -g <rg> -n ${wanted.name}), or name the right one; add --relay-resource-group when you cannot list the subscription.`,
        );
    }
    const found = await withDeadline(`Reading relay namespace ${wanted.name}`, this.timeoutMs, false, (abortSignal) =>
      client.namespaces.get(resourceGroup, wanted.name, { abortSignal }),
    ).catch((error: unknown) => {
      if (isRestError(error) && error.statusCode === 404)
        throw new InputError(
          option,
          wanted.name,
          `There is no relay namespace of that name in resource group ${resourceGroup} of subscription ${subscriptionId}. Check the name and --relay-resource-group, or create it (az relay namespace create -g ${resourceGroup} -n ${wanted.name}).`,
        );
      if (isRestError(error) && error.statusCode === 403)
        throw new InputError(
          option,
          wanted.name,
          `Azure refused to read it (403): your identity needs a role that can write hybrid connections there, such as Azure Relay Owner or Contributor on the namespace.`,
        );
      throw error;
    });
    const host = hostOf(found.serviceBusEndpoint) ?? `${found.name ?? wanted.name}.servicebus.windows.net`;
    const ref = { subscriptionId, resourceGroup, name: found.name ?? wanted.name };
    return { ...ref, id: namespaceId(ref), host };
  }

  /** The hybrid connection and its two rules, each scoped to it. */
  async createHybridConnection(namespace: RelayNamespaceRef, name: string): Promise<void> {
    const client = this.client(namespace.subscriptionId);
    await this.step(`Creating hybrid connection ${name}`, (abortSignal) =>
      client.hybridConnections.createOrUpdate(
        namespace.resourceGroup,
        namespace.name,
        name,
        { requiresClientAuthorization: true, userMetadata: 'arc-remote-support: one grant, one machine' },
        { abortSignal },
      ),
    );
    for (const [rule, right] of [
      [LISTEN_RULE, 'Listen'],
      [SEND_RULE, 'Send'],
    ] as const) {
      await this.step(`Creating rule ${rule} on ${name}`, (abortSignal) =>
        client.hybridConnections.createOrUpdateAuthorizationRule(
          namespace.resourceGroup,
          namespace.name,
          name,
          rule,
          { rights: [right] },
          { abortSignal },
        ),
      );
    }
  }

  async ruleKey(namespace: RelayNamespaceRef, hybridConnection: string, rule: string): Promise<RuleKey> {
    const keys = await this.step(`Reading the keys of ${rule} on ${hybridConnection}`, (abortSignal) =>
      this.client(namespace.subscriptionId).hybridConnections.listKeys(namespace.resourceGroup, namespace.name, hybridConnection, rule, {
        abortSignal,
      }),
    );
    if (!keys.primaryKey) throw new Error(`Azure listed no primary key for rule ${rule} of hybrid connection ${hybridConnection}`);
    return { keyName: keys.keyName ?? rule, key: keys.primaryKey };
  }

  async listHybridConnections(namespace: RelayNamespaceRef): Promise<string[]> {
    return withDeadline(`Listing hybrid connections of ${namespace.name}`, this.timeoutMs, false, async (abortSignal) => {
      const names: string[] = [];
      for await (const item of this.client(namespace.subscriptionId).hybridConnections.listByNamespace(
        namespace.resourceGroup,
        namespace.name,
        {
          abortSignal,
        },
      ))
        if (item.name) names.push(item.name);
      return names;
    });
  }

  /** Deletes one; 'absent' when it was already gone. Deleting closes its sockets at the relay. */
  async deleteHybridConnection(namespace: RelayNamespaceRef, name: string): Promise<'deleted' | 'absent'> {
    const client = this.client(namespace.subscriptionId);
    const exists = await this.step(`Reading hybrid connection ${name}`, (abortSignal) =>
      client.hybridConnections.get(namespace.resourceGroup, namespace.name, name, { abortSignal }).then(() => true),
    ).catch((error: unknown) => {
      if (isRestError(error) && error.statusCode === 404) return false;
      throw error;
    });
    if (!exists) return 'absent';
    await this.step(`Deleting hybrid connection ${name}`, (abortSignal) =>
      client.hybridConnections.delete(namespace.resourceGroup, namespace.name, name, { abortSignal }),
    );
    return 'deleted';
  }

  private step<T>(operation: string, run: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(operation, this.timeoutMs, true, run);
  }
}

/** `https://contoso.servicebus.windows.net:443/` -> `contoso.servicebus.windows.net` (a non-default port kept). */
function hostOf(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  try {
    const url = new URL(endpoint);
    return url.port && url.port !== '443' ? `${url.hostname}:${url.port}` : url.hostname;
  } catch {
    return undefined;
  }
}
