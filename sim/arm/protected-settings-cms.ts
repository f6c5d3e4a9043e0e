/**
 * The certificate a machine holds for protected settings and the envelope Azure makes to it: a
 * throwaway self-signed certificate made with openssl at run time (keys are never committed), and
 * CMS EnvelopedData made the way Azure makes it. The emulated extension manager encrypts protected
 * settings with these; the decryptor tests use them too.
 */
import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import execa from 'execa';

export interface TestCertificate {
  /** Upper-case hex SHA-1 of the DER certificate, as Windows and the Linux agent write it. */
  thumbprint: string;
  /** `<dir>/<THUMBPRINT>.crt` (PEM certificate) and `.prv` (PEM private key): the Linux agent layout. */
  crtPath: string;
  prvPath: string;
  /** The same certificate and key as PKCS#12, for importing into a .NET certificate store. */
  pfxPath: string;
  pfxPassword: string;
}

export type CmsCipher = 'des3' | 'aes256';

/** Creates a self-signed RSA certificate and key in `dir`, named by thumbprint. */
export async function createTestCertificate(dir: string, commonName = 'arc-remote-support-test'): Promise<TestCertificate> {
  await fs.mkdir(dir, { recursive: true });
  // Generate under a neutral name first: the thumbprint is known only once the certificate exists.
  const work = await fs.mkdtemp(path.join(dir, 'gen-'));
  const crt = path.join(work, 'cert.crt');
  const prv = path.join(work, 'cert.prv');
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${commonName}`,
    '-keyout',
    prv,
    '-out',
    crt,
  ]);
  const { stdout } = await execa('openssl', ['x509', '-in', crt, '-noout', '-fingerprint', '-sha1']);
  // "sha1 Fingerprint=C7:18:...": keep the hex digits only.
  const thumbprint = (stdout.split('=')[1] ?? '').replace(/:/g, '').trim().toUpperCase();
  if (!/^[0-9A-F]{40}$/.test(thumbprint)) throw new Error(`unexpected openssl fingerprint output: ${stdout}`);

  const crtPath = path.join(dir, `${thumbprint}.crt`);
  const prvPath = path.join(dir, `${thumbprint}.prv`);
  await fs.rename(crt, crtPath);
  await fs.rename(prv, prvPath);
  await fs.rm(work, { recursive: true, force: true });

  // The password goes through the environment, not the command line.
  const pfxPath = path.join(dir, `${thumbprint}.pfx`);
  const pfxPassword = randomBytes(12).toString('hex');
  await execa('openssl', ['pkcs12', '-export', '-in', crtPath, '-inkey', prvPath, '-out', pfxPath, '-passout', 'env:TEST_PFX_PASSWORD'], {
    env: { TEST_PFX_PASSWORD: pfxPassword },
  });
  return { thumbprint, crtPath, prvPath, pfxPath, pfxPassword };
}

/**
 * Encrypts `plaintext` (UTF-8) to the certificate as base64 CMS EnvelopedData with RSA PKCS#1 v1.5
 * key transport (openssl's default for RSA recipients, and what Azure uses).
 */
export async function encryptToCms(plaintext: string, crtPath: string, cipher: CmsCipher): Promise<string> {
  const { stdout } = await execa(
    'openssl',
    ['cms', '-encrypt', '-binary', '-outform', 'DER', `-${cipher}`, crtPath],
    // stripFinalNewline: false, or execa drops the last DER byte whenever it happens to be 0x0A.
    { input: Buffer.from(plaintext, 'utf8'), encoding: null, stripFinalNewline: false },
  );
  return stdout.toString('base64');
}
