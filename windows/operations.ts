/**
 * The operations of the Windows host port: everything the product does to a Windows node. Each
 * is a plain JSON object (it crosses into PowerShell as JSON), and each has a typed result. A
 * handler phase sends a list of them in one batch, so one PowerShell process does a whole phase.
 *
 * Paths are Windows paths on a real node. Names of groups, session configurations and tasks are
 * local to the node. Every operation is idempotent: running it twice leaves the node as running it
 * once, and its result says whether it changed anything.
 */

/**
 * Access to a file or folder as an SDDL security descriptor (owner, group, DACL), for example
 * `O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)`: SYSTEM and Administrators only, nothing
 * inherited. SDDL is exact, survives JSON, and Set-Acl applies it as one unit (see acl.ts).
 */
export type Sddl = string;

/**
 * Where the secret file operations may read and write: the node's data folder (core/node-layout.ts
 * DATA_FOLDER, which this module cannot import; a test keeps the two equal), readable by SYSTEM and
 * Administrators only.
 */
export const SECRET_FILE_FOLDER = 'C:\\ProgramData\\ArcRemoteSupport';

/**
 * Where exportEventLog and writeGeneratedLog may write: the agent's log staging folder's Exports
 * (core/node-layout.ts LOG_EXPORT_FOLDER; a test keeps the two equal). Nothing else on the node is
 * overwritten.
 */
export const EXPORTED_LOGS_FOLDER = 'C:\\ProgramData\\ArcRemoteSupport\\LogStaging\\Exports';

/** Marks a HostSecret by name, not class identity: the simulated Windows is a bundle with its own copy of this class. */
const HOST_SECRET = Symbol.for('arc-remote-support.host-secret');

/**
 * A secret on its way to a node (a relay listen token). It never shows itself: JSON, string
 * conversion and util.inspect all give '[secret]', so a request that is logged, put in an error or
 * serialized by mistake carries no secret. The PowerShell host sends its value apart from the JSON
 * request (powershell-host.ts); only `reveal()` gives it out.
 */
export class HostSecret {
  readonly #value: string;
  readonly [HOST_SECRET] = true;

  constructor(value: string) {
    if (typeof value !== 'string' || value.length === 0) throw new TypeError('A host secret must be a non-empty string.');
    this.#value = value;
  }

  /** The value itself, for the host adapters only. */
  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return '[secret]';
  }

  toString(): string {
    return '[secret]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[secret]';
  }
}

export function hostSecret(value: string): HostSecret {
  return new HostSecret(value);
}

export function isHostSecret(value: unknown): value is HostSecret {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [HOST_SECRET]?: unknown })[HOST_SECRET] === true &&
    typeof (value as { reveal?: unknown }).reveal === 'function'
  );
}

export type GeneratedLogProducer = 'clusterLog' | 'windowsUpdateLog';
export type TaskState = 'Ready' | 'Running' | 'Disabled' | 'Queued' | 'Unknown';
export type ClusterNodeState = 'Up' | 'Down' | 'Paused' | 'Joining' | 'Unknown';
export type ArcAgentStatus = 'Connected' | 'Disconnected' | 'Expired' | 'NotInstalled';
export type EventLevel = 'Information' | 'Warning' | 'Error';

export interface ProbeResult {
  computerName: string;
  os: {
    caption: string;
    /** Win32_OperatingSystem.BuildNumber. */
    buildNumber: number;
    /** Win32_OperatingSystem.ProductType: 1 workstation, 2 domain controller, 3 server. */
    productType: number;
    /** "Server", "Server Core", "Client" (registry InstallationType). */
    installationType: string;
  };
  memory: {
    /** Sum of Win32_PhysicalMemory capacities (what SMBIOS says is installed). */
    installedBytes: number;
    /** Win32_ComputerSystem.TotalPhysicalMemory (reads lower than installed). */
    usableBytes: number;
  };
  arc: {
    status: ArcAgentStatus;
    /** The ARM id of this Arc machine, when the agent knows it. */
    resourceId: string | null;
    agentVersion: string | null;
  };
  /** Null when the node is not in a failover cluster. */
  cluster: null | { name: string; nodes: Array<{ name: string; state: ClusterNodeState }> };
}

