/**
 * The embedded default machine for `npm start` and the tests: a failover cluster ARC-CLUSTER of
 * Windows Server 2022 Datacenter nodes (ARC-NODE-1 is local), each 16 GiB as two 8 GiB modules,
 * Arc Connected with its own resource id, Pay-as-you-go licensed, readable by its managed
 * identity, and nothing of ours installed yet.
 */
import type { MachineModel, NodeModel, ServiceEntry } from './machine-model';
import { formatUtc, parseUtc } from './utc';

export { readMachine, writeMachine, updateMachine } from './model-store';

const GIB = 1024 ** 3;
const SUBSCRIPTION = '00000000-0000-0000-0000-000000000000';

export interface DefaultMachineOptions {
  /** The simulated clock's start; default the real time now (whole seconds). */
  nowUtc?: string;
  /** Cluster nodes (default 2); 1 gives a stand-alone server, not a one-node cluster. */
  nodes?: number;
  /** The nodes' computer names instead (the first is local); overrides `nodes`. */
  names?: string[];
}

export function arcResourceId(computerName: string): string {
  return `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/machines/${computerName}`;
}

export function createDefaultNode(computerName: string): NodeModel {
  return {
    power: 'On',
    remoteAccess: 'Allowed',
    clusterState: 'Up',
    os: { caption: 'Microsoft Windows Server 2022 Datacenter', buildNumber: 20348, productType: 3, installationType: 'Server' },
    // SMBIOS reports the modules; Windows keeps some memory for hardware, so usable reads lower.
    memory: { moduleBytes: [8 * GIB, 8 * GIB], usableBytes: 16 * GIB - 190 * 1024 ** 2 },
    arc: { status: 'Connected', resourceId: arcResourceId(computerName), agentVersion: '1.47.02795.1899' },
    azure: {
      managedIdentityCanReadMachine: true,
      softwareAssuranceCustomer: false,
      productType: 'WindowsServer',
      subscriptionStatus: 'Enabled',
    },
    // The folders every Windows Server has; ours go inside them, and uninstall leaves them be.
    files: Object.fromEntries(
      [
        'C:\\Program Files',
        'C:\\Program Files\\WindowsPowerShell',
        'C:\\Program Files\\WindowsPowerShell\\Modules',
        'C:\\ProgramData',
        'C:\\Windows',
      ].map((folder) => [folder.toLowerCase(), { path: folder, type: 'directory' as const, lastWriteTimeUtc: '2026-01-01T00:00:00Z' }]),
    ),
    groups: {},
    users: {},
    sessionConfigurations: {},
    winrmRestarts: 0,
    sessions: [],
    processes: [],
    services: defaultServices(),
    tasks: {},
    eventSources: [],
    events: [],
    // Every Windows Server has these; an optional role's channels come with the role.
    eventLogs: Object.fromEntries(
      [
        'System',
        'Setup',
        'Security',
        'Microsoft-Windows-WinRM/Operational',
        'Microsoft-Windows-TaskScheduler/Operational',
        'Microsoft-Windows-PowerShell/Operational',
        'Microsoft-Windows-WindowsUpdateClient/Operational',
      ].map((channel) => [channel, []]),
    ),
  };
}

/** A few services every Windows Server has, as a fresh server runs them. */
function defaultServices(): ServiceEntry[] {
  const service = (
    name: string,
    displayName: string,
    status: ServiceEntry['status'],
    startType: ServiceEntry['startType'],
    dependentServices: string[] = [],
  ): ServiceEntry => ({ name, displayName, status, startType, dependentServices });
  return [
    service('BITS', 'Background Intelligent Transfer Service', 'Stopped', 'Manual'),
    service('Dnscache', 'DNS Client', 'Running', 'Automatic'),
    service('EventLog', 'Windows Event Log', 'Running', 'Automatic'),
    service('himds', 'Azure Hybrid Instance Metadata Service', 'Running', 'Automatic'),
    service('LanmanServer', 'Server', 'Running', 'Automatic'),
    service('LanmanWorkstation', 'Workstation', 'Running', 'Automatic', ['Netlogon']),
    service('Netlogon', 'Netlogon', 'Stopped', 'Manual'),
    service('Schedule', 'Task Scheduler', 'Running', 'Automatic'),
    service('Spooler', 'Print Spooler', 'Running', 'Automatic'),
    service('W32Time', 'Windows Time', 'Running', 'Manual'),
    service('WinRM', 'Windows Remote Management (WS-Management)', 'Running', 'Automatic'),
    service('wuauserv', 'Windows Update', 'Stopped', 'Manual'),
  ];
}

export function createDefaultMachine(options: DefaultMachineOptions = {}): MachineModel {
  const count = options.names?.length ?? options.nodes ?? 2;
  if (!Number.isInteger(count) || count < 1) throw new Error(`nodes must be a whole number of at least 1, not ${count}`);
  const names = options.names ?? Array.from({ length: count }, (_, index) => `ARC-NODE-${index + 1}`);
  const nodes: Record<string, NodeModel> = {};
  for (const name of names) {
    const node = createDefaultNode(name);
    // A cluster node runs the Failover Clustering role (Hyper-V is not installed).
    if (count > 1) {
      node.eventLogs!['Microsoft-Windows-FailoverClustering/Operational'] = [];
      node.services.splice(1, 0, {
        name: 'ClusSvc',
        displayName: 'Cluster Service',
        status: 'Running',
        startType: 'Automatic',
        dependentServices: [],
      });
    }
    nodes[name] = node;
  }
  return {
    schemaVersion: 1,
    clock: { nowUtc: formatUtc(options.nowUtc !== undefined ? parseUtc(options.nowUtc) : Math.floor(Date.now() / 1000) * 1000) },
    localNode: names[0]!,
    cluster: count > 1 ? { name: 'ARC-CLUSTER' } : null,
    nodes,
    faults: [],
  };
}
