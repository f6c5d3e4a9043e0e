import { escapeUnsafe } from './unsafe-text';

/**
 * Handler failures and the exit codes the extension manager understands (DESIGN section 3).
 * The exit code always agrees with the status written for the same run.
 */
export const ExitCode = {
  Success: 0,
  Failure: 1,
  PrerequisiteFailed: 51,
  MissingDependency: 52,
  BadConfiguration: 53,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** One line of detail under a status (a check, a node), as the status file carries it. */
export interface ErrorDetail {
  name: string;
  status: 'success' | 'warning' | 'error';
  code: number;
  message: string;
}

/**
 * The names of the HandlerError family. A failure is recognised by its name, never by class
 * identity: the handler, its lazy modules, the agent and the simulated Windows are separate
 * bundles, each with its own copy of these classes. Literals, because bundling or minifying can
 * rename a class.
 */
export const HANDLER_ERROR_NAMES = ['HandlerError', 'ConfigurationError', 'MissingDependencyError', 'PrerequisiteError'] as const;
export type HandlerErrorName = (typeof HANDLER_ERROR_NAMES)[number];

/** The exit codes a failure may end with: a HandlerError claiming success would hide a failure. */
const FAILURE_EXIT_CODES: readonly number[] = Object.values(ExitCode).filter((code) => code !== ExitCode.Success);

/** A failure the handler reports with a specific exit code and a message meant for the machine's owner. */
export class HandlerError extends Error {
  override readonly name: HandlerErrorName = 'HandlerError';

  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** Shown as substatus entries, e.g. one per prerequisite check. */
    readonly details: ErrorDetail[] = [],
  ) {
    // Messages end up in the status and the manager's log: whatever they quote is shown escaped.
    super(escapeUnsafe(message));
  }
}

/** Any of the HandlerError family, from whichever bundle, with a failure exit code the protocol knows. */
export function isHandlerError(error: unknown): error is HandlerError {
  if (!(error instanceof Error) || !(HANDLER_ERROR_NAMES as readonly string[]).includes(error.name)) return false;
  const { exitCode, details } = error as Partial<HandlerError>;
  return typeof exitCode === 'number' && FAILURE_EXIT_CODES.includes(exitCode) && Array.isArray(details);
}

/**
 * Bad settings (exit 53). The message names the field, the value received and what is accepted,
 * so an owner can fix the settings without reading logs.
 */
export class ConfigurationError extends HandlerError {
  override readonly name = 'ConfigurationError';
  /** The field's path; a received key in it is shown escaped. */
  readonly field: string;

  constructor(field: string, received: string, accepted: string) {
    super(ExitCode.BadConfiguration, `Invalid setting '${field}': received ${received}. Accepted: ${accepted}.`);
    this.field = escapeUnsafe(field);
  }
}

export function isConfigurationError(error: unknown): error is ConfigurationError {
  return isHandlerError(error) && error.name === 'ConfigurationError' && error.exitCode === ExitCode.BadConfiguration;
}

/** Something the handler needs from its host is missing or unreadable (exit 52). */
export class MissingDependencyError extends HandlerError {
  override readonly name = 'MissingDependencyError';

  constructor(message: string) {
    super(ExitCode.MissingDependency, message);
  }
}

export function isMissingDependencyError(error: unknown): error is MissingDependencyError {
  return isHandlerError(error) && error.name === 'MissingDependencyError' && error.exitCode === ExitCode.MissingDependency;
}

/** A prerequisite check failed (exit 51). */
export class PrerequisiteError extends HandlerError {
  override readonly name = 'PrerequisiteError';

  constructor(message: string, details: ErrorDetail[] = []) {
    super(ExitCode.PrerequisiteFailed, message, details);
  }
}

export function isPrerequisiteError(error: unknown): error is PrerequisiteError {
  return isHandlerError(error) && error.name === 'PrerequisiteError' && error.exitCode === ExitCode.PrerequisiteFailed;
}

/**
 * Shows a received value in an error message: short, quoted, with control characters, NULs,
 * separators, bidirectional and other invisible formatting characters and lone surrogates escaped.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    // Cut by code points, so a character outside the BMP is never shown as half a surrogate pair.
    const characters = Array.from(value);
    const shown = characters.length > 80 ? `${characters.slice(0, 77).join('')}...` : value;
    return escapeUnsafe(JSON.stringify(shown));
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (Array.isArray(value)) return `an array of ${value.length} item(s)`;
  return 'an object';
}
