/**
 * Runs one operation of the port on one simulated node: checks the request's fields (a wrong or
 * missing field -> InvalidRequest naming it), then applies it to the model in memory.
 */
import type { OperationCatalog, OperationName } from '../../windows/operations';
import { OPERATION_NAMES, isHostSecret } from '../../windows/operations';
import type { HostOperationError, OperationOutcome } from '../../windows/port';
import * as endpoints from './accounts-and-endpoints';
import * as eventLogs from './event-logs';
import * as generatedLogs from './generated-logs';
import * as files from './file-system';
import * as users from './local-users';
import type { MachineModel } from './machine-model';
import { isOperationFailure } from './operation-failure';
import { probe } from './probe';
import * as processes from './processes';
import * as secrets from './secret-files';
import * as tasks from './tasks-and-events';

type FieldType =
  'string' | 'string?' | 'boolean' | 'boolean?' | 'number' | 'string[]' | 'secret' | { oneOf: ReadonlyArray<string | undefined> };

const ENCODING = { oneOf: ['utf8', 'base64', undefined] };

/** The fields each operation needs (others are ignored). */
const FIELDS: { [N in OperationName]: Record<keyof OperationCatalog[N][0], FieldType> } = {
  probe: {},
  ensureDirectory: { path: 'string', sddl: 'string?' },
  writeFile: { path: 'string', content: 'string', encoding: ENCODING, sddl: 'string?', createNew: 'boolean?' },
  copyFromHandler: { source: 'string', path: 'string' },
  readFile: { path: 'string', encoding: ENCODING },
  removePath: { path: 'string' },
  getPath: { path: 'string' },
  listDirectory: { path: 'string' },
  ensureLocalGroup: { name: 'string', description: 'string' },
  removeLocalGroup: { name: 'string' },
  getLocalGroup: { name: 'string' },
  setLocalGroupMembers: { name: 'string', members: 'string[]' },
  ensureLocalUser: { name: 'string', description: 'string' },
  removeLocalUser: { name: 'string' },
  listLocalUsers: { prefix: 'string' },
  endChannelSessionProcesses: { scriptName: 'string' },
  registerSessionConfiguration: { name: 'string', path: 'string' },
  unregisterSessionConfiguration: { name: 'string' },
  getSessionConfiguration: { name: 'string' },
  listSessions: { configurationName: 'string' },
  endSessions: { configurationName: 'string' },
  registerTask: { folder: 'string', name: 'string', xml: 'string' },
  getTask: { folder: 'string', name: 'string' },
  setTaskEnabled: { folder: 'string', name: 'string', enabled: 'boolean' },
  deleteTask: { folder: 'string', name: 'string' },
  listTasks: { folder: 'string' },
  writeEvent: { source: 'string', eventId: 'number', level: { oneOf: ['Information', 'Warning', 'Error'] }, message: 'string' },
  readEvents: { source: 'string' },
  exportEventLog: { channel: 'string', query: 'string', path: 'string' },
  writeGeneratedLog: { producer: { oneOf: ['clusterLog', 'windowsUpdateLog'] }, sinceUtc: 'string', path: 'string' },
  writeSecretFile: { path: 'string', secret: 'secret' },
  readSecretFile: { path: 'string' },
};

interface RunContext extends files.NodeContext {
  model: MachineModel;
  nodeKey: string;
}

const RUNNERS: { [N in OperationName]: (ctx: RunContext, request: OperationCatalog[N][0]) => OperationCatalog[N][1] } = {
  probe: (ctx) => probe(ctx.model, ctx.nodeKey),
  ensureDirectory: files.ensureDirectory,
  writeFile: files.writeFile,
  copyFromHandler: files.copyFromHandler,
  readFile: files.readFile,
  removePath: files.removePath,
  getPath: files.getPath,
  listDirectory: files.listDirectory,
  ensureLocalGroup: endpoints.ensureLocalGroup,
  removeLocalGroup: endpoints.removeLocalGroup,
  getLocalGroup: endpoints.getLocalGroup,
  setLocalGroupMembers: endpoints.setLocalGroupMembers,
  ensureLocalUser: users.ensureLocalUser,
  removeLocalUser: users.removeLocalUser,
  listLocalUsers: users.listLocalUsers,
  endChannelSessionProcesses: processes.endChannelSessionProcesses,
  registerSessionConfiguration: endpoints.registerSessionConfiguration,
  unregisterSessionConfiguration: endpoints.unregisterSessionConfiguration,
  getSessionConfiguration: endpoints.getSessionConfiguration,
  listSessions: endpoints.listSessions,
  endSessions: endpoints.endSessions,
  registerTask: tasks.registerTask,
  getTask: tasks.getTask,
  setTaskEnabled: tasks.setTaskEnabled,
  deleteTask: tasks.deleteTask,
  listTasks: tasks.listTasks,
  writeEvent: tasks.writeEvent,
  readEvents: tasks.readEvents,
  exportEventLog: eventLogs.exportEventLog,
  writeGeneratedLog: generatedLogs.writeGeneratedLog,
  writeSecretFile: secrets.writeSecretFile,
  readSecretFile: secrets.readSecretFile,
};

