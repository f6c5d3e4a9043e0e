import { ExitCode } from './exit-codes';

/** The names of the CliError family, as literals: bundling or minifying can rename a class. */
export const CLI_ERROR_NAMES = ['CliError', 'InputError', 'CredentialError'] as const;
export type CliErrorName = (typeof CLI_ERROR_NAMES)[number];

/** The exit codes a failure may end with: a CliError claiming success would hide a failure. */
const FAILURE_EXIT_CODES: readonly number[] = Object.values(ExitCode).filter((code) => code !== ExitCode.Success);

/** A failure that ends the whole run with a given exit code and a message meant for the operator. */
export class CliError extends Error {
  override readonly name: CliErrorName = 'CliError';

  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

/** Any of the CliError family, recognised by name (not class identity) with a failure exit code the CLI documents. */
export function isCliError(error: unknown): error is CliError {
  if (!(error instanceof Error) || !(CLI_ERROR_NAMES as readonly string[]).includes(error.name)) return false;
  const { exitCode } = error as Partial<CliError>;
  return typeof exitCode === 'number' && FAILURE_EXIT_CODES.includes(exitCode);
}

/**
 * Bad input (exit 2). The message names the option, the value received and the fix, so the
 * operator can correct the command line without reading documentation.
 */
export class InputError extends CliError {
  override readonly name = 'InputError';

  constructor(option: string, received: unknown, fix: string) {
    super(ExitCode.BadInput, `${option}: received ${showValue(received)}. ${fix}`);
  }
}

/** No usable Azure credential (exit 5). */
export class CredentialError extends CliError {
  override readonly name = 'CredentialError';

  constructor(message: string) {
    super(ExitCode.NoCredential, message);
  }
}

/** Short and quoted, so an empty string or trailing space is visible in the message. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 120 ? `${value.slice(0, 117)}...` : value);
  return JSON.stringify(value) ?? String(value);
}

/** The first line of an error's message, for table cells. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
