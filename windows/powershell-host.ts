/**
 * The real Windows host: each batch of operations is one powershell.exe process running
 * windows/powershell/HostBridge.ps1 (DESIGN section 2: one PowerShell process per phase).
 *
 * Wire protocol (see the bridge's header): the request goes in on stdin as one JSON object on
 * the first line, each HostSecret in it replaced by `{"secretRef":n}`, followed by one line per
 * secret (its UTF-8 bytes in base64), so that no secret ever passes through ConvertFrom-Json or any
 * other command whose parameters PowerShell module logging records. The bridge writes one JSON
 * line per operation as it completes, `{"index","ok","value"|"error"}`, then `{"done":true}`, and
 * nothing else. Anything else, a non-zero exit, a missing `done`, output on stderr or a hang fails
 * the whole batch with a HostBatchError naming the operation that was running. Error messages
 * never quote stdout beyond the first 200 characters of the offending line (results can carry file
 * contents), and never quote it at all in a batch that carries secrets either way.
 */
import { existsSync } from 'fs';
import * as path from 'path';
import execa from 'execa';
import { PowerShellDecryptor } from '../extension/decrypt-powershell';
import type { ProtectedSettingsDecryptor } from '../extension/protected-settings';
import { firstLine } from '../extension/run-tool';
import { isHostSecret, type OperationName, type OperationRequest } from './operations';
import { HostBatchError, type BatchOptions, type HostErrorCode, type OperationOutcome, type WindowsHost } from './port';

export interface PowerShellHostOptions {
  /** Default: %SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe (Windows PowerShell 5.1). */
  powershellExe?: string;
  /** The folder holding HostBridge.ps1, its module and Unprotect-ProtectedSettings.ps1. */
  scriptsDir: string;
  /** The script powershell runs; default <scriptsDir>/HostBridge.ps1 (tests run a wrapper that loads a stand-in first). */
  entryScript?: string;
  /** A batch still running after this long is killed with its whole process tree; default 120 s. */
  timeoutMs?: number;
  /** Added to the inherited environment. */
  env?: Record<string, string>;
}

