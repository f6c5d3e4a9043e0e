import type { RuntimeConfig } from '../extension/dispatcher';
import { MissingDependencyError } from '../extension/errors';
import { DEFAULT_LOCK_WAIT_MS } from '../extension/lock';
import { SettingsSchema } from '../extension/settings-schema';
import settingsSchema from '../manifests/settings.schema.json';
import validateSettings from '../manifests/settings.validator';
import { platformDecryptor } from './compose';
import { dataFolder, dataPaths } from './data-folder';
import { lifecycleHandlers, type LifecycleOptions } from './lifecycle';

export interface ExtensionIdentity {
  publisher: string;
  type: string;
  version: string;
}

/** Wires the protocol runtime to this extension's lifecycle; tests may set the clock and the host. */
export function createRuntimeConfig(identity: ExtensionIdentity, options: Omit<LifecycleOptions, 'version'> = {}): RuntimeConfig {
  return {
    handlerName: `${identity.publisher}.${identity.type}`,
    version: identity.version,
    handlers: lifecycleHandlers({ ...options, version: identity.version }),
    settingsSchema: new SettingsSchema(validateSettings, settingsSchema),
    decryptor: platformDecryptor,
    lockPath: (context) => dataPaths(dataFolder(context.environment)).lock,
    statusRecordFolder: (context) => dataPaths(dataFolder(context.environment)).statusRecords,
    lockWaitMs: (context) => lockWaitMs(context.environment),
  };
}

export const LOCK_WAIT_VARIABLE = 'ARC_REMOTE_SUPPORT_LOCK_WAIT_MS';

/**
 * How long a run waits for another to release the handler lock. `ARC_REMOTE_SUPPORT_LOCK_WAIT_MS`
 * shortens it for tests and the demo, which cannot wait two minutes; it can never lengthen it
 * past what the manager allows a command.
 */
export function lockWaitMs(environment: NodeJS.ProcessEnv): number {
  const text = environment[LOCK_WAIT_VARIABLE];
  if (text === undefined || text === '') return DEFAULT_LOCK_WAIT_MS;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (value >= 1 && value <= DEFAULT_LOCK_WAIT_MS) return value;
  throw new MissingDependencyError(
    `${LOCK_WAIT_VARIABLE} is ${JSON.stringify(text)}; accepted: a whole number of milliseconds from 1 to ${DEFAULT_LOCK_WAIT_MS}, or unset for ${DEFAULT_LOCK_WAIT_MS}. Fix the variable or remove it.`,
  );
}