/** The request fields of an operation that takes none. */
type NoFields = Record<never, never>;

/** Operation name -> [request fields, result]. */
export interface OperationCatalog {
  probe: [NoFields, ProbeResult];

  ensureDirectory: [{ path: string; sddl?: Sddl }, { created: boolean }];
  /**
   * Writes UTF-8 text, or bytes when `encoding` is base64 (task XML is UTF-16LE). With `createNew`
   * the write is the decision of who goes first: the file appears whole only if none is at the path
   * (one atomic rename that never replaces), else Exists and nothing is touched. Not idempotent by
   * design: the second of two such writes, even with the same content, is Exists.
   */
  writeFile: [{ path: string; content: string; encoding?: 'utf8' | 'base64'; sddl?: Sddl; createNew?: boolean }, { changed: boolean }];
  readFile: [{ path: string; encoding?: 'utf8' | 'base64' }, { exists: boolean; content: string | null }];
  /**
   * Copies a file of the machine running the handler (`source`, a local path there: the package)
   * to `path` on the node, unless the node's file already has the same bytes. The folder must
   * exist. For the agent's runtime, too large to travel in a batch as content.
   */
  copyFromHandler: [{ source: string; path: string }, { copied: boolean }];
  /** Files and folders; a folder with everything in it. */
  removePath: [{ path: string }, { removed: boolean }];
  getPath: [{ path: string }, { exists: boolean; type: 'file' | 'directory' | null; sddl: Sddl | null }];
  listDirectory: [
    { path: string },
    { exists: boolean; entries: Array<{ name: string; type: 'file' | 'directory'; lastWriteTimeUtc: string }> },
  ];

  ensureLocalGroup: [{ name: string; description: string }, { created: boolean }];
  removeLocalGroup: [{ name: string }, { removed: boolean }];
  getLocalGroup: [{ name: string }, { exists: boolean; members: string[] }];
  /** Makes the membership exactly `members` (names as DOMAIN\user or COMPUTER\user). */
  setLocalGroupMembers: [{ name: string; members: string[] }, { added: string[]; removed: string[] }];

  /**
   * The channel's per-grant local account (core/node-layout.ts names it). Creates it, or resets an
   * existing one, with a fresh random password that PowerShell generates and discards: no password
   * crosses the port, and none is kept anywhere (ChannelSession.ps1 sets another one for each
   * session). Never expires, may not change its password. A domain controller has no local
   * accounts: DomainController.
   */
  ensureLocalUser: [{ name: string; description: string }, { created: boolean }];
  /** Deletes the account; Windows takes it out of every group it was in. */
  removeLocalUser: [{ name: string }, { removed: boolean }];
  /** Local accounts whose name starts with `prefix` (not empty), sorted: orphans after a crash. */
  listLocalUsers: [{ prefix: string }, { names: string[] }];
  /**
   * Ends every process whose command line runs the channel's session script `scriptName` (a file
   * name such as ChannelSession.ps1, matched as a whole name): the Expire task's way to end engineer
   * sessions when the agent is dead. `ended`: their process ids, ascending.
   */
  endChannelSessionProcesses: [{ scriptName: string }, { ended: number[] }];

  /** Registers a JEA endpoint from a .pssc file. Restarts WinRM: every remote session drops. */
  registerSessionConfiguration: [{ name: string; path: string }, { registered: boolean }];
  unregisterSessionConfiguration: [{ name: string }, { removed: boolean }];
  getSessionConfiguration: [{ name: string }, { exists: boolean; configFilePath: string | null }];
  /** Open WinRM shells of an endpoint. */
  listSessions: [{ configurationName: string }, { sessions: Array<{ id: string; user: string; startedAtUtc: string }> }];
  endSessions: [{ configurationName: string }, { ended: number }];

