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
import {
  createTestCertificate,
  encryptToCms,
  findPwsh,
  importCertificateOnlyToCurrentUserMy,
  importPfxToCurrentUserMy,
  makeTempDir,
  type TestCertificate,
} from '../support/cms';

const SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'node', 'Unprotect-ProtectedSettings.ps1');
// Distinctive, non-ASCII plaintext so that a leak into any error message is easy to spot.
const SECRET = 'Sup3r-Secret-Ünïcødé-Pässwörd';
const PLAINTEXT = JSON.stringify({ supportPassword: SECRET, note: 'protected' });

let pwsh: string;
let root: string;
let savedHome: string | undefined;
let cert: TestCertificate;
let other: TestCertificate;
let keyless: TestCertificate;
let decryptor: PowerShellDecryptor;
/** Every error the failure cases produced, checked at the end for the plaintext. */
const errors: unknown[] = [];

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

/** A stand-in for powershell.exe: a shell script, for the cases the real one cannot produce. */
async function fakeExe(name: string, body: string): Promise<string> {
  const file = path.join(root, name);
  await fs.writeFile(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

describe('PowerShellDecryptor with the real pwsh', () => {
  test.each(['des3', 'aes256'] as const)('decrypts CMS made with %s', async (cipher) => {
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, cipher);
    await expect(decryptor.decrypt(base64, cert.thumbprint)).resolves.toBe(PLAINTEXT);
  });

  test('returns the plaintext byte for byte, with a final newline', async () => {
    const base64 = await encryptToCms(`${PLAINTEXT}\n`, cert.crtPath, 'aes256');
    await expect(decryptor.decrypt(base64, cert.thumbprint)).resolves.toBe(`${PLAINTEXT}\n`);
  });

  test('accepts the thumbprint in lower case', async () => {
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'des3');
    await expect(decryptor.decrypt(base64, cert.thumbprint.toLowerCase())).resolves.toBe(PLAINTEXT);
  });

  test('an unknown thumbprint names protectedSettingsCertThumbprint and the thumbprint', async () => {
    const base64 = await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256');
    const unknown = 'cd'.repeat(20);
    const error = await expectConfigurationError(decryptor.decrypt(base64, unknown), 'protectedSettingsCertThumbprint');
    expect(error.message).toContain(unknown);
  });

  test('a certificate without its private key names protectedSettingsCertThumbprint', async () => {
    const base64 = await encryptToCms(PLAINTEXT, keyless.crtPath, 'aes256');
    const error = await expectConfigurationError(decryptor.decrypt(base64, keyless.thumbprint), 'protectedSettingsCertThumbprint');
    expect(error.message).toContain('no private key');
  });

  test.each([
    ['characters outside the alphabet', '!!!not*base64!!!'],
    ['a bad length', 'QUJDRA='],
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
    const der = Buffer.from(await encryptToCms(PLAINTEXT, cert.crtPath, 'aes256'), 'base64');
    der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0xff;
    await expectConfigurationError(decryptor.decrypt(der.toString('base64'), cert.thumbprint), 'protectedSettings');
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
    expect(errors.length).toBeGreaterThanOrEqual(9);
    for (const error of errors) {
      const shown = `${String(error)} ${(error as Error).stack ?? ''} ${JSON.stringify(error)}`;
      expect(shown).not.toContain(SECRET);
      expect(shown).not.toContain('supportPassword');
    }
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
      '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', SCRIPT,
      '-Thumbprint', cert.thumbprint, '-StoreLocation', 'LocalMachine',
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
    for (const error of errors) {
      const shown = `${String(error)} ${(error as Error).stack ?? ''} ${JSON.stringify(error)}`;
      expect(shown).not.toContain(SECRET);
    }
  });
});
