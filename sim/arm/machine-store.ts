/** The emulated machines, found by name the way ARM finds resources: case-insensitively. */
import { randomUUID } from 'crypto';
import type { EmulatedMachineSpec, MachineLicense, MachineStatus } from './types';

export interface MachineRecord {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  status: MachineStatus;
  osName: 'windows' | 'linux';
  tags: Record<string, string>;
  license: MachineLicense;
  vmId: string;
  lastStatusChange: string;
  /** The lookup key shared by the machine's extensions and operations. */
  key: string;
}

export function machineKey(subscriptionId: string, resourceGroup: string, name: string): string {
  return `${subscriptionId}/${resourceGroup}/${name}`.toLowerCase();
}

export function machineResourceId(machine: Pick<MachineRecord, 'subscriptionId' | 'resourceGroup' | 'name'>): string {
  return `/subscriptions/${machine.subscriptionId}/resourceGroups/${machine.resourceGroup}/providers/Microsoft.HybridCompute/machines/${machine.name}`;
}

export class MachineStore {
  private readonly machines = new Map<string, MachineRecord>();
  /** Subscription and resource group keys, so that a fleet's every request does not scan the fleet. */
  private readonly subscriptions = new Set<string>();
  private readonly resourceGroups = new Set<string>();

  constructor(specs: EmulatedMachineSpec[]) {
    for (const spec of specs) this.add(spec);
  }

  /** A machine onboarded to Arc (throws if its name is taken in that resource group). */
  add(spec: EmulatedMachineSpec): void {
    const key = machineKey(spec.subscriptionId, spec.resourceGroup, spec.name);
    if (this.machines.has(key)) throw new Error(`machine ${spec.name} is listed twice in resource group ${spec.resourceGroup}`);
    this.machines.set(key, {
      subscriptionId: spec.subscriptionId,
      resourceGroup: spec.resourceGroup,
      name: spec.name,
      location: spec.location ?? 'westeurope',
      status: spec.status ?? 'Connected',
      osName: spec.osName ?? 'windows',
      tags: { ...spec.tags },
      license: spec.license ?? 'PayAsYouGo',
      vmId: randomUUID(),
      lastStatusChange: new Date().toISOString(),
      key,
    });
    this.subscriptions.add(spec.subscriptionId.toLowerCase());
    this.resourceGroups.add(`${spec.subscriptionId}/${spec.resourceGroup}`.toLowerCase());
  }

  find(subscriptionId: string, resourceGroup: string, name: string): MachineRecord | undefined {
    return this.machines.get(machineKey(subscriptionId, resourceGroup, name));
  }

  hasSubscription(subscriptionId: string): boolean {
    return this.subscriptions.has(subscriptionId.toLowerCase());
  }

  /** Resource groups exist here only through their machines. */
  hasResourceGroup(subscriptionId: string, resourceGroup: string): boolean {
    return this.resourceGroups.has(`${subscriptionId}/${resourceGroup}`.toLowerCase());
  }

  /** Machines of a subscription, or of one of its resource groups, in a stable order. */
  list(subscriptionId: string, resourceGroup?: string): MachineRecord[] {
    return [...this.machines.values()].filter(
      (machine) =>
        sameName(machine.subscriptionId, subscriptionId) && (resourceGroup === undefined || sameName(machine.resourceGroup, resourceGroup)),
    );
  }

  setStatus(machine: MachineRecord, status: MachineStatus): void {
    if (machine.status === status) return;
    machine.status = status;
    machine.lastStatusChange = new Date().toISOString();
  }
}

export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The machine as the public EmulatedMachineSpec, a copy. */
export function machineSpec(machine: MachineRecord): EmulatedMachineSpec {
  return {
    subscriptionId: machine.subscriptionId,
    resourceGroup: machine.resourceGroup,
    name: machine.name,
    location: machine.location,
    status: machine.status,
    osName: machine.osName,
    tags: { ...machine.tags },
    license: machine.license,
  };
}
