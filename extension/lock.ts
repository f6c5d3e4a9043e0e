import { mkdirSync } from 'fs';
import { dirname } from 'path';
import { acquireDirectoryLock } from './directory-lock';
import { HandlerError, ExitCode } from './errors';

/** How long a run waits for another by default. The manager kills a command after ~5 minutes. */
export const DEFAULT_LOCK_WAIT_MS = 120_000;

export interface LockOptions {
  /** How long to wait for another handler run to finish (default DEFAULT_LOCK_WAIT_MS). */
  waitMs?: number;
  /** A lock not refreshed for this long belongs to a run that was killed, and is taken over. */
  staleMs?: number;
}

/**
 * Makes sure two handler runs never overlap (the manager can start `enable` while a killed
 * `update` left its lock, or two versions run back to back during an upgrade). Runs `work` while
 * holding `<lockPath>` (the folder `<lockPath>.lock`) and always releases it.
 */
export async function withLock<T>(lockPath: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const waitMs = options.waitMs ?? DEFAULT_LOCK_WAIT_MS;
  const staleMs = options.staleMs ?? 30_000;
  mkdirSync(dirname(lockPath), { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await acquireDirectoryLock(`${lockPath}.lock`, {
      waitMs,
      staleMs,
      updateMs: Math.min(10_000, staleMs / 2),
      retryDelayMs: () => 500,
    });
  } catch (error) {
    throw new HandlerError(
      ExitCode.Failure,
      `Another run of this extension's handler still holds ${lockPath} after ${Math.round(waitMs / 1000)} s (${(error as Error).message}). ` +
        'It will be retried by the extension manager; if this persists, check the handler log for a run that does not finish.',
    );
  }
  try {
    return await work();
  } finally {
    await release().catch(() => undefined);
  }
}
