/**
 * The emulated Relay namespaces, their hybrid connections and the hybrid connections' authorization
 * rules, found by name without letter case as ARM finds them (the stored casing is kept). A
 * namespace may have a test relay attached: relay-link.ts keeps it in step.
 */
import { randomBytes } from 'crypto';
import type { RelayRight } from '../relay';
import type { AttachedRelay, EmulatedRelayNamespaceSpec } from './types';

export interface RelayRuleRecord {
  name: string;
  rights: RelayRight[];
  primaryKey: string;
  secondaryKey: string;
  createdAt: string;
  updatedAt: string;
}

export interface HybridConnectionRecord {
  name: string;
  requiresClientAuthorization: boolean;
  userMetadata?: string;
  createdAt: string;
  updatedAt: string;
  /** By lower-case name, in creation order. */
  rules: Map<string, RelayRuleRecord>;
}

export interface RelayNamespaceRecord {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  createdAt: string;
  /** By lower-case name, in creation order. */
  hybridConnections: Map<string, HybridConnectionRecord>;
  relay?: AttachedRelay;
}

/** Azure's rule for namespace names: 6 to 50 letters, digits and hyphens, starting with a letter, not ending with a hyphen. */
const NAMESPACE_NAME = /^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$/;

/** A new key as Azure makes them: 256 random bits, base64. */
export function newRelayKey(): string {
  return randomBytes(32).toString('base64');
}

export function relayNamespaceId(namespace: Pick<RelayNamespaceRecord, 'subscriptionId' | 'resourceGroup' | 'name'>): string {
  return `/subscriptions/${namespace.subscriptionId}/resourceGroups/${namespace.resourceGroup}/providers/Microsoft.Relay/namespaces/${namespace.name}`;
}

/** The host clients dial: the attached test relay's, else the namespace's name in Azure's DNS zone. */
export function relayNamespaceHost(namespace: RelayNamespaceRecord): string {
  return namespace.relay?.host ?? `${namespace.name.toLowerCase()}.servicebus.windows.net`;
}

export class RelayStore {
  /** By lower-case name: namespace names are unique across Azure, not only within a resource group. */
  private readonly namespaces = new Map<string, RelayNamespaceRecord>();

  add(spec: EmulatedRelayNamespaceSpec): RelayNamespaceRecord {
    if (typeof spec.name !== 'string' || !NAMESPACE_NAME.test(spec.name)) {
      throw new Error(
        `Relay namespace name '${String(spec.name)}' is not valid: use 6 to 50 letters, digits or hyphens, starting with a letter and ending with a letter or digit`,
      );
    }
    const taken = this.namespaces.get(spec.name.toLowerCase());
    if (taken) {
      throw new Error(
        `Relay namespace name '${spec.name}' is taken (in resource group ${taken.resourceGroup}): namespace names are unique`,
      );
    }
    const record: RelayNamespaceRecord = {
      subscriptionId: spec.subscriptionId,
      resourceGroup: spec.resourceGroup,
      name: spec.name,
      location: spec.location ?? 'westeurope',
      tags: { ...spec.tags },
      createdAt: new Date().toISOString(),
      hybridConnections: new Map(),
    };
    this.namespaces.set(spec.name.toLowerCase(), record);
    return record;
  }

  /** Any namespace of this name, wherever it is (for attaching a relay). */
  named(name: string): RelayNamespaceRecord | undefined {
    return this.namespaces.get(name.toLowerCase());
  }

  find(subscriptionId: string, resourceGroup: string, name: string): RelayNamespaceRecord | undefined {
    const namespace = this.named(name);
    return namespace && sameName(namespace.subscriptionId, subscriptionId) && sameName(namespace.resourceGroup, resourceGroup)
      ? namespace
      : undefined;
  }

  list(subscriptionId: string, resourceGroup?: string): RelayNamespaceRecord[] {
    return [...this.namespaces.values()].filter(
      (namespace) =>
        sameName(namespace.subscriptionId, subscriptionId) &&
        (resourceGroup === undefined || sameName(namespace.resourceGroup, resourceGroup)),
    );
  }

  hasSubscription(subscriptionId: string): boolean {
    return this.list(subscriptionId).length > 0;
  }

  hasResourceGroup(subscriptionId: string, resourceGroup: string): boolean {
    return this.list(subscriptionId, resourceGroup).length > 0;
  }
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
