/**
 * Secrets on their way to a node never show: not in the JSON request the bridge parses, not in any
 * command parameter PowerShell could log (the real bridge runs under a parameter-binding trace), not
 * in a HostBatchError or an operation error, whatever a broken bridge writes back.
 */
import { promises as fs, readFileSync } from 'fs';
import * as path from 'path';
import { inspect } from 'util';
import { DATA_FOLDER } from '../../core/node-layout';
import { createDefaultMachine, writeMachine } from '../../sim/windows/default-machine';
import { SECRET_FILE_FOLDER, hostSecret, isHostSecret, op, type HostSecret, type OperationRequest } from '../../windows/operations';
import { HostBatchError } from '../../windows/port';
import { PowerShellHost, encodeRequest } from '../../windows/powershell-host';
import { findPwsh, makeTempDir } from '../support/cms';

const repo = path.resolve(__dirname, '..', '..');
const scriptsDir = path.join(repo, 'windows', 'powershell');
const pwsh = findPwsh();

const TOKEN = 'SharedAccessSignature sr=https%3a%2f%2fns.servicebus.windows.net%2fg1&sig=CANARY-7f3a+/%3D"\\€&se=1767225600&skn=listen';
const FILE = `${SECRET_FILE_FOLDER}\\relay.token`;

/** The ways a secret could be written down: as it is, its distinctive part, and the encodings that carry it. */
function forms(secret: string): string[] {
  return [
    secret,
    'CANARY-7f3a',
    Buffer.from(secret, 'utf8').toString('base64'),
    Buffer.from(secret, 'utf8').toString('hex'),
    Buffer.from(secret, 'utf16le').toString('hex'),
    Buffer.from(secret, 'utf16le').toString('base64'),
  ];
}

/** The lines of a log that hold a form of TOKEN (a failure then shows where it leaked). */
function linesWithSecret(log: string): string[] {
  return log.split('\n').filter((line) => forms(TOKEN).some((form) => line.includes(form)));
}

const tempDirs: string[] = [];
afterAll(() => Promise.all(tempDirs.map((dir) => fs.rm(dir, { recursive: true, force: true }))));

async function tempDir(prefix: string): Promise<string> {
  const dir = await makeTempDir(prefix);
  tempDirs.push(dir);
  return dir;
}

describe('HostSecret', () => {
  it('shows as [secret] in JSON, strings, templates and inspection, and only reveal() gives its value', () => {
    const secret = hostSecret(TOKEN);
    const request = op('writeSecretFile', { path: FILE, secret });
    expect(JSON.stringify(request)).toBe(`{"op":"writeSecretFile","path":${JSON.stringify(FILE)},"secret":"[secret]"}`);
    expect(String(secret)).toBe('[secret]');
    expect(`${secret}`).toBe('[secret]');
    expect(inspect(request, { depth: 5, showHidden: true })).not.toContain('CANARY');
    expect(inspect(secret)).toBe('[secret]');
    expect(Object.values({ ...secret })).not.toContain(TOKEN);
    expect(secret.reveal()).toBe(TOKEN);
  });

  it('is recognized by its mark, as the simulated Windows bundle with its own copy of the class must', () => {
    const foreign = { [Symbol.for('arc-remote-support.host-secret')]: true, reveal: () => 'x' };
    expect(isHostSecret(foreign)).toBe(true);
    expect(isHostSecret({ reveal: () => 'x' })).toBe(false);
    expect(isHostSecret('x')).toBe(false);
    expect(() => hostSecret('')).toThrow('non-empty');
  });

  it("keeps secret files in the node's data folder", () => {
    expect(SECRET_FILE_FOLDER).toBe(DATA_FOLDER);
    expect(readFileSync(path.join(scriptsDir, 'ArcRemoteSupport.Host.psm1'), 'utf8')).toContain(
      `$script:SecretFileFolder = '${DATA_FOLDER}'`,
    );
  });
});

