import { requireEligibleMachine } from '../checks/machine-checks';
import type { TargetOutcome } from '../fleet/outcome';
import type { MachineRef } from '../input/azure-names';
import { grantSettings, type GrantRecord } from '../settings/public-settings';
import { notDeployed, provisioning, sendSettings } from './extension-write';
import { failureOutcome } from './failure';
import type { RunContext } from './run-context';

/** Sends the run's one grant (same id, expiry and consent on every machine) with a fresh license observation. */
export async function grantOne(ctx: RunContext, ref: MachineRef, grant: GrantRecord): Promise<TargetOutcome> {
  try {
    const { observedLicense } = await requireEligibleMachine(ctx.api, ref, ctx.now());
    const current = await ctx.api.getExtension(ref);
    if (!current) return notDeployed(ref);
    const settings = grantSettings(current.settings, grant, observedLicense);
    return await sendSettings(
      ctx,
      ref,
      settings,
      (result) => `${grant.level} until ${grant.expiresAt} for ${grant.supportRequestId} (grant ${grant.grantId}); ${provisioning(result)}`,
    );
  } catch (error) {
    return failureOutcome(ctx, ref, error);
  }
}
