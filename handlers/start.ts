/**
 * The package's bin\handler.js, what handler.cmd runs: turns on the compile cache, then runs the
 * handler itself (handler-main.js, beside this file, built from handlers/main.ts) with its V8 code
 * cache from the data folder. It is a file of its own because Node compiles a script before
 * running it: only what loads after this file can come from a cache, so this file stays a few lines.
 */
import { basename, join } from 'path';
import { enableCompileCacheIn, requireWithCodeCache } from './compile-cache';
import { dataFolder } from './data-folder';

declare const __EXTENSION_VERSION__: string;

/** The handler proper (HANDLER_MAIN_FILE of scripts/build/bundle.ts). */
const HANDLER_MAIN = 'handler-main.js';

const cacheFolder = enableCompileCacheIn(dataFolder(process.env));
// Named by version: during an update two versions run in turn, each keeping its own.
requireWithCodeCache(
  join(__dirname, HANDLER_MAIN),
  cacheFolder && join(cacheFolder, `${basename(HANDLER_MAIN, '.js')}-${__EXTENSION_VERSION__}.v8cache`),
);
