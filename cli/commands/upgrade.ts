import { requireConnected, requireMachine } from '../checks/machine-checks';
import type { TargetOutcome } from '../fleet/outcome';
import type { MachineRef } from '../input/azure-names';
import { notDeployed } from './extension-write';
import { failureOutcome } from './failure';
import { extensionKey, type RunContext } from './run-context';

/** Asks Azure to move the extension to `targetVersion` (POST upgradeExtensions); state and grants survive. */
export async function upgradeOne(ctx: RunContext, ref: MachineRef, targetVersion: string): Promise<TargetOutcome> {
  try {
    const machine = await requireMachine(ctx.api, ref);
    requireConnected(machine);
    const before = await ctx.api.getExtension(ref);
    if (!before) return notDeployed(ref);
    await ctx.api.upgradeExtension(ref, extensionKey(ctx.extension), targetVersion);
    const after = await ctx.api.getExtension(ref);
    return {
      result: 'ok',
      detail: `upgraded to ${targetVersion} (typeHandlerVersion ${before.typeHandlerVersion ?? '?'} -> ${after?.typeHandlerVersion ?? '?'})`,
    };
  } catch (error) {
    return failureOutcome(ctx, ref, error);
  }
}
