/**
 * How a process outside this one (the bundled handler, the installed agent, the Linux agent's run of
 * the package) gets the simulated Windows: the simulator bundled on its own into
 * build/sim/simulator.js, beside the package and never in it, and named by the environment
 * (handlers/compose.ts reads it).
 */
import { promises as fs } from 'fs';
import path from 'path';
import { build } from 'esbuild';
import { generateJeaFiles } from '../../jea/generate';

import { SIMULATOR_SOURCE } from './simulator-environment';

// Kept here too for the callers that build the bundle and then its environment.
export { SIMULATOR_SOURCE, simulatorEnvironment } from './simulator-environment';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const SIMULATOR_BUNDLE = path.join(REPO_ROOT, 'build', 'sim', 'simulator.js');

let built: Promise<string> | undefined;

/** Bundles the simulator once per process (written atomically: parallel test workers share it). */
export function simulatorBundle(): Promise<string> {
  built ??= (async () => {
    const result = await build({
      entryPoints: [SIMULATOR_SOURCE],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      write: false,
      absWorkingDir: REPO_ROOT,
      logLevel: 'warning',
      outfile: SIMULATOR_BUNDLE,
      // The simulated JEA sessions' roles, as generated now: the bundle runs away from jea/roles.
      define: { SIMULATOR_JEA_ROLES: JSON.stringify(generateJeaFiles().roles) },
      // Loaded from the repository's node_modules when first needed (task XML, protected settings):
      // the bundle a simulated run loads is a quarter of the size, the rest of the simulator.
      external: ['fast-xml-parser', 'execa'],
    });
    await fs.mkdir(path.dirname(SIMULATOR_BUNDLE), { recursive: true });
    const temp = `${SIMULATOR_BUNDLE}.${process.pid}.tmp`;
    await fs.writeFile(temp, result.outputFiles[0]!.contents);
    await fs.rename(temp, SIMULATOR_BUNDLE);
    return SIMULATOR_BUNDLE;
  })();
  return built;
}

// `npm run build` runs this file after the product's build.
if (require.main === module) {
  simulatorBundle().then(
    (file) => console.log(`${path.relative(REPO_ROOT, file)}  (the simulated Windows, for ARC_REMOTE_SUPPORT_SIMULATOR)`),
    (error: unknown) => {
      console.error(`simulator bundle failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
