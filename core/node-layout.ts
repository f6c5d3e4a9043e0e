/**
 * Where the product lives on each Windows node. The agent folder is stable across extension
 * versions (scheduled tasks point at it, never at the versioned extension folder); the data folder
 * holds what must survive upgrades and is readable by SYSTEM and Administrators only.
 */
export const PRODUCT_NAME = 'ArcRemoteSupport';

/** The agent: node.exe, agent.js and the node's PowerShell, copied here by install. */
export const AGENT_FOLDER = 'C:\\Program Files\\ArcRemoteSupport';
export const AGENT_NODE = `${AGENT_FOLDER}\\node.exe`;
export const AGENT_SCRIPT = `${AGENT_FOLDER}\\agent.js`;
export const AGENT_SCRIPTS_FOLDER = `${AGENT_FOLDER}\\scripts`;
/** The version of the agent files in the folder, written after them: a half copy is copied again. */
export const AGENT_VERSION_FILE = `${AGENT_FOLDER}\\version.txt`;
/** The owner's module (Get-RemoteSupportAccess, Disable-RemoteSupport...) on PSModulePath. */
export const OWNER_MODULE_FOLDER = 'C:\\Program Files\\WindowsPowerShell\\Modules\\ArcRemoteSupport';

/** State, history and transcripts. */
export const DATA_FOLDER = 'C:\\ProgramData\\ArcRemoteSupport';
export const DESIRED_STATE_FILE = `${DATA_FOLDER}\\desired.json`;
export const HISTORY_FILE = `${DATA_FOLDER}\\history.jsonl`;
/** Audit records whose history line or event could not be written yet (core/pending-audit.ts). */
export const PENDING_AUDIT_FILE = `${DATA_FOLDER}\\pending-audit.json`;
export const TRANSCRIPT_FOLDER = `${DATA_FOLDER}\\Transcripts`;

/** The JEA module (role capabilities) on PSModulePath, and the endpoint built on it. */
export const JEA_MODULE_NAME = 'ArcRemoteSupportJea';
export const JEA_MODULE_FOLDER = `C:\\Program Files\\WindowsPowerShell\\Modules\\${JEA_MODULE_NAME}`;
export const ENDPOINT_NAME = 'ArcRemoteSupport';
export const SESSION_CONFIGURATION_FILE = `${DATA_FOLDER}\\ArcRemoteSupport.pssc`;

/**
 * Local groups. The owner puts the support engineers' accounts in Engineers once; a grant copies
 * them into the group of the granted level, which the endpoint maps to that level's roles.
 */
export const GROUPS = {
  engineers: 'ArcRemoteSupport Engineers',
  diagnostics: 'ArcRemoteSupport Diagnostics',
  repair: 'ArcRemoteSupport Repair',
} as const;

/**
 * The channel (DESIGN section 8): the relay listen token, machine-protected (DPAPI on Windows),
 * never in clear; the agent's connection state, read by status; one record per engineer session;
 * the ids of tickets already used, so each ticket opens one session.
 */
export const CHANNEL_TOKEN_FILE = `${DATA_FOLDER}\\channel-listen.token`;
export const CHANNEL_STATUS_FILE = `${DATA_FOLDER}\\channel-status.json`;
export const CHANNEL_SESSIONS_FOLDER = `${DATA_FOLDER}\\Sessions`;
export const USED_TICKETS_FILE = `${DATA_FOLDER}\\used-ticket-ids.json`;

/**
 * The channel's per-grant local account: the agent opens the engineer's JEA session as it, in the
 * granted level's group, and deletes it when the grant ends. The prefix finds the ones a crash
 * left behind; eight hex digits of the grant id tell grants apart and keep the name within
 * Windows' 20-character limit for local user names.
 */
export const CHANNEL_USER_PREFIX = 'ArcRS-';
export const LOCAL_USER_NAME_MAX = 20;

export function channelUserName(grantId: string): string {
  const head = /^[0-9a-f]{8}/i.exec(grantId);
  if (!head) throw new Error(`The grant id '${grantId}' does not start with 8 hexadecimal digits: give the grant's UUID`);
  return `${CHANNEL_USER_PREFIX}${head[0].toLowerCase()}`;
}

/**
 * Diagnostic log collection (DESIGN section 9): the owner's request waiting for the agent (one at a
 * time), its upload SAS, machine-protected like the listen token; one record per collection; the
 * bundle and its upload journal while the collection runs (deleted after it, or by retention).
 */
