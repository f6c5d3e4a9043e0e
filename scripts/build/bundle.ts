/**
 * Bundles the handler (handlers/main.ts and everything it imports, node_modules included) into one
 * CommonJS file for the node.exe the package carries. The extension identity is baked in as
 * defines, so the handler never reads yaml at run time; a handler source declares them with
 * `declare const __EXTENSION_VERSION__: string;` (and likewise for publisher and type).
 */
import { promises as fs } from 'fs';
import path from 'path';
import { build } from 'esbuild';
import { ExtensionIdentity, REPO_ROOT } from './extension-identity';

export const HANDLER_ENTRY = path.join(REPO_ROOT, 'handlers', 'main.ts');
/** Node major of the carried node.exe (nodeRuntime.version in extension.yaml). */
const NODE_TARGET = 'node22';

export interface BundleOptions {
  identity: Pick<ExtensionIdentity, 'publisher' | 'type' | 'version'>;
  outFile: string;
  /** Defaults to handlers/main.ts. */
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

export async function bundleHandler(options: BundleOptions): Promise<{ outFile: string; size: number }> {
  await fs.mkdir(path.dirname(options.outFile), { recursive: true });
  await build({
    entryPoints: [options.entry ?? HANDLER_ENTRY],
    outfile: options.outFile,
    bundle: true,
    platform: 'node',
    target: NODE_TARGET,
    format: 'cjs',
    define: identityDefines(options.identity),
    minify: options.minify ?? false,
    sourcemap: false,
    // Paths in the output's comments are relative to this, so a clone anywhere builds the same bytes.
    absWorkingDir: REPO_ROOT,
    charset: 'ascii',
    legalComments: 'eof',
    logLevel: 'warning',
    write: true,
  });
  const { size } = await fs.stat(options.outFile);
  return { outFile: options.outFile, size };
}
