/**
 * What must hold before the CLI writes to a machine (DESIGN sections 5 and 6): the machine exists,
 * its Arc agent is Connected (a disconnected machine queues operations for hours), it runs
 * Windows, and for deploy and grant its license is Pay-as-you-go or Software Assurance.
 * Each refusal names the machine, what was seen and the fix.
 */
import { formatUtc } from '../../core/desired-state';
import { interpretLicenseProfile } from '../../core/interpret-license';
import type { ArcMachines, MachineView } from '../arm/arc-machines';
import type { MachineRef } from '../input/azure-names';
import type { ObservedLicense } from '../settings/public-settings';

export class TargetRefused extends Error {
  override readonly name = 'TargetRefused';
}

export function isTargetRefused(error: unknown): error is TargetRefused {
  return error instanceof Error && error.name === 'TargetRefused';
}

export async function requireMachine(api: ArcMachines, ref: MachineRef): Promise<MachineView> {
  const machine = await api.getMachine(ref);
  if (!machine) {
    throw new TargetRefused(
      `machine ${ref.name} was not found in resource group ${ref.resourceGroup} of subscription ${ref.subscriptionId}. ` +
        `Fix: check the name (az connectedmachine list -g ${ref.resourceGroup} -o table) and that the machine is onboarded to Azure Arc.`,
    );
  }
  return machine;
}

export function requireConnected(machine: MachineView): void {
  if (machine.status === 'Connected') return;
  throw new TargetRefused(
    `machine ${machine.ref.name} is ${machine.status ?? 'in an unknown state'} (Azure Arc agent status); Azure would queue the change until it reconnects. ` +
      'Fix: bring the machine online and check its agent with `azcmagent show`, then run again.',
  );
}

export function requireWindows(machine: MachineView): void {
  if ((machine.osName ?? '').toLowerCase() === 'windows') return;
  throw new TargetRefused(
    `machine ${machine.ref.name} runs ${machine.osName ?? 'an unknown OS'}; this extension is for Windows Server 2016 and later. Fix: leave this machine out of the targets.`,
  );
}

/**
 * The license profile resource first; the machine's own `licenseProfile` when that resource is
 * absent or unreadable. Interpreted by the same rule the handler applies on the node.
 */
export async function requireEligibleLicense(api: ArcMachines, machine: MachineView, now: Date): Promise<ObservedLicense> {
  const read = await api.getLicenseProfile(machine.ref);
  const source = read.found ? 'licenseProfiles/default' : `the machine's licenseProfile; ${read.reason}`;
  const observation = interpretLicenseProfile(read.found ? read.profile : machine.licenseProfile, 'control-plane');
  if (observation.kind === 'PayAsYouGo' || observation.kind === 'SoftwareAssurance') {
    return { kind: observation.kind, observedAt: formatUtc(new Date(Math.floor(now.getTime() / 1000) * 1000)) };
  }
  throw new TargetRefused(
    `machine ${machine.ref.name} is not eligible: its license is ${observation.kind === 'Unknown' ? 'unknown' : 'neither Pay-as-you-go nor Software Assurance'} ` +
      `(${observation.detail}, in ${source}). Fix: enable Windows Server Pay-as-you-go or attest Software Assurance for this machine in Azure (Azure Arc, Licenses), then run again.`,
  );
}

/**
 * What deploy and grant require before they send anything: the machine exists, is Connected, runs
 * Windows, and is Pay-as-you-go or Software Assurance. Returns it with the license seen.
 */
export async function requireEligibleMachine(
  api: ArcMachines,
  ref: MachineRef,
  now: Date,
): Promise<{ machine: MachineView; observedLicense: ObservedLicense }> {
  const machine = await requireMachine(api, ref);
  requireConnected(machine);
  requireWindows(machine);
  return { machine, observedLicense: await requireEligibleLicense(api, machine, now) };
}
