/**
 * What Task Scheduler does on the simulated machine when one of our tasks fires: it starts the
 * agent's command line from the task's action, against the simulated node the task belongs to.
 */
import type { RunTaskAction } from './simulation';
import execa from 'execa';
import { readMachine } from './default-machine';
import { SimulatedHost } from './simulated-host';
import { AGENT_SCRIPT } from '../../core/node-layout';
import { runAgentCommand, type AgentResult } from '../../agent/commands';
import { simulatorBundle, simulatorEnvironment } from './simulator-bundle';
import { shippedNodePath } from '../shipped-node-path';

export interface AgentRun extends AgentResult {
  node: string;
  task: string;
  timeUtc: string;
  argv: string[];
}

/**
 * Runs the agent that install copied onto the node: the task's command line, with the node's
 * agent.js found in the simulated file system (a copy of the package's) and run as a process on
 * the Node the package ships.
 * A node without the agent fails the task, as Windows would.
 */
export function installedAgentTaskRunner(modelPath: string, log: AgentRun[] = []): RunTaskAction {
  return async (node, task) => {
    for (const action of task.actions) {
      const [script, ...argv] = action.arguments;
      const model = await readMachine(modelPath);
      const installed = model.nodes[node]?.files[(script ?? '').toLowerCase()]?.copiedFrom?.source;
      if (!installed) {
        log.push({
          node,
          task: task.name,
          timeUtc: task.timeUtc,
          argv: action.arguments,
          exitCode: 2,
          output: `${script} does not exist on ${node}`,
        });
        continue;
      }
      const run = await execa(shippedNodePath(), [installed, ...argv], {
        reject: false,
        env: simulatorEnvironment(modelPath, { node, simulator: await simulatorBundle() }),
      });
      log.push({
        node,
        task: task.name,
        timeUtc: task.timeUtc,
        argv,
        exitCode: run.exitCode,
        output: (run.exitCode === 0 ? run.stdout : run.stderr).trim(),
      });
    }
  };
}

export function agentTaskRunner(modelPath: string, log: AgentRun[] = []): RunTaskAction {
  return async (node, task) => {
    for (const action of task.actions) {
      // The action is `node.exe "<agent folder>\agent.js" <command...>`; only our agent is run.
      const [script, ...argv] = action.arguments;
      if (script?.toLowerCase() !== AGENT_SCRIPT.toLowerCase()) {
        log.push({
          node,
          task: task.name,
          timeUtc: task.timeUtc,
          argv: action.arguments,
          exitCode: 127,
          output: `not the agent: ${action.command}`,
        });
        continue;
      }
      const result = await runAgentCommand(argv, new SimulatedHost(modelPath, { localNode: node }), new Date(task.timeUtc));
      log.push({ node, task: task.name, timeUtc: task.timeUtc, argv, ...result });
    }
  };
}
