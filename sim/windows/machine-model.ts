/**
 * A Windows machine or failover cluster as a JSON document. The simulated host runs the port's
 * operations on it, and the PowerShell stand-in cmdlets (tests) run the real scripts on the same
 * format, so both can be compared operation by operation.
 */
import type { ArcAgentStatus, ClusterNodeState, EventLevel, OperationName, Sddl, TaskState } from '../../windows/operations';
import type { HostErrorCode } from '../../windows/port';

export interface MachineModel {
  schemaVersion: 1;
  /** The simulated clock (UTC). Only the simulation moves it; scheduled tasks fire from it. */
  clock: { nowUtc: string };
  /** The node the extension manager runs the handler on. */
  localNode: string;
  /** Null for a single machine. */
  cluster: null | { name: string };
  /** Keyed by computer name in upper case. */
  nodes: Record<string, NodeModel>;
  /** Faults to inject, consumed in order as matching operations run. */
  faults: Fault[];
}

export interface NodeModel {
  /** Off: unreachable, and Down in the cluster. */
  power: 'On' | 'Off';
  /** Whether the local node's SYSTEM account may run operations on this node (peers only). */
  remoteAccess: 'Allowed' | 'Denied';
  /** Cluster state when powered on (default Up). */
  clusterState?: ClusterNodeState;
  /** When the node last booted (simulation.powerOn); boot triggers count from it. Unset: before the simulation began. */
  lastBootUtc?: string;
  /** Set by simulation.powerOff until the next power on: runs due in between are missed runs. */
  poweredOffAtUtc?: string;
  os: { caption: string; buildNumber: number; productType: number; installationType: string };
  memory: { moduleBytes: number[]; usableBytes: number };
  arc: { status: ArcAgentStatus; resourceId: string | null; agentVersion: string | null };
  /** What Azure holds for this machine (not visible on the node itself). */
  azure: AzureMachineView;
  /** Keyed by the Windows path in lower case, without a trailing backslash. */
  files: Record<string, FileEntry>;
  /** Keyed by group name in lower case. */
  groups: Record<string, { name: string; description: string; members: string[] }>;
  /** Local user accounts, keyed by name in lower case. No password is kept, only when it was set. */
  users: Record<string, LocalUserEntry>;
  /** Keyed by endpoint name in lower case. */
  sessionConfigurations: Record<string, { name: string; configFilePath: string }>;
  /** Registering or unregistering an endpoint restarts WinRM; every restart counts. */
  winrmRestarts: number;
  sessions: Array<{ id: string; configurationName: string; user: string; startedAtUtc: string }>;
  /**
   * Processes the simulation knows of: the channel's session processes (ChannelSession.ps1, one
   * per engineer session) that the simulated session launcher starts. Win32_Process's view.
   */
  processes: ProcessEntry[];
  /** Windows services, as Get-Service shows them; the simulated JEA session reads and changes them. */
  services: ServiceEntry[];
  /** Keyed by `<folder>\<name>` in lower case. */
  tasks: Record<string, TaskEntry>;
  eventSources: string[];
  /** The Application log (writeEvent writes there). */
  events: EventRecord[];
  /**
   * The node's other event log channels, by name as Windows spells it (any case matches), with
   * what Windows wrote there; a channel not listed is not on this node (an optional role's).
   * Unset: the Application log only.
   */
  eventLogs?: Record<string, EventRecord[]>;
  /**
   * This node's stand-in for DPAPI's machine-bound key: AES-256, base64, made when the node first
   * protects or reads a secret file (secret-files.ts; the PowerShell stand-in uses it too).
   */
  dataProtectionKey?: string;
}

export interface EventRecord {
  /** The provider (event source). */
  source: string;
  eventId: number;
  level: EventLevel;
  message: string;
  /** TimeCreated. */
  timeUtc: string;
}

export interface FileEntry {
  /** The path as first written (original case). */
  path: string;
  type: 'file' | 'directory';
  /** File content as base64. */
  contentBase64?: string;
  /**
   * A file copied from the handler's machine (copyFromHandler) is kept as a reference to that
   * file and its SHA-256, not as content: the agent's runtime is tens of megabytes.
   */
  copiedFrom?: { source: string; sha256: string };
  sddl?: Sddl;
  lastWriteTimeUtc: string;
}

export interface LocalUserEntry {
  /** The name as created (original case). */
  name: string;
  description: string;
  passwordNeverExpires: boolean;
  userMayChangePassword: boolean;
  passwordLastSetUtc: string;
}

export interface ProcessEntry {
  /** The process id (Win32_Process.ProcessId). */
  id: number;
  /** The image name, e.g. powershell.exe. */
  name: string;
  commandLine: string;
  startedAtUtc: string;
}

export interface ServiceEntry {
  name: string;
  displayName: string;
  status: 'Running' | 'Stopped';
  /** Manual services stay stopped until someone starts them. */
  startType: 'Automatic' | 'Manual' | 'Disabled';
  /** Names of the services that depend on this one (Stop/Restart refuse while one runs, unless -Force). */
  dependentServices: string[];
}

export interface TaskEntry {
  folder: string;
  name: string;
  xml: string;
  enabled: boolean;
  state: TaskState;
  lastRunTimeUtc: string | null;
  runCount: number;
}

/** The license Azure reports in the machine's licenseProfile, and whether the machine may read it. */
export interface AzureMachineView {
  /** Whether the machine's managed identity may read its own resource. */
  managedIdentityCanReadMachine: boolean;
  softwareAssuranceCustomer: boolean | null;
  /** productProfile.productType and subscriptionStatus (Pay-as-you-go is WindowsServer + Enabled). */
  productType: string | null;
  subscriptionStatus: string | null;
}

export interface Fault {
  /** An operation name, or '*' for any operation (crash tests kill at the n-th operation of a run). */
  operation: OperationName | '*';
  /** How many matching operations to let pass before it hits (default 0). */
  skip?: number;
  /** Default: any node. */
  node?: string;
  /**
   * Default: any target. Only operations on this path, group, endpoint, `<folder><task>` or event
   * source (any case), e.g. the history file's writeFile and not the other files'.
   */
  target?: string;
  /** fail: the operation returns this error; kill: the process running the batch dies before it. */
  action: 'fail' | 'kill';
  code?: HostErrorCode;
  message?: string;
  /** How many matching operations it hits (default 1). */
  remaining?: number;
}
