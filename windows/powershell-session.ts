/**
 * The JEA session launcher on Windows: one Windows PowerShell process per session, running
 * ChannelSession.ps1 as the agent (SYSTEM) with the principal and the endpoint as parameters. The
 * script's header describes the protocol (UTF-8 JSON lines on stdin and stdout). One command runs
 * at a time; an aborted signal sends a cancel line; close() sends a close line, then kills the
 * process tree after a short grace. Nothing secret crosses: the script makes and drops the
 * principal's password itself.
 */
import type { ChildProcess } from 'child_process';
import * as path from 'path';
import execa from 'execa';
import {
  CHANNEL_SESSION_SCRIPT,
  type JeaCommandResult,
  type JeaOutputStream,
  type JeaSession,
  type JeaSessionLauncher,
  type JeaSessionRequest,
} from './jea-session';
import { defaultWindowsPowerShell, killTree } from './powershell-host';

export interface PowerShellSessionLauncherOptions {
  /** Default: Windows PowerShell 5.1. */
  powershellExe?: string;
  /** The package's scripts folder, holding ChannelSession.ps1 and ArcRemoteSupport.Host.psm1. */
  scriptsDir: string;
  /** The script powershell runs; default <scriptsDir>/ChannelSession.ps1 (tests run a wrapper that loads stand-ins first). */
  entryScript?: string;
  /** Added to the inherited environment. */
  env?: Record<string, string>;
  /** How long open() waits for the session to open; default 60 s. */
  openTimeoutMs?: number;
  /** How long close() waits for the process to leave by itself before killing it; default 1 s. */
  closeGraceMs?: number;
}

/** What the script's parameters accept (ValidatePattern there): checked here first, to name the field. */
const USER_NAME = /^[A-Za-z0-9_.-]{1,20}$/;
const CONFIGURATION_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const STDERR_KEPT = 2_000;

type ScriptMessage = {
  type?: unknown;
  id?: unknown;
  stream?: unknown;
  text?: unknown;
  hadErrors?: unknown;
  error?: unknown;
  message?: unknown;
  reason?: unknown;
};

export class PowerShellSessionLauncher implements JeaSessionLauncher {
  private readonly powershellExe: string;
  private readonly entryScript: string;
  private readonly env: Record<string, string>;

  constructor(private readonly options: PowerShellSessionLauncherOptions) {
    this.powershellExe = options.powershellExe ?? defaultWindowsPowerShell();
    this.entryScript = options.entryScript ?? path.join(options.scriptsDir, CHANNEL_SESSION_SCRIPT);
    this.env = { POWERSHELL_TELEMETRY_OPTOUT: '1', ...options.env };
  }

  async open(request: JeaSessionRequest): Promise<JeaSession> {
    if (!USER_NAME.test(request.userName)) {
      throw new Error(
        `userName '${request.userName}' is not a local user name of 1 to 20 letters, digits, '.', '_' or '-': give the grant's principal (ArcRS-<8 hex>)`,
      );
    }
    if (!CONFIGURATION_NAME.test(request.configurationName)) {
      throw new Error(
        `configurationName '${request.configurationName}' is not an endpoint name of letters, digits, '.', '_' or '-': give ArcRemoteSupport`,
      );
    }
    const isWindows = process.platform === 'win32';
    const args = ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', this.entryScript];
    args.push('-UserName', request.userName, '-ConfigurationName', request.configurationName);
    const child = execa(this.powershellExe, args, { buffer: false, reject: false, detached: !isWindows, env: this.env, windowsHide: true });
    const session = new PowerShellJeaSession(child, isWindows, this.options.closeGraceMs ?? 1_000);
    const what = `The JEA session of '${request.userName}' at endpoint '${request.configurationName}' (session ${request.sessionId})`;
    const timeoutMs = this.options.openTimeoutMs ?? 60_000;
    try {
      await session.opened(timeoutMs);
    } catch (error) {
      await session.close();
      throw new Error(`${what} did not open: ${(error as Error).message}`);
    }
    return session;
  }
}

interface RunningCommand {
  id: string;
  onOutput: (stream: JeaOutputStream, text: string) => void;
  finish: (result: JeaCommandResult) => void;
}

class PowerShellJeaSession implements JeaSession {
  readonly processId: number;
  readonly ended: Promise<{ reason: string }>;
  private exited = false;
  private exitReason: string | null = null;
  private closing = false;
  private running: RunningCommand | null = null;
  private nextId = 1;
  private pendingText = '';
  private stderrText = '';
  private openWaiter: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private readonly exit: Promise<void>;

