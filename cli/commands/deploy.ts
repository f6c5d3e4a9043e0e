import { requireEligibleMachine } from '../checks/machine-checks';
import type { TargetOutcome } from '../fleet/outcome';
import type { MachineRef } from '../input/azure-names';
import { deploySettings } from '../settings/public-settings';
import { failureOutcome } from './failure';
import { majorMinor, type RunContext } from './run-context';

export interface DeployRequest {
  retentionDays?: number;
}

/**
 * PUTs the extension with automatic upgrade on. On a machine that already has it, access and
 * retention are kept and a newer typeHandlerVersion is not lowered.
 */
export async function deployOne(ctx: RunContext, ref: MachineRef, request: DeployRequest): Promise<TargetOutcome> {
  let settings;
  try {
    const { machine, observedLicense } = await requireEligibleMachine(ctx.api, ref, ctx.now());
    const current = await ctx.api.getExtension(ref);
    settings = deploySettings(current?.settings, { retentionDays: request.retentionDays, observedLicense });
    const typeHandlerVersion = higherVersion(majorMinor(ctx.extension.version), current?.typeHandlerVersion);
    const result = await ctx.api.createOrUpdateExtension(ref, {
      location: machine.location,
      publisher: ctx.extension.publisher,
      type: ctx.extension.type,
      typeHandlerVersion,
      settings,
      forceUpdateTag: ctx.forceUpdateTag,
      ...(ctx.protectedSettings ? { protectedSettings: ctx.protectedSettings.forRequest() } : {}),
    });
    return {
      result: 'ok',
      detail: `${current ? 'redeployed' : 'deployed'} ${typeHandlerVersion} (provisioning ${result.provisioningState ?? 'state not reported'}); license ${observedLicense.kind}`,
      settingsSent: settings,
    };
  } catch (error) {
    return failureOutcome(ctx, ref, error, settings);
  }
}

/** Compares dotted versions numerically; keeps `current` when it is higher. */
export function higherVersion(wanted: string, current: string | undefined): string {
  if (!current || !/^\d+(\.\d+)*$/.test(current)) return wanted;
  const a = wanted.split('.').map(Number);
  const b = current.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const difference = (b[i] ?? 0) - (a[i] ?? 0);
    if (difference !== 0) return difference > 0 ? majorMinor(current) : wanted;
  }
  return wanted;
}
