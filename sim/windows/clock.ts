/**
 * The simulated clock. Only the simulation moves it, never backwards. Moving it forward fires
 * every enabled task of every powered-on node whose triggers fall due, in time order (at one
 * instant: by node name, then task), with the clock set to that instant while the action runs,
 * and deletes expired tasks at their time. Runs are computed afresh after each instant, so a task
 * an action registers, changes or deletes is scheduled accordingly. A node found powered on
 * while still marked as switched off (the model edited by hand) boots first, at the current time.
 */
import { bootNode } from './machine-events';
import { updateMachine } from './model-store';
import { type RunTaskAction, type ScheduledTaskRun, deleteExpiredTasks, dueAt, nextInstantAfter, runDueTasks } from './scheduler';
import { formatUtc, parseUtc } from './utc';

export async function advanceClock(modelPath: string, toUtc: string, runTaskAction: RunTaskAction): Promise<ScheduledTaskRun[]> {
  const target = parseUtc(toUtc);
  const { start, pendingBoots } = await updateMachine(modelPath, (model) => {
    const now = parseUtc(model.clock.nowUtc);
    if (target < now) throw new Error(`The simulated clock cannot go back from ${model.clock.nowUtc} to ${toUtc}`);
    const pending = Object.keys(model.nodes).filter(
      (key) => model.nodes[key]?.power === 'On' && model.nodes[key]?.poweredOffAtUtc !== undefined,
    );
    return { start: now, pendingBoots: pending };
  });

  const runs: ScheduledTaskRun[] = [];
  for (const nodeKey of pendingBoots) runs.push(...(await bootNode(modelPath, nodeKey, runTaskAction)));

  let cursor = start;
  for (;;) {
    const step = await updateMachine(modelPath, (model) => {
      deleteExpiredTasks(model, cursor); // those expiring at the instant just run
      const at = nextInstantAfter(model, cursor);
      if (at === null || at > target) return null;
      model.clock.nowUtc = formatUtc(at);
      return { at, due: dueAt(model, at) };
    });
    if (!step) break;
    runs.push(...(await runDueTasks(modelPath, step.at, step.due, runTaskAction)));
    cursor = step.at;
  }
  await updateMachine(modelPath, (model) => {
    model.clock.nowUtc = formatUtc(target);
    deleteExpiredTasks(model, target);
  });
  return runs;
}
