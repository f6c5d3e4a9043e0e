import { ExitCode } from './exit-codes';

/** A failure that ends the whole run with a given exit code and a message meant for the operator. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Bad input (exit 2). The message names the option, the value received and the fix, so the
 * operator can correct the command line without reading documentation.
 */
export class InputError extends CliError {
  constructor(option: string, received: unknown, fix: string) {
    super(ExitCode.BadInput, `${option}: received ${showValue(received)}. ${fix}`);
  }
}

/** No usable Azure credential (exit 5). */
export class CredentialError extends CliError {
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
