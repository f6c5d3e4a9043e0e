/**
 * `npm run build`: typecheck the whole project, then bundle the handler into build/handler.js.
 * No node.exe and no zip: that is `npm run package`.
 */
import path from 'path';
import execa from 'execa';
import { bundleHandler } from './bundle';
import { REPO_ROOT, loadExtensionIdentity } from '../../manifests/extension-identity';

export const BUILD_DIR = path.join(REPO_ROOT, 'build');

async function main(): Promise<void> {
  // esbuild strips types without checking them, so the typecheck is its own step.
  await execa(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['--noEmit', '-p', '.'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  const identity = loadExtensionIdentity();
  const { outFile, size } = await bundleHandler({ identity, outFile: path.join(BUILD_DIR, 'handler.js') });
  console.log(`${path.relative(REPO_ROOT, outFile)}  ${size} bytes  (version ${identity.version})`);
}

main().catch((err: unknown) => {
  // tsc already printed its errors through the inherited stdio.
  console.error(`build failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  process.exit(1);
});
