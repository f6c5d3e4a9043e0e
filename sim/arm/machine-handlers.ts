/** Reading machines and their license profiles: Machines_Get, Machines_ListBy*, LicenseProfiles_Get/List. */
import { ok, type ArmReply, type ArmRequest } from './arm-reply';
import type { EmulatorState } from './emulator-state';
import { licenseProfileResource, machineResource } from './machine-resource';
import { lookupMachine, resourceGroupMissing, resourceNotFound, subscriptionMissing } from './lookups';
import type { MachineRecord } from './machine-store';

export function getMachine(state: EmulatorState, _request: ArmRequest, [subscriptionId, resourceGroup, name]: string[]): ArmReply {
  const machine = lookupMachine(state, subscriptionId!, resourceGroup!, name!);
  return machine.reply ?? ok(machineResource(machine.found, state.tenantId));
}

export function listMachinesBySubscription(state: EmulatorState, request: ArmRequest, [subscriptionId]: string[]): ArmReply {
  return subscriptionMissing(state, subscriptionId!) ?? page(state, request, state.machines.list(subscriptionId!));
}

export function listMachinesByResourceGroup(
  state: EmulatorState,
  request: ArmRequest,
  [subscriptionId, resourceGroup]: string[],
): ArmReply {
  return (
    resourceGroupMissing(state, subscriptionId!, resourceGroup!) ??
    page(state, request, state.machines.list(subscriptionId!, resourceGroup!))
  );
}

/** One page of machines, with a nextLink carrying the offset in $skiptoken as ARM does. */
function page(state: EmulatorState, request: ArmRequest, machines: MachineRecord[]): ArmReply {
  const offset = Math.max(0, Number.parseInt(request.query.get('$skiptoken') ?? '0', 10) || 0);
  const next = offset + state.pageSize;
  const value = machines.slice(offset, next).map((machine) => machineResource(machine, state.tenantId));
  if (next >= machines.length) return ok({ value });
  const query = new URLSearchParams({ 'api-version': request.query.get('api-version') ?? '', $skiptoken: String(next) });
  return ok({ value, nextLink: `${state.endpoint}${encodePath(request.path)}?${query.toString()}` });
}

export function getLicenseProfile(
  state: EmulatorState,
  _request: ArmRequest,
  [subscriptionId, resourceGroup, name, profileName]: string[],
): ArmReply {
  const machine = lookupMachine(state, subscriptionId!, resourceGroup!, name!);
  if (machine.reply) return machine.reply;
  const profile = profileName!.toLowerCase() === 'default' ? licenseProfileResource(machine.found) : undefined;
  return profile
    ? ok(profile)
    : resourceNotFound(`Microsoft.HybridCompute/machines/${name}/licenseProfiles/${profileName}`, resourceGroup!);
}

export function listLicenseProfiles(state: EmulatorState, _request: ArmRequest, [subscriptionId, resourceGroup, name]: string[]): ArmReply {
  const machine = lookupMachine(state, subscriptionId!, resourceGroup!, name!);
  if (machine.reply) return machine.reply;
  const profile = licenseProfileResource(machine.found);
  return ok({ value: profile ? [profile] : [] });
}

export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
