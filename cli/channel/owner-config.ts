/**
 * Where the relay namespace comes from when `--relay-namespace` is not given: the environment
 * variable, then `relayNamespace` (and `relayResourceGroup`) in `config.json` in the owner's folder.
 */
import { readFileSync } from 'fs';
import path from 'path';
import { InputError } from '../errors';
import { ownerHome } from './owner-home';

export const RELAY_NAMESPACE_VARIABLE = 'ARC_REMOTE_SUPPORT_RELAY_NAMESPACE';
export const RELAY_RESOURCE_GROUP_VARIABLE = 'ARC_REMOTE_SUPPORT_RELAY_RESOURCE_GROUP';

export interface RelayChoice {
  namespace: string;
  resourceGroup?: string;
  /** Where the namespace came from, for messages: the option, the variable or the file. */
  source: string;
}

export function relayChoice(options: { namespace?: string; resourceGroup?: string }, env: NodeJS.ProcessEnv): RelayChoice | undefined {
  const resourceGroup = options.resourceGroup ?? (env[RELAY_RESOURCE_GROUP_VARIABLE] || undefined);
  if (options.namespace) return { namespace: options.namespace, source: '--relay-namespace', ...(resourceGroup ? { resourceGroup } : {}) };
  if (env[RELAY_NAMESPACE_VARIABLE])
    return { namespace: env[RELAY_NAMESPACE_VARIABLE], source: RELAY_NAMESPACE_VARIABLE, ...(resourceGroup ? { resourceGroup } : {}) };
  const file = path.join(ownerHome(env), 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let config: { relayNamespace?: unknown; relayResourceGroup?: unknown };
  try {
    config = JSON.parse(text.replace(/^\uFEFF/, '')) as typeof config;
  } catch {
    throw new InputError(
      file,
      'text that is not JSON',
      'Make it a JSON object such as {"relayNamespace": "contoso-support", "relayResourceGroup": "rg-relay"}, or remove it.',
    );
  }
  if (config.relayNamespace === undefined) return undefined;
  if (
    typeof config.relayNamespace !== 'string' ||
    (config.relayResourceGroup !== undefined && typeof config.relayResourceGroup !== 'string')
  )
    throw new InputError(`${file} relayNamespace`, config.relayNamespace, 'Give the namespace name (and relayResourceGroup) as text.');
  const group = resourceGroup ?? (config.relayResourceGroup as string | undefined);
  return { namespace: config.relayNamespace, source: `relayNamespace in ${file}`, ...(group ? { resourceGroup: group } : {}) };
}
