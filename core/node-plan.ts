/**
 * plan(intent, observed) -> steps: what one node needs so that it matches what is desired, as host
 * operations in a safe order. Pure: the same inputs give the same steps, and a node that already
 * matches gives none, so applying twice (or again after a crash) converges.
 *
 * Order matters for crash safety: the desired-state record is written first (the Reconcile task
 * converges to it if the handler dies), and an expiry task exists before anyone is given access.
 * Order and kind matter for security: taking access away (emptying a level group, ending the open
 * sessions, unregistering the endpoint at uninstall) comes right after the record, before the
 * history line and the event and before anything else, and each step says its kind, so that
 * applying (core/apply-order.ts) never lets an audit write, or any other step, keep access on
 * (the intent still writes the record after a crash, from the audit trail's own last word).
 */
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../windows/acl';
import { CHANNEL_SESSION_SCRIPT } from '../windows/jea-session';
import { op, type HostSecret, type OperationRequest } from '../windows/operations';
import type { AuditRecord } from './audit-record';
import { auditIdsInHistory } from './audit-record';
import type { Grant } from './desired-state';
import {
  AGENT_FOLDER,
  AGENT_VERSION_FILE,
  CHANNEL_STATUS_FILE,
  LAST_LOG_COLLECTION_FILE,
  CHANNEL_TASK,
  CHANNEL_TOKEN_FILE,
  CHANNEL_USER_PREFIX,
  DATA_FOLDER,
  DESIRED_STATE_FILE,
  ENDPOINT_NAME,
  EVENT_SOURCE,
  GROUPS,
  HISTORY_FILE,
  JEA_MODULE_FOLDER,
  LOG_UPLOAD_SAS_FILE,
  OWNER_MODULE_FOLDER,
  PENDING_AUDIT_FILE,
  RECONCILE_TASK,
  RETENTION_TASK,
  SESSION_CONFIGURATION_FILE,
  TASK_FOLDER,
  TRANSCRIPT_FOLDER,
} from './node-layout';
import { parsePendingAudit, type AuditPart } from './pending-audit';

export interface GroupView {
  exists: boolean;
  members: string[];
}

/** What a node has of ours, read in one observe batch. */
export interface ObservedNode {
  groups: Record<keyof typeof GROUPS, GroupView>;
  endpointRegistered: boolean;
  openSessions: number;
  tasks: Array<{ name: string; enabled: boolean }>;
  files: Record<string, string | null>;
  folders: Record<string, boolean>;
  /**
   * The ids of our records found in the event log; read only when records wait to be written
   * again (absent: not read, so no waiting event is written again, lest it be written twice).
   */
  loggedAuditIds?: string[];
  /**
   * The channel's local accounts (names starting CHANNEL_USER_PREFIX): 'none-possible' on a domain
   * controller (no local accounts), null when they could not be read.
   */
  channelAccounts: string[] | 'none-possible' | null;
  /** Whether a listen token is stored (CHANNEL_TOKEN_FILE). */
  channelTokenStored: boolean;
  /** Whether a grant's log upload SAS is stored (LOG_UPLOAD_SAS_FILE). */
  logUploadSasStored: boolean;
}

export interface ManagedFile {
  path: string;
  content: string;
}

/** What the node must look like. */
export interface NodeIntent {
  /** False: remove everything of ours (uninstall). */
  present: boolean;
  /** False: access off and tasks disabled, installation kept (disable). */
  enabled: boolean;
  /** The grant in force on this node, already known not to be expired; undefined = no access. */
  grant?: Grant;
  /** The desired-state record the agent on the node converges to. */
  desiredRecord: string;
  /** The audit records (history line and event) of the access change this run makes, if any. */
  audit: AuditRecord[];
  /**
   * JEA module files (role capabilities, manifest) and the session configuration file. Absent for
   * the node agent: it manages access, and leaves the installation to the handler.
   */
  jea?: { files: ManagedFile[]; sessionConfiguration: string };
  /** The agent's runtime and the owner's module, copied from the package (handler only). */
  agent?: AgentInstallation;
  /**
   * Apply SYSTEM-and-Administrators-only rights to the data folders even where they exist: a folder
   * someone created before install keeps their rights otherwise, and the record, the session
   * configuration and the compile cache rely on those rights.
   */
  resetFolderRights?: boolean;
  tasks: { reconcile: string; retention: string; expire?: { name: string; xml: string; replace: boolean } };
  /**
   * The channel of the grant in force (DESIGN section 8): its local account, the account as a
   * group member, the listen token when the settings brought one (`changed`: not the one stored),
   * and the Channel task's XML.
   */
  channel?: { account: string; member: string; token?: { secret: HostSecret; changed: boolean }; task: string };
  /**
   * The grant in force allows engineers' log uploads (DESIGN section 9): its SAS when the settings
   * brought one (`changed`: not the one stored). Absent: no SAS may stay on the node.
   */
  logUpload?: { sas?: { secret: HostSecret; changed: boolean } };
}

