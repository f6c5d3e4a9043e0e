import type { HostErrorCode } from '../../windows/port';

/** Thrown by a simulated operation; the host turns it into the operation's error outcome. */
export class OperationFailure extends Error {
  constructor(
    readonly code: HostErrorCode,
    message: string,
    readonly target: string | null = null,
  ) {
    super(message);
    this.name = 'OperationFailure';
  }
}
