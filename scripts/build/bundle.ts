/**
 * Bundles the handler (handlers/main.ts and everything it imports, node_modules included) into one
 * CommonJS file for the node.exe the package carries, handler-main.js, run by handler.js
 * (handlers/start.ts) with its code cache. The extension identity is baked in
 * as defines, so the handler never reads yaml at run time; a handler source declares them with
 * `declare const __EXTENSION_VERSION__: string;` (and likewise for publisher and type).
 */
import { promises as fs } from 'fs';
import path from 'path';
import { build, type Plugin } from 'esbuild';
import { ExtensionIdentity, REPO_ROOT } from '../../manifests/extension-identity';

export const HANDLER_ENTRY = path.join(REPO_ROOT, 'handlers', 'main.ts');
/** handler.js: turns on the compile cache, then runs handler-main.js with its code cache. */
export const HANDLER_START_ENTRY = path.join(REPO_ROOT, 'handlers', 'start.ts');
export const HANDLER_MAIN_FILE = 'handler-main.js';
export const AGENT_ENTRY = path.join(REPO_ROOT, 'agent', 'main.ts');
/** Node major of the carried node.exe (nodeRuntime.version in extension.yaml). */
const NODE_TARGET = 'node22';

export interface BundleOptions {
  identity: Pick<ExtensionIdentity, 'publisher' | 'type' | 'version'>;
  /** Where handler.js goes; handler-main.js, agent.js and the lazy modules go beside it. */
  outFile: string;
  /** The handler proper, bundled to handler-main.js. Defaults to handlers/main.ts. */
  entry?: string;
  /**
   * Off by default. Measured on the handler: 203 KB plain vs 95 KB minified, a 12 KB difference in
   * a 34 MB zip (node.exe is 87 MB), and no cold-start gain (`node handler.js` about 64-67 ms either
   * way, bare node 52 ms). Unminified stack traces in a customer's extension logs stay readable, and
   * no source map ships in the package.
   */
  minify?: boolean;
}

export function identityDefines(identity: BundleOptions['identity']): Record<string, string> {
  return {
    __EXTENSION_PUBLISHER__: JSON.stringify(identity.publisher),
    __EXTENSION_TYPE__: JSON.stringify(identity.type),
    __EXTENSION_VERSION__: JSON.stringify(identity.version),
  };
}

/**
 * Modules bundled into their own file beside handler.js and loaded only when a run needs them.
 * The Azure identity and Resource Manager packages are most of the code, and only reading the
 * license from Azure uses them: parsing them on every start would double a no-op enable's time.
 * Each is imported with `import('./<name>')` from exactly one place.
 */
export const LAZY_MODULES: ReadonlyArray<{ source: string; file: string }> = [
  { source: 'handlers/license/azure-license-reader.ts', file: 'azure-license-reader.js' },
  { source: 'handlers/log-collection.ts', file: 'log-collection.js' },
];

/** Leaves `import('./azure-license-reader')` as a runtime require of the file beside handler.js. */
const keepLazyModulesOutside: Plugin = {
  name: 'keep-lazy-modules-outside',
  setup(builder) {
    for (const lazy of LAZY_MODULES) {
      const stem = path.basename(lazy.source, '.ts');
      builder.onResolve({ filter: new RegExp(`/${stem}$`) }, (args) =>
        args.kind === 'dynamic-import' ? { path: `./${lazy.file}`, external: true } : undefined,
      );
    }
  },
};

/**
 * Bundles handler.js and handler-main.js, and agent.js and each lazy module beside them; returns
 * handler.js and the size of the two files every handler run loads.
 */
export async function bundleHandler(options: BundleOptions): Promise<{ outFile: string; size: number }> {
  await fs.mkdir(path.dirname(options.outFile), { recursive: true });
  const common = {
    bundle: true,
    platform: 'node' as const,
    target: NODE_TARGET,
    format: 'cjs' as const,
    define: identityDefines(options.identity),
    minify: options.minify ?? false,
    sourcemap: false,
    // Paths in the output's comments are relative to this, so a clone anywhere builds the same bytes.
    absWorkingDir: REPO_ROOT,
    charset: 'ascii' as const,
    legalComments: 'eof' as const,
    logLevel: 'warning' as const,
    // Lazy modules load through require(): a real import() of a CommonJS file makes Node run its
    // ESM loader and module lexer over it, which costs more than the whole handler start.
    supported: { 'dynamic-import': false },
    write: true,
  };
  for (const lazy of LAZY_MODULES) {
    await build({
      ...common,
      entryPoints: [path.join(REPO_ROOT, lazy.source)],
      outfile: path.join(path.dirname(options.outFile), lazy.file),
    });
  }
  const mainFile = path.join(path.dirname(options.outFile), HANDLER_MAIN_FILE);
  await build({ ...common, plugins: [keepLazyModulesOutside], entryPoints: [options.entry ?? HANDLER_ENTRY], outfile: mainFile });
  await build({ ...common, entryPoints: [HANDLER_START_ENTRY], outfile: options.outFile });
  // The node agent the scheduled tasks run, beside the handler and sharing its lazy modules.
  await build({
    ...common,
    plugins: [keepLazyModulesOutside],
    entryPoints: [AGENT_ENTRY],
    outfile: path.join(path.dirname(options.outFile), 'agent.js'),
  });
  const [start, main] = await Promise.all([fs.stat(options.outFile), fs.stat(mainFile)]);
  return { outFile: options.outFile, size: start.size + main.size };
}
