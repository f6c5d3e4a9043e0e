import type { ExtensionView } from '../arm/arc-machines';
import type { TargetOutcome } from '../fleet/outcome';
import type { MachineRef } from '../input/azure-names';
import type { PublicSettings } from '../settings/public-settings';
import { failureOutcome } from './failure';
import type { RunContext } from './run-context';

/** The fields every update sends: the settings, protected settings when the CLI has them, a new tag. */
export function updateFields(ctx: RunContext, settings: PublicSettings) {
  return {
    settings,
    forceUpdateTag: ctx.forceUpdateTag,
    ...(ctx.protectedSettings ? { protectedSettings: ctx.protectedSettings.forRequest() } : {}),
  };
}

/** Sends a settings change with PATCH and reports it; failures carry the settings that were sent. */
export async function sendSettings(
  ctx: RunContext,
  ref: MachineRef,
  settings: PublicSettings,
  describe: (result: ExtensionView) => string,
): Promise<TargetOutcome> {
  try {
    const result = await ctx.api.updateExtension(ref, updateFields(ctx, settings));
    return { result: 'ok', detail: describe(result), settingsSent: settings };
  } catch (error) {
    return failureOutcome(ctx, ref, error, settings);
  }
}

export function notDeployed(ref: MachineRef): TargetOutcome {
  return {
    result: 'failed',
    detail: `the extension is not deployed on ${ref.name}. Fix: deploy it first (arc-remote-support deploy --machine /subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.HybridCompute/machines/${ref.name}).`,
  };
}

export function provisioning(result: ExtensionView): string {
  return `provisioning ${result.provisioningState ?? 'state not reported'}`;
}
