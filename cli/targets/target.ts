import { machineId, type MachineRef } from '../input/azure-names';

/**
 * One machine the command works on, or an input that could not become one. Bad targets travel
 * with the good ones so the result table and the journal name them.
 */
export interface Target {
  /** The ARM id when known, else the text given; unique within a run (case-insensitive). */
  key: string;
  /** What the table shows. */
  label: string;
  ref?: MachineRef;
  /** Why nothing can be done for it; set when `ref` is not. */
  problem?: { result: 'failed' | 'skipped'; detail: string };
  /** How it was chosen: named, listed from a resource group, found as a cluster node, or resumed. */
  origin: 'argument' | 'resource-group' | 'cluster' | 'journal';
}

export function machineTarget(ref: MachineRef, origin: Target['origin']): Target {
  return { key: machineId(ref), label: `${ref.resourceGroup}/${ref.name}`, ref, origin };
}

export function problemTarget(key: string, label: string, problem: Target['problem'] & object, origin: Target['origin']): Target {
  return { key, label, problem, origin };
}

/** Keeps the first of each machine; Azure ids are case-insensitive. */
export function uniqueTargets(targets: Target[]): Target[] {
  const seen = new Set<string>();
  return targets.filter((target) => {
    const key = target.key.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
