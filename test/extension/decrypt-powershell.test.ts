/**
 * The Windows decryption path run for real: Unprotect-ProtectedSettings.ps1 in the real pwsh, with
 * the certificate imported into CurrentUser\My of a temporary HOME (where .NET on Linux keeps that
 * store). Windows uses LocalMachine\My; the script treats both stores alike.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import execa from 'execa';
import { PowerShellDecryptor } from '../../extension/decrypt-powershell';
import { ConfigurationError, ExitCode, HandlerError, MissingDependencyError } from '../../extension/errors';
import { describeDecryptorContract, ErrorCollector, PLAINTEXT, type ContractSubject } from '../support/decryptor-contract';
import { createTestCertificate, encryptToCms, type TestCertificate } from '../../sim/arm/protected-settings-cms';
import { findPwsh, importCertificateOnlyToCurrentUserMy, importPfxToCurrentUserMy, makeTempDir } from '../support/cms';

const SCRIPT = path.resolve(__dirname, '..', '..', 'extension', 'powershell', 'Unprotect-ProtectedSettings.ps1');

let pwsh: string;
let root: string;
let savedHome: string | undefined;
let cert: TestCertificate;
let other: TestCertificate;
let keyless: TestCertificate;
let decryptor: PowerShellDecryptor;
const collector = new ErrorCollector();

beforeAll(async () => {
  pwsh = findPwsh();
  root = await makeTempDir('decrypt-powershell');
  const home = path.join(root, 'home');
  await fs.mkdir(home);
  // pwsh (and .NET's CurrentUser store) follow HOME; the decryptor passes our environment on.
  savedHome = process.env['HOME'];
  process.env['HOME'] = home;

  cert = await createTestCertificate(path.join(root, 'certs'));
  other = await createTestCertificate(path.join(root, 'other'), 'someone-else'); // never imported
  keyless = await createTestCertificate(path.join(root, 'keyless'), 'no-private-key');
  await importPfxToCurrentUserMy(pwsh, cert, home);
  await importCertificateOnlyToCurrentUserMy(pwsh, keyless, home);
  decryptor = new PowerShellDecryptor({ powershellExe: pwsh, scriptPath: SCRIPT, storeLocation: 'CurrentUser' });
});

afterAll(async () => {
  if (savedHome === undefined) delete process.env['HOME'];
  else process.env['HOME'] = savedHome;
  if (root !== undefined) await fs.rm(root, { recursive: true, force: true });
});

const rejection = (promise: Promise<unknown>) => collector.rejection(promise);
const expectConfigurationError = (promise: Promise<unknown>, field: string) => collector.configurationError(promise, field);

/** A stand-in for powershell.exe: a shell script, for the cases the real one cannot produce. */
async function fakeExe(name: string, body: string): Promise<string> {
  const file = path.join(root, name);
  await fs.writeFile(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

describeDecryptorContract(
  'PowerShellDecryptor with the real pwsh',
  (): ContractSubject => ({ decryptor, certificate: cert, stranger: other }),
  collector,
);

describe('PowerShellDecryptor with the real pwsh', () => {
  test('a certificate without its private key names protectedSettingsCertThumbprint', async () => {
    const base64 = await encryptToCms(PLAINTEXT, keyless.crtPath, 'aes256');
    const error = await expectConfigurationError(decryptor.decrypt(base64, keyless.thumbprint), 'protectedSettingsCertThumbprint');
    expect(error.message).toContain('no private key');
  });

  test('a missing PowerShell executable is a missing dependency naming it', async () => {
    const missing = path.join(root, 'no-such-powershell.exe');
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256');
    const error = await rejection(new PowerShellDecryptor({ powershellExe: missing, scriptPath: SCRIPT }).decrypt(base64, cert.thumbprint));
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect(error.message).toContain(missing);
  });

  test('a missing script is a missing dependency naming it', async () => {
    const missing = path.join(root, 'Missing.ps1');
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256');
    const error = await rejection(new PowerShellDecryptor({ powershellExe: pwsh, scriptPath: missing }).decrypt(base64, cert.thumbprint));
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect(error.message).toContain(missing);
  });

  test('the plaintext never appears in an error', () => {
    expect(collector.errors.length).toBeGreaterThanOrEqual(9);
    collector.expectNoPlaintextShown();
  });
});

describe('Unprotect-ProtectedSettings.ps1 protocol', () => {
  async function runScript(input: string, thumbprint: string) {
    return execa(pwsh, ['-NoProfile', '-NonInteractive', '-File', SCRIPT, '-Thumbprint', thumbprint, '-StoreLocation', 'CurrentUser'], {
      input,
      reject: false,
      stripFinalNewline: false,
    });
  }

  test('bad base64 on stdin: exit 2 and one JSON line on stdout', async () => {
    const result = await runScript('%%% not base64 %%%', cert.thumbprint);
    expect(result.exitCode).toBe(2);
    expect(result.stdout.endsWith('\n')).toBe(true);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toEqual({ error: 'BadData', message: expect.stringContaining('base64') });
  });

  test('success: exit 0 and exactly the plaintext on stdout, nothing on stderr', async () => {
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256');
    const result = await runScript(`${base64}\r\n`, cert.thumbprint);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(PLAINTEXT);
    expect(result.stderr).toBe('');
  });

  test('parses with the real PowerShell parser, without errors or PowerShell 7-only syntax', async () => {
    // Tokens that Windows PowerShell 5.1 does not know: && || ?? ??= ?. ?[ and the ternary ?.
    const check = [
      '$tokens = $null; $errors = $null',
      '$null = [System.Management.Automation.Language.Parser]::ParseFile($env:SCRIPT_TO_PARSE, [ref]$tokens, [ref]$errors)',
      "$ps7 = @('AndAnd', 'OrOr', 'QuestionQuestion', 'QuestionQuestionEquals', 'QuestionDot', 'QuestionLBracket', 'QuestionMark')",
      '$bad = @($tokens | Where-Object { $ps7 -contains $_.Kind.ToString() } | ForEach-Object { "line $($_.Extent.StartLineNumber): $($_.Text)" })',
      '$found = @($errors | ForEach-Object { "line $($_.Extent.StartLineNumber): $($_.Message)" })',
      'ConvertTo-Json -Compress -InputObject @{ errors = $found; ps7Only = $bad; tokens = $tokens.Count }',
    ].join('; ');
    const { stdout } = await execa(pwsh, ['-NoProfile', '-NonInteractive', '-Command', check], {
      env: { SCRIPT_TO_PARSE: SCRIPT },
    });
    const report = JSON.parse(stdout) as { errors: string[]; ps7Only: string[]; tokens: number };
    expect(report.errors).toEqual([]);
    expect(report.ps7Only).toEqual([]);
    expect(report.tokens).toBeGreaterThan(100);
  });
});

describe('PowerShellDecryptor process handling (stand-in executables)', () => {
  let base64: string;
  beforeAll(async () => {
    base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256');
  });

  test('passes the documented arguments and sends the ciphertext only on stdin', async () => {
    const argsFile = path.join(root, 'args.txt');
    const stdinFile = path.join(root, 'stdin.txt');
    const exe = await fakeExe('record.sh', `printf '%s\\n' "$@" > '${argsFile}'; cat > '${stdinFile}'; printf '{"ok":true}'`);
    const result = await new PowerShellDecryptor({ powershellExe: exe, scriptPath: SCRIPT }).decrypt(base64, cert.thumbprint.toLowerCase());
    expect(result).toBe('{"ok":true}');
    const args = (await fs.readFile(argsFile, 'utf8')).trimEnd().split('\n');
    expect(args).toEqual([
      '-NoProfile',
      '-NonInteractive',
      '-ExecutionPolicy',
      'Bypass',
      '-File',
      SCRIPT,
      '-Thumbprint',
      cert.thumbprint,
      '-StoreLocation',
      'LocalMachine',
    ]);
    expect(await fs.readFile(stdinFile, 'utf8')).toBe(base64);
  });

  test('kills the process when it runs past the timeout', async () => {
    const pidFile = path.join(root, 'slow.pid');
    const exe = await fakeExe('slow.sh', `echo $$ > '${pidFile}'; exec sleep 30`);
    const started = Date.now();
    const error = await rejection(
      new PowerShellDecryptor({ powershellExe: exe, scriptPath: SCRIPT, timeoutMs: 500 }).decrypt(base64, cert.thumbprint),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(HandlerError);
    expect(error.message).toContain('500 ms');
    const pid = Number((await fs.readFile(pidFile, 'utf8')).trim());
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  test('an unexpected exit is a failure that quotes stderr but never stdout', async () => {
    const exe = await fakeExe('crash.sh', `printf '%s' '${PLAINTEXT}'; echo 'something broke' >&2; exit 3`);
    const error = await rejection(new PowerShellDecryptor({ powershellExe: exe, scriptPath: SCRIPT }).decrypt(base64, cert.thumbprint));
    expect(error).toBeInstanceOf(HandlerError);
    expect((error as HandlerError).exitCode).toBe(ExitCode.Failure);
    expect(error.message).toContain('something broke');
    expect(error.message).toContain('code 3');
  });

  test('a tool that exits without reading a large input still reports its exit code and stderr', async () => {
    // 1 MiB does not fit the pipe buffer, so the write fails with EPIPE once the process is gone.
    const large = Buffer.alloc(1 << 20, 7).toString('base64');
    const exe = await fakeExe('refuse.sh', `echo 'script blocked by policy' >&2; exit 1`);
    const error = await rejection(new PowerShellDecryptor({ powershellExe: exe, scriptPath: SCRIPT }).decrypt(large, cert.thumbprint));
    expect(error).toBeInstanceOf(HandlerError);
    expect(error.message).toContain('script blocked by policy');
    expect(error.message).toContain('code 1');
  });

  test('exit 2 without a recognizable error line is a failure too', async () => {
    const exe = await fakeExe('garbled.sh', `printf '%s\\n' '${PLAINTEXT}'; exit 2`);
    const error = await rejection(new PowerShellDecryptor({ powershellExe: exe, scriptPath: SCRIPT }).decrypt(base64, cert.thumbprint));
    expect(error).toBeInstanceOf(HandlerError);
    expect(error).not.toBeInstanceOf(ConfigurationError);
  });

  test('the plaintext never appears in these errors either', () => {
    collector.expectNoPlaintextShown();
  });
});