  /** Registers (or replaces) a task in `folder` from task XML, as SYSTEM. */
  registerTask: [{ folder: string; name: string; xml: string }, { replaced: boolean }];
  getTask: [{ folder: string; name: string }, { exists: boolean; state: TaskState | null; enabled: boolean | null; xml: string | null }];
  setTaskEnabled: [{ folder: string; name: string; enabled: boolean }, { changed: boolean }];
  deleteTask: [{ folder: string; name: string }, { removed: boolean }];
  listTasks: [{ folder: string }, { names: string[] }];

  /** Writes to the Application log, creating the source when missing. */
  writeEvent: [{ source: string; eventId: number; level: EventLevel; message: string }, { written: boolean }];
  readEvents: [{ source: string }, { events: Array<{ eventId: number; level: EventLevel; message: string; timeUtc: string }> }];
  /**
   * Exports an event log channel's events selected by `query` (an XPath over System/TimeCreated,
   * diag/reader.ts eventLogQuery) to `path`, a `.evtx` file directly in EXPORTED_LOGS_FOLDER,
   * replacing it (wevtutil epl). A channel the node does not have (an optional role's) is
   * `present: false` and writes nothing. `size`: the file's bytes (0 when absent).
   */
  exportEventLog: [{ channel: string; query: string; path: string }, { present: boolean; size: number }];
  /**
   * Writes a log Windows makes on request to `path`, a `.log` file directly in EXPORTED_LOGS_FOLDER,
   * replacing it: `clusterLog`, this node's cluster log from `sinceUtc` on (Get-ClusterLog -TimeSpan,
   * in UTC), on a node without the cluster service `present: false`; `windowsUpdateLog`, the
   * Windows Update log (Get-WindowsUpdateLog, which takes no window: all of it), `present: false`
   * where Windows has no such command.
   */
  writeGeneratedLog: [{ producer: GeneratedLogProducer; sinceUtc: string; path: string }, { present: boolean; size: number }];

  /**
   * Secret files, under SECRET_FILE_FOLDER only. The file holds the secret encrypted with the
   * node's machine-bound DPAPI key (LocalMachine scope: it decrypts on that node only, whichever
   * account wrote it, so a peer written over remoting is readable by its SYSTEM agent). An
   * existing file that already holds the same secret is left alone (`written: false`).
   */
  writeSecretFile: [{ path: string; secret: HostSecret }, { written: boolean }];
  /** Null when the file does not exist; a file that does not decrypt on this node -> Failed. */
  readSecretFile: [{ path: string }, { secret: string | null }];
}

export type OperationName = keyof OperationCatalog;
export type OperationRequest<N extends OperationName = OperationName> = N extends OperationName
  ? { op: N } & OperationCatalog[N][0]
  : never;
export type OperationResultOf<N extends OperationName> = OperationCatalog[N][1];

export const OPERATION_NAMES: readonly OperationName[] = [
  'probe',
  'ensureDirectory',
  'writeFile',
  'readFile',
  'copyFromHandler',
  'removePath',
  'getPath',
  'listDirectory',
  'ensureLocalGroup',
  'removeLocalGroup',
  'getLocalGroup',
  'setLocalGroupMembers',
  'ensureLocalUser',
  'removeLocalUser',
  'listLocalUsers',
  'endChannelSessionProcesses',
  'registerSessionConfiguration',
  'unregisterSessionConfiguration',
  'getSessionConfiguration',
  'listSessions',
  'endSessions',
  'registerTask',
  'getTask',
  'setTaskEnabled',
  'deleteTask',
  'listTasks',
  'writeEvent',
  'readEvents',
  'exportEventLog',
  'writeGeneratedLog',
  'writeSecretFile',
  'readSecretFile',
];

/** Builds a typed operation; `op('getTask', { folder, name })`. */
export function op<N extends OperationName>(name: N, fields: OperationCatalog[N][0]): OperationRequest<N> {
  return { op: name, ...fields } as OperationRequest<N>;
}
