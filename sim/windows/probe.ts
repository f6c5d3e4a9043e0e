/**
 * The probe of a simulated node: computerName is the node's key; installed memory is the sum of
 * its modules; a cluster lists every node sorted OrdinalIgnoreCase, Down when powered off and
 * otherwise its clusterState (default Up).
 */
import type { ProbeResult } from '../../windows/operations';
import type { MachineModel } from './machine-model';
import { compareNames } from './names';

export function probe(model: MachineModel, nodeKey: string): ProbeResult {
  const node = model.nodes[nodeKey];
  if (!node) throw new Error(`no node ${nodeKey} in the model`);
  return {
    computerName: nodeKey,
    os: { ...node.os },
    memory: { installedBytes: node.memory.moduleBytes.reduce((sum, bytes) => sum + bytes, 0), usableBytes: node.memory.usableBytes },
    arc: { ...node.arc },
    cluster: model.cluster
      ? {
          name: model.cluster.name,
          nodes: Object.entries(model.nodes)
            .map(([name, member]) => ({ name, state: member.power === 'Off' ? ('Down' as const) : (member.clusterState ?? 'Up') }))
            .sort((a, b) => compareNames(a.name, b.name)),
        }
      : null,
  };
}
