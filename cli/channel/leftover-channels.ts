/**
 * Hybrid connections left from a machine's grants that have ended: named for the machine
 * (rs-<machine>-<grant8>...) but not for the grant in force. They are found in the namespace the
 * machine's settings name and in the one given to the command; cleanup-channels deletes them.
 */
import type { RelayContext } from '../commands/run-context';
import type { MachineRef } from '../input/azure-names';
import { activeGrant, channelMarker } from '../settings/public-settings';
import { grantTag, grantTagOf } from './hybrid-connection-names';
import { namespaceFromId, namespaceId, type RelayNamespaceRef } from './relay-namespaces';

export interface Leftovers {
  namespace: RelayNamespaceRef;
  names: string[];
}

export async function findLeftovers(
  relay: RelayContext,
  ref: MachineRef,
  settings: Record<string, unknown> | undefined,
  now: Date,
): Promise<Leftovers[]> {
  const grant = activeGrant(settings, now);
  const inForce = grant ? grantTag(grant.grantId) : undefined;
  const marked = channelMarker(settings);
  const namespaces = new Map<string, RelayNamespaceRef>();
  const fromMarker = marked && namespaceFromId(marked.relayNamespaceId);
  if (fromMarker) namespaces.set(namespaceId(fromMarker).toLowerCase(), fromMarker);
  if (relay.namespace) namespaces.set(relay.namespace.id.toLowerCase(), relay.namespace);
  const found: Leftovers[] = [];
  for (const namespace of namespaces.values()) {
    const names = (await relay.api.listHybridConnections(namespace)).filter((name) => {
      const tag = grantTagOf(name, ref.name);
      return tag !== undefined && tag !== inForce;
    });
    if (names.length > 0) found.push({ namespace, names: names.sort() });
  }
  return found;
}
