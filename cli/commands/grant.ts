import { finishMachineChannel, machineNodes, openMachineChannel } from '../channel/grant-channel';
import type { OpenedChannel } from '../channel/open-channel';
import { requireEligibleMachine } from '../checks/machine-checks';
import type { TargetOutcome } from '../fleet/outcome';
import type { MachineRef } from '../input/azure-names';
import { grantSettings, markerConnections, type GrantRecord } from '../settings/public-settings';
import { ProtectedSettings } from '../settings/protected-settings';
import { notDeployed, provisioning, sendSettings } from './extension-write';
import { failureOutcome } from './failure';
import type { RunContext } from './run-context';

/**
 * Sends the run's one grant (same id, expiry and consent on every machine) with a fresh license
 * observation. With a relay namespace it first opens the machine's channel and sends it in
 * protected settings; if the extension does not take the grant, the channel is deleted again.
 */
export async function grantOne(ctx: RunContext, ref: MachineRef, grant: GrantRecord): Promise<TargetOutcome> {
  let opened: OpenedChannel | undefined;
  try {
    const { machine, observedLicense } = await requireEligibleMachine(ctx.api, ref, ctx.now());
    const current = await ctx.api.getExtension(ref);
    if (!current) return notDeployed(ref);
    const relay = ctx.relay?.grant ? { ...ctx.relay, grant: ctx.relay.grant } : undefined;
    let machineCtx = ctx;
    if (relay) {
      opened = await openMachineChannel(relay, ref, grant, machineNodes(relay.grant.nodes, machine, current));
      const tokens = Object.values(opened.protectedChannel.listenTokens as Record<string, string>).map((token) => token);
      machineCtx = {
        ...ctx,
        protectedSettings: (ctx.protectedSettings ?? ProtectedSettings.empty()).withSection('channel', opened.protectedChannel, tokens),
      };
    }
    const settings = grantSettings(current.settings, grant, observedLicense, opened?.marker);
    const outcome = await sendSettings(
      machineCtx,
      ref,
      settings,
      (result) => `${grant.level} until ${grant.expiresAt} for ${grant.supportRequestId} (grant ${grant.grantId}); ${provisioning(result)}`,
    );
    if (!relay || !opened) return outcome;
    if (outcome.result !== 'ok') return { ...outcome, detail: `${outcome.detail}${await rolledBack(opened)}` };
    return { ...outcome, detail: `${outcome.detail}; ${await finishMachineChannel(relay, opened, current, ctx.now())}` };
  } catch (error) {
    const failed = await failureOutcome(ctx, ref, error);
    return opened ? { ...failed, detail: `${failed.detail}${await rolledBack(opened)}` } : failed;
  }
}

async function rolledBack(opened: OpenedChannel): Promise<string> {
  const problems = await opened.rollback();
  const names = markerConnections(opened.marker).join(', ');
  return problems.length === 0
    ? `; the channel's hybrid connection(s) ${names} were deleted again`
    : `; deleting the channel's hybrid connection(s) failed (${problems.join('; ')}): run cleanup-channels`;
}