/** Windows PowerShell 5.1, present on every supported Windows Server. */
export function defaultWindowsPowerShell(): string {
  const systemRoot = process.env['SystemRoot'] ?? process.env['SYSTEMROOT'] ?? 'C:\\Windows';
  return path.win32.join(systemRoot, 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe');
}

const ERROR_CODES: readonly HostErrorCode[] = [
  'NotFound',
  'AccessDenied',
  'NodeUnreachable',
  'InvalidRequest',
  'DomainController',
  'Exists',
  'Failed',
  'Skipped',
];
/** How long to wait for the output pipes to close after the process exited (a grandchild may hold them). */
const PIPE_GRACE_MS = 2_000;
/** How long to wait for a killed process tree to go away before giving up on it. */
const KILL_GRACE_MS = 5_000;
const EXCERPT_CHARS = 200;
/** Operations whose results carry a secret. */
const SECRET_RESULTS: readonly OperationName[] = ['readSecretFile'];

/** A batch's request as the bridge reads it on stdin, and the secrets it carries. */
export interface EncodedRequest {
  /** The JSON line, then one base64 line per secret. */
  input: Buffer;
  /** The secrets' values, in `secretRef` order. */
  secrets: string[];
}

/** Takes each HostSecret out of the JSON: `{"secretRef":n}` in its place, its value on line n + 2. */
export function encodeRequest(request: unknown): EncodedRequest {
  const secrets: string[] = [];
  // The holder's own property: JSON.stringify has already called toJSON ('[secret]') on `value`.
  const json = JSON.stringify(request, function (this: Record<string, unknown>, key: string, value: unknown) {
    const original = this[key];
    if (!isHostSecret(original)) return value;
    secrets.push(original.reveal());
    return { secretRef: secrets.length - 1 };
  });
  const lines = [json, ...secrets.map((secret) => Buffer.from(secret, 'utf8').toString('base64'))];
  return { input: Buffer.from(`${lines.join('\n')}\n`, 'utf8'), secrets };
}

export class PowerShellHost implements WindowsHost {
  private readonly powershellExe: string;
  private readonly scriptsDir: string;
  private readonly entryScript: string;
  private readonly timeoutMs: number;
  private readonly env: Record<string, string>;
  private launchCount = 0;

  constructor(options: PowerShellHostOptions) {
    this.powershellExe = options.powershellExe ?? defaultWindowsPowerShell();
    this.scriptsDir = options.scriptsDir;
    this.entryScript = options.entryScript ?? path.join(options.scriptsDir, 'HostBridge.ps1');
    this.timeoutMs = options.timeoutMs ?? 120_000;
    // The telemetry opt-out only matters to pwsh; Windows PowerShell 5.1 ignores it.
    this.env = { POWERSHELL_TELEMETRY_OPTOUT: '1', ...options.env };
  }

  get launches(): number {
    return this.launchCount;
  }

  decryptor(): ProtectedSettingsDecryptor {
    return new PowerShellDecryptor({
      powershellExe: this.powershellExe,
      scriptPath: path.join(this.scriptsDir, 'Unprotect-ProtectedSettings.ps1'),
    });
  }

  async execute(operations: OperationRequest[], options: BatchOptions): Promise<OperationOutcome[]> {
    if (operations.length === 0) return [];
    const { phase } = options;
    if (!existsSync(this.entryScript)) {
      throw new HostBatchError(phase, null, 'NotStarted', `the host script '${this.entryScript}' is missing`);
    }
    const request = { phase, node: options.node ?? null, stopOnError: options.stopOnError ?? true, operations };
    const { input, secrets } = encodeRequest(request);
    const carriesSecrets = secrets.length > 0 || operations.some((operation) => SECRET_RESULTS.includes(operation.op));
    const reader = new ResultReader(operations, { secrets, carriesSecrets });
    let run: RunEnd;
    try {
      run = await this.run(input, reader);
    } finally {
      input.fill(0);
    }
    return redactOutcomes(this.verdict(phase, run, reader), secrets);
  }

  /** Starts the bridge, feeds it the request, streams its output into `reader` and waits for the end. */
  private async run(input: Buffer, reader: ResultReader): Promise<RunEnd> {
    const isWindows = process.platform === 'win32';
    const args = ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', this.entryScript];
    // Elsewhere than Windows the child leads its own process group, so a timeout kills all of it.
    const child = execa(this.powershellExe, args, { buffer: false, reject: false, detached: !isWindows, env: this.env });
    if (child.pid !== undefined) this.launchCount += 1;
    // A bridge that dies before reading its input makes the write fail with EPIPE; the exit code says more.
    child.stdin?.removeAllListeners('error');
    child.stdin?.on('error', () => undefined);
    child.stdout?.on('data', (chunk: Buffer) => reader.stdout(chunk));
    child.stderr?.on('data', (chunk: Buffer) => reader.stderr(chunk));
    const pipesClosed = Promise.all([closed(child.stdout), closed(child.stderr)]);
    child.stdin?.end(input);

    let timedOut = false;
    let giveUp: NodeJS.Timeout | undefined;
    const abandoned = new Promise<'abandoned'>((resolve) => {
      giveUp = setTimeout(() => {
        timedOut = true;
        reader.freeze();
        if (child.pid !== undefined) killTree(child.pid, isWindows);
        // If the tree does not go away, stop waiting for it.
        setTimeout(() => resolve('abandoned'), KILL_GRACE_MS).unref();
      }, this.timeoutMs);
    });
    try {
      const result = await Promise.race([child, abandoned]);
      if (timedOut) return { kind: 'timedOut' };
      if (result === 'abandoned') return { kind: 'timedOut' };
      const { code, syscall } = result as { code?: unknown; syscall?: unknown };
      if (typeof code === 'string' && typeof syscall === 'string' && syscall.startsWith('spawn')) return { kind: 'notStarted', code };
      await Promise.race([pipesClosed, delay(PIPE_GRACE_MS)]);
      reader.end();
      return { kind: 'exited', exitCode: result.exitCode ?? null, signal: result.signal ?? null };
    } finally {
      clearTimeout(giveUp);
    }
  }

  /** The outcomes, or the HostBatchError that says why the batch as a whole failed. */
  private verdict(phase: string, run: RunEnd, reader: ResultReader): OperationOutcome[] {
    if (run.kind === 'notStarted') {
      throw new HostBatchError(
        phase,
        null,
        'NotStarted',
        run.code === 'ENOENT'
          ? `PowerShell '${this.powershellExe}' was not found`
          : `PowerShell '${this.powershellExe}' could not be started (${run.code})`,
      );
    }
    if (run.kind === 'timedOut') {
      throw new HostBatchError(
        phase,
        reader.inProgress(),
        'Timeout',
        `no answer within ${this.timeoutMs} ms; the PowerShell process tree was stopped`,
      );
    }
    const garbage = reader.garbage;
    if (garbage) {
      throw new HostBatchError(
        phase,
        garbage.operation,
        'Garbage',
        `PowerShell wrote a line that is not a result (${garbage.why})${garbage.excerpt === null ? ' (not quoted: the batch carries secrets)' : `: ${JSON.stringify(garbage.excerpt)}`}`,
      );
    }
    const stderr = reader.stderrLine;
    if (run.exitCode !== 0 || !reader.done) {
      const how =
        run.exitCode === null
          ? `was stopped by ${run.signal ?? 'a signal'}`
          : run.exitCode !== 0
            ? `exited with code ${run.exitCode}`
            : 'exited without reporting the end of the batch';
      throw new HostBatchError(phase, reader.inProgress(), 'ExitCode', `PowerShell ${how}${stderr ? ` (${stderr.text})` : ''}`);
    }
    if (reader.outcomes.length !== reader.expected) {
      throw new HostBatchError(
        phase,
        reader.inProgress(),
        'Garbage',
        `PowerShell reported the end of the batch after ${reader.outcomes.length} of ${reader.expected} results`,
      );
    }
    // The bridge silences every stream but the protocol: anything on stderr is an error that
    // escaped it (or a native command's), so the batch is not trusted even if it completed.
    if (stderr) throw new HostBatchError(phase, stderr.operation, 'Stderr', `PowerShell wrote to stderr: ${stderr.text}`);
    return reader.outcomes;
  }
}

type RunEnd =
  { kind: 'exited'; exitCode: number | null; signal: string | null } | { kind: 'notStarted'; code: string } | { kind: 'timedOut' };

/**
 * Reads the bridge's stdout line by line as it arrives and keeps what it proves: the outcomes in
 * order, whether `done` came, and the first line that broke the protocol. Also keeps the first
 * meaningful stderr line and the operation that was running when it came.
 */
class ResultReader {
  readonly outcomes: OperationOutcome[] = [];
  done = false;
  /** `excerpt` is null in a batch that carries secrets: any line may hold one. */
  garbage: { operation: OperationName | null; why: string; excerpt: string | null } | undefined;
  stderrLine: { operation: OperationName | null; text: string } | undefined;
  private pending = Buffer.alloc(0);
  private pendingErr = '';
  private frozen = false;

  /**
   * `secrets`: the values the request carries, never quoted from stderr; `carriesSecrets`: the
   * batch sends or reads secrets, so no stdout line is quoted.
   */
  constructor(
    private readonly operations: OperationRequest[],
    private readonly privacy: { secrets: readonly string[]; carriesSecrets: boolean },
  ) {}

  get expected(): number {
    return this.operations.length;
  }

  /** The operation running now: the first one without a result, or null when all have one. */
  inProgress(): OperationName | null {
    return this.operations[this.outcomes.length]?.op ?? null;
  }

  /** After a timeout, output still in the pipes no longer counts. */
  freeze(): void {
    this.frozen = true;
  }

  stdout(chunk: Buffer): void {
    if (this.frozen) return;
    this.pending = Buffer.concat([this.pending, chunk]);
    let newline: number;
    // Split on bytes: 0x0A never occurs inside a UTF-8 multi-byte character.
    while ((newline = this.pending.indexOf(0x0a)) >= 0) {
      this.line(this.pending.subarray(0, newline).toString('utf8'));
      this.pending = this.pending.subarray(newline + 1);
    }
  }

  stderr(chunk: Buffer): void {
    if (this.frozen || this.stderrLine) return;
    this.pendingErr += chunk.toString('utf8');
    const lines = this.pendingErr.split(/\r?\n/);
    this.pendingErr = lines.pop() ?? '';
    for (const line of lines) this.errLine(line);
  }

  /** The process ended: a last line without a newline still counts. */
  end(): void {
    if (this.pending.length > 0) this.line(this.pending.toString('utf8'));
    this.pending = Buffer.alloc(0);
    if (this.pendingErr !== '') this.errLine(this.pendingErr);
    this.pendingErr = '';
  }

  private errLine(line: string): void {
    if (this.stderrLine || !isMeaningfulStderr(line)) return;
    this.stderrLine = { operation: this.inProgress(), text: firstLine(redact(line, this.privacy.secrets)) };
  }

  private line(raw: string): void {
    if (this.garbage) return;
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '') return;
    const why = this.accept(text);
    if (why !== undefined) {
      this.garbage = { operation: this.inProgress(), why, excerpt: this.privacy.carriesSecrets ? null : text.slice(0, EXCERPT_CHARS) };
    }
  }

  /** Takes one line; returns why it is not a valid protocol line, or undefined. */
  private accept(text: string): string | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return 'not JSON';
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'not a JSON object';
    if (this.done) return 'after the end of the batch';
    const line = parsed as Record<string, unknown>;
    if (line['done'] === true) {
      this.done = true;
      return undefined;
    }
    const index = this.outcomes.length;
    if (line['index'] !== index) return `expected the result of operation ${index}`;
    const operation = this.operations[index];
    if (operation === undefined) return 'more results than operations';
    if (line['ok'] === true) {
      const value = line['value'];
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a result without a value object';
      this.outcomes.push({ ok: true, value });
      return undefined;
    }
    if (line['ok'] === false) {
      const error = line['error'] as Record<string, unknown> | undefined;
      const code = error?.['code'];
      if (
        typeof error !== 'object' ||
        error === null ||
        typeof code !== 'string' ||
        !(ERROR_CODES as readonly string[]).includes(code) ||
        typeof error['message'] !== 'string'
      ) {
        return 'an error without a known code and a message';
      }
      const target = error['target'];
      this.outcomes.push({
        ok: false,
        error: {
          // The request is the authority on which operation this is.
          operation: operation.op,
          code: code as HostErrorCode,
          message: error['message'],
          target: typeof target === 'string' ? target : null,
        },
      });
      return undefined;
    }
    return 'neither a result nor the end of the batch';
  }
}

