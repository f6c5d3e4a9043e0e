import { findLeftovers } from '../channel/leftover-channels';
import { requireMachine } from '../checks/machine-checks';
import type { TargetOutcome } from '../fleet/outcome';
import type { MachineRef } from '../input/azure-names';
import { failureOutcome } from './failure';
import type { RunContext } from './run-context';

/** Deletes the hybrid connections left from this machine's ended grants; the grant in force keeps its own. */
export async function cleanupChannelsOne(ctx: RunContext, ref: MachineRef): Promise<TargetOutcome> {
  try {
    await requireMachine(ctx.api, ref);
    const extension = await ctx.api.getExtension(ref);
    const leftovers = await findLeftovers(ctx.relay!, ref, extension?.settings, ctx.now());
    const results: string[] = [];
    let failed = false;
    for (const { namespace, names } of leftovers) {
      for (const name of names) {
        try {
          results.push(`${namespace.name}/${name} ${await ctx.relay!.api.deleteHybridConnection(namespace, name)}`);
        } catch (error) {
          failed = true;
          results.push(`${namespace.name}/${name} NOT deleted (${(error as Error).message})`);
        }
      }
    }
    if (results.length === 0) return { result: 'ok', detail: 'no hybrid connection left from an ended grant' };
    return { result: failed ? 'failed' : 'ok', detail: results.join(', ') };
  } catch (error) {
    return failureOutcome(ctx, ref, error);
  }
}
