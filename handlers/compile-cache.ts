import { readFileSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'fs';
import { createRequire, Module } from 'module';
import { basename, dirname, join } from 'path';
import { Script } from 'vm';

/** The cache's folder inside the data folder (removed with it by uninstall). */
export const COMPILE_CACHE_FOLDER = 'compile-cache';

/** Node 22's module compile cache; @types/node for Node 20 does not declare it. */
interface CompileCacheApi {
  enableCompileCache?: (directory: string) => { status: number; directory?: string };
  getCompileCacheDir?: () => string | undefined;
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
    const folder = join(dataFolder, COMPILE_CACHE_FOLDER);
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

/**
 * Loads the CommonJS file `file` (the handler proper, the simulated Windows) with V8's code cache
 * kept in `cacheFile`, or without a cache when `cacheFile` is undefined (see enableCompileCacheIn
 * for where it may live); returns its exports.
 *
 * Node's compile cache saves a module's code as soon as the module is compiled, when V8 has
 * compiled only its outermost function: every function a run calls was still parsed and compiled
 * at every start, about 8 ms of a no-op enable. This cache is saved when a run that found none
 * usable ends, so it holds everything that run compiled.
 *
 * The file starts with the length and a copy of the source it was made from, and is used only
 * for exactly that source (V8 itself checks only the length). Anything else, or a cache V8 turns
 * down (another Node or other flags), is replaced at the end of the run; a failure to read or write
 * it only costs time.
 */
export function requireWithCodeCache(file: string, cacheFile: string | undefined): unknown {
  const source = readFileSync(file);
  const cached = cacheFile ? cachedDataFor(cacheFile, source) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source.toString('utf8')}\n})`, {
    filename: file,
    cachedData: cached,
  });
  if (cacheFile && (cached === undefined || script.cachedDataRejected)) {
    process.once('exit', () => saveCodeCache(cacheFile, source, script.createCachedData()));
  }
  const module = { exports: {} };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

/**
 * Where a module loaded after the handler's start may keep its code cache: the folder of Node's
 * compile cache, which handler.js turned on only in a data folder fit for it (enableCompileCacheIn).
 */
export function codeCacheFileFor(file: string): string | undefined {
  const folder = (Module as unknown as CompileCacheApi).getCompileCacheDir?.();
  return folder ? join(folder, `${basename(file, '.js')}.v8cache`) : undefined;
}

/** The V8 data of `cacheFile` when the file was made from exactly `source`. */
function cachedDataFor(cacheFile: string, source: Buffer): Buffer | undefined {
  let content: Buffer;
  try {
    content = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  const start = 4 + source.length;
  if (content.length <= start || content.readUInt32LE(0) !== source.length) return undefined;
  return content.subarray(4, start).equals(source) ? content.subarray(start) : undefined;
}

/** Writes the cache atomically, and only into a folder that exists (uninstall may have removed it). */
function saveCodeCache(cacheFile: string, source: Buffer, data: Buffer): void {
  const temporary = `${cacheFile}.${process.pid}.tmp`;
  try {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(source.length);
    writeFileSync(temporary, Buffer.concat([length, source, data]), { flag: 'wx', mode: 0o600 });
    renameSync(temporary, cacheFile);
  } catch {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // Nothing was written.
    }
  }
}