export interface AgentInstallation {
  version: string;
  folders: string[];
  files: Array<{ source: string; path: string }>;
}

/**
 * How applying treats a step (core/apply-order.ts):
 * - remove-access: takes access away; runs whatever failed before it, and its failure fails the run;
 * - audit: writes the audit records of the access change (the parts and ids it carries), once the
 *   steps before it that take access away succeeded; its failure stops nothing, and the record
 *   waits in PENDING_AUDIT_FILE for the next run;
 * - change: everything else, giving access included; runs only while every step before it that is
 *   not an audit write succeeded.
 */
export type StepKind = 'remove-access' | 'audit' | 'change';

export interface Step {
  description: string;
  operation: OperationRequest;
  kind: StepKind;
  /** For an audit step: which part of which records it writes. */
  audit?: { part: AuditPart; ids: string[] };
}

/** The files the observe batch reads, in its order. */
const OBSERVED_FILES = [
  DESIRED_STATE_FILE,
  HISTORY_FILE,
  PENDING_AUDIT_FILE,
  SESSION_CONFIGURATION_FILE,
  AGENT_VERSION_FILE,
  CHANNEL_STATUS_FILE,
  LAST_LOG_COLLECTION_FILE,
];

/** The observe batch (the probe first); readObservation turns its outcomes into an ObservedNode. */
export function observeOperations(jeaFiles: string[]): OperationRequest[] {
  return [
    op('probe', {}),
    op('getLocalGroup', { name: GROUPS.engineers }),
    op('getLocalGroup', { name: GROUPS.diagnostics }),
    op('getLocalGroup', { name: GROUPS.repair }),
    op('getSessionConfiguration', { name: ENDPOINT_NAME }),
    op('listSessions', { configurationName: ENDPOINT_NAME }),
    op('listTasks', { folder: TASK_FOLDER }),
    op('getTask', { folder: TASK_FOLDER, name: RECONCILE_TASK }),
    op('getTask', { folder: TASK_FOLDER, name: RETENTION_TASK }),
    op('getPath', { path: DATA_FOLDER }),
    op('getPath', { path: TRANSCRIPT_FOLDER }),
    op('getPath', { path: JEA_MODULE_FOLDER }),
    op('getPath', { path: AGENT_FOLDER }),
    op('getPath', { path: OWNER_MODULE_FOLDER }),
    ...[...OBSERVED_FILES, ...jeaFiles].map((path) => op('readFile', { path })),
    op('listLocalUsers', { prefix: CHANNEL_USER_PREFIX }),
    op('getPath', { path: CHANNEL_TOKEN_FILE }),
    op('getPath', { path: LOG_UPLOAD_SAS_FILE }),
  ];
}

/** The fields readObservation reads, over all the results it reads (each result has some of them). */
type ObservedFields = Partial<{
  exists: boolean;
  members: string[];
  enabled: boolean | null;
  sessions: unknown[];
  names: string[];
  content: string | null;
}>;

