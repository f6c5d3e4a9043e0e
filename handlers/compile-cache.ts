import { statSync, type Stats } from 'fs';
import Module from 'module';
import path from 'path';

/** The cache's folder inside the data folder (removed with it by uninstall). */
export const COMPILE_CACHE_FOLDER = 'compile-cache';

/** Node 22's module compile cache; @types/node for Node 20 does not declare it. */
interface CompileCacheApi {
  enableCompileCache?: (directory: string) => { status: number; directory?: string };
  constants?: { compileCacheStatus?: { ENABLED: number; ALREADY_ENABLED: number } };
}

/**
 * Turns on Node's module compile cache in `<dataFolder>/compile-cache` for every module loaded
 * after this call; returns the folder, or undefined when the cache stays off. Most of a no-op
 * enable is Node compiling the handler; with the cache, later runs reuse the compiled code.
 *
 * The cache is code the handler runs as SYSTEM, so it lives only in the data folder, which
 * install creates SYSTEM and Administrators only (the cache folder inherits that), and it never
 * creates the data folder itself: a folder made here, before install, would inherit ProgramData's
 * rights, which let any user write. Elsewhere than Windows, a data folder that is not ours or
 * that others may write to is not used. Anything that goes wrong leaves the cache off, silently:
 * it only saves time.
 */
export function enableCompileCacheIn(dataFolder: string): string | undefined {
  try {
    const api = Module as unknown as CompileCacheApi;
    const statuses = api.constants?.compileCacheStatus;
    if (typeof api.enableCompileCache !== 'function' || !statuses) return undefined;
    const stats = statSync(dataFolder, { throwIfNoEntry: false });
    if (!stats?.isDirectory()) return undefined;
    if (process.platform !== 'win32' && !ownedAndPrivate(stats)) return undefined;
    const folder = path.join(dataFolder, COMPILE_CACHE_FOLDER);
    const { status } = api.enableCompileCache(folder);
    return status === statuses.ENABLED || status === statuses.ALREADY_ENABLED ? folder : undefined;
  } catch {
    return undefined;
  }
}

/** Owned by this process's user, and writable by no group and no other user. */
function ownedAndPrivate(stats: Stats): boolean {
  return stats.uid === process.getuid?.() && (stats.mode & 0o022) === 0;
}
