/** Finding what a request names, with ARM's 404 answers when it is not there. */
import { armError, type ArmReply } from './arm-reply';
import type { EmulatorState } from './emulator-state';
import type { MachineRecord } from './machine-store';

export type Lookup<T> = { found: T; reply?: undefined } | { found?: undefined; reply: ArmReply };

export function subscriptionMissing(state: EmulatorState, subscriptionId: string): ArmReply | undefined {
  if (state.machines.hasSubscription(subscriptionId)) return undefined;
  return armError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
}

export function resourceGroupMissing(state: EmulatorState, subscriptionId: string, resourceGroup: string): ArmReply | undefined {
  const noSubscription = subscriptionMissing(state, subscriptionId);
  if (noSubscription) return noSubscription;
  if (state.machines.hasResourceGroup(subscriptionId, resourceGroup)) return undefined;
  return armError(404, 'ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`);
}

export function lookupMachine(state: EmulatorState, subscriptionId: string, resourceGroup: string, name: string): Lookup<MachineRecord> {
  const noGroup = resourceGroupMissing(state, subscriptionId, resourceGroup);
  if (noGroup) return { reply: noGroup };
  const machine = state.machines.find(subscriptionId, resourceGroup, name);
  if (machine) return { found: machine };
  return { reply: resourceNotFound(`Microsoft.HybridCompute/machines/${name}`, resourceGroup) };
}

/** ARM's wording for a missing resource in an existing resource group. */
export function resourceNotFound(typeAndName: string, resourceGroup: string): ArmReply {
  return armError(
    404,
    'ResourceNotFound',
    `The Resource '${typeAndName}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}
