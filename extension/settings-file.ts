import { readFileSync } from 'fs';
import { join } from 'path';
import { ConfigurationError, describeValue } from './errors';
import { sha256Hex } from './sha256';
import { formatJsonPath, parseStrictJson, StrictJsonError, type JsonPath } from './strict-json';
import { describeUnsafeCharacter, findUnsafeCharacter, SAFE_TEXT_DESCRIPTION } from './unsafe-text';

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
 * The bytes of `<configFolder>/<N>.settings` as the manager wrote them, or null when there is no
 * such file. A run reads them once: the status it writes answers exactly these bytes.
 */
export async function readSettingsBytes(configFolder: string, sequenceNumber: number): Promise<Buffer | null> {
  try {
    return readFileSync(settingsFilePath(configFolder, sequenceNumber));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export function settingsFilePath(configFolder: string, sequenceNumber: number): string {
  return join(configFolder, `${sequenceNumber}.settings`);
}

/**
 * Which settings content a status answers: SHA-256 of the file's bytes (no file counts as empty).
 * The protected settings in the file are ciphertext, so the digest reveals nothing secret.
 */
export function settingsDigest(bytes: Buffer | null): string {
  return `sha256:${sha256Hex(bytes ?? new Uint8Array(0))}`;
}

/** Reads and checks the settings file; see parseSettingsFile. */
export async function readSettingsFile(configFolder: string, sequenceNumber: number): Promise<HandlerSettings> {
  return parseSettingsFile(sequenceNumber, await readSettingsBytes(configFolder, sequenceNumber));
}

/**
 * Checks the settings file the extension manager wrote:
 * `{"runtimeSettings":[{"handlerSettings":{publicSettings, protectedSettings, protectedSettingsCertThumbprint}}]}`.
 * Strictly: UTF-8, each key once per object, and no text anywhere that could forge what the
 * history, event log or status show (see unsafe-text.ts). Content checks of the public settings
 * belong to the caller's schema, not here.
 */
export function parseSettingsFile(sequenceNumber: number, bytes: Buffer | null): HandlerSettings {
  const none: HandlerSettings = { sequenceNumber, empty: true, publicSettings: {} };
  if (bytes === null) return none;
  if (bytes.length > MAX_SETTINGS_BYTES) {
    throw new ConfigurationError(
      'settings file',
      `${bytes.length} bytes in ${sequenceNumber}.settings`,
      `a file of at most ${MAX_SETTINGS_BYTES} bytes`,
    );
  }
  const body = hasUtf8Bom(bytes) ? bytes.subarray(3) : bytes;
  if (body.every((byte) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d)) return none;
  const document = parseDocument(body);
  refuseUnsafeText(document, []);
  return { sequenceNumber, empty: false, ...settingsOf(document) };
}

function parseDocument(bytes: Buffer): unknown {
  try {
    return parseStrictJson(bytes);
  } catch (error) {
    if (!(error instanceof StrictJsonError)) throw error;
    const field = fieldOf(error.path);
    switch (error.problem) {
      case 'duplicate-key':
        throw new ConfigurationError(
          field,
          `${error.detail} (${where(bytes, error.offset)})`,
          'each key at most once in an object: readers differ on which of two values wins, and a second value could silently turn a revoke into a grant',
        );
      case 'invalid-utf8':
        throw new ConfigurationError(field, error.detail, 'a settings file in UTF-8');
      case 'control-character':
        throw new ConfigurationError(field, `${error.detail} (${where(bytes, error.offset)})`, SAFE_TEXT_DESCRIPTION);
      case 'syntax':
        throw new ConfigurationError(
          'settings file',
          `text that is not JSON (${error.detail} at ${where(bytes, error.offset)})`,
          'a JSON object with a runtimeSettings array',
        );
    }
  }
}

/** Every key and string of the document, at any depth, must be safe to echo in audit records. */
function refuseUnsafeText(value: unknown, path: JsonPath): void {
  if (typeof value === 'string') {
    const found = findUnsafeCharacter(value);
    if (found)
      throw new ConfigurationError(
        fieldOf(path),
        `${shownIfPublic(path, value)}text with ${describeUnsafeCharacter(found)}`,
        SAFE_TEXT_DESCRIPTION,
      );
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => refuseUnsafeText(item, [...path, index]));
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const found = findUnsafeCharacter(key);
      if (found)
        throw new ConfigurationError(
          fieldOf([...path, key]),
          `${shownIfPublic(path, key)}a key with ${describeUnsafeCharacter(found)}`,
          SAFE_TEXT_DESCRIPTION,
        );
      refuseUnsafeText(item, [...path, key]);
    }
  }
}

/** Public settings are shown (escaped); anything else in the file may be secret and is only described. */
function shownIfPublic(path: JsonPath, text: string): string {
  const isPublic = path[0] === 'runtimeSettings' && path[1] === 0 && path[2] === 'handlerSettings' && path[3] === 'publicSettings';
  return isPublic ? `${describeValue(text)}, ` : '';
}

/**
 * A path in the file as the other errors name fields: public settings by their own path
 * (`access.consent.acceptedBy`), handlerSettings' other keys by their name (`protectedSettings`).
 */
function fieldOf(path: JsonPath): string {
  const [runtime, index, handler, ...inHandler] = path;
  if (runtime !== 'runtimeSettings' || index !== 0 || handler !== 'handlerSettings')
    return path.length > 0 ? formatJsonPath(path) : 'settings file';
  if (inHandler.length === 0) return 'runtimeSettings[0].handlerSettings';
  const [first, ...rest] = inHandler;
  if (first === 'publicSettings' && rest.length > 0) return formatJsonPath(rest);
  return formatJsonPath(inHandler);
}

/** "line 3, column 14" of a byte offset (columns in bytes, from 1). */
function where(bytes: Buffer, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset && index < bytes.length; index++) {
    if (bytes[index] === 0x0a) {
      line += 1;
      lineStart = index + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

function hasUtf8Bom(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

function settingsOf(document: unknown): Omit<HandlerSettings, 'sequenceNumber' | 'empty'> {
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
