/**
 * The channel part of `grant` on one machine: which nodes it has, the hybrid connections opened
 * for them, and after the extension took the settings, the channel record and the engineer's
 * access ticket written with owner-only permissions. Hybrid connections of the machine's previous
 * grant are deleted once the new grant is in place.
 */
import path from 'path';
import type { ExtensionView, MachineView } from '../arm/arc-machines';
import type { GrantChannelContext, RelayContext } from '../commands/run-context';
import { machineId, type MachineRef } from '../input/azure-names';
import { channelMarker, markerConnections, type ChannelMarker, type GrantRecord } from '../settings/public-settings';
import { parseNodeLines } from '../targets/node-lines';
import { makeAccessTicket } from './access-ticket';
import { grantTag } from './hybrid-connection-names';
import { openChannel, type OpenedChannel } from './open-channel';
import { privateFolder, writePrivateFile } from './owner-home';
import { namespaceFromId } from './relay-namespaces';

/** --nodes, else the Node lines the extension reports (a cluster), else the computer name. */
export function machineNodes(chosen: string[] | undefined, machine: MachineView, extension: ExtensionView): string[] {
  if (chosen && chosen.length > 0) return chosen;
  const reported = parseNodeLines(extension.message).map((line) => line.node.toUpperCase());
  if (reported.length > 0) return [...new Set(reported)];
  return [(machine.computerName ?? machine.ref.name).toUpperCase()];
}

export function openMachineChannel(
  relay: RelayContext & { grant: GrantChannelContext },
  ref: MachineRef,
  grant: GrantRecord,
  nodes: string[],
): Promise<OpenedChannel> {
  return openChannel({
    relay: relay.api,
    namespace: relay.grant.namespace,
    grant,
    keys: relay.grant.keys,
    machineId: machineId(ref),
    machine: ref.name,
    nodes,
  });
}

/** After the extension took the grant: the record, the ticket file, and the old grant's hybrid connections gone. */
export async function finishMachineChannel(
  relay: RelayContext & { grant: GrantChannelContext },
  opened: OpenedChannel,
  previous: ExtensionView,
  now: Date,
): Promise<string> {
  await relay.store.saveRecord(opened.record);
  const ticket = await makeAccessTicket({
    record: opened.record,
    privateKey: relay.grant.keys.privateKey,
    sendKeys: opened.sendKeys,
    engineer: relay.grant.engineer,
    now,
  });
  const file =
    relay.grant.ticketFile ??
    path.join(await privateFolder(relay.grant.ticketsFolder), `${opened.record.machine}-${grantTag(opened.record.grantId)}.json`);
  await writePrivateFile(file, `${JSON.stringify(ticket, null, 2)}\n`);
  relay.grant.showTicket?.(opened.record.machine, JSON.stringify(ticket, null, 2));
  const replaced = await deleteMarker(relay, channelMarker(previous.settings), markerConnections(opened.marker));
  const count = markerConnections(opened.marker).length;
  return `channel: ${count} hybrid connection(s) in ${relay.grant.namespace.name} until ${ticket.expiresAt}; access ticket written to ${file}${replaced}`;
}

/** Deletes the hybrid connections a marker names (except those kept); says what happened. */
export async function deleteMarker(relay: RelayContext, marker: ChannelMarker | undefined, keep: string[] = []): Promise<string> {
  const namespace = marker && namespaceFromId(marker.relayNamespaceId);
  if (!marker || !namespace) return '';
  const results: string[] = [];
  for (const name of markerConnections(marker).filter((item) => !keep.includes(item))) {
    try {
      results.push(`${name} ${await relay.api.deleteHybridConnection(namespace, name)}`);
    } catch (error) {
      results.push(`${name} NOT deleted (${(error as Error).message}; run cleanup-channels)`);
    }
  }
  return results.length ? `; previous channel: ${results.join(', ')}` : '';
}
