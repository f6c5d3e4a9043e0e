import { ConfigurationError, describeValue } from './errors';

/**
 * Protected settings arrive as base64 CMS EnvelopedData encrypted to a certificate that the
 * extension manager installed on the machine. Each platform decrypts with its own real tool;
 * the handler only sees this interface.
 */
export interface ProtectedSettingsDecryptor {
  /**
   * Decrypts `base64Cms` with the private key of the certificate whose SHA-1 thumbprint is given.
   * Returns the plaintext (JSON text). Throws ConfigurationError naming
   * `protectedSettingsCertThumbprint` when no such certificate exists, and naming
   * `protectedSettings` when the data is not valid base64 CMS or cannot be decrypted with it.
   * The plaintext never appears in an error.
   */
  decrypt(base64Cms: string, thumbprint: string): Promise<string>;
}

export const THUMBPRINT_FIELD = 'protectedSettingsCertThumbprint';
export const SETTINGS_FIELD = 'protectedSettings';

/**
 * Checks a thumbprint from settings and returns it upper-case. Strict hex also keeps it safe to use
 * in a file name and on a command line.
 */
export function normalizeThumbprint(thumbprint: string): string {
  const trimmed = typeof thumbprint === 'string' ? thumbprint.trim() : '';
  if (!/^[0-9A-Fa-f]{40}$/.test(trimmed)) {
    throw new ConfigurationError(
      THUMBPRINT_FIELD,
      describeValue(thumbprint),
      'the 40 hexadecimal digits of a certificate SHA-1 thumbprint',
    );
  }
  return trimmed.toUpperCase();
}

/** How an error shows the protected settings: their size only, never their content. */
export function describeProtectedSettings(base64: string): string {
  return `a value of ${base64.length} character(s)`;
}

/**
 * Decodes base64 strictly: whitespace (line wrapping) is ignored, anything else outside the
 * alphabet, or wrong padding, is rejected. Buffer.from alone would silently skip bad characters.
 */
export function decodeProtectedSettingsBase64(base64: string): Buffer {
  const compact = typeof base64 === 'string' ? base64.replace(/\s+/g, '') : '';
  if (compact === '' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(compact)) {
    throw new ConfigurationError(
      SETTINGS_FIELD,
      typeof base64 === 'string' ? `${describeProtectedSettings(base64)} that is not valid base64` : describeValue(base64),
      'base64 CMS EnvelopedData encrypted to the certificate named by protectedSettingsCertThumbprint',
    );
  }
  return Buffer.from(compact, 'base64');
}

/** Decodes decrypted bytes as UTF-8 text (a BOM is dropped); undefined when they are not UTF-8. */
export function decodeUtf8Plaintext(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}