describe('the request on stdin', () => {
  it('is the JSON line with a reference in place of each secret, then one base64 line per secret', () => {
    const { input, secrets } = encodeRequest({
      operations: [
        op('writeSecretFile', { path: FILE, secret: hostSecret(TOKEN) }),
        op('writeSecretFile', { path: `${FILE}2`, secret: hostSecret('second\nline') }),
      ],
    });
    const lines = input.toString('utf8').split('\n');
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[0]!)).toEqual({
      operations: [
        { op: 'writeSecretFile', path: FILE, secret: { secretRef: 0 } },
        { op: 'writeSecretFile', path: `${FILE}2`, secret: { secretRef: 1 } },
      ],
    });
    expect(lines.slice(1)).toEqual([Buffer.from(TOKEN).toString('base64'), Buffer.from('second\nline').toString('base64'), '']);
    expect(secrets).toEqual([TOKEN, 'second\nline']);
  });

  it('reaches the bridge exactly so', async () => {
    const dir = await tempDir('host-secrets-stdin');
    const entryScript = path.join(dir, 'record-stdin.ps1');
    await fs.writeFile(
      entryScript,
      [
        '$buffer = New-Object System.IO.MemoryStream',
        '[Console]::OpenStandardInput().CopyTo($buffer)',
        '[System.IO.File]::WriteAllBytes($env:FAKE_STDIN, $buffer.ToArray())',
        '[Console]::Out.WriteLine(\'{"index":0,"ok":true,"value":{"written":true}}\')',
        '[Console]::Out.WriteLine(\'{"done":true}\')',
      ].join('\n'),
    );
    const stdinFile = path.join(dir, 'stdin');
    const host = new PowerShellHost({ powershellExe: pwsh, scriptsDir, entryScript, env: { FAKE_STDIN: stdinFile } });
    await host.execute([op('writeSecretFile', { path: FILE, secret: hostSecret(TOKEN) })], { phase: 'stdin' });
    const [json, secret, rest] = readFileSync(stdinFile, 'utf8').split('\n');
    for (const form of forms(TOKEN)) expect(json).not.toContain(form);
    expect(JSON.parse(json!)).toMatchObject({ operations: [{ op: 'writeSecretFile', path: FILE, secret: { secretRef: 0 } }] });
    expect(Buffer.from(secret!, 'base64').toString('utf8')).toBe(TOKEN);
    expect(rest).toBe('');
  });
});

