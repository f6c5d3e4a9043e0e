import type { HostErrorCode } from '../../windows/port';

/** Thrown by a simulated operation; the host turns it into the operation's error outcome. */
export class OperationFailure extends Error {
  override readonly name = 'OperationFailure';

  constructor(
    readonly code: HostErrorCode,
    message: string,
    readonly target: string | null = null,
  ) {
    super(message);
  }
}

export function isOperationFailure(error: unknown): error is OperationFailure {
  return error instanceof Error && error.name === 'OperationFailure' && typeof (error as Partial<OperationFailure>).code === 'string';
}