/** Reads the outcomes of observeOperations(jeaFiles); a failed read counts as absent (fail closed). */
export function readObservation(
  outcomes: Array<{ ok: boolean; value?: unknown; error?: { code: string } }>,
  jeaFiles: string[],
): ObservedNode {
  // Index 0 is the probe, read by the caller; the rest follow observeOperations' order.
  const value = (index: number): ObservedFields | undefined =>
    outcomes[index + 1]?.ok ? (outcomes[index + 1]!.value as ObservedFields) : undefined;
  const group = (index: number): GroupView => ({ exists: value(index)?.exists === true, members: value(index)?.members ?? [] });
  const enabledOf = (index: number): boolean | undefined => (value(index)?.exists ? value(index)?.enabled !== false : undefined);
  const known: Record<string, boolean | undefined> = {
    [RECONCILE_TASK.toLowerCase()]: enabledOf(6),
    [RETENTION_TASK.toLowerCase()]: enabledOf(7),
  };
  const files: Record<string, string | null> = {};
  [...OBSERVED_FILES, ...jeaFiles].forEach((path, offset) => {
    const read = value(13 + offset);
    files[path] = read?.exists ? (read.content ?? null) : null;
  });
  // After the files: the channel's accounts, its stored token, then the grant's log upload SAS.
  const accountsAt = 13 + OBSERVED_FILES.length + jeaFiles.length;
  const accounts = outcomes[accountsAt + 1];
  const channelAccounts = accounts?.ok
    ? (value(accountsAt)?.names ?? [])
    : accounts?.error?.code === 'DomainController'
      ? ('none-possible' as const)
      : null;
  return {
    channelAccounts,
    channelTokenStored: value(accountsAt + 1)?.exists === true,
    logUploadSasStored: value(accountsAt + 2)?.exists === true,
    groups: { engineers: group(0), diagnostics: group(1), repair: group(2) },
    endpointRegistered: value(3)?.exists === true,
    openSessions: (value(4)?.sessions ?? []).length,
    tasks: (value(5)?.names ?? []).map((name) => ({ name, enabled: known[name.toLowerCase()] ?? true })),
    files,
    folders: {
      [DATA_FOLDER]: value(8)?.exists === true,
      [TRANSCRIPT_FOLDER]: value(9)?.exists === true,
      [JEA_MODULE_FOLDER]: value(10)?.exists === true,
      [AGENT_FOLDER]: value(11)?.exists === true,
      [OWNER_MODULE_FOLDER]: value(12)?.exists === true,
    },
  };
}

export function accessGroupFor(grant: Grant | undefined): keyof typeof GROUPS | null {
  if (!grant) return null;
  return grant.level === 'DiagnosticsAndRepair' ? 'repair' : 'diagnostics';
}

export function planNode(intent: NodeIntent, observed: ObservedNode): Step[] {
  return intent.present ? planPresent(intent, observed) : planRemoval(intent, observed);
}

