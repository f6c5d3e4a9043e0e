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
export function installedAgentTaskRunner(
  modelPath: string,
  log: AgentRun[] = [],
  background: BackgroundTasks = new BackgroundTasks(),
  environment: Record<string, string> = {},
): RunTaskAction {
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
      const env = { ...simulatorEnvironment(modelPath, { node, simulator: await simulatorBundle() }), ...environment };
      if (argv[0] === 'channel') {
        // The channel runs as long as its grant (no time limit): Task Scheduler starts it and goes on;
        // IgnoreNew leaves a running one alone.
        const started = background.start(node, task.name, () => execa(shippedNodePath(), [installed, ...argv], { reject: false, env }));
        log.push({
          node,
          task: task.name,
          timeUtc: task.timeUtc,
          argv,
          exitCode: 0,
          output: started ? 'started in the background' : 'already running',
        });
        continue;
      }
      const run = await execa(shippedNodePath(), [installed, ...argv], { reject: false, env });
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

/**
 * Long-running task actions (the Channel task's `agent channel`) started in the background, one per
 * node and task at a time (the tasks' MultipleInstancesPolicy IgnoreNew). `stopAll` ends them.
 */
export class BackgroundTasks {
  private readonly running = new Map<string, execa.ExecaChildProcess>();
  readonly outputs: string[] = [];

  start(node: string, task: string, launch: () => execa.ExecaChildProcess): boolean {
    const key = `${node}\n${task}`.toLowerCase();
    if (this.running.has(key)) return false;
    const child = launch();
    this.running.set(key, child);
    child.then((result) => {
      this.running.delete(key);
      this.outputs.push(
        `${node} ${task} exited ${result.exitCode}: ${String(result.stdout).trim()} ${String(result.stderr).trim()}`.trim(),
      );
    });
    return true;
  }

  isRunning(node: string, task: string): boolean {
    return this.running.has(`${node}\n${task}`.toLowerCase());
  }

  async stopAll(): Promise<void> {
    const children = [...this.running.values()];
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((child) => child.catch(() => undefined)));
  }
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
      if (argv[0] === 'channel') {
        // Long-running: only installedAgentTaskRunner starts it (in the background, as a process).
        log.push({ node, task: task.name, timeUtc: task.timeUtc, argv, exitCode: 0, output: 'not started by the in-process runner' });
        continue;
      }
      const result = await runAgentCommand(argv, new SimulatedHost(modelPath, { localNode: node }), new Date(task.timeUtc));
      log.push({ node, task: task.name, timeUtc: task.timeUtc, argv, ...result });
    }
  };
}
