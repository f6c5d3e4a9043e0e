/** The Linux decryptor: openssl with the agent's `<THUMBPRINT>.crt/.prv` layout. */
import { promises as fs } from 'fs';
import * as path from 'path';
import { OpensslDecryptor } from '../../extension/decrypt-openssl';
import { MissingDependencyError } from '../../extension/errors';
import { createTestCertificate, encryptToCms, type TestCertificate } from '../../sim/arm/protected-settings-cms';
import { makeTempDir } from '../support/cms';
import { describeDecryptorContract, ErrorCollector, PLAINTEXT, type ContractSubject } from '../support/decryptor-contract';

let root: string;
let certDir: string;
let subject: ContractSubject;
const collector = new ErrorCollector();

beforeAll(async () => {
  root = await makeTempDir('decrypt-openssl');
  certDir = path.join(root, 'certs');
  const certificate = await createTestCertificate(certDir);
  const stranger = await createTestCertificate(path.join(root, 'other'), 'someone-else');
  subject = { decryptor: new OpensslDecryptor({ certDir }), certificate, stranger };
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describeDecryptorContract('OpensslDecryptor', () => subject, collector);

describe('OpensslDecryptor on its own', () => {
  let cert: TestCertificate;
  beforeAll(() => {
    cert = subject.certificate;
  });

  test('a key that does not belong to the certificate is a missing dependency', async () => {
    const dir = path.join(root, 'mismatched');
    await fs.mkdir(dir);
    await fs.copyFile(cert.crtPath, path.join(dir, `${cert.thumbprint}.crt`));
    await fs.copyFile(subject.stranger.prvPath, path.join(dir, `${cert.thumbprint}.prv`));
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256');
    const error = await collector.rejection(new OpensslDecryptor({ certDir: dir }).decrypt(base64, cert.thumbprint));
    expect(error).toBeInstanceOf(MissingDependencyError);
  });

  test('a missing openssl executable is a missing dependency naming it', async () => {
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256');
    const missing = path.join(root, 'no-such-openssl');
    const error = await collector.rejection(new OpensslDecryptor({ certDir, opensslPath: missing }).decrypt(base64, cert.thumbprint));
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect(error.message).toContain(missing);
  });

  test('the plaintext never appears in an error', () => {
    expect(collector.errors.length).toBeGreaterThanOrEqual(10);
    collector.expectNoPlaintextShown();
  });
});
