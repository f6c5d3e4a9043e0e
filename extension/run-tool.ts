/**
 * Runs a short-lived tool (openssl, PowerShell) with input on stdin and classifies how it ended,
 * without ever quoting its stdout in an error: for decryption, stdout can be the plaintext.
 */
import execa from 'execa';
import { MissingDependencyError } from './errors';

/** A tool's diagnostic made short enough for a status message, without a final period. */
export function shortReason(text: string): string {
  const line = text.trim().replace(/\s+/g, ' ').replace(/\.$/, '');
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/** The first non-empty line of a tool's diagnostics, shortened. */
export function firstLine(text: string): string {
  return shortReason(text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '');
}

/** The error for an executable that could not be started. */
export function missingExecutable(what: string, file: string, code: string): MissingDependencyError {
  return new MissingDependencyError(
    code === 'ENOENT' ? `The ${what} executable '${file}' was not found.` : `The ${what} executable '${file}' could not be run (${code}).`,
  );
}

/** How a decryption tool run ended. stdout is only ever looked at after exit code 0 or a known error code. */
export type ToolRun =
  | { kind: 'exited'; exitCode: number; stdout: Buffer; stderr: Buffer }
  /** The executable could not be started (ENOENT, EACCES...). */
  | { kind: 'notStarted'; code: string }
  /** It started but reading its output failed. */
  | { kind: 'ioError'; code: string; stderr: Buffer }
  | { kind: 'timedOut' }
  | { kind: 'signaled'; signal: string };

/**
 * Runs a tool with `input` on stdin, killing it after `timeoutMs`. Never throws execa's errors:
 * their messages quote the child's stdout, which can be plaintext. The timeout is ours rather than
 * execa's because execa 5 leaves its timer running when the executable does not exist, which keeps
 * the handler alive until it fires.
 */
export async function runDecryptTool(
  file: string,
  args: string[],
  input: Buffer | string,
  timeoutMs: number,
  env?: Record<string, string>,
): Promise<ToolRun> {
  // Bytes exactly as written: execa would otherwise drop a final 0x0A byte.
  const child = execa(file, args, { input, encoding: null, stripFinalNewline: false, reject: false, env });
  // A tool that fails before reading its input (bad arguments, a blocked script) makes the write to
  // stdin fail with EPIPE, and execa 5 would then report that instead of the exit code and stderr
  // that say why. Its handler is replaced: the exit code and stderr tell the story.
  child.stdin?.removeAllListeners('error');
  child.stdin?.on('error', () => undefined);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  try {
    const result = await child;
    if (timedOut) return { kind: 'timedOut' };
    const { code, syscall } = result as { code?: unknown; syscall?: unknown };
    if (typeof code === 'string') {
      return typeof syscall === 'string' && syscall.startsWith('spawn')
        ? { kind: 'notStarted', code }
        : { kind: 'ioError', code, stderr: result.stderr };
    }
    if (result.exitCode === undefined) return { kind: 'signaled', signal: String(result.signal) };
    return { kind: 'exited', exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** The message for a run that neither exited nor failed to start; it never quotes stdout. */
export function describeAbnormalRun(tool: string, run: ToolRun, timeoutMs: number): string {
  switch (run.kind) {
    case 'timedOut':
      return `${tool} did not decrypt the protected settings within ${timeoutMs} ms and was stopped.`;
    case 'signaled':
      return `${tool} was stopped by signal ${run.signal} while decrypting the protected settings.`;
    case 'ioError':
      return `${tool} failed while decrypting the protected settings (${run.code}): ${firstLine(run.stderr.toString('utf8')) || 'no error output'}`;
    default:
      return `${tool} failed while decrypting the protected settings.`;
  }
}
