import { promises as fs } from 'fs';
import path from 'path';
import { ConfigurationError, describeValue } from './errors';
import { stripBom } from './handler-environment';

/** The largest settings file accepted; real settings for this extension are a few hundred bytes. */
export const MAX_SETTINGS_BYTES = 64 * 1024;

/** What `<configFolder>/<N>.settings` holds for this handler, before any decryption. */
export interface HandlerSettings {
  sequenceNumber: number;
  /** True when the file is empty or absent: the manager has sent no settings yet. */
  empty: boolean;
  publicSettings: Record<string, unknown>;
  protectedSettings?: string;
  protectedSettingsCertThumbprint?: string;
}

/**
 * Reads and checks the shape of the settings file the extension manager wrote:
 * `{"runtimeSettings":[{"handlerSettings":{publicSettings, protectedSettings, protectedSettingsCertThumbprint}}]}`.
 * Content checks of the public settings belong to the caller's schema, not here.
 */
export async function readSettingsFile(configFolder: string, sequenceNumber: number): Promise<HandlerSettings> {
  const file = path.join(configFolder, `${sequenceNumber}.settings`);
  const none: HandlerSettings = { sequenceNumber, empty: true, publicSettings: {} };
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return none;
    throw error;
  }
  if (bytes.length > MAX_SETTINGS_BYTES) {
    throw new ConfigurationError('settings file', `${bytes.length} bytes in ${path.basename(file)}`, `a file of at most ${MAX_SETTINGS_BYTES} bytes`);
  }
  const text = stripBom(bytes.toString('utf8')).trim();
  if (text === '') return none;
  return { sequenceNumber, empty: false, ...parseSettingsText(text) };
}

function parseSettingsText(text: string): Omit<HandlerSettings, 'sequenceNumber' | 'empty'> {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError('settings file', `text that is not JSON (${(error as Error).message})`, 'a JSON object with a runtimeSettings array');
  }
  if (!isObject(document)) {
    throw new ConfigurationError('settings file', describeValue(document), 'a JSON object with a runtimeSettings array');
  }
  const runtimeSettings = document.runtimeSettings;
  if (!Array.isArray(runtimeSettings)) {
    throw new ConfigurationError('runtimeSettings', describeValue(runtimeSettings), 'an array with one {"handlerSettings": {...}} element');
  }
  if (runtimeSettings.length !== 1) {
    throw new ConfigurationError('runtimeSettings', `an array of ${runtimeSettings.length} item(s)`, 'an array of exactly one element');
  }
  const first = runtimeSettings[0];
  const handlerSettings = isObject(first) ? first.handlerSettings : undefined;
  if (!isObject(handlerSettings)) {
    throw new ConfigurationError('runtimeSettings[0].handlerSettings', describeValue(handlerSettings), 'an object');
  }
  const publicSettings = handlerSettings.publicSettings ?? {};
  if (!isObject(publicSettings)) {
    throw new ConfigurationError('publicSettings', describeValue(publicSettings), 'a JSON object');
  }
  const protectedSettings = optionalString(handlerSettings, 'protectedSettings');
  const protectedSettingsCertThumbprint = optionalString(handlerSettings, 'protectedSettingsCertThumbprint');
  if (protectedSettings !== undefined && protectedSettingsCertThumbprint === undefined) {
    throw new ConfigurationError(
      'protectedSettingsCertThumbprint',
      'nothing (the field is missing)',
      'the SHA-1 thumbprint of the certificate the protected settings are encrypted to (required whenever protectedSettings is present)',
    );
  }
  return { publicSettings, protectedSettings, protectedSettingsCertThumbprint };
}

function optionalString(container: Record<string, unknown>, key: string): string | undefined {
  const value = container[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    // Never echo the value: protected settings are secret even when malformed.
    throw new ConfigurationError(key, `a value of type ${Array.isArray(value) ? 'array' : typeof value}`, 'a string');
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
