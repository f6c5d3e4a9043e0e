/**
 * Relay resources as api-version 2021-11-01 shapes them (definitions RelayNamespace, HybridConnection,
 * AuthorizationRule and AccessKeys of Namespaces.json, hybridConnections.json, authorizationRules.json),
 * with the resource types' casing Azure returns.
 */
import { EMULATED_UPN } from './access-tokens';
import { listenerCount } from './relay-link';
import {
  relayNamespaceHost,
  relayNamespaceId,
  type HybridConnectionRecord,
  type RelayNamespaceRecord,
  type RelayRuleRecord,
} from './relay-store';

/** The service allows at most 25 listeners per hybrid connection; the document's maximum says the same. */
const MAX_LISTENERS = 25;

export function relayNamespaceResource(namespace: RelayNamespaceRecord): Record<string, unknown> {
  return {
    id: relayNamespaceId(namespace),
    name: namespace.name,
    type: 'Microsoft.Relay/Namespaces',
    location: namespace.location,
    tags: { ...namespace.tags },
    sku: { name: 'Standard', tier: 'Standard' },
    systemData: systemData(namespace.createdAt, namespace.createdAt),
    properties: {
      provisioningState: 'Succeeded',
      status: 'Active',
      createdAt: namespace.createdAt,
      updatedAt: namespace.createdAt,
      serviceBusEndpoint: `https://${withPort(relayNamespaceHost(namespace))}/`,
      metricId: `${namespace.subscriptionId}:${namespace.name.toLowerCase()}`,
      publicNetworkAccess: 'Enabled',
    },
  };
}

export function hybridConnectionId(namespace: RelayNamespaceRecord, hybridConnection: HybridConnectionRecord): string {
  return `${relayNamespaceId(namespace)}/hybridConnections/${hybridConnection.name}`;
}

export function hybridConnectionResource(
  namespace: RelayNamespaceRecord,
  hybridConnection: HybridConnectionRecord,
): Record<string, unknown> {
  return {
    id: hybridConnectionId(namespace, hybridConnection),
    name: hybridConnection.name,
    type: 'Microsoft.Relay/Namespaces/HybridConnections',
    location: namespace.location,
    systemData: systemData(hybridConnection.createdAt, hybridConnection.updatedAt),
    properties: {
      createdAt: hybridConnection.createdAt,
      updatedAt: hybridConnection.updatedAt,
      listenerCount: Math.min(listenerCount(namespace, hybridConnection), MAX_LISTENERS),
      requiresClientAuthorization: hybridConnection.requiresClientAuthorization,
      ...(hybridConnection.userMetadata === undefined ? {} : { userMetadata: hybridConnection.userMetadata }),
    },
  };
}

export function hybridConnectionRuleResource(
  namespace: RelayNamespaceRecord,
  hybridConnection: HybridConnectionRecord,
  rule: RelayRuleRecord,
): Record<string, unknown> {
  return {
    id: `${hybridConnectionId(namespace, hybridConnection)}/authorizationRules/${rule.name}`,
    name: rule.name,
    type: 'Microsoft.Relay/Namespaces/HybridConnections/AuthorizationRules',
    location: namespace.location,
    systemData: systemData(rule.createdAt, rule.updatedAt),
    properties: { rights: [...rule.rights] },
  };
}

/** What listKeys and regenerateKeys answer: the keys, and connection strings naming the hybrid connection. */
export function accessKeys(
  namespace: RelayNamespaceRecord,
  hybridConnection: HybridConnectionRecord,
  rule: RelayRuleRecord,
): Record<string, string> {
  const connectionString = (key: string) =>
    `Endpoint=sb://${relayNamespaceHost(namespace)}/;SharedAccessKeyName=${rule.name};SharedAccessKey=${key};EntityPath=${hybridConnection.name}`;
  return {
    primaryConnectionString: connectionString(rule.primaryKey),
    secondaryConnectionString: connectionString(rule.secondaryKey),
    primaryKey: rule.primaryKey,
    secondaryKey: rule.secondaryKey,
    keyName: rule.name,
  };
}

/** The emulator's one identity made and last changed everything. */
function systemData(createdAt: string, lastModifiedAt: string): Record<string, string> {
  return {
    createdBy: EMULATED_UPN,
    createdByType: 'User',
    createdAt,
    lastModifiedBy: EMULATED_UPN,
    lastModifiedByType: 'User',
    lastModifiedAt,
  };
}

/** Azure writes the namespace endpoint with its port (':443'); a test relay's host already has one. */
function withPort(host: string): string {
  return /:\d+$/.test(host) ? host : `${host}:443`;
}
