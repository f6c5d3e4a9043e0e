import { promises as fs } from 'fs';
import * as path from 'path';
import { OpensslDecryptor } from '../../extension/decrypt-openssl';
import { ConfigurationError, MissingDependencyError } from '../../extension/errors';
import { createTestCertificate, encryptToCms, makeTempDir, type TestCertificate } from '../support/cms';

// Distinctive, non-ASCII plaintext so that a leak into any error message is easy to spot.
const SECRET = 'Sup3r-Secret-Ünïcødé-Pässwörd';
const PLAINTEXT = JSON.stringify({ supportPassword: SECRET, note: 'protected' });

let root: string;
let certDir: string;
let cert: TestCertificate;
let other: TestCertificate;
let decryptor: OpensslDecryptor;
/** Every error the failure cases produced, checked at the end for the plaintext. */
const errors: unknown[] = [];

beforeAll(async () => {
  root = await makeTempDir('decrypt-openssl');
  certDir = path.join(root, 'certs');
  cert = await createTestCertificate(certDir);
  // Another certificate that is NOT in certDir: data encrypted to it must not decrypt.
  other = await createTestCertificate(path.join(root, 'other'), 'someone-else');
  decryptor = new OpensslDecryptor({ certDir });
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    errors.push(error);
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

async function expectConfigurationError(promise: Promise<unknown>, field: string): Promise<ConfigurationError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(ConfigurationError);
  expect((error as ConfigurationError).field).toBe(field);
  expect(error.message).toContain(`'${field}'`);
  return error as ConfigurationError;
}

describe('OpensslDecryptor', () => {
  test.each(['des3', 'aes256'] as const)('decrypts CMS made with %s', async (cipher) => {
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, cipher);
    await expect(decryptor.decrypt(base64, cert.thumbprint)).resolves.toBe(PLAINTEXT);
  });

  test('returns the plaintext byte for byte, with a final newline', async () => {
    const base64 = await encryptToCms(`${PLAINTEXT}\n`, cert.crtPath, 'des3');
    await expect(decryptor.decrypt(base64, cert.thumbprint)).resolves.toBe(`${PLAINTEXT}\n`);
  });

  test('accepts the thumbprint in lower case', async () => {
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256');
    await expect(decryptor.decrypt(base64, cert.thumbprint.toLowerCase())).resolves.toBe(PLAINTEXT);
  });

  test('tolerates base64 wrapped over several lines', async () => {
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256');
    const wrapped = base64.replace(/(.{64})/g, '$1\r\n');
    await expect(decryptor.decrypt(wrapped, cert.thumbprint)).resolves.toBe(PLAINTEXT);
  });

  test('an unknown thumbprint names protectedSettingsCertThumbprint and the thumbprint', async () => {
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256');
    const unknown = 'ab'.repeat(20);
    const error = await expectConfigurationError(decryptor.decrypt(base64, unknown), 'protectedSettingsCertThumbprint');
    expect(error.message).toContain(unknown);
  });

  test('a thumbprint that is not 40 hex digits names protectedSettingsCertThumbprint', async () => {
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256');
    await expectConfigurationError(decryptor.decrypt(base64, '../../etc/passwd'), 'protectedSettingsCertThumbprint');
  });

  test.each([
    ['characters outside the alphabet', '!!!not*base64!!!'],
    ['a bad length', 'QUJDRA='],
    ['padding in the middle', 'QQ==QUJD'],
    ['an empty string', ''],
  ])('corrupt base64 (%s) names protectedSettings', async (_name, bad) => {
    await expectConfigurationError(decryptor.decrypt(bad, cert.thumbprint), 'protectedSettings');
  });

  test('valid base64 that is not CMS names protectedSettings', async () => {
    const notCms = Buffer.from(PLAINTEXT, 'utf8').toString('base64');
    await expectConfigurationError(decryptor.decrypt(notCms, cert.thumbprint), 'protectedSettings');
  });

  test('CMS encrypted to another certificate names protectedSettings', async () => {
    const base64 = await encryptToCms(PLAINTEXT, other.crtPath, 'des3');
    await expectConfigurationError(decryptor.decrypt(base64, cert.thumbprint), 'protectedSettings');
  });

  test('tampered ciphertext names protectedSettings', async () => {
    // openssl writes the blocks it could decrypt before it notices the bad padding of the last one.
    const der = Buffer.from(await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256'), 'base64');
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0xff;
    await expectConfigurationError(decryptor.decrypt(der.toString('base64'), cert.thumbprint), 'protectedSettings');
  });

  test('a key that does not belong to the certificate is a missing dependency', async () => {
    const dir = path.join(root, 'mismatched');
    await fs.mkdir(dir);
    await fs.copyFile(cert.crtPath, path.join(dir, `${cert.thumbprint}.crt`));
    await fs.copyFile(other.prvPath, path.join(dir, `${cert.thumbprint}.prv`));
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256');
    const error = await rejection(new OpensslDecryptor({ certDir: dir }).decrypt(base64, cert.thumbprint));
    expect(error).toBeInstanceOf(MissingDependencyError);
  });

  test('a missing openssl executable is a missing dependency naming it', async () => {
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256');
    const missing = path.join(root, 'no-such-openssl');
    const error = await rejection(new OpensslDecryptor({ certDir, opensslPath: missing }).decrypt(base64, cert.thumbprint));
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect(error.message).toContain(missing);
  });

  test('the plaintext never appears in an error', () => {
    expect(errors.length).toBeGreaterThanOrEqual(10);
    for (const error of errors) {
      const shown = `${String(error)} ${(error as Error).stack ?? ''} ${JSON.stringify(error)}`;
      expect(shown).not.toContain(SECRET);
      expect(shown).not.toContain('supportPassword');
    }
  });
});
