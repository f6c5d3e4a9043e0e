import { mkdirSync, rmdirSync, statSync, utimesSync, type Stats } from 'fs';

export interface DirectoryLockOptions {
  /** Give up after waiting this long for another process. */
  waitMs: number;
  /** A lock whose time is older than this was left by a process that died, and is taken over. */
  staleMs: number;
  /** How often the holder refreshes the lock's time; well under staleMs. */
  updateMs: number;
  /** The pause between attempts while another process holds the lock. */
  retryDelayMs: () => number;
}

/** Another process held the lock for the whole wait. */
export class LockBusyError extends Error {}

/**
 * A lock between processes: the folder `lockFolder`, which only one process can create. The holder
 * refreshes the folder's time every `updateMs`, and a lock not refreshed for `staleMs` belongs to a
 * process that died (a killed run never releases it) and is taken over. Returns the release.
 *
 * The folder layout and the rules are proper-lockfile's, which this replaces: loading it and its
 * dependencies (graceful-fs, which patches fs, and signal-exit with Node's assert) took about 7 ms
 * of CPU at every handler start, a quarter of what bare Node takes to start on Node 22. Its file
 * calls are synchronous (each a few microseconds on a local folder): the waits between attempts
 * are timers, so a waiting process still lets its other work run.
 */
export async function acquireDirectoryLock(lockFolder: string, options: DirectoryLockOptions): Promise<() => Promise<void>> {
  const giveUpAt = Date.now() + options.waitMs;
  for (;;) {
    try {
      mkdirSync(lockFolder);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = statIfAny(lockFolder);
    // Released between the two calls: try again at once.
    if (!held) continue;
    if (held.mtimeMs < Date.now() - options.staleMs) {
      removeFolder(lockFolder);
      continue;
    }
    if (Date.now() >= giveUpAt) throw new LockBusyError(`${lockFolder} is held by another process`);
    await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs()));
  }

  const refresh = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(lockFolder, now, now);
    } catch {
      // Gone already (taken over as stale): nothing to refresh.
    }
  }, options.updateMs);
  refresh.unref();
  // A process that ends while holding the lock (an uncaught error) releases it on the way out.
  const releaseOnExit = () => removeFolder(lockFolder);
  process.once('exit', releaseOnExit);

  let released = false;
  return async () => {
    if (released) return;
    released = true;
    clearInterval(refresh);
    process.removeListener('exit', releaseOnExit);
    removeFolder(lockFolder);
  };
}

function statIfAny(lockFolder: string): Stats | undefined {
  try {
    return statSync(lockFolder);
  } catch {
    return undefined;
  }
}

/** Removes the lock folder; one already gone (released, or taken over as stale) is fine. */
function removeFolder(lockFolder: string): void {
  try {
    rmdirSync(lockFolder);
  } catch {
    // Already gone.
  }
}
