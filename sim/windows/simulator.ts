/**
 * The simulated Windows node as one loadable module: what the composition point
 * (handlers/compose.ts) loads, from outside the package, when `ARC_REMOTE_SUPPORT_HOST` names a
 * machine model. The build bundles it to build/sim/simulator.js; it never enters the zip.
 */
import { join } from 'path';
import type { NodeAdapters } from '../../handlers/compose';
import { SimulatedHost } from './simulated-host';
import { simulatedLicenseSource } from './simulated-license';
import { SimulatedSessionLauncher } from './simulated-session';
import { simulatedLogSourceReader } from './log-source-reader';
import { PwshSessionLauncher, readPwshSessionsConfig, SIM_SESSIONS_VARIABLE } from './pwsh-sessions';
import type { JeaSessionLauncher } from '../../windows/jea-session';

/** What the composition point passes on: the process's environment and the package's folder. */
export interface SimulatedNodeContext {
  environment: NodeJS.ProcessEnv;
  extensionRoot: string;
}

/**
 * The node `localNode` of the machine or cluster kept in `modelPath` (default: its local node).
 * Its engineer sessions are simulated, unless the test-only ARC_REMOTE_SUPPORT_SIM_SESSIONS names
 * a pwsh to run the package's session script in (pwsh-sessions.ts).
 */
export function simulatedNode(modelPath: string, localNode?: string, context?: SimulatedNodeContext): NodeAdapters {
  const host = new SimulatedHost(modelPath, { localNode });
  return {
    host,
    license: simulatedLicenseSource(modelPath),
    clock: () => host.now(),
    sessions: sessionLauncher(modelPath, localNode, context),
    logCollection: {
      reader: simulatedLogSourceReader(modelPath, host, localNode),
      // The bundle is staged on this machine, beside the model, one folder per node.
      stagingFolder: `${modelPath}.log-staging/${(localNode ?? 'local').toUpperCase()}`,
      // Only the simulated machine uploads to the storage emulator (Azurite) on a loopback address.
      allowStorageEmulator: true,
    },
  };
}

function sessionLauncher(modelPath: string, localNode: string | undefined, context: SimulatedNodeContext | undefined): JeaSessionLauncher {
  const choice = context?.environment[SIM_SESSIONS_VARIABLE];
  if (choice === undefined || choice === '') return new SimulatedSessionLauncher(modelPath, { localNode });
  const config = readPwshSessionsConfig(choice);
  return new PwshSessionLauncher({ modelPath, localNode, scriptsDir: join(context!.extensionRoot, 'scripts'), config });
}
