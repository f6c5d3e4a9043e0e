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

export const TASK_FOLDER = '\\ArcRemoteSupport\\';
export const RECONCILE_TASK = 'Reconcile';
export const RETENTION_TASK = 'Retention';
export const expireTaskName = (grantId: string) => `Expire-${grantId}`;

export const EVENT_SOURCE = 'ArcRemoteSupport';

/** Services a repair role may never stop: remoting, the agent's tasks, and the Arc agent services. */
export const PROTECTED_SERVICES = ['WinRM', 'Schedule', 'himds', 'GCArcService', 'ExtensionService', 'ArcProxy'] as const;
