import { deleteMarker } from '../channel/grant-channel';
import { grantTag, grantTagOf } from '../channel/hybrid-connection-names';
import { requireMachine } from '../checks/machine-checks';
import type { TargetOutcome } from '../fleet/outcome';
import { machineId, type MachineRef } from '../input/azure-names';
import { channelMarker, markerConnections, revokeSettings } from '../settings/public-settings';
import { provisioning, sendSettings } from './extension-write';
import { failureOutcome } from './failure';
import type { RelayContext, RunContext } from './run-context';

/**
 * Sets access to None, keeping retention. Unlike the other writes it is sent to a disconnected
 * machine too: Azure queues it and it applies the moment the machine reconnects (the expiry task
 * ends access meanwhile), so the CLI reports it as still running rather than refusing.
 * The grant's hybrid connections are deleted first, whatever the machine's state: that closes
 * every open session at the relay at once, and no node can listen on them again.
 */
export async function revokeOne(ctx: RunContext, ref: MachineRef): Promise<TargetOutcome> {
  try {
    const machine = await requireMachine(ctx.api, ref);
    const current = await ctx.api.getExtension(ref);
    if (!current) return { result: 'ok', detail: 'the extension is not deployed: there is no access to revoke' };
    const channel = ctx.relay ? await closeChannel(ctx.relay, ref, current.settings) : '';
    const settings = revokeSettings(current.settings);
    const offline = machine.status === 'Connected' ? '' : ` (machine ${machine.status ?? 'state unknown'})`;
    const outcome = await sendSettings(ctx, ref, settings, (result) => `access None${offline}; ${provisioning(result)}`);
    return { ...outcome, detail: `${outcome.detail}${channel}` };
  } catch (error) {
    return failureOutcome(ctx, ref, error);
  }
}

/** The marker's hybrid connections, and with a namespace named, any other of this machine's grant; the key record forgotten. */
async function closeChannel(relay: RelayContext, ref: MachineRef, settings: Record<string, unknown> | undefined): Promise<string> {
  const marker = channelMarker(settings);
  const grantId = (settings?.access as { grantId?: string } | undefined)?.grantId;
  let said = (await deleteMarker(relay, marker)).replace('; previous channel: ', '; channel closed: ');
  if (relay.namespace && grantId) {
    const namespace = relay.namespace;
    const names = (await relay.api.listHybridConnections(namespace)).filter(
      (name) => grantTagOf(name, ref.name) === grantTag(grantId) && !(marker ? markerConnections(marker) : []).includes(name),
    );
    for (const name of names) {
      const result = await relay.api.deleteHybridConnection(namespace, name).catch((error: Error) => `NOT deleted (${error.message})`);
      said += `${said ? ', ' : '; channel closed: '}${name} ${result}`;
    }
  }
  if (grantId) await relay.store.forget(grantId, machineId(ref));
  return said;
}
