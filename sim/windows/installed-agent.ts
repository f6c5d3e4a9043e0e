/**
 * The node agent that install copied onto a simulated node, run as a command that is not a task
 * runs it (the JEA session's own functions): the package's agent.js the node's file system refers
 * to, as a process on the Node the package ships, against that node of the model.
 */
import type execaModule from 'execa';
import { AGENT_SCRIPT } from '../../core/node-layout';
import { shippedNodePath } from '../shipped-node-path';
import { readMachine } from './model-store';
import { simulatorEnvironment } from './simulator-environment';

/** Where the package's agent.js that install copied onto the node comes from, or null when the node has none. */
export async function installedAgentSource(modelPath: string, node: string): Promise<string | null> {
  const model = await readMachine(modelPath);
  return model.nodes[node]?.files[AGENT_SCRIPT.toLowerCase()]?.copiedFrom?.source ?? null;
}

/**
 * Runs the node's installed agent with `argv`, loading the simulator module `simulator`: its exit
 * code and output, or `missing` when the node has no agent. An abort kills it.
 */
export async function runInstalledAgent(
  modelPath: string,
  node: string,
  argv: readonly string[],
  simulator: string,
  signal?: AbortSignal,
): Promise<{ exitCode: number; stdout: string; stderr: string } | { missing: string }> {
  const installed = await installedAgentSource(modelPath, node);
  if (!installed) return { missing: `${AGENT_SCRIPT} does not exist on ${node}` };
  // Loaded here, not with the module: every simulated handler run loads the simulator, and only a
  // JEA function that runs the agent needs a process.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const execa = require('execa') as typeof execaModule;
  const child = execa(shippedNodePath(), [installed, ...argv], {
    reject: false,
    env: simulatorEnvironment(modelPath, { node, simulator }),
  });
  const stop = () => child.kill('SIGKILL');
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const run = await child;
    return { exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr };
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}
