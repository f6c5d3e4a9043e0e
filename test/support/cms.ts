/**
 * Test helpers for protected settings: temporary folders, the real pwsh, and importing the
 * throwaway certificate (sim/arm/protected-settings-cms.ts) into a .NET certificate store.
 */
import { existsSync, promises as fs } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import execa from 'execa';
import type { TestCertificate } from '../../sim/arm/protected-settings-cms';

export async function makeTempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(tmpdir(), `${prefix}-`));
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
