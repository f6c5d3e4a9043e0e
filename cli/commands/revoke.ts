import { requireMachine } from '../checks/machine-checks';
import type { TargetOutcome } from '../fleet/outcome';
import type { MachineRef } from '../input/azure-names';
import { revokeSettings } from '../settings/public-settings';
import { provisioning, sendSettings } from './extension-write';
import { failureOutcome } from './failure';
import type { RunContext } from './run-context';

/**
 * Sets access to None, keeping retention. Unlike the other writes it is sent to a disconnected
 * machine too: Azure queues it and it applies the moment the machine reconnects (the expiry task
 * ends access meanwhile), so the CLI reports it as still running rather than refusing.
 */
export async function revokeOne(ctx: RunContext, ref: MachineRef): Promise<TargetOutcome> {
  try {
    const machine = await requireMachine(ctx.api, ref);
    const current = await ctx.api.getExtension(ref);
    if (!current) return { result: 'ok', detail: 'the extension is not deployed: there is no access to revoke' };
    const settings = revokeSettings(current.settings);
    const offline = machine.status === 'Connected' ? '' : ` (machine ${machine.status ?? 'state unknown'})`;
    return await sendSettings(ctx, ref, settings, (result) => `access None${offline}; ${provisioning(result)}`);
  } catch (error) {
    return failureOutcome(ctx, ref, error);
  }
}