function planPresent(intent: NodeIntent, observed: ObservedNode): Step[] {
  const steps: Step[] = [];
  const add = (description: string, operation: OperationRequest, kind: StepKind = 'change') => steps.push({ description, operation, kind });
  const sameFile = (path: string, content: string) => observed.files[path] === content;

  for (const folder of [DATA_FOLDER, TRANSCRIPT_FOLDER]) {
    if (!observed.folders[folder] || intent.resetFolderRights)
      add(
        `${observed.folders[folder] ? 'set' : 'create'} ${folder} for SYSTEM and Administrators only`,
        op('ensureDirectory', { path: folder, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
      );
  }
  if (!sameFile(DESIRED_STATE_FILE, intent.desiredRecord))
    add(
      'record the desired access',
      op('writeFile', { path: DESIRED_STATE_FILE, content: intent.desiredRecord, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
    );
  for (const key of Object.keys(GROUPS) as Array<keyof typeof GROUPS>) {
    if (!observed.groups[key].exists)
      add(`create group ${GROUPS[key]}`, op('ensureLocalGroup', { name: GROUPS[key], description: `Arc remote support: ${key}` }));
  }

  // Access: first taken away where it must end (a group read that failed counts as one to empty).
  const grant = intent.enabled ? intent.grant : undefined;
  const target = accessGroupFor(grant);
  for (const key of ['diagnostics', 'repair'] as const) {
    const group = observed.groups[key];
    if (key !== target && (group.members.length > 0 || !group.exists))
      add(`remove ${key} access`, op('setLocalGroupMembers', { name: GROUPS[key], members: [] }), 'remove-access');
  }
  if (!grant && observed.openSessions > 0)
    add('end open support sessions', op('endSessions', { configurationName: ENDPOINT_NAME }), 'remove-access');
  // The channel's accounts of other grants (or of none), their session processes and a token without a grant go with the access.
  const channel = grant && observed.channelAccounts !== 'none-possible' ? intent.channel : undefined;
  for (const step of channelRemovals(observed, channel?.account)) steps.push(step);
  // The log upload SAS of a grant no longer in force (or replaced by a new one) goes with the access.
  const upload = grant ? intent.logUpload : undefined;
  if (observed.logUploadSasStored && (!upload || upload.sas?.changed))
    add("remove the grant's log upload SAS", op('removePath', { path: LOG_UPLOAD_SAS_FILE }), 'remove-access');

  // The audit of the change (records waiting from earlier runs first): after access was taken
  // away, before it is given (a run that dies in between still leaves the record of a grant).
  steps.push(...auditSteps(intent, observed));

  // JEA: the module and the endpoint (registered again only when its file changes: that restarts WinRM).
  if (intent.jea) {
    if (!observed.folders[JEA_MODULE_FOLDER])
      add('create the JEA module folder', op('ensureDirectory', { path: `${JEA_MODULE_FOLDER}\\RoleCapabilities` }));
    for (const file of intent.jea.files)
      if (!sameFile(file.path, file.content)) add(`write ${file.path}`, op('writeFile', { path: file.path, content: file.content }));
    const endpointChanged = !sameFile(SESSION_CONFIGURATION_FILE, intent.jea.sessionConfiguration);
    if (endpointChanged)
      add(
        'write the JEA session configuration',
        op('writeFile', {
          path: SESSION_CONFIGURATION_FILE,
          content: intent.jea.sessionConfiguration,
          sddl: SYSTEM_AND_ADMINISTRATORS_ONLY,
        }),
      );
    if (endpointChanged || !observed.endpointRegistered)
      add(
        `register the JEA endpoint ${ENDPOINT_NAME}`,
        op('registerSessionConfiguration', { name: ENDPOINT_NAME, path: SESSION_CONFIGURATION_FILE }),
      );
  }

  // The agent the tasks run, from its stable folder; the version file last, so a half copy is redone.
  if (intent.agent && observed.files[AGENT_VERSION_FILE] !== intent.agent.version) {
    for (const folder of intent.agent.folders) add(`create ${folder}`, op('ensureDirectory', { path: folder }));
    for (const file of intent.agent.files) add(`copy ${file.path}`, op('copyFromHandler', file));
    add(`record agent version ${intent.agent.version}`, op('writeFile', { path: AGENT_VERSION_FILE, content: intent.agent.version }));
  }

  // Tasks: the expiry task exists before anyone is given access.
  const wanted = new Map<string, string>([
    [RECONCILE_TASK, intent.tasks.reconcile],
    [RETENTION_TASK, intent.tasks.retention],
  ]);
  if (grant && intent.tasks.expire) wanted.set(intent.tasks.expire.name, intent.tasks.expire.xml);
  const present = new Map(observed.tasks.map((task) => [task.name.toLowerCase(), task]));
  for (const [name, xml] of wanted) {
    const task = present.get(name.toLowerCase());
    const replace = intent.tasks.expire?.name === name && intent.tasks.expire.replace;
    if (!task || replace) add(`${task ? 're-register' : 'register'} task ${name}`, op('registerTask', { folder: TASK_FOLDER, name, xml }));
    const enabled = intent.enabled;
    if ((task && task.enabled !== enabled) || (!task && !enabled))
      add(`${enabled ? 'enable' : 'disable'} task ${name}`, op('setTaskEnabled', { folder: TASK_FOLDER, name, enabled }));
  }

  // The channel's account and token exist before the account is given access.
  if (channel) {
    const accounts = observed.channelAccounts;
    if (!Array.isArray(accounts) || !accounts.some((name) => name.toLowerCase() === channel.account.toLowerCase()))
      add(
        `create the channel account ${channel.account}`,
        op('ensureLocalUser', { name: channel.account, description: 'Arc remote support channel (per grant)' }),
      );
    if (channel.token && (channel.token.changed || !observed.channelTokenStored))
      add('store the relay listen token', op('writeSecretFile', { path: CHANNEL_TOKEN_FILE, secret: channel.token.secret }));
  }

  // Access given last: exactly the engineers (and the channel's account) in the granted level's group.
  if (target) {
    const engineers = [...observed.groups.engineers.members, ...(channel ? [channel.member] : [])];
    if (!sameMembers(observed.groups[target].members, engineers) || !observed.groups[target].exists) {
      add(
        `${engineers.length ? 'give' : 'remove'} ${target} access`,
        op('setLocalGroupMembers', { name: GROUPS[target], members: engineers }),
        engineers.length ? 'change' : 'remove-access',
      );
    }
  }

  // The grant's log upload SAS, machine-protected: engineers may collect once it is there.
  if (upload?.sas && (upload.sas.changed || !observed.logUploadSasStored))
    add("store the grant's log upload SAS", op('writeSecretFile', { path: LOG_UPLOAD_SAS_FILE, secret: upload.sas.secret }));

  // The channel's task last: it starts the agent's listener, which needs all of the above.
  const channelTask = present.get(CHANNEL_TASK.toLowerCase());
  if (channel && !channelTask)
    add(`register task ${CHANNEL_TASK}`, op('registerTask', { folder: TASK_FOLDER, name: CHANNEL_TASK, xml: channel.task }));
  if (!channel && channelTask) add(`delete task ${CHANNEL_TASK}`, op('deleteTask', { folder: TASK_FOLDER, name: channelTask.name }));

  // Expiry tasks of grants no longer in force.
  const wantedNames = new Set([...wanted.keys()].map((name) => name.toLowerCase()));
  for (const task of observed.tasks) {
    if (task.name.toLowerCase().startsWith('expire-') && !wantedNames.has(task.name.toLowerCase())) {
      add(`delete task ${task.name}`, op('deleteTask', { folder: TASK_FOLDER, name: task.name }));
    }
  }
  return steps;
}

/**
 * Uninstall: access off first (the groups emptied, the sessions ended, the endpoint gone), then its
 * audit (the event, then the history line a re-run looks for, written before the data folder
 * goes), then every trace, in an order a re-run can finish. The desired-state record goes last
 * with the data folder, so a re-run still knows which grant was ended.
 */
function planRemoval(intent: NodeIntent, observed: ObservedNode): Step[] {
  const steps: Step[] = [];
  const add = (description: string, operation: OperationRequest, kind: StepKind = 'change') => steps.push({ description, operation, kind });
  for (const key of ['diagnostics', 'repair'] as const) {
    if (observed.groups[key].exists && observed.groups[key].members.length > 0)
      add(`remove ${key} access`, op('setLocalGroupMembers', { name: GROUPS[key], members: [] }), 'remove-access');
  }
  if (observed.openSessions > 0) add('end open support sessions', op('endSessions', { configurationName: ENDPOINT_NAME }), 'remove-access');
  steps.push(...channelRemovals(observed, undefined));
  if (observed.logUploadSasStored)
    add("remove the grant's log upload SAS", op('removePath', { path: LOG_UPLOAD_SAS_FILE }), 'remove-access');
  if (observed.endpointRegistered)
    add(`unregister the JEA endpoint ${ENDPOINT_NAME}`, op('unregisterSessionConfiguration', { name: ENDPOINT_NAME }), 'remove-access');
  steps.push(...auditSteps(intent, observed));
  for (const task of observed.tasks) add(`delete task ${task.name}`, op('deleteTask', { folder: TASK_FOLDER, name: task.name }));
  for (const key of Object.keys(GROUPS) as Array<keyof typeof GROUPS>) {
    if (observed.groups[key].exists) add(`remove group ${GROUPS[key]}`, op('removeLocalGroup', { name: GROUPS[key] }));
  }
  if (observed.folders[JEA_MODULE_FOLDER]) add('remove the JEA module', op('removePath', { path: JEA_MODULE_FOLDER }));
  if (observed.folders[OWNER_MODULE_FOLDER]) add("remove the owner's module", op('removePath', { path: OWNER_MODULE_FOLDER }));
  if (observed.folders[AGENT_FOLDER]) add('remove the agent', op('removePath', { path: AGENT_FOLDER }));
  if (observed.folders[DATA_FOLDER]) add('remove the data folder', op('removePath', { path: DATA_FOLDER }));
  return steps;
}

/**
 * The audit writes: the history (its lines still waiting, then this run's) and the events (still
 * waiting, then this run's). A waiting part already written (its id found in the history, or in
 * the event log) is not written again; a waiting event is written again only when the event log
 * could be read to tell. At uninstall the events come first and this run's history line last, and
 * only while the data folder is there: the line is what a re-run looks for, and it goes with the
 * folder (so does a line still waiting: the event is the record that stays).
 */
function auditSteps(intent: NodeIntent, observed: ObservedNode): Step[] {
  const waiting = parsePendingAudit(observed.files[PENDING_AUDIT_FILE] ?? null).records;
  const history = observed.files[HISTORY_FILE] ?? '';
  const inHistory = auditIdsInHistory(history);
  const historySteps: Step[] = [];
  if (intent.present || observed.folders[DATA_FOLDER]) {
    const lines = [
      // At uninstall the lines still waiting go with the folder: only this run's is written.
      ...(intent.present ? waiting : [])
        .filter((record) => record.historyLine !== null && !inHistory.has(record.id))
        .map((record) => ({ id: record.id, line: record.historyLine! })),
      ...intent.audit.filter((record) => record.historyLine !== null).map((record) => ({ id: record.id, line: record.historyLine! })),
    ];
    if (lines.length > 0) {
      historySteps.push({
        description:
          lines.length === 1 ? 'append the access change to the history' : `append ${lines.length} access changes to the history`,
        operation: op('writeFile', {
          path: HISTORY_FILE,
          content: history + lines.map(({ line }) => `${line}\n`).join(''),
          sddl: SYSTEM_AND_ADMINISTRATORS_ONLY,
        }),
        kind: 'audit',
        audit: { part: 'history', ids: lines.map(({ id }) => id) },
      });
    }
  }
  const logged = observed.loggedAuditIds ? new Set(observed.loggedAuditIds) : null;
  const events = [
    ...waiting
      .filter((record) => record.event !== null && logged !== null && !logged.has(record.id))
      .map((record) => ({ id: record.id, event: record.event! })),
    ...intent.audit.map((record) => ({ id: record.id, event: record.event })),
  ];
  const eventSteps = events.map(({ id, event }): Step => ({
    description: `log event ${event.eventId}`,
    operation: op('writeEvent', { source: EVENT_SOURCE, ...event }),
    kind: 'audit',
    audit: { part: 'event', ids: [id] },
  }));
  return intent.present ? [...historySteps, ...eventSteps] : [...eventSteps, ...historySteps];
}

/**
 * Ends what the channel left that `keep` (the account of the grant in force) does not cover: the
 * session processes, the other accounts, and, without a grant, the stored token. Accounts that
 * could not be read count as present: the session processes are ended anyway (fail closed).
 */
function channelRemovals(observed: ObservedNode, keep: string | undefined): Step[] {
  const accounts = observed.channelAccounts;
  const stray = Array.isArray(accounts) ? accounts.filter((name) => name.toLowerCase() !== keep?.toLowerCase()) : [];
  const channelTask = observed.tasks.some((task) => task.name.toLowerCase() === CHANNEL_TASK.toLowerCase());
  const leftovers = stray.length > 0 || (!keep && (observed.channelTokenStored || channelTask || accounts === null));
  const steps: Step[] = [];
  const removal = (description: string, operation: OperationRequest) => steps.push({ description, operation, kind: 'remove-access' });
  if (leftovers) removal('end channel sessions', op('endChannelSessionProcesses', { scriptName: CHANNEL_SESSION_SCRIPT }));
  for (const name of stray) removal(`remove the channel account ${name}`, op('removeLocalUser', { name }));
  if (!keep && observed.channelTokenStored) removal('remove the relay listen token', op('removePath', { path: CHANNEL_TOKEN_FILE }));
  return steps;
}

function sameMembers(a: string[], b: string[]): boolean {
  const norm = (list: string[]) =>
    list
      .map((name) => name.toLowerCase())
      .sort()
      .join('\n');
  return norm(a) === norm(b);
}
