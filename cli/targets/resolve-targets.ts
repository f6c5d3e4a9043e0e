/**
 * From the command line to the list of machines: named machines first (checked offline), else the
 * machines of a resource group that carry every `--tag`, then with `--cluster` the other nodes
 * each machine's extension reports.
 */
import type { ArcMachines, MachineView } from '../arm/arc-machines';
import { InputError } from '../errors';
import { parseMachineArgument, sameMachine, type MachineRef } from '../input/azure-names';
import { matchesTags, type TagFilter } from '../input/tags';
import { parseNodeLines } from './node-lines';
import { machineTarget, problemTarget, uniqueTargets, type Target } from './target';

export interface TargetSelection {
  machines: string[];
  resourceGroup?: string;
  subscriptionId?: string;
  tags: TagFilter[];
  cluster: boolean;
}

/** Offline: parses `--machine` values. Throws when nothing valid is left (bad input, exit 2). */
export function namedTargets(selection: TargetSelection): Target[] {
  const targets = selection.machines.map((text) => {
    const parsed = parseMachineArgument(text, selection);
    return parsed.ok
      ? machineTarget(parsed.ref, 'argument')
      : problemTarget(text, text, { result: 'failed', detail: parsed.reason }, 'argument');
  });
  if (targets.length > 0 && targets.every((target) => target.problem)) {
    throw new InputError(
      '--machine',
      selection.machines.length === 1 ? selection.machines[0] : selection.machines,
      targets.map((target) => target.problem!.detail).join('; '),
    );
  }
  return uniqueTargets(targets);
}

/** The machines of a resource group carrying every tag asked for. */
export async function resourceGroupTargets(
  api: ArcMachines,
  selection: TargetSelection & { subscriptionId: string; resourceGroup: string },
): Promise<Target[]> {
  const machines = await api.listMachines(selection.subscriptionId, selection.resourceGroup);
  const chosen = machines.filter((machine) => matchesTags(machine.tags, selection.tags));
  if (chosen.length === 0) {
    const tags = selection.tags.map((tag) => `${tag.key}=${tag.value}`).join(', ');
    throw new InputError(
      '--resource-group',
      selection.resourceGroup,
      machines.length === 0
        ? 'No Arc machine is in this resource group; check the name and the subscription.'
        : `None of its ${machines.length} Arc machine(s) carries every tag asked for (${tags}); check the tags (az connectedmachine list -g ${selection.resourceGroup} --query "[].tags").`,
    );
  }
  return chosen.map((machine) => machineTarget(machine.ref, 'resource-group'));
}

/**
 * Adds the other nodes of each machine's cluster, as its extension reports them, mapped to Arc
 * machines of the same resource group by name or computer name (case-insensitive). A node with
 * no Arc machine is named as a skipped target.
 */
export async function withClusterNodes(api: ArcMachines, targets: Target[], note: (text: string) => void): Promise<Target[]> {
  const added: Target[] = [];
  const groups = new Map<string, Promise<MachineView[]>>();
  const machinesOf = (ref: MachineRef) => {
    const key = `${ref.subscriptionId}/${ref.resourceGroup}`.toLowerCase();
    if (!groups.has(key)) groups.set(key, api.listMachines(ref.subscriptionId, ref.resourceGroup));
    return groups.get(key)!;
  };
  for (const target of targets) {
    if (!target.ref) continue;
    const extension = await api.getExtension(target.ref);
    const nodes = parseNodeLines(extension?.message);
    if (nodes.length === 0) {
      note(
        `--cluster: the extension on ${target.label} reports no cluster nodes${extension ? '' : ' (it is not deployed there)'}; only that machine is targeted.`,
      );
      continue;
    }
    const machines = await machinesOf(target.ref);
    for (const { node } of nodes) {
      if (node.toLowerCase() === target.ref.name.toLowerCase()) continue;
      const match = machines.find((machine) =>
        [machine.ref.name, machine.computerName].some((name) => name?.toLowerCase() === node.toLowerCase()),
      );
      if (match && sameMachine(match.ref, target.ref)) continue;
      if (match) {
        added.push(machineTarget(match.ref, 'cluster'));
        continue;
      }
      added.push(
        problemTarget(
          `cluster-node:${target.ref.resourceGroup}/${node}`.toLowerCase(),
          `${target.ref.resourceGroup}/${node}`,
          {
            result: 'skipped',
            detail: `cluster node ${node} (reported by ${target.label}) has no Arc machine in resource group ${target.ref.resourceGroup}; connect it to Azure Arc (azcmagent connect) in that resource group, then run again.`,
          },
          'cluster',
        ),
      );
    }
  }
  return uniqueTargets([...targets, ...added]);
}
