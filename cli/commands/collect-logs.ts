import { randomUUID } from 'crypto';
import { requireConnected, requireMachine } from '../checks/machine-checks';
import type { TargetOutcome } from '../fleet/outcome';
import { machineId, type MachineRef } from '../input/azure-names';
import { collectLogsSettings, type LogCollectionRequest } from '../settings/public-settings';
import { notDeployed, provisioning, sendSettings } from './extension-write';
import { failureOutcome } from './failure';
import type { RunContext } from './run-context';

/** What every machine of the run collects; each machine's request gets its own id. */
export interface CollectLogsRequest {
  window: { from: string; to: string };
  categories: string[];
  includeSecurityLog: boolean;
  /** `<account>/<container>` the bundles go to, for the report. */
  container: string;
}

/**
 * Asks one machine's extension to collect and upload its logs: the public request beside the
 * settings it has (the grant in force stays) and the container SAS in protected settings (the
 * run context's). No grant is needed: the owner asks for their own machine.
 */
export async function collectLogsOne(ctx: RunContext, ref: MachineRef, request: CollectLogsRequest): Promise<TargetOutcome> {
  try {
    requireConnected(await requireMachine(ctx.api, ref));
    const current = await ctx.api.getExtension(ref);
    if (!current) return notDeployed(ref);
    const asked: LogCollectionRequest = {
      requestId: randomUUID(),
      window: request.window,
      categories: request.categories,
      ...(request.includeSecurityLog ? { includeSecurityLog: true } : {}),
    };
    const settings = collectLogsSettings(current.settings, asked, ctx.now());
    return await sendSettings(
      ctx,
      ref,
      settings,
      (result) =>
        `log collection ${asked.requestId} requested (${asked.window.from} to ${asked.window.to}; ${asked.categories.join(', ')}${asked.includeSecurityLog ? '; with the Security log' : ''}) to ${request.container}; ${provisioning(result)}. Follow it: arc-remote-support status --machine ${machineId(ref)}`,
    );
  } catch (error) {
    return failureOutcome(ctx, ref, error);
  }
}
