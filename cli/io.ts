import type { TokenCredential } from '@azure/core-auth';
import type { ConflictRetryOptions } from './arm/conflict-retry-policy';
import type { Clock } from './fleet/clock';

type Output = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** Everything the CLI touches outside itself; `bin/` passes the process's, tests their own. */
export interface CliIo {
  stdout: Output;
  stderr: Output;
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
  /** Where relative paths and the default journal are (default: process.cwd()). */
  cwd?: string;
  /** A token credential to use instead of DefaultAzureCredential (in-process tests). */
  credential?: TokenCredential;
  /** Extra CA certificates for Resource Manager's TLS (in-process tests against the emulator). */
  tlsCa?: string | Buffer;
  now?: () => Date;
  /** Answers the terms prompt instead of @inquirer/confirm. */
  confirm?: (question: string) => Promise<boolean>;
  /** The fleet limiter's clock (tests). */
  clock?: Clock;
  /** First wait between polls of a long operation; Azure's Retry-After then decides. */
  pollIntervalMs?: number;
  conflictRetry?: ConflictRetryOptions;
  /** Extra CA certificates for the relay (in-process tests; a process uses NODE_EXTRA_CA_CERTS). */
  relayCa?: string | Buffer;
  /**
   * Accept an upload SAS of the storage emulator on a loopback address over http (in-process
   * tests against Azurite); no option or variable sets it, so the shipped CLI never does.
   */
  allowStorageEmulator?: boolean;
  /** Where connect hears SIGINT (default: the process). */
  signals?: NodeJS.EventEmitter;
}

export interface ResolvedIo extends CliIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  now: () => Date;
}

export function resolveIo(io: CliIo): ResolvedIo {
  return { ...io, env: io.env ?? process.env, cwd: io.cwd ?? process.cwd(), now: io.now ?? (() => new Date()) };
}
