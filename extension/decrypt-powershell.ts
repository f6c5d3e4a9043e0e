/**
 * Protected settings decryption on Windows: extension/powershell/Unprotect-ProtectedSettings.ps1 decrypts
 * with .NET EnvelopedCms and the certificate from Cert:\LocalMachine\My (DESIGN section 3).
 * The ciphertext goes in on stdin and the plaintext comes back on stdout; neither is ever on a
 * command line. See the script's header for the exit code / stdout protocol.
 */
import { existsSync } from 'fs';
import { ConfigurationError, ExitCode, HandlerError, MissingDependencyError, describeValue } from './errors';
import {
  decodeProtectedSettingsBase64,
  decodeUtf8Plaintext,
  describeProtectedSettings,
  normalizeThumbprint,
  type ProtectedSettingsDecryptor,
} from './protected-settings';
import { describeAbnormalRun, firstLine, missingExecutable, runDecryptTool, shortReason } from './run-tool';

export type CertificateStoreLocation = 'LocalMachine' | 'CurrentUser';

export interface PowerShellDecryptorOptions {
  /** Default `powershell.exe` (Windows PowerShell 5.1, present on every supported Windows Server). */
  powershellExe?: string;
  /** Path of Unprotect-ProtectedSettings.ps1. */
  scriptPath: string;
  /** Store holding the certificate; the extension manager uses LocalMachine. */
  storeLocation?: CertificateStoreLocation;
  /** The process is killed after this long; default 60 s (a loaded machine starts PowerShell slowly). */
  timeoutMs?: number;
}

/** The script's error codes (exit code 2, one JSON line on stdout). */
type ScriptErrorCode = 'NoCertificate' | 'NoPrivateKey' | 'BadData' | 'DecryptFailed';
const SCRIPT_ERROR_EXIT = 2;

export class PowerShellDecryptor implements ProtectedSettingsDecryptor {
  private readonly powershellExe: string;
  private readonly scriptPath: string;
  private readonly storeLocation: CertificateStoreLocation;
  private readonly timeoutMs: number;

  constructor(options: PowerShellDecryptorOptions) {
    this.powershellExe = options.powershellExe ?? 'powershell.exe';
    this.scriptPath = options.scriptPath;
    this.storeLocation = options.storeLocation ?? 'LocalMachine';
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async decrypt(base64Cms: string, thumbprint: string): Promise<string> {
    const thumb = normalizeThumbprint(thumbprint);
    // Validated here too, so bad input fails the same way on every platform and without a launch;
    // the script then gets the canonical base64.
    const input = decodeProtectedSettingsBase64(base64Cms).toString('base64');
    if (!existsSync(this.scriptPath)) {
      throw new MissingDependencyError(`The decryption script '${this.scriptPath}' is missing from the extension package.`);
    }

    const args = [
      '-NoProfile',
      '-NonInteractive',
      '-ExecutionPolicy',
      'Bypass',
      '-File',
      this.scriptPath,
      '-Thumbprint',
      thumb,
      '-StoreLocation',
      this.storeLocation,
    ];
    // The telemetry opt-out only matters to pwsh; Windows PowerShell 5.1 ignores it.
    const run = await runDecryptTool(this.powershellExe, args, input, this.timeoutMs, { POWERSHELL_TELEMETRY_OPTOUT: '1' });
    if (run.kind === 'notStarted') throw missingExecutable('PowerShell', this.powershellExe, run.code);
    if (run.kind !== 'exited') throw new HandlerError(ExitCode.Failure, describeAbnormalRun(this.powershellExe, run, this.timeoutMs));

    if (run.exitCode === 0) {
      const text = decodeUtf8Plaintext(run.stdout);
      if (text === undefined) {
        throw new ConfigurationError(
          'protectedSettings',
          `${describeProtectedSettings(base64Cms)} that decrypted to bytes that are not UTF-8 text`,
          'base64 CMS EnvelopedData of UTF-8 JSON text',
        );
      }
      return text;
    }
    if (run.exitCode === SCRIPT_ERROR_EXIT) {
      const scriptError = parseScriptError(run.stdout);
      if (scriptError !== undefined) throw this.toError(scriptError.code, scriptError.message, base64Cms, thumbprint, thumb);
    }
    // Anything else is unexpected. stdout is never quoted (it may hold plaintext); stderr holds
    // PowerShell's own error text, which does not contain the data.
    const reason = firstLine(run.stderr.toString('utf8')) || 'no error output';
    throw new HandlerError(
      ExitCode.Failure,
      `Decrypting the protected settings failed: ${this.powershellExe} exited with code ${run.exitCode} (${reason}).`,
    );
  }

  private toError(code: ScriptErrorCode, message: string, base64Cms: string, thumbprint: string, thumb: string): Error {
    const reason = shortReason(message);
    const store = `Cert:\\${this.storeLocation}\\My`;
    switch (code) {
      case 'NoCertificate':
      case 'NoPrivateKey':
        return new ConfigurationError(
          'protectedSettingsCertThumbprint',
          `${describeValue(thumbprint)} (${reason})`,
          `the thumbprint of a certificate with its private key in ${store}`,
        );
      case 'BadData':
      case 'DecryptFailed':
        return new ConfigurationError(
          'protectedSettings',
          `${describeProtectedSettings(base64Cms)} that could not be decrypted (${reason})`,
          `base64 CMS EnvelopedData encrypted to the certificate with thumbprint ${thumb}`,
        );
    }
  }
}

/** Reads the script's error line: the last non-empty line of stdout, as `{error, message}`. */
function parseScriptError(stdout: Buffer): { code: ScriptErrorCode; message: string } | undefined {
  const lines = stdout
    .toString('utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1];
  if (last === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(last);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { error, message } = parsed as { error?: unknown; message?: unknown };
    if (error !== 'NoCertificate' && error !== 'NoPrivateKey' && error !== 'BadData' && error !== 'DecryptFailed') {
      return undefined;
    }
    return { code: error, message: typeof message === 'string' ? message : '' };
  } catch {
    return undefined;
  }
}
