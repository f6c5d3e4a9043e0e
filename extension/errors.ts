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

/** A failure the handler reports with a specific exit code and a message meant for the machine's owner. */
export class HandlerError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** Shown as substatus entries, e.g. one per prerequisite check. */
    readonly details: ErrorDetail[] = [],
  ) {
    // Messages end up in the status and the manager's log: whatever they quote is shown escaped.
    super(escapeUnsafe(message));
    this.name = new.target.name;
  }
}

/**
 * Bad settings (exit 53). The message names the field, the value received and what is accepted,
 * so an owner can fix the settings without reading logs.
 */
export class ConfigurationError extends HandlerError {
  /** The field's path; a received key in it is shown escaped. */
  readonly field: string;

  constructor(field: string, received: string, accepted: string) {
    super(ExitCode.BadConfiguration, `Invalid setting '${field}': received ${received}. Accepted: ${accepted}.`);
    this.field = escapeUnsafe(field);
  }
}

/** Something the handler needs from its host is missing or unreadable (exit 52). */
export class MissingDependencyError extends HandlerError {
  constructor(message: string) {
    super(ExitCode.MissingDependency, message);
  }
}

/** A prerequisite check failed (exit 51). */
export class PrerequisiteError extends HandlerError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super(ExitCode.PrerequisiteFailed, message, details);
  }
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
