/**
 * The simulated Windows node as one loadable module: what the composition point
 * (handlers/compose.ts) loads, from outside the package, when `ARC_REMOTE_SUPPORT_HOST` names a
 * machine model. The build bundles it to build/sim/simulator.js; it never enters the zip.
 */
import type { NodeAdapters } from '../../handlers/compose';
import { SimulatedHost } from './simulated-host';
import { simulatedLicenseSource } from './simulated-license';
import { SimulatedSessionLauncher } from './simulated-session';
import { simulatedLogSourceReader } from './log-source-reader';

/** The node `localNode` of the machine or cluster kept in `modelPath` (default: its local node). */
export function simulatedNode(modelPath: string, localNode?: string): NodeAdapters {
  const host = new SimulatedHost(modelPath, { localNode });
  return {
    host,
    license: simulatedLicenseSource(modelPath),
    clock: () => host.now(),
    sessions: new SimulatedSessionLauncher(modelPath, { localNode }),
    logCollection: {
      reader: simulatedLogSourceReader(modelPath, host, localNode),
      // The bundle is staged on this machine, beside the model, one folder per node.
      stagingFolder: `${modelPath}.log-staging/${(localNode ?? 'local').toUpperCase()}`,
      // Only the simulated machine uploads to the storage emulator (Azurite) on a loopback address.
      allowStorageEmulator: true,
    },
  };
}
