import { requireMachine } from '../checks/machine-checks';
import type { TargetOutcome } from '../fleet/outcome';
import type { MachineRef } from '../input/azure-names';
import { failureOutcome } from './failure';
import type { RunContext } from './run-context';

/** DELETEs the extension; its uninstall removes access, JEA, tasks and data from the node. */
export async function removeOne(ctx: RunContext, ref: MachineRef): Promise<TargetOutcome> {
  try {
    await requireMachine(ctx.api, ref);
    const current = await ctx.api.getExtension(ref);
    if (!current) return { result: 'ok', detail: 'the extension is not deployed: nothing to remove' };
    await ctx.api.deleteExtension(ref);
    return { result: 'ok', detail: 'extension removed' };
  } catch (error) {
    return failureOutcome(ctx, ref, error);
  }
}
