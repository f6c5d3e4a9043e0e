/**
 * Test helpers for protected settings: a throwaway certificate made with openssl at test time
 * (keys are never committed), CMS EnvelopedData made the way Azure makes it, and the real pwsh.
 */
import { randomBytes } from 'crypto';
import { existsSync, promises as fs } from 'fs';
import { tmpdir } from 'os';
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

export async function makeTempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(tmpdir(), `${prefix}-`));
}

/** Creates a self-signed RSA certificate and key in `dir`, named by thumbprint. */
export async function createTestCertificate(dir: string, commonName = 'arc-remote-support-test'): Promise<TestCertificate> {
  await fs.mkdir(dir, { recursive: true });
  // Generate under a neutral name first: the thumbprint is known only once the certificate exists.
  const work = await fs.mkdtemp(path.join(dir, 'gen-'));
  const crt = path.join(work, 'cert.crt');
  const prv = path.join(work, 'cert.prv');
  await execa('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', `/CN=${commonName}`, '-keyout', prv, '-out', crt,
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
  await execa(
    'openssl',
    ['pkcs12', '-export', '-in', crtPath, '-inkey', prvPath, '-out', pfxPath, '-passout', 'env:TEST_PFX_PASSWORD'],
    { env: { TEST_PFX_PASSWORD: pfxPassword } },
  );
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

const repoRoot = path.resolve(__dirname, '..', '..');

/** The real PowerShell: env PWSH if set, else the copy scripts/dev/install-pwsh.sh installs. */
export function findPwsh(): string {
  const fromEnv = process.env['PWSH'];
  const candidate = fromEnv !== undefined && fromEnv !== '' ? fromEnv : path.join(repoRoot, '.tools', 'pwsh', 'pwsh');
  if (!existsSync(candidate)) {
    throw new Error(
      `PowerShell (pwsh) not found at ${candidate}. Run scripts/dev/install-pwsh.sh from the repository root ` +
        '(or set PWSH to a pwsh executable).',
    );
  }
  return candidate;
}

/**
 * Imports the certificate with its key (from the PFX) into CurrentUser\My of the .NET store under
 * `home` (on Linux .NET keeps that store in $HOME/.dotnet/corefx/cryptography/x509stores/my),
 * using pwsh itself as a real machine would.
 */
export async function importPfxToCurrentUserMy(pwsh: string, cert: TestCertificate, home: string): Promise<void> {
  await importToCurrentUserMy(pwsh, home, cert.pfxPath, cert.pfxPassword);
}

/** Imports only the certificate (no private key) into CurrentUser\My under `home`. */
export async function importCertificateOnlyToCurrentUserMy(pwsh: string, cert: TestCertificate, home: string): Promise<void> {
  await importToCurrentUserMy(pwsh, home, cert.crtPath, undefined);
}

async function importToCurrentUserMy(pwsh: string, home: string, file: string, password: string | undefined): Promise<void> {
  const load =
    password === undefined
      ? '$cert = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2($env:TEST_CERT_PATH)'
      : '$cert = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2($env:TEST_CERT_PATH, $env:TEST_PFX_PASSWORD, $flags)';
  const script = [
    "$ErrorActionPreference = 'Stop'",
    '$flags = [System.Security.Cryptography.X509Certificates.X509KeyStorageFlags]::PersistKeySet',
    load,
    "$store = New-Object System.Security.Cryptography.X509Certificates.X509Store('My', 'CurrentUser')",
    "$store.Open('ReadWrite')",
    '$store.Add($cert)',
    '$store.Close()',
  ].join('; ');
  // The password travels in the environment, never on the command line.
  await execa(pwsh, ['-NoProfile', '-NonInteractive', '-Command', script], {
    env: {
      HOME: home,
      TEST_CERT_PATH: file,
      TEST_PFX_PASSWORD: password ?? '',
      POWERSHELL_TELEMETRY_OPTOUT: '1',
    },
  });
}