export const LOG_COLLECTION_REQUEST_FILE = `${DATA_FOLDER}\\log-collection-request.json`;
export const LOG_COLLECTION_SAS_FILE = `${DATA_FOLDER}\\log-collection-upload.sas`;
export const LOG_COLLECTIONS_FOLDER = `${DATA_FOLDER}\\LogCollections`;
export const LOG_STAGING_FOLDER = `${DATA_FOLDER}\\LogStaging`;
/**
 * A copy of the record of the collection that ended last, written with it: the handler's observe
 * batch reads this one file to report the outcome, instead of listing LOG_COLLECTIONS_FOLDER. Not
 * a record's name (a UUID), so the history skips it; retention deletes it with the records.
 */
export const LAST_LOG_COLLECTION_NAME = 'last.json';
export const LAST_LOG_COLLECTION_FILE = `${LOG_COLLECTIONS_FOLDER}\\${LAST_LOG_COLLECTION_NAME}`;
/**
 * The upload SAS an owner's grant carries for the engineer's collections: machine-protected, kept
 * while that grant is in force and removed, as access, when it ends.
 */
export const LOG_UPLOAD_SAS_FILE = `${DATA_FOLDER}\\grant-log-upload.sas`;
/** Event log channels exported for a collection, deleted once its bundle is written. */
export const LOG_EXPORT_FOLDER = `${LOG_STAGING_FOLDER}\\Exports`;

export const TASK_FOLDER = '\\ArcRemoteSupport\\';
export const RECONCILE_TASK = 'Reconcile';
export const RETENTION_TASK = 'Retention';
/** The long-running `agent channel` while a grant with a channel is in force. */
export const CHANNEL_TASK = 'Channel';
/** The one-shot `agent collect-logs` for the owner's request. */
export const COLLECT_LOGS_TASK = 'CollectLogs';
export const expireTaskName = (grantId: string) => `Expire-${grantId}`;

export const EVENT_SOURCE = 'ArcRemoteSupport';

/**
 * Services the Repair level may never start, stop or restart, because they keep the node
 * reachable, running our tasks, connected to Azure, audited or protected. Kernel drivers are listed
 * with their services: Windows stops a driver by its service name too (unloading the Sysmon driver
 * blinds Sysmon). Display names are what Windows also accepts as a name; the tests probe them.
 * This is the one list: jea/ builds the Repair role's service-name pattern from it.
 */
export const PROTECTED_SERVICE_TABLE: ReadonlyArray<{ name: string; displayNames: readonly string[] }> = [
  // Reachable and running our tasks.
  { name: 'WinRM', displayNames: ['Windows Remote Management (WS-Management)'] },
  { name: 'Schedule', displayNames: ['Task Scheduler'] },
  // The Azure Connected Machine agent.
  { name: 'himds', displayNames: ['Azure Hybrid Instance Metadata Service'] },
  { name: 'GCArcService', displayNames: ['Guest Configuration Arc Service'] },
  { name: 'ExtensionService', displayNames: ['Guest Configuration Extension service'] },
  { name: 'ArcProxy', displayNames: ['Azure Arc Proxy'] },
  // Audited: the event log and Sysmon (32- and 64-bit service names, and its driver).
  { name: 'EventLog', displayNames: ['Windows Event Log'] },
  { name: 'Sysmon', displayNames: [] },
  { name: 'Sysmon64', displayNames: [] },
  { name: 'SysmonDrv', displayNames: [] },
  // Protected: the firewall, its driver and the filtering engine under it.
  { name: 'MpsSvc', displayNames: ['Windows Firewall', 'Windows Defender Firewall'] },
  { name: 'mpsdrv', displayNames: ['Windows Firewall Authorization Driver', 'Windows Defender Firewall Authorization Driver'] },
  { name: 'BFE', displayNames: ['Base Filtering Engine'] },
  // Protected: the antimalware service, its network inspection, its drivers and the endpoint sensor.
  {
    name: 'WinDefend',
    displayNames: ['Windows Defender Service', 'Windows Defender Antivirus Service', 'Microsoft Defender Antivirus Service'],
  },
  {
    name: 'WdNisSvc',
    displayNames: [
      'Windows Defender Network Inspection Service',
      'Windows Defender Antivirus Network Inspection Service',
      'Microsoft Defender Antivirus Network Inspection Service',
    ],
  },
  {
    name: 'WdNisDrv',
    displayNames: ['Windows Defender Network Inspection System Driver', 'Microsoft Defender Antivirus Network Inspection System Driver'],
  },
  { name: 'WdFilter', displayNames: ['Windows Defender Mini-Filter Driver', 'Microsoft Defender Antivirus Mini-Filter Driver'] },
  { name: 'WdBoot', displayNames: ['Windows Defender Boot Driver', 'Microsoft Defender Antivirus Boot Driver'] },
  { name: 'Sense', displayNames: ['Windows Defender Advanced Threat Protection Service', 'Microsoft Defender for Endpoint Service'] },
];

/** The protected services' names. */
export const PROTECTED_SERVICES: readonly string[] = PROTECTED_SERVICE_TABLE.map((s) => s.name);