export function isOperationName(name: unknown): name is OperationName {
  return typeof name === 'string' && (OPERATION_NAMES as readonly string[]).includes(name);
}

/** What an operation acts on, for errors: a path, group, endpoint, `\Folder\Task` or event source. */
export function targetOf(request: unknown): string | null {
  if (typeof request !== 'object' || request === null) return null;
  const fields = request as Record<string, unknown>;
  if (typeof fields.folder === 'string' && typeof fields.name === 'string') return tasks.taskTarget(fields.folder, fields.name);
  for (const field of ['channel', 'producer', 'path', 'name', 'configurationName', 'source', 'folder', 'prefix', 'scriptName']) {
    if (typeof fields[field] === 'string') return fields[field];
  }
  return null;
}

/** Applies `request` to `nodeKey` of `model` (mutating it) and returns its outcome. */
export function runOperation(model: MachineModel, nodeKey: string, request: unknown): OperationOutcome {
  const name = (request as { op?: unknown } | null)?.op;
  const fail = (code: HostOperationError['code'], message: string, target: string | null): OperationOutcome => ({
    ok: false,
    error: { operation: name as OperationName, code, message, target },
  });
  if (!isOperationName(name)) return fail('InvalidRequest', `Unknown operation '${String(name)}'`, targetOf(request));
  const problem = checkFields(FIELDS[name] as Record<string, FieldType>, request as Record<string, unknown>);
  if (problem) return fail('InvalidRequest', `${name}: ${problem}`, targetOf(request));
  const node = model.nodes[nodeKey];
  if (!node) return fail('NodeUnreachable', `The node '${nodeKey}' does not exist`, targetOf(request));
  try {
    const run = RUNNERS[name] as (ctx: RunContext, request: unknown) => unknown;
    const value = run({ model, nodeKey, node, now: model.clock.nowUtc }, request);
    return { ok: true, value };
  } catch (error) {
    if (isOperationFailure(error)) return fail(error.code, error.message, error.target);
    return fail('Failed', (error as Error).message, targetOf(request));
  }
}

function checkFields(fields: Record<string, FieldType>, request: Record<string, unknown>): string | null {
  for (const [field, type] of Object.entries(fields)) {
    const value = request[field];
    const ok =
      type === 'string'
        ? typeof value === 'string'
        : type === 'string?'
          ? value === undefined || typeof value === 'string'
          : type === 'boolean'
            ? typeof value === 'boolean'
            : type === 'boolean?'
              ? value === undefined || typeof value === 'boolean'
              : type === 'number'
                ? typeof value === 'number' && Number.isFinite(value)
                : type === 'string[]'
                  ? Array.isArray(value) && value.every((item) => typeof item === 'string')
                  : type === 'secret'
                    ? isHostSecret(value)
                    : type.oneOf.includes(value as string | undefined);
    // A secret field's wrong value may still be the secret: it is never quoted.
    const shown = value === undefined ? 'missing' : type === 'secret' ? `a ${typeof value}` : JSON.stringify(value);
    if (!ok) return `field '${field}' must be ${describe(type)}, not ${shown}`;
  }
  return null;
}

function describe(type: FieldType): string {
  if (type === 'secret') return 'a secret made with hostSecret()';
  if (typeof type === 'string')
    return type === 'string?'
      ? 'a string or absent'
      : type === 'boolean?'
        ? 'a boolean or absent'
        : type === 'string[]'
          ? 'an array of strings'
          : `a ${type}`;
  return `one of ${type.oneOf.map((value) => (value === undefined ? 'absent' : `'${value}'`)).join(', ')}`;
}
