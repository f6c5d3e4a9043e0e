/**
 * What Task Scheduler does on the simulated machine when one of our tasks fires: it starts the
 * agent's command line from the task's action. Here the agent runs in this process against the
 * simulated node the task belongs to, at the task's time.
 */
import type { RunTaskAction } from '../handlers/host/simulated/simulation';
import { SimulatedHost } from '../handlers/host/simulated/simulated-host';
import { AGENT_SCRIPT } from '../handlers/domain/node-layout';
import { runAgentCommand, type AgentResult } from './commands';

export interface AgentRun extends AgentResult {
  node: string;
  task: string;
  timeUtc: string;
  argv: string[];
}

export function agentTaskRunner(modelPath: string, log: AgentRun[] = []): RunTaskAction {
  return async (node, task) => {
    for (const action of task.actions) {
      // The action is `node.exe "<agent folder>\agent.js" <command...>`; only our agent is run.
      const [script, ...argv] = action.arguments;
      if (script?.toLowerCase() !== AGENT_SCRIPT.toLowerCase()) {
        log.push({ node, task: task.name, timeUtc: task.timeUtc, argv: action.arguments, exitCode: 127, output: `not the agent: ${action.command}` });
        continue;
      }
      const result = await runAgentCommand(argv, new SimulatedHost(modelPath, { localNode: node }), new Date(task.timeUtc));
      log.push({ node, task: task.name, timeUtc: task.timeUtc, argv, ...result });
    }
  };
}
