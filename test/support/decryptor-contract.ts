/**
 * One contract for every ProtectedSettingsDecryptor: the same inputs must give the same results
 * (plaintext, or a ConfigurationError naming the same field) on Windows and Linux alike.
 */
import { ConfigurationError } from '../../extension/errors';
import type { ProtectedSettingsDecryptor } from '../../extension/protected-settings';
import { encryptToCms, type TestCertificate } from '../../sim/arm/protected-settings-cms';

// Distinctive, non-ASCII plaintext so that a leak into any error message is easy to spot.
export const SECRET = 'Sup3r-Secret-Ünïcødé-Pässwörd';
export const PLAINTEXT = JSON.stringify({ supportPassword: SECRET, note: 'protected' });

/** Collects every error a suite provoked, to check at the end that none shows the plaintext. */
export class ErrorCollector {
  readonly errors: unknown[] = [];

  async rejection(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (error) {
      this.errors.push(error);
      return error as Error;
    }
    throw new Error('expected the promise to reject');
  }

  async configurationError(promise: Promise<unknown>, field: string): Promise<ConfigurationError> {
    const error = await this.rejection(promise);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe(field);
    expect(error.message).toContain(`'${field}'`);
    return error as ConfigurationError;
  }

  expectNoPlaintextShown(): void {
    for (const error of this.errors) {
      const shown = `${String(error)} ${(error as Error).stack ?? ''} ${JSON.stringify(error)}`;
      expect(shown).not.toContain(SECRET);
      expect(shown).not.toContain('supportPassword');
    }
  }
}

export interface ContractSubject {
  decryptor: ProtectedSettingsDecryptor;
  /** Installed where the decryptor looks, with its private key. */
  certificate: TestCertificate;
  /** Not installed: data encrypted to it must not decrypt. */
  stranger: TestCertificate;
}

export function describeDecryptorContract(name: string, subject: () => ContractSubject, collector: ErrorCollector): void {
  describe(`${name}: the decryptor contract`, () => {
    const encrypt = (text: string, cipher: 'des3' | 'aes256' = 'aes256', to?: TestCertificate) =>
      encryptToCms(text, (to ?? subject().certificate).crtPath, cipher);

    test.each(['des3', 'aes256'] as const)('decrypts CMS made with %s', async (cipher) => {
      await expect(subject().decryptor.decrypt(await encrypt(PLAINTEXT, cipher), subject().certificate.thumbprint)).resolves.toBe(
        PLAINTEXT,
      );
    });

    test('returns the plaintext byte for byte, with a final newline', async () => {
      await expect(subject().decryptor.decrypt(await encrypt(`${PLAINTEXT}\n`), subject().certificate.thumbprint)).resolves.toBe(
        `${PLAINTEXT}\n`,
      );
    });

    test('accepts the thumbprint in lower case and base64 wrapped over lines', async () => {
      const wrapped = (await encrypt(PLAINTEXT, 'des3')).replace(/(.{64})/g, '$1\r\n');
      await expect(subject().decryptor.decrypt(wrapped, subject().certificate.thumbprint.toLowerCase())).resolves.toBe(PLAINTEXT);
    });

    test('an unknown thumbprint names protectedSettingsCertThumbprint and the thumbprint', async () => {
      const unknown = 'ab'.repeat(20);
      const error = await collector.configurationError(
        subject().decryptor.decrypt(await encrypt(PLAINTEXT), unknown),
        'protectedSettingsCertThumbprint',
      );
      expect(error.message).toContain(unknown);
    });

    test('a thumbprint that is not 40 hex digits names protectedSettingsCertThumbprint', async () => {
      await collector.configurationError(
        subject().decryptor.decrypt(await encrypt(PLAINTEXT), '../../etc/passwd'),
        'protectedSettingsCertThumbprint',
      );
    });

    test.each([
      ['characters outside the alphabet', '!!!not*base64!!!'],
      ['a bad length', 'QUJDRA='],
      ['padding in the middle', 'QQ==QUJD'],
      ['an empty string', ''],
    ])('corrupt base64 (%s) names protectedSettings', async (_name, bad) => {
      await collector.configurationError(subject().decryptor.decrypt(bad, subject().certificate.thumbprint), 'protectedSettings');
    });

    test('valid base64 that is not CMS names protectedSettings', async () => {
      const notCms = Buffer.from(PLAINTEXT, 'utf8').toString('base64');
      await collector.configurationError(subject().decryptor.decrypt(notCms, subject().certificate.thumbprint), 'protectedSettings');
    });

    test('CMS encrypted to another certificate names protectedSettings', async () => {
      const base64 = await encrypt(PLAINTEXT, 'des3', subject().stranger);
      await collector.configurationError(subject().decryptor.decrypt(base64, subject().certificate.thumbprint), 'protectedSettings');
    });

    test('tampered ciphertext names protectedSettings', async () => {
      const der = Buffer.from(await encrypt(PLAINTEXT), 'base64');
      der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0xff;
      await collector.configurationError(
        subject().decryptor.decrypt(der.toString('base64'), subject().certificate.thumbprint),
        'protectedSettings',
      );
    });
  });
}
