/**
 * The only door to Windows. A phase of a handler sends one batch of operations to one node and
 * gets one result per operation. Two implementations: PowerShell (the real node, one
 * powershell.exe process per batch) and the simulated Windows machine (demo and tests).
 */
import type { ProtectedSettingsDecryptor } from '../extension/protected-settings';
import type { OperationName, OperationRequest } from './operations';

/**
 * Why an operation failed. `code` is one of:
 * - NotFound: the target does not exist where the operation needs it;
 * - AccessDenied: the node refused (for a remote node, usually SYSTEM pushing to a peer);
 * - NodeUnreachable: the node is down or WinRM does not answer;
 * - InvalidRequest: the request itself is wrong (unknown operation, missing field);
 * - DomainController: the operation needs local accounts, which a domain controller does not have
 *   (the channel's per-grant account: the channel is unavailable there);
 * - Exists: a create-only write (writeFile createNew) found the file already there: someone else
 *   went first, and the file is theirs, untouched;
 * - Failed: the Windows command failed; `message` says how;
 * - Skipped: not run, because an earlier operation of the batch failed.
 */
export type HostErrorCode =
  'NotFound' | 'AccessDenied' | 'NodeUnreachable' | 'InvalidRequest' | 'DomainController' | 'Exists' | 'Failed' | 'Skipped';

export interface HostOperationError {
  /** The operation's name, e.g. "registerTask". */
  operation: OperationName;
  code: HostErrorCode;
  message: string;
  /** What it acted on: a path, group, task or endpoint name. */
  target: string | null;
}

export type OperationOutcome = { ok: true; value: unknown } | { ok: false; error: HostOperationError };

export interface BatchOptions {
  /** Names the phase in errors and logs, e.g. "install: JEA". */
  phase: string;
  /** Another node of the cluster; default the local one. */
  node?: string;
  /** Stop at the first failure and report the rest as Skipped (default true). Probes pass false. */
  stopOnError?: boolean;
}

/**
 * The whole batch failed, not one operation: the PowerShell process wrote something that is not
 * a result, exited early, printed errors, or hung and was killed. `operation` names the operation
 * that was running (the first one without a result), or null when none had started.
 */
export class HostBatchError extends Error {
  override readonly name = 'HostBatchError';

  constructor(
    readonly phase: string,
    readonly operation: OperationName | null,
    readonly reason: 'Garbage' | 'ExitCode' | 'Stderr' | 'Timeout' | 'NotStarted',
    detail: string,
  ) {
    super(`Windows host phase '${phase}' failed${operation ? ` at operation '${operation}'` : ''}: ${detail}`);
  }
}

/** By name, not class identity: the simulated Windows is a bundle of its own, with its own copy of the class. */
export function isHostBatchError(error: unknown): error is HostBatchError {
  return error instanceof Error && error.name === 'HostBatchError' && typeof (error as Partial<HostBatchError>).phase === 'string';
}

export interface WindowsHost {
  /** Runs the operations in order on one node; one result per operation, in the same order. */
  execute(operations: OperationRequest[], options: BatchOptions): Promise<OperationOutcome[]>;
  /** Decrypts protected settings with the node's certificate store. */
  decryptor(): ProtectedSettingsDecryptor;
  /** How many host processes this instance started (the benchmark counts them: one per phase). */
  readonly launches: number;
}
