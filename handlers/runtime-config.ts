import type { RuntimeConfig } from '../extension/dispatcher';
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
  };
}
