/** Finding what a request names, with ARM's 404 answers when it is not there. */
import { armError, type ArmReply } from './arm-reply';
import type { EmulatorState } from './emulator-state';
import type { MachineRecord } from './machine-store';

export type Lookup<T> = { found: T; reply?: undefined } | { found?: undefined; reply: ArmReply };

/** A subscription exists here through what was seeded in it: machines, Relay namespaces or support tickets. */
export function subscriptionMissing(state: EmulatorState, subscriptionId: string): ArmReply | undefined {
  if (
    state.machines.hasSubscription(subscriptionId) ||
    state.relay.hasSubscription(subscriptionId) ||
    state.support.hasSubscription(subscriptionId)
  )
    return undefined;
  return armError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
}

export function resourceGroupMissing(state: EmulatorState, subscriptionId: string, resourceGroup: string): ArmReply | undefined {
  const noSubscription = subscriptionMissing(state, subscriptionId);
  if (noSubscription) return noSubscription;
  if (state.machines.hasResourceGroup(subscriptionId, resourceGroup) || state.relay.hasResourceGroup(subscriptionId, resourceGroup))
    return undefined;
  return armError(404, 'ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`);
}

export function lookupMachine(state: EmulatorState, subscriptionId: string, resourceGroup: string, name: string): Lookup<MachineRecord> {
  const noGroup = resourceGroupMissing(state, subscriptionId, resourceGroup);
  if (noGroup) return { reply: noGroup };
  const machine = state.machines.find(subscriptionId, resourceGroup, name);
  if (machine) return { found: machine };
  return { reply: resourceNotFound(`Microsoft.HybridCompute/machines/${name}`, resourceGroup) };
}

/** ARM's answer for a child resource (a hybrid connection, a rule) whose parent is not there. */
export function parentResourceNotFound(parentName: string): ArmReply {
  return armError(
    404,
    'ParentResourceNotFound',
    `Can not perform requested operation on nested resource. Parent resource '${parentName}' not found.`,
  );
}

/** ARM's wording for a missing resource in an existing resource group. */
export function resourceNotFound(typeAndName: string, resourceGroup: string): ArmReply {
  return armError(
    404,
    'ResourceNotFound',
    `The Resource '${typeAndName}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}
