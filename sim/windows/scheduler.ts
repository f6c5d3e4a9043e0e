/**
 * The simulated Task Scheduler service: which tasks are due at an instant, running them, and
 * deleting expired ones. Only powered-on nodes run or delete tasks; a task runs at most once per
 * instant (several triggers due together start one instance). The run's action is the caller's
 * callback; the model lock is not held while it runs, because the action (our agent) executes
 * host operations on the same model.
 */
import type { MachineModel, NodeModel, TaskEntry } from './machine-model';
import { compareNames } from './names';
import { firesAt, nextFireAfter } from './task-schedule';
import { type ExecAction, type TaskDefinition, parseTaskXml } from './task-xml';
import { updateMachine } from './model-store';
import { addDuration, formatUtc, parseUtc } from './utc';

export interface ScheduledTaskRun {
  node: string;
  folder: string;
  name: string;
  /** When Task Scheduler started it: the simulated clock. */
  timeUtc: string;
  /** The task's Exec actions in order, each with its command and split arguments. */
  actions: ExecAction[];
}

/** Runs a task's action (e.g. our agent's command line) on `node`. */
export type RunTaskAction = (node: string, task: ScheduledTaskRun) => unknown;

export interface DueTask {
  nodeKey: string;
  taskKey: string;
}

const definitions = new Map<string, TaskDefinition>();

export function definitionOf(task: TaskEntry): TaskDefinition {
  let definition = definitions.get(task.xml);
  if (!definition) {
    try {
      definition = parseTaskXml(task.xml);
    } catch (error) {
      throw new Error(
        `The task ${task.folder}\\${task.name} has XML the simulated Task Scheduler cannot read: ${(error as Error).message}`,
      );
    }
    if (definitions.size >= 500) definitions.clear(); // a bound, not an LRU: tests register few XMLs
    definitions.set(task.xml, definition);
  }
  return definition;
}

/**
 * When Task Scheduler deletes the task (Settings/DeleteExpiredTaskAfter): that long after the
 * last EndBoundary, and only when every trigger has one; null for never.
 */
export function expiryOf(definition: TaskDefinition): number | null {
  const after = definition.deleteExpiredTaskAfter;
  if (after === null || definition.triggers.length === 0) return null;
  const ends = definition.triggers.map((trigger) => trigger.end);
  if (ends.some((end) => end === null)) return null;
  return addDuration(Math.max(...(ends as number[])), after);
}

export function lastBootOf(node: NodeModel): number | null {
  return node.lastBootUtc ? parseUtc(node.lastBootUtc) : null;
}

/** Powered-on nodes, and their tasks, in a stable order (node name, then task key). */
export function tasksOfRunningNodes(model: MachineModel): Array<{ nodeKey: string; node: NodeModel; taskKey: string; task: TaskEntry }> {
  const list: Array<{ nodeKey: string; node: NodeModel; taskKey: string; task: TaskEntry }> = [];
  for (const nodeKey of Object.keys(model.nodes).sort(compareNames)) {
    const node = model.nodes[nodeKey];
    if (!node || node.power !== 'On') continue;
    for (const taskKey of Object.keys(node.tasks).sort(compareNames)) {
      const task = node.tasks[taskKey];
      if (task) list.push({ nodeKey, node, taskKey, task });
    }
  }
  return list;
}

/** The next instant after `after` when a task fires or expires on a powered-on node. */
export function nextInstantAfter(model: MachineModel, after: number): number | null {
  let next: number | null = null;
  const consider = (time: number | null) => {
    if (time !== null && time > after && (next === null || time < next)) next = time;
  };
  for (const { node, task } of tasksOfRunningNodes(model)) {
    const definition = definitionOf(task);
    if (task.enabled) for (const trigger of definition.triggers) consider(nextFireAfter(trigger, after, lastBootOf(node)));
    consider(expiryOf(definition));
  }
  return next;
}

/** Enabled tasks of powered-on nodes with a trigger firing exactly at `at`. */
export function dueAt(model: MachineModel, at: number): DueTask[] {
  return tasksOfRunningNodes(model)
    .filter(({ node, task }) => task.enabled && definitionOf(task).triggers.some((trigger) => firesAt(trigger, at, lastBootOf(node))))
    .map(({ nodeKey, taskKey }) => ({ nodeKey, taskKey }));
}

export function deleteExpiredTasks(model: MachineModel, at: number): void {
  for (const { node, taskKey, task } of tasksOfRunningNodes(model)) {
    const expiry = expiryOf(definitionOf(task));
    if (expiry !== null && expiry <= at && task.state !== 'Running') delete node.tasks[taskKey];
  }
}

/**
 * Starts each due task in turn, as Task Scheduler would at `at`: LastRunTime and the run count
 * are set at the start, the state is Running while the action runs, then Ready (or Disabled).
 * A task deleted, disabled or whose node went off before its turn does not run.
 */
export async function runDueTasks(modelPath: string, at: number, due: DueTask[], action: RunTaskAction): Promise<ScheduledTaskRun[]> {
  const runs: ScheduledTaskRun[] = [];
  for (const { nodeKey, taskKey } of due) {
    const run = await updateMachine(modelPath, (model): ScheduledTaskRun | null => {
      const node = model.nodes[nodeKey];
      const task = node?.tasks[taskKey];
      if (!node || node.power !== 'On' || !task || !task.enabled) return null;
      task.state = 'Running';
      task.lastRunTimeUtc = formatUtc(at);
      task.runCount += 1;
      return { node: nodeKey, folder: task.folder, name: task.name, timeUtc: formatUtc(at), actions: definitionOf(task).actions };
    });
    if (!run) continue;
    try {
      await action(nodeKey, run);
    } finally {
      await updateMachine(modelPath, (model) => {
        const task = model.nodes[nodeKey]?.tasks[taskKey];
        if (task?.state === 'Running') task.state = task.enabled ? 'Ready' : 'Disabled';
      });
    }
    runs.push(run);
  }
  return runs;
}
