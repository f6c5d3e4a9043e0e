/**
 * Keeps a namespace's attached test relay in step with what ARM holds: the relay is the namespace's
 * data plane, so a hybrid connection exists there exactly when it exists in ARM, and the keys the
 * relay checks tokens against are the ones listKeys hands out.
 */
import type { HybridConnectionRecord, RelayNamespaceRecord, RelayRuleRecord } from './relay-store';
import type { AttachedRelay } from './types';

export function attachRelay(namespace: RelayNamespaceRecord, relay: AttachedRelay): void {
  if (namespace.relay)
    throw new Error(`Relay namespace '${namespace.name}' already has a test relay attached (at ${namespace.relay.host})`);
  namespace.relay = relay;
  for (const hybridConnection of namespace.hybridConnections.values()) {
    hybridConnectionCreated(namespace, hybridConnection);
    for (const rule of hybridConnection.rules.values()) ruleWritten(namespace, hybridConnection, rule);
  }
}

export function hybridConnectionCreated(namespace: RelayNamespaceRecord, hybridConnection: HybridConnectionRecord): void {
  namespace.relay?.createHybridConnection(hybridConnection.name, {
    requiresClientAuthorization: hybridConnection.requiresClientAuthorization,
  });
}

/** A rule created, its rights changed or a key regenerated: the relay checks the new keys from now on. */
export function ruleWritten(namespace: RelayNamespaceRecord, hybridConnection: HybridConnectionRecord, rule: RelayRuleRecord): void {
  namespace.relay?.putRule(
    { hybridConnection: hybridConnection.name },
    { name: rule.name, rights: [...rule.rights], primaryKey: rule.primaryKey, secondaryKey: rule.secondaryKey },
  );
}

/** The relay closes the hybrid connection's listeners and rendezvous with 1001, as the service does. */
export function hybridConnectionDeleted(namespace: RelayNamespaceRecord, hybridConnection: HybridConnectionRecord): void {
  namespace.relay?.deleteHybridConnection(hybridConnection.name);
}

/** Listeners connected now; 0 without a relay (nobody can listen on a namespace that has no data plane). */
export function listenerCount(namespace: RelayNamespaceRecord, hybridConnection: HybridConnectionRecord): number {
  return namespace.relay?.counters.openListeners(hybridConnection.name) ?? 0;
}
