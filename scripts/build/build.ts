/**
 * `npm run build`: check that every generated file is current (`npm run generate` makes them),
 * typecheck the whole project, then bundle the handler into build/handler.js and the CLI into
 * build/cli/arc-remote-support.js (what bin/arc-remote-support.js runs). The npm script then
 * bundles the simulated Windows into build/sim/simulator.js (sim/windows/simulator-bundle.ts: the
 * build knows nothing of the simulator, which is never part of the package). No node.exe, no zip and no tarball: that is `npm run package`
 * and `npm run package:cli`.
 */
import path from 'path';
import execa from 'execa';
import { bundleHandler } from './bundle';
import { bundleCli } from './bundle-cli';
import { StaleGeneratedFilesError, assertGeneratedFilesCurrent } from './generate';
import { REPO_ROOT, loadExtensionIdentity } from '../../manifests/extension-identity';

export const BUILD_DIR = path.join(REPO_ROOT, 'build');

async function main(): Promise<void> {
  // A stale validator or JEA role file would be typechecked, bundled and shipped as if current.
  await assertGeneratedFilesCurrent();
  // esbuild strips types without checking them, so the typecheck is its own step.
  await execa(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['--noEmit', '-p', '.'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  const identity = loadExtensionIdentity();
  const { outFile, size } = await bundleHandler({ identity, outFile: path.join(BUILD_DIR, 'handler.js') });
  console.log(`${path.relative(REPO_ROOT, outFile)}  ${size} bytes  (version ${identity.version})`);
  const cli = await bundleCli({ identity });
  console.log(`${path.relative(REPO_ROOT, cli.outFile)}  ${cli.size} bytes`);
}

main().catch((err: unknown) => {
  // tsc already printed its errors through the inherited stdio; the stale list is all to be shown.
  const message = err instanceof StaleGeneratedFilesError ? err.message : err instanceof Error ? err.message.split('\n')[0] : String(err);
  console.error(`build failed: ${message}`);
  process.exit(1);
});