  constructor(
    private readonly child: ChildProcess,
    private readonly isWindows: boolean,
    private readonly closeGraceMs: number,
  ) {
    this.processId = child.pid ?? -1;
    child.stdin?.on('error', () => undefined);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (this.stderrText.length < STDERR_KEPT) this.stderrText += chunk.slice(0, STDERR_KEPT - this.stderrText.length);
    });
    let endedResolve: (value: { reason: string }) => void = () => undefined;
    this.ended = new Promise((resolve) => (endedResolve = resolve));
    this.exit = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        if (this.exited) return;
        this.exited = true;
        const reason =
          this.exitReason ??
          (this.closing
            ? 'closed'
            : spawnError
              ? `the session process could not start: ${spawnError.message}`
              : `the session process ${this.processId} ended (${signal ? `signal ${signal}` : `exit code ${code}`})${this.stderrLine()}`);
        this.openWaiter?.reject(new Error(reason));
        this.openWaiter = null;
        this.running?.finish({ ok: false, error: `The session ended while the command ran: ${reason}` });
        this.running = null;
        endedResolve({ reason });
        resolve();
      };
      child.once('exit', (code, signal) => done(code, signal));
      child.once('error', (error) => done(null, null, error));
    });
  }

  /** Resolves on the script's "opened", rejects on "failed", an early exit or the timeout. */
  opened(timeoutMs: number): Promise<void> {
    if (this.exited) return Promise.reject(new Error(this.exitReason ?? 'the session process ended'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.openWaiter = null;
        reject(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.openWaiter = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
    });
  }

  run(command: string, onOutput: (stream: JeaOutputStream, text: string) => void, signal: AbortSignal): Promise<JeaCommandResult> {
    if (this.running) return Promise.reject(new Error(`Command ${this.running.id} is still running: run one command at a time`));
    if (this.exited || this.closing) return Promise.resolve({ ok: false, error: `The session has ended: ${this.exitReason ?? 'closed'}` });
    if (signal.aborted) return Promise.resolve({ ok: false, error: 'The command was cancelled.' });
    const id = String(this.nextId++);
    return new Promise((resolve) => {
      const onAbort = () => this.send({ type: 'cancel', id });
      signal.addEventListener('abort', onAbort, { once: true });
      this.running = {
        id,
        onOutput,
        finish: (result) => {
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        },
      };
      this.send({ id, command });
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    this.closing = true;
    this.send({ type: 'close' });
    this.child.stdin?.end();
    const timer = setTimeout(() => killTree(this.processId, this.isWindows), this.closeGraceMs);
    await this.exit;
    clearTimeout(timer);
  }

  private send(message: object): void {
    if (this.exited || !this.child.stdin?.writable) return;
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  private stderrLine(): string {
    // pwsh colours its errors; Windows PowerShell does not.
    // eslint-disable-next-line no-control-regex
    const plain = this.stderrText.replace(/\u001b\[[0-9;]*m/g, '');
    const line = plain.split(/\r?\n/).find((l) => l.trim() !== '');
    return line ? `: ${line.trim().slice(0, 300)}` : '';
  }

  private onStdout(chunk: string): void {
    this.pendingText += chunk;
    let newline = this.pendingText.indexOf('\n');
    while (newline >= 0) {
      const line = this.pendingText.slice(0, newline).replace(/\r$/, '');
      this.pendingText = this.pendingText.slice(newline + 1);
      if (line.trim() !== '') this.onMessage(line);
      newline = this.pendingText.indexOf('\n');
    }
  }

  private onMessage(line: string): void {
    let message: ScriptMessage;
    try {
      message = JSON.parse(line) as ScriptMessage;
    } catch {
      // Not the protocol: the script writes nothing else, so this is a broken session.
      this.exitReason = `the session script wrote something that is not a protocol line (${line.length} characters)`;
      killTree(this.processId, this.isWindows);
      return;
    }
    if (message.type === 'opened') {
      this.openWaiter?.resolve();
      this.openWaiter = null;
    } else if (message.type === 'failed') {
      this.openWaiter?.reject(new Error(typeof message.message === 'string' ? message.message : 'the session script failed'));
      this.openWaiter = null;
    } else if (message.type === 'ended') {
      this.exitReason = typeof message.reason === 'string' ? message.reason : 'the JEA session ended';
    } else if (this.running && message.id === this.running.id) {
      const running = this.running;
      if (message.type === 'done') {
        this.running = null;
        running.finish(
          message.hadErrors === true ? { ok: false, ...(typeof message.error === 'string' ? { error: message.error } : {}) } : { ok: true },
        );
      } else if ((message.stream === 'output' || message.stream === 'error') && typeof message.text === 'string') {
        running.onOutput(message.stream, message.text);
      }
    }
  }
}
