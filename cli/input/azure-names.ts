/**
 * Azure names and ids, checked before anything is sent. The patterns come from the HybridCompute
 * API 2024-07-10 (`machineName`: ^[a-zA-Z0-9-_\.]{1,54}$) and the resource-manager common types
 * (`resourceGroupName`: 1-90 of letters, digits, - _ . ( ), not ending in a dot).
 */
import { InputError } from '../errors';

export const MACHINE_NAME = /^[a-zA-Z0-9-_.]{1,54}$/;
export const RESOURCE_GROUP_NAME = /^[-\w.()]{1,90}$/;
export const SUBSCRIPTION_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MACHINE_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.HybridCompute\/machines\/([^/]+)\/?$/i;

/** A machine Azure knows by these three parts. */
export interface MachineRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export function machineId(ref: MachineRef): string {
  return `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.HybridCompute/machines/${ref.name}`;
}

/** Same machine? Azure names are case-insensitive. */
export function sameMachine(a: MachineRef, b: MachineRef): boolean {
  return machineId(a).toLowerCase() === machineId(b).toLowerCase();
}

export function isResourceGroupName(text: string): boolean {
  return RESOURCE_GROUP_NAME.test(text) && !text.endsWith('.');
}

export function checkResourceGroup(text: string, option = '--resource-group'): string {
  if (isResourceGroupName(text)) return text;
  throw new InputError(
    option,
    text,
    'A resource group name is 1 to 90 letters, digits and - _ . ( ) characters and does not end with a dot.',
  );
}

export function checkSubscription(text: string, option = '--subscription'): string {
  if (SUBSCRIPTION_ID.test(text)) return text.toLowerCase();
  throw new InputError(
    option,
    text,
    'A subscription id is a GUID such as 00000000-0000-0000-0000-000000000000 (az account show --query id).',
  );
}

/**
 * `--machine` is a bare name (resolved in `--resource-group` and the subscription) or a full ARM id.
 * Returns the reference, or the reason it is not one.
 */
export function parseMachineArgument(
  text: string,
  defaults: { subscriptionId?: string; resourceGroup?: string },
): { ok: true; ref: MachineRef } | { ok: false; reason: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith('/')) {
    const match = MACHINE_ID.exec(trimmed);
    if (!match) {
      return {
        ok: false,
        reason: `--machine ${JSON.stringify(text)} is not an Arc machine id; expected /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.HybridCompute/machines/<name>`,
      };
    }
    const [, subscriptionId, resourceGroup, name] = match as unknown as [string, string, string, string];
    if (!SUBSCRIPTION_ID.test(subscriptionId))
      return { ok: false, reason: `--machine ${JSON.stringify(text)}: the subscription ${JSON.stringify(subscriptionId)} is not a GUID` };
    if (!isResourceGroupName(resourceGroup))
      return {
        ok: false,
        reason: `--machine ${JSON.stringify(text)}: the resource group ${JSON.stringify(resourceGroup)} is not a valid name (1-90 letters, digits, - _ . ( ), not ending in a dot)`,
      };
    if (!MACHINE_NAME.test(name)) return { ok: false, reason: machineNameReason(name) };
    return { ok: true, ref: { subscriptionId: subscriptionId.toLowerCase(), resourceGroup, name } };
  }
  if (!MACHINE_NAME.test(trimmed)) return { ok: false, reason: machineNameReason(text) };
  if (!defaults.resourceGroup) {
    return {
      ok: false,
      reason: `--machine ${JSON.stringify(text)} is a bare name: add --resource-group <rg>, or give the machine's full ARM id`,
    };
  }
  if (!defaults.subscriptionId) {
    return {
      ok: false,
      reason: `--machine ${JSON.stringify(text)} needs a subscription: add --subscription <id> or set AZURE_SUBSCRIPTION_ID`,
    };
  }
  return { ok: true, ref: { subscriptionId: defaults.subscriptionId, resourceGroup: defaults.resourceGroup, name: trimmed } };
}

function machineNameReason(name: string): string {
  return `--machine ${JSON.stringify(name)} is not a valid Arc machine name: 1 to 54 letters, digits and - _ . characters`;
}

/** Extension versions as Arc writes them: 1.0, 1.0.3, 1.10.2.0. */
const EXTENSION_VERSION = /^(0|[1-9]\d{0,8})(\.(0|[1-9]\d{0,8})){1,3}$/;

export function checkExtensionVersion(text: string): string {
  if (EXTENSION_VERSION.test(text.trim())) return text.trim();
  throw new InputError('--version', text, 'Give the extension version to upgrade to, numbers separated by dots such as 1.0.1 or 1.1.');
}
