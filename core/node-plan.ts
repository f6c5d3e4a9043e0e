/**
 * plan(intent, observed) -> steps: what one node needs so that it matches what is desired, as host
 * operations in a safe order. Pure: the same inputs give the same steps, and a node that already
 * matches gives none, so applying twice (or again after a crash) converges.
 *
 * Order matters for crash safety: the desired-state record is written first (the Reconcile task
 * converges to it if the handler dies), and an expiry task exists before anyone is given access.
 * Order matters for security too: when access is taken away, the groups are emptied and the open
 * sessions ended right after the record, before the history line and the event, so that removing
 * access never waits on the audit write (the intent still writes the line after a crash, from
 * the history's own last word).
 */
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../windows/acl';
import { op, type OperationRequest } from '../windows/operations';
import type { Grant } from './desired-state';
import {
  AGENT_FOLDER,
  AGENT_VERSION_FILE,
  DATA_FOLDER,
  DESIRED_STATE_FILE,
  ENDPOINT_NAME,
  EVENT_SOURCE,
  GROUPS,
  HISTORY_FILE,
  JEA_MODULE_FOLDER,
  OWNER_MODULE_FOLDER,
  RECONCILE_TASK,
  RETENTION_TASK,
  SESSION_CONFIGURATION_FILE,
  TASK_FOLDER,
  TRANSCRIPT_FOLDER,
} from './node-layout';

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
  /** History lines to add for access changes this run makes (who, when, level, expiry, ticket, terms). */
  historyLines: string[];
  events: Array<{ eventId: number; level: 'Information' | 'Warning'; message: string }>;
  /**
   * JEA module files (role capabilities, manifest) and the session configuration file. Absent for
   * the node agent: it manages access, and leaves the installation to the handler.
   */
  jea?: { files: ManagedFile[]; sessionConfiguration: string };
  /** The agent's runtime and the owner's module, copied from the package (handler only). */
  agent?: AgentInstallation;
  tasks: { reconcile: string; retention: string; expire?: { name: string; xml: string; replace: boolean } };
}

export interface AgentInstallation {
  version: string;
  folders: string[];
  files: Array<{ source: string; path: string }>;
}

export interface Step {
  description: string;
  operation: OperationRequest;
}

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
    ...[DESIRED_STATE_FILE, HISTORY_FILE, SESSION_CONFIGURATION_FILE, AGENT_VERSION_FILE, ...jeaFiles].map((path) =>
      op('readFile', { path }),
    ),
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
export function readObservation(outcomes: Array<{ ok: boolean; value?: unknown }>, jeaFiles: string[]): ObservedNode {
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
  [DESIRED_STATE_FILE, HISTORY_FILE, SESSION_CONFIGURATION_FILE, AGENT_VERSION_FILE, ...jeaFiles].forEach((path, offset) => {
    const read = value(13 + offset);
    files[path] = read?.exists ? (read.content ?? null) : null;
  });
  return {
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
  const add = (description: string, operation: OperationRequest) => steps.push({ description, operation });
  const sameFile = (path: string, content: string) => observed.files[path] === content;

  for (const folder of [DATA_FOLDER, TRANSCRIPT_FOLDER]) {
    if (!observed.folders[folder])
      add(
        `create ${folder} for SYSTEM and Administrators only`,
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
  const grant = intent.enabled ? intent.grant : undefined;
  // Taking access away comes first; giving it comes last, once its expiry task exists.
  if (!grant) steps.push(...accessSteps(grant, observed));
  if (intent.historyLines.length > 0) {
    const history = (observed.files[HISTORY_FILE] ?? '') + intent.historyLines.map((line) => `${line}\n`).join('');
    add(
      'append the access change to the history',
      op('writeFile', { path: HISTORY_FILE, content: history, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
    );
  }
  for (const event of intent.events) add(`log event ${event.eventId}`, op('writeEvent', { source: EVENT_SOURCE, ...event }));

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

  if (grant) steps.push(...accessSteps(grant, observed));

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
 * Uninstall: access off first, then its audit (the event, then the history line a re-run looks
 * for), then every trace, in an order a re-run can finish. The desired-state record goes last
 * with the data folder, so a re-run still knows which grant was ended.
 */
function planRemoval(intent: NodeIntent, observed: ObservedNode): Step[] {
  const steps: Step[] = [];
  const add = (description: string, operation: OperationRequest) => steps.push({ description, operation });
  for (const key of ['diagnostics', 'repair'] as const) {
    if (observed.groups[key].exists && observed.groups[key].members.length > 0)
      add(`remove ${key} access`, op('setLocalGroupMembers', { name: GROUPS[key], members: [] }));
  }
  if (observed.openSessions > 0) add('end open support sessions', op('endSessions', { configurationName: ENDPOINT_NAME }));
  for (const event of intent.events) add(`log event ${event.eventId}`, op('writeEvent', { source: EVENT_SOURCE, ...event }));
  if (intent.historyLines.length > 0 && observed.folders[DATA_FOLDER]) {
    const history = (observed.files[HISTORY_FILE] ?? '') + intent.historyLines.map((line) => `${line}\n`).join('');
    add(
      'append the access change to the history',
      op('writeFile', { path: HISTORY_FILE, content: history, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
    );
  }
  for (const task of observed.tasks) add(`delete task ${task.name}`, op('deleteTask', { folder: TASK_FOLDER, name: task.name }));
  if (observed.endpointRegistered)
    add(`unregister the JEA endpoint ${ENDPOINT_NAME}`, op('unregisterSessionConfiguration', { name: ENDPOINT_NAME }));
  for (const key of Object.keys(GROUPS) as Array<keyof typeof GROUPS>) {
    if (observed.groups[key].exists) add(`remove group ${GROUPS[key]}`, op('removeLocalGroup', { name: GROUPS[key] }));
  }
  if (observed.folders[JEA_MODULE_FOLDER]) add('remove the JEA module', op('removePath', { path: JEA_MODULE_FOLDER }));
  if (observed.folders[OWNER_MODULE_FOLDER]) add("remove the owner's module", op('removePath', { path: OWNER_MODULE_FOLDER }));
  if (observed.folders[AGENT_FOLDER]) add('remove the agent', op('removePath', { path: AGENT_FOLDER }));
  if (observed.folders[DATA_FOLDER]) add('remove the data folder', op('removePath', { path: DATA_FOLDER }));
  return steps;
}

/** Access: exactly the engineers in the granted level's group, nobody in the other; no open session without a grant. */
function accessSteps(grant: Grant | undefined, observed: ObservedNode): Step[] {
  const steps: Step[] = [];
  const target = accessGroupFor(grant);
  const engineers = observed.groups.engineers.members;
  for (const key of ['diagnostics', 'repair'] as const) {
    const members = key === target ? engineers : [];
    if (!sameMembers(observed.groups[key].members, members) || !observed.groups[key].exists) {
      steps.push({
        description: `${members.length ? 'give' : 'remove'} ${key} access`,
        operation: op('setLocalGroupMembers', { name: GROUPS[key], members }),
      });
    }
  }
  if (!grant && observed.openSessions > 0)
    steps.push({ description: 'end open support sessions', operation: op('endSessions', { configurationName: ENDPOINT_NAME }) });
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
