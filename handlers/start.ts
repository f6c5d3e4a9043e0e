/**
 * The package's bin\handler.js, what handler.cmd runs: turns on the compile cache, then loads the
 * handler itself (handler-main.js, beside this file, built from handlers/main.ts). It is a file of
 * its own because Node compiles a script before running it: only what loads after
 * enableCompileCacheIn can come from the cache, so this file stays a few lines.
 */
import { enableCompileCacheIn } from './compile-cache';
import { dataFolder } from './data-folder';

enableCompileCacheIn(dataFolder(process.env));
// Left to Node by the bundler (scripts/build/bundle.ts): the handler proper, loaded after the cache is on.
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./handler-main.js');
