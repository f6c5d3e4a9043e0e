/**
 * The environment that points a handler or agent process at the simulated Windows (handlers/
 * compose.ts reads it). Apart from simulator-bundle.ts so that the simulator itself (its JEA
 * sessions start the node agent) uses it without bundling the bundler.
 */
import path from 'path';

/** The simulator's source, for the handler or agent run in this very process (jest, tsx). */
export const SIMULATOR_SOURCE = path.join(__dirname, 'simulator.ts');
/** Names the simulator module a process loads: set in every simulated handler and agent process. */
export const SIMULATOR_VARIABLE = 'ARC_REMOTE_SUPPORT_SIMULATOR';

/**
 * The environment that runs a handler or agent against node `node` of the model in `modelPath`:
 * from source in this process by default, or from the bundle (`simulator`: simulatorBundle()).
 */
export function simulatorEnvironment(modelPath: string, options: { node?: string; simulator?: string } = {}): Record<string, string> {
  return {
    ARC_REMOTE_SUPPORT_HOST: `simulated:${modelPath}${options.node ? `#${options.node}` : ''}`,
    [SIMULATOR_VARIABLE]: options.simulator ?? SIMULATOR_SOURCE,
  };
}