/** Text with every secret of the request replaced by '[secret]'. */
function redact(text: string, secrets: readonly string[]): string {
  let clean = text;
  for (const secret of secrets) {
    for (const form of [secret, Buffer.from(secret, 'utf8').toString('base64')]) clean = clean.split(form).join('[secret]');
  }
  return clean;
}

/**
 * Operation errors whose message or target would quote a secret the batch carried lose it. The
 * bridge never puts one there; this holds even if a Windows message someday echoes its input.
 */
function redactOutcomes(outcomes: OperationOutcome[], secrets: readonly string[]): OperationOutcome[] {
  if (secrets.length === 0) return outcomes;
  return outcomes.map((outcome) =>
    outcome.ok
      ? outcome
      : {
          ok: false,
          error: {
            ...outcome.error,
            message: redact(outcome.error.message, secrets),
            target: outcome.error.target === null ? null : redact(outcome.error.target, secrets),
          },
        },
  );
}

/**
 * Whether a stderr line says something. Windows PowerShell can serialize progress records to a
 * redirected stderr as `#< CLIXML` followed by `<Objs ...>` XML: progress alone is noise.
 */
function isMeaningfulStderr(line: string): boolean {
  const text = line.trim();
  if (text === '' || text === '#< CLIXML') return false;
  if (text.startsWith('<Objs')) {
    const streams = [...text.matchAll(/<Obj S="([^"]+)"/g)].map((m) => m[1]);
    return streams.some((s) => s !== 'progress');
  }
  return true;
}

/** Kills a process and everything it started (the session launcher's too). */
export function killTree(pid: number, isWindows: boolean): void {
  if (isWindows) {
    // taskkill /T follows the parent links; it finishes quickly, and its own failure is moot.
    void execa('taskkill', ['/T', '/F', '/PID', String(pid)], { reject: false, windowsHide: true });
    return;
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function closed(stream: NodeJS.ReadableStream | null): Promise<void> {
  return new Promise((resolve) => {
    if (stream === null) return resolve();
    stream.once('close', () => resolve());
    stream.once('end', () => resolve());
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
