/**
 * The simulated Windows node as one loadable module: what the composition point
 * (handlers/compose.ts) loads, from outside the package, when `ARC_REMOTE_SUPPORT_HOST` names a
 * machine model. The build bundles it to build/sim/simulator.js; it never enters the zip.
 */
import type { NodeAdapters } from '../../handlers/compose';
import { SimulatedHost } from './simulated-host';
import { simulatedLicenseSource } from './simulated-license';
import { SimulatedSessionLauncher } from './simulated-session';

/** The node `localNode` of the machine or cluster kept in `modelPath` (default: its local node). */
export function simulatedNode(modelPath: string, localNode?: string): NodeAdapters {
  const host = new SimulatedHost(modelPath, { localNode });
  return {
    host,
    license: simulatedLicenseSource(modelPath),
    clock: () => host.now(),
    sessions: new SimulatedSessionLauncher(modelPath, { localNode }),
  };
}
