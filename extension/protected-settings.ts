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
