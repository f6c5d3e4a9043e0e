/**
 * Scheduled tasks and the Application event log on a simulated node. Semantics both simulated
 * hosts share:
 * - a task folder is written `\` or `\A\B` (a leading `\` is added, trailing ones dropped); the
 *   model keys a task by `<folder>\<name>` in lower case (`\name` in the root folder); a task name
 *   may not be empty or contain `\ / : * ? " < > |` (InvalidRequest);
 * - registerTask rejects XML that task-xml.ts cannot read (InvalidRequest, with its reason);
 *   it replaces an existing task (`replaced: true`) as a new registration: enabled and state
 *   come from the XML's Settings/Enabled, last run time and run count start again;
 * - getTask of a missing task -> `exists: false` (not an error); xml is the XML as registered
 *   (setTaskEnabled does not rewrite it);
 * - setTaskEnabled of a missing task -> NotFound; state becomes Disabled, or Ready (Running stays
 *   Running); `changed` says whether enabled changed;
 * - deleteTask of a missing task -> `removed: false`; listTasks lists the names directly in the
 *   folder, sorted OrdinalIgnoreCase; a missing folder lists nothing;
 * - writeEvent creates the source when missing (keeping its first spelling) and stamps the
 *   event with the clock; readEvents returns the source's events oldest first (none for an
 *   unknown source); eventId must be a whole number 0..65535.
 */
import type { OperationCatalog } from '../../windows/operations';
import type { NodeContext } from './file-system';
import type { TaskEntry } from './machine-model';
import { sameName, sortNames } from './names';
import { OperationFailure } from './operation-failure';
import { parseTaskXml } from './task-xml';

type Request<N extends keyof OperationCatalog> = OperationCatalog[N][0];
type Result<N extends keyof OperationCatalog> = OperationCatalog[N][1];

export function normalizeTaskFolder(folder: string): string {
  const segments = folder.split('\\').filter((segment) => segment !== '');
  return `\\${segments.join('\\')}`;
}

export function taskKey(folder: string, name: string): string {
  const normalized = normalizeTaskFolder(folder);
  return `${normalized === '\\' ? '' : normalized}\\${name}`.toLowerCase();
}

/** `\Folder\Name`, the target named in errors. */
export function taskTarget(folder: string, name: string): string {
  const normalized = normalizeTaskFolder(folder);
  return `${normalized === '\\' ? '' : normalized}\\${name}`;
}

function requireTaskName(folder: string, name: string): void {
  if (name.trim() === '' || /[\\/:*?"<>|]/.test(name)) {
    throw new OperationFailure('InvalidRequest', `'${name}' is not a valid task name`, taskTarget(folder, name));
  }
}

export function registerTask(ctx: NodeContext, request: Request<'registerTask'>): Result<'registerTask'> {
  requireTaskName(request.folder, request.name);
  let enabled: boolean;
  try {
    enabled = parseTaskXml(request.xml).enabled;
  } catch (error) {
    throw new OperationFailure(
      'InvalidRequest',
      `The task XML is not valid: ${(error as Error).message}`,
      taskTarget(request.folder, request.name),
    );
  }
  const key = taskKey(request.folder, request.name);
  const replaced = key in ctx.node.tasks;
  const entry: TaskEntry = {
    folder: normalizeTaskFolder(request.folder),
    name: request.name,
    xml: request.xml,
    enabled,
    state: enabled ? 'Ready' : 'Disabled',
    lastRunTimeUtc: null,
    runCount: 0,
  };
  ctx.node.tasks[key] = entry;
  return { replaced };
}

export function getTask(ctx: NodeContext, request: Request<'getTask'>): Result<'getTask'> {
  requireTaskName(request.folder, request.name);
  const task = ctx.node.tasks[taskKey(request.folder, request.name)];
  return task
    ? { exists: true, state: task.state, enabled: task.enabled, xml: task.xml }
    : { exists: false, state: null, enabled: null, xml: null };
}

export function setTaskEnabled(ctx: NodeContext, request: Request<'setTaskEnabled'>): Result<'setTaskEnabled'> {
  requireTaskName(request.folder, request.name);
  const task = ctx.node.tasks[taskKey(request.folder, request.name)];
  if (!task)
    throw new OperationFailure(
      'NotFound',
      `The task '${taskTarget(request.folder, request.name)}' does not exist`,
      taskTarget(request.folder, request.name),
    );
  const changed = task.enabled !== request.enabled;
  task.enabled = request.enabled;
  task.state = !request.enabled ? 'Disabled' : task.state === 'Running' ? 'Running' : 'Ready';
  return { changed };
}

export function deleteTask(ctx: NodeContext, request: Request<'deleteTask'>): Result<'deleteTask'> {
  requireTaskName(request.folder, request.name);
  const key = taskKey(request.folder, request.name);
  if (!(key in ctx.node.tasks)) return { removed: false };
  delete ctx.node.tasks[key];
  return { removed: true };
}

export function listTasks(ctx: NodeContext, request: Request<'listTasks'>): Result<'listTasks'> {
  const folder = normalizeTaskFolder(request.folder);
  return {
    names: sortNames(
      Object.values(ctx.node.tasks)
        .filter((task) => sameName(task.folder, folder))
        .map((task) => task.name),
    ),
  };
}

function requireSource(source: string): string {
  if (source.trim() === '') throw new OperationFailure('InvalidRequest', 'The event source is empty', source);
  return source;
}

export function writeEvent(ctx: NodeContext, request: Request<'writeEvent'>): Result<'writeEvent'> {
  requireSource(request.source);
  if (!Number.isInteger(request.eventId) || request.eventId < 0 || request.eventId > 65535) {
    throw new OperationFailure('InvalidRequest', `Event id ${request.eventId} is not a whole number from 0 to 65535`, request.source);
  }
  // Write-EventLog cannot write an empty message.
  if (request.message.trim() === '') throw new OperationFailure('InvalidRequest', 'The event message is empty', request.source);
  let source = ctx.node.eventSources.find((known) => sameName(known, request.source));
  if (!source) {
    source = request.source;
    ctx.node.eventSources.push(source);
  }
  ctx.node.events.push({ source, eventId: request.eventId, level: request.level, message: request.message, timeUtc: ctx.now });
  return { written: true };
}

export function readEvents(ctx: NodeContext, request: Request<'readEvents'>): Result<'readEvents'> {
  requireSource(request.source);
  return {
    events: ctx.node.events
      .filter((event) => sameName(event.source, request.source))
      .map(({ eventId, level, message, timeUtc }) => ({ eventId, level, message, timeUtc })),
  };
}
