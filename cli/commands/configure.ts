import type { GrantLevel } from '../../core/desired-state';
import { TargetRefused, requireConnected, requireMachine } from '../checks/machine-checks';
import type { TargetOutcome } from '../fleet/outcome';
import type { MachineRef } from '../input/azure-names';
import { activeGrant, configureSettings, storedLevel } from '../settings/public-settings';
import { notDeployed, provisioning, sendSettings } from './extension-write';
import { failureOutcome } from './failure';
import type { RunContext } from './run-context';

export interface ConfigureRequest {
  level?: GrantLevel;
  retentionDays?: number;
}

/** Changes the level of the grant in force and/or the retention; refuses a level change with no grant. */
export async function configureOne(ctx: RunContext, ref: MachineRef, request: ConfigureRequest): Promise<TargetOutcome> {
  try {
    const machine = await requireMachine(ctx.api, ref);
    requireConnected(machine);
    const current = await ctx.api.getExtension(ref);
    if (!current) return notDeployed(ref);
    const now = ctx.now();
    if (request.level && !activeGrant(current.settings, now)) {
      throw new TargetRefused(
        `there is no grant in force on ${ref.name} (${describeAccess(current.settings)}), so there is no level to change. Fix: grant access first (arc-remote-support grant --level ${request.level} --duration <d> --support-request <id>).`,
      );
    }
    const { settings, droppedExpiredGrant } = configureSettings(current.settings, request, now);
    const changes = [request.level ? `level ${request.level}` : '', request.retentionDays ? `retention ${request.retentionDays} days` : '']
      .filter(Boolean)
      .join(', ');
    const note = droppedExpiredGrant ? ' (the expired grant is now sent as access None)' : '';
    return await sendSettings(ctx, ref, settings, (result) => `${changes}${note}; ${provisioning(result)}`);
  } catch (error) {
    return failureOutcome(ctx, ref, error);
  }
}

function describeAccess(settings: Record<string, unknown> | undefined): string {
  const access = settings?.access as { level?: unknown; expiresAt?: string } | undefined;
  const level = storedLevel(settings);
  if (level === 'None') return 'access None';
  if (level === undefined) return `access level ${JSON.stringify(access?.level)}, which the extension refuses`;
  return `the ${level} grant expired at ${access?.expiresAt}`;
}
