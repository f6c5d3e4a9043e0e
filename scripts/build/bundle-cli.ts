/**
 * Bundles the control-plane CLI (cli/main.ts and everything it imports, node_modules included) into
 * one CommonJS file that runs with a plain `node`, no repository beside it: the extension identity
 * is baked in as defines (cli/extension-identity.ts declares them), so nothing reads yaml or
 * compiles TypeScript at run time.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { build, type Metafile } from 'esbuild';
import { identityDefines, type BundleOptions } from './bundle';
import { REPO_ROOT, loadExtensionIdentity } from '../../manifests/extension-identity';

export const CLI_ENTRY = path.join(REPO_ROOT, 'cli', 'main.ts');
/** Where `npm run build` puts it; the repository's bin/arc-remote-support.js runs this file. */
export const CLI_BUNDLE = path.join(REPO_ROOT, 'build', 'cli', 'arc-remote-support.js');
/** The oldest Node the published package accepts (its engines field). */
export const CLI_NODE_MAJOR = 20;

export interface CliBundleOptions {
  identity: BundleOptions['identity'];
  /** Default CLI_BUNDLE. */
  outFile?: string;
}

export interface CliBundle {
  outFile: string;
  size: number;
  /** Every input esbuild read: which node_modules packages the bundle carries. */
  metafile: Metafile;
}

export async function bundleCli(options: CliBundleOptions): Promise<CliBundle> {
  const outFile = options.outFile ?? CLI_BUNDLE;
  await fs.mkdir(path.dirname(outFile), { recursive: true });
  const result = await build({
    entryPoints: [CLI_ENTRY],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: `node${CLI_NODE_MAJOR}`,
    format: 'cjs',
    define: identityDefines(options.identity),
    // The installed file is the program npm links onto the PATH.
    banner: { js: '#!/usr/bin/env node' },
    minify: false,
    sourcemap: false,
    // Paths in the output's comments are relative to this, so a clone anywhere builds the same bytes.
    absWorkingDir: REPO_ROOT,
    charset: 'ascii',
    legalComments: 'eof',
    logLevel: 'warning',
    metafile: true,
    write: true,
  });
  await fs.chmod(outFile, 0o755);
  const { size } = await fs.stat(outFile);
  return { outFile, size, metafile: result.metafile };
}

// `npm run build:cli`: the bundle alone, without the typecheck of `npm run build`.
if (require.main === module) {
  bundleCli({ identity: loadExtensionIdentity() }).then(
    ({ outFile, size }) => console.log(`${path.relative(REPO_ROOT, outFile)}  ${size} bytes`),
    (err: unknown) => {
      console.error(`build:cli failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