describe('a request whose reference names a secret it does not carry', () => {
  it('does not run: the batch fails, naming the field and the reference', async () => {
    const dir = await tempDir('host-secrets-ref');
    const modelPath = path.join(dir, 'machine.json');
    await writeMachine(modelPath, createDefaultMachine({ nowUtc: '2026-11-24T20:00:00Z' }));
    const host = new PowerShellHost({
      powershellExe: pwsh,
      scriptsDir,
      entryScript: path.join(repo, 'test', 'powershell', 'Invoke-BridgeWithStandIn.ps1'),
      env: { ARS_MACHINE_MODEL: modelPath, ARS_MACHINE_ROOT: path.join(dir, 'drives') },
    });
    const forged = { secretRef: 3 } as unknown as HostSecret;
    const error = await host.execute([op('writeSecretFile', { path: FILE, secret: forged })], { phase: 'forged' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HostBatchError);
    expect((error as HostBatchError).reason).toBe('ExitCode');
    expect((error as HostBatchError).message).toContain("field 'secret' refers to secret 3, which the request does not carry");
  });
});

describe('the bridge under a parameter-binding trace', () => {
  it('binds no secret to any command, on this node or a peer, writing or reading', async () => {
    const dir = await tempDir('host-secrets-trace');
    const modelPath = path.join(dir, 'machine.json');
    await writeMachine(modelPath, createDefaultMachine({ nowUtc: '2026-11-24T20:00:00Z' }));
    const trace = path.join(dir, 'bindings.log');
    // The elements of Invoke-Command -ArgumentList, which the trace shows only as System.Object[].
    const argumentLog = path.join(dir, 'arguments.log');
    const host = new PowerShellHost({
      powershellExe: pwsh,
      scriptsDir,
      entryScript: path.join(repo, 'test', 'powershell', 'Invoke-BridgeTraced.ps1'),
      env: {
        ARS_MACHINE_MODEL: modelPath,
        ARS_MACHINE_ROOT: path.join(dir, 'drives'),
        ARS_BINDING_TRACE: trace,
        ARS_STANDIN_ARGUMENT_LOG: argumentLog,
      },
      timeoutMs: 300_000,
    });
    const batch: OperationRequest[] = [
      op('ensureDirectory', { path: SECRET_FILE_FOLDER }),
      op('writeSecretFile', { path: FILE, secret: hostSecret(TOKEN) }),
      op('writeSecretFile', { path: FILE, secret: hostSecret(TOKEN) }),
      op('readSecretFile', { path: FILE }),
    ];
    const expected = [
      { ok: true, value: { created: true } },
      { ok: true, value: { written: true } },
      { ok: true, value: { written: false } },
      { ok: true, value: { secret: TOKEN } },
    ];
    let bindings = '';
    for (const node of [undefined, 'ARC-NODE-2']) {
      expect(await host.execute(batch, { phase: 'trace', node })).toEqual(expected);
      bindings += readFileSync(trace, 'utf8');
    }

    const argumentsToPeer = readFileSync(argumentLog, 'utf8');
    expect(linesWithSecret(bindings)).toEqual([]);
    expect(linesWithSecret(argumentsToPeer)).toEqual([]);
    // The trace sees what matters: the JSON ConvertFrom-Json parses, the SecureStrings handed on
    // (to the operations and, for the peer, in Invoke-Command's arguments) and the result lines.
    expect(bindings).toMatch(/BIND arg \[\{"phase":"trace".*"secret":\{"secretRef":0\}.*\] to parameter \[InputObject\]/);
    expect(bindings).toMatch(/BIND arg \[.*secret=System\.Security\.SecureString.*\] to param/);
    expect(bindings).toContain('BIND arg [System.Security.SecureString] to param');
    // The module's text, the request with references, the staged files, one SecureString per secret.
    expect(argumentsToPeer).toMatch(
      /Invoke-Command ARC-NODE-2 ArgumentList: [\s\S]*"secret":\{"secretRef":1\}[\s\S]*, System\.Collections\.Hashtable, System\.Security\.SecureString, System\.Security\.SecureString\n/,
    );
    expect(bindings).toContain('BIND arg [System.Collections.Hashtable] to parameter [InputObject]');
    expect(bindings).toContain('{"index":2,"ok":true,"value":{"written":false}}');
  }, 300_000);
});

describe('a broken bridge never makes a secret show', () => {
  async function fakeHost(lines: string[]): Promise<PowerShellHost> {
    const dir = await tempDir('host-secrets-fake');
    const entryScript = path.join(dir, 'fake.ps1');
    await fs.writeFile(entryScript, ["$ErrorActionPreference = 'Stop'", '$in = [Console]::In.ReadToEnd()', ...lines].join('\n'));
    return new PowerShellHost({ powershellExe: pwsh, scriptsDir, entryScript });
  }

  async function failure(host: PowerShellHost, batch: OperationRequest[]): Promise<HostBatchError> {
    const error = await host.execute(batch, { phase: 'channel: token' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HostBatchError);
    return error as HostBatchError;
  }

  const write = [op('writeSecretFile', { path: FILE, secret: hostSecret(TOKEN) })];
  const read = [op('readSecretFile', { path: FILE })];

  it('one that echoes its stdin as output: Garbage, without quoting it', async () => {
    const host = await fakeHost(['[Console]::Out.WriteLine($in.Replace("`n", " "))', 'exit 0']);
    const error = await failure(host, write);
    expect(error.reason).toBe('Garbage');
    expect(error.message).toContain('not quoted: the batch carries secrets');
    for (const form of forms(TOKEN)) expect(error.message).not.toContain(form);
  });

  it('one that prints the secret on stderr: the error names stderr, not the secret', async () => {
    const host = await fakeHost([
      '$secret = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($in.Split("`n")[1]))',
      '[Console]::Error.WriteLine("Cannot write " + $secret)',
      'exit 2',
    ]);
    const error = await failure(host, write);
    expect(error.reason).toBe('ExitCode');
    expect(error.message).toContain('exited with code 2 (Cannot write [secret])');
    for (const form of forms(TOKEN)) expect(error.message).not.toContain(form);
  });

  it('one that puts the secret in an operation error: the message keeps [secret] in its place', async () => {
    const host = await fakeHost([
      '$secret = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($in.Split("`n")[1]))',
      '$message = ("rejected " + $secret).Replace("\\", "\\\\").Replace(\'"\', \'\\"\')',
      '[Console]::Out.WriteLine(\'{"index":0,"ok":false,"error":{"code":"Failed","message":"\' + $message + \'","target":null}}\')',
      '[Console]::Out.WriteLine(\'{"done":true}\')',
    ]);
    const [outcome] = await host.execute(write, { phase: 'channel: token' });
    expect(outcome).toEqual({
      ok: false,
      error: { operation: 'writeSecretFile', code: 'Failed', message: 'rejected [secret]', target: null },
    });
  });

  it('one that breaks the protocol with a secret it read: Garbage, without quoting the line', async () => {
    const host = await fakeHost([
      '[Console]::Out.WriteLine(\'{"index":7,"ok":true,"value":{"secret":"sig=CANARY-7f3a"}}\')',
      '[Console]::Out.WriteLine(\'{"done":true}\')',
    ]);
    const error = await failure(host, read);
    expect(error.reason).toBe('Garbage');
    expect(error.message).toContain('expected the result of operation 0');
    expect(error.message).not.toContain('CANARY');
  });
});
