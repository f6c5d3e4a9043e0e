/**
 * What happens to the simulated machine outside the handler: a node powers off or on, and a
 * support engineer opens a JEA session.
 *
 * - powerOff: the node stops (its open sessions end, a running task stops) and remembers when;
 * - powerOn (boot) at the clock's time: boot triggers fire (Delay 0 at once, a Delay later on the
 *   clock), and each StartWhenAvailable task with a run due while the node was off runs once,
 *   unless that trigger's EndBoundary has passed; expired tasks are deleted.
 */
import type { MachineModel } from './machine-model';
import { sameName } from './names';
import { type RunTaskAction, type ScheduledTaskRun, definitionOf, deleteExpiredTasks, runDueTasks, tasksOfRunningNodes } from './scheduler';
import { updateMachine } from './model-store';
import { firesAt, lastFireAtOrBefore } from './task-schedule';
import { formatUtc, parseUtc } from './utc';

/** The model's key for a node name (any case); throws for an unknown node. */
export function nodeKeyOf(model: MachineModel, name: string): string {
  const key = Object.keys(model.nodes).find((candidate) => sameName(candidate, name));
  if (!key) throw new Error(`The simulated machine has no node '${name}'`);
  return key;
}

export async function powerOff(modelPath: string, nodeName: string): Promise<void> {
  await updateMachine(modelPath, (model) => {
    const node = model.nodes[nodeKeyOf(model, nodeName)]!;
    if (node.power === 'Off') return;
    node.power = 'Off';
    node.poweredOffAtUtc = model.clock.nowUtc;
    node.sessions = [];
    node.processes = [];
    for (const task of Object.values(node.tasks)) if (task.state === 'Running') task.state = task.enabled ? 'Ready' : 'Disabled';
  });
}

/** Boots a powered-off node; returns the task runs the boot caused (none when it was on). */
export async function powerOn(modelPath: string, nodeName: string, runTaskAction: RunTaskAction): Promise<ScheduledTaskRun[]> {
  const nodeKey = await updateMachine(modelPath, (model) => {
    const key = nodeKeyOf(model, nodeName);
    const node = model.nodes[key]!;
    return node.power === 'Off' || node.poweredOffAtUtc !== undefined ? key : null;
  });
  return nodeKey ? bootNode(modelPath, nodeKey, runTaskAction) : [];
}

/** The node starts at the clock's time: boot triggers and missed runs fire, expired tasks go. */
export async function bootNode(modelPath: string, nodeKey: string, runTaskAction: RunTaskAction): Promise<ScheduledTaskRun[]> {
  const boot = await updateMachine(modelPath, (model) => {
    const node = model.nodes[nodeKey]!;
    const at = parseUtc(model.clock.nowUtc);
    const offAt = node.poweredOffAtUtc ? parseUtc(node.poweredOffAtUtc) : null;
    node.power = 'On';
    node.lastBootUtc = formatUtc(at);
    delete node.poweredOffAtUtc;
    const due = tasksOfRunningNodes(model)
      .filter((entry) => entry.nodeKey === nodeKey && entry.task.enabled)
      .filter(({ task }) => {
        const definition = definitionOf(task);
        const atBoot = definition.triggers.some((trigger) => firesAt(trigger, at, at));
        const missed =
          definition.startWhenAvailable &&
          offAt !== null &&
          definition.triggers.some(
            (trigger) =>
              trigger.kind !== 'boot' &&
              (trigger.end === null || at <= trigger.end) &&
              (lastFireAtOrBefore(trigger, at, null) ?? -Infinity) > offAt,
          );
        return atBoot || missed;
      })
      .map(({ taskKey }) => ({ nodeKey, taskKey }));
    return { at, due };
  });
  const runs = await runDueTasks(modelPath, boot.at, boot.due, runTaskAction);
  await updateMachine(modelPath, (model) => deleteExpiredTasks(model, boot.at));
  return runs;
}

export interface OpenedSession {
  id: string;
  configurationName: string;
  user: string;
  startedAtUtc: string;
}

/** A support engineer connects to a registered JEA endpoint of a powered-on node. */
export async function openSession(modelPath: string, nodeName: string, configurationName: string, user: string): Promise<OpenedSession> {
  return updateMachine(modelPath, (model) => {
    const node = model.nodes[nodeKeyOf(model, nodeName)]!;
    if (node.power !== 'On') throw new Error(`The node '${nodeName}' is powered off`);
    const endpoint = Object.values(node.sessionConfigurations).find((candidate) => sameName(candidate.name, configurationName));
    if (!endpoint) throw new Error(`The node '${nodeName}' has no session configuration '${configurationName}'`);
    // Node's crypto is loaded on use: it costs every handler start that loads the simulator.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { randomUUID } = require('crypto') as typeof import('crypto');
    const session = { id: randomUUID().toUpperCase(), configurationName: endpoint.name, user, startedAtUtc: model.clock.nowUtc };
    node.sessions.push(session);
    return { ...session };
  });
}
