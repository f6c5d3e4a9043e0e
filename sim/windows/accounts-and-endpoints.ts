/**
 * Local groups, JEA session configurations and their open sessions on a simulated node.
 * Semantics both simulated hosts share:
 * - names compare case-insensitively (names.ts); a group keeps the spelling it was created with;
 * - ensureLocalGroup of an existing group -> `created: false` and its description is updated;
 *   a name longer than 256 characters or with any of `" / \ [ ] : | < > + = ; , ? * @` ->
 *   InvalidRequest;
 * - getLocalGroup / removeLocalGroup of a missing group -> `exists: false` / `removed: false`;
 * - setLocalGroupMembers of a missing group -> NotFound; member names are kept as given (the
 *   first spelling wins when a name repeats), stored sorted OrdinalIgnoreCase, and a member
 *   already present keeps its stored spelling; `added` and `removed` are sorted the same way;
 * - registerSessionConfiguration needs its .pssc file (missing -> NotFound naming the path);
 *   an existing endpoint of that name is replaced; configFilePath is the path as given;
 * - register and unregister (of an existing endpoint) restart WinRM: `winrmRestarts` + 1 and
 *   every open session on the node ends; unregistering a missing endpoint changes nothing;
 * - listSessions / endSessions of an endpoint without sessions (or that does not exist) ->
 *   none / `ended: 0`; sessions are listed in the order they opened.
 */
import type { OperationCatalog } from '../../windows/operations';
import type { NodeContext } from './file-system';
import { requirePath } from './file-system';
import { sameName, sortNames } from './names';
import { OperationFailure } from './operation-failure';

type Request<N extends keyof OperationCatalog> = OperationCatalog[N][0];
type Result<N extends keyof OperationCatalog> = OperationCatalog[N][1];

function requireGroupName(name: string): string {
  if (name.trim() === '' || name.length > 256 || /["/\\[\]:|<>+=;,?*@]/.test(name)) {
    throw new OperationFailure('InvalidRequest', `'${name}' is not a valid local group name`, name);
  }
  return name;
}

export function ensureLocalGroup(ctx: NodeContext, request: Request<'ensureLocalGroup'>): Result<'ensureLocalGroup'> {
  const key = requireGroupName(request.name).toLowerCase();
  const existing = ctx.node.groups[key];
  if (existing) {
    existing.description = request.description;
    return { created: false };
  }
  ctx.node.groups[key] = { name: request.name, description: request.description, members: [] };
  return { created: true };
}

export function removeLocalGroup(ctx: NodeContext, request: Request<'removeLocalGroup'>): Result<'removeLocalGroup'> {
  const key = requireGroupName(request.name).toLowerCase();
  if (!ctx.node.groups[key]) return { removed: false };
  delete ctx.node.groups[key];
  return { removed: true };
}

export function getLocalGroup(ctx: NodeContext, request: Request<'getLocalGroup'>): Result<'getLocalGroup'> {
  const group = ctx.node.groups[requireGroupName(request.name).toLowerCase()];
  return group ? { exists: true, members: sortNames(group.members) } : { exists: false, members: [] };
}

export function setLocalGroupMembers(ctx: NodeContext, request: Request<'setLocalGroupMembers'>): Result<'setLocalGroupMembers'> {
  const group = ctx.node.groups[requireGroupName(request.name).toLowerCase()];
  if (!group) throw new OperationFailure('NotFound', `The local group '${request.name}' does not exist`, request.name);
  const desired: string[] = [];
  for (const member of request.members) {
    if (member.trim() === '') throw new OperationFailure('InvalidRequest', 'A member name is empty', request.name);
    if (!desired.some((known) => sameName(known, member))) desired.push(member);
  }
  const kept = group.members.filter((member) => desired.some((wanted) => sameName(wanted, member)));
  const added = desired.filter((wanted) => !group.members.some((member) => sameName(member, wanted)));
  const removed = group.members.filter((member) => !desired.some((wanted) => sameName(wanted, member)));
  group.members = sortNames([...kept, ...added]);
  return { added: sortNames(added), removed: sortNames(removed) };
}

function requireEndpointName(name: string): string {
  if (name.trim() === '') throw new OperationFailure('InvalidRequest', 'The session configuration name is empty', name);
  return name;
}

/** WinRM restarts: every open shell of every endpoint on the node drops. */
function restartWinRm(ctx: NodeContext): void {
  ctx.node.winrmRestarts += 1;
  ctx.node.sessions = [];
}

/** The built-in endpoints (Microsoft.PowerShell and its kin) are never registered or removed. */
function requireOwnEndpoint(name: string): string {
  if (/^microsoft\./i.test(name.trim()))
    throw new OperationFailure('InvalidRequest', `The built-in endpoint '${name}' is never changed`, name);
  return requireEndpointName(name);
}

export function registerSessionConfiguration(
  ctx: NodeContext,
  request: Request<'registerSessionConfiguration'>,
): Result<'registerSessionConfiguration'> {
  const name = requireOwnEndpoint(request.name);
  const file = ctx.node.files[requirePath(request.path).key];
  if (file?.type !== 'file')
    throw new OperationFailure('NotFound', `The session configuration file '${request.path}' does not exist`, request.path);
  ctx.node.sessionConfigurations[name.toLowerCase()] = { name, configFilePath: request.path };
  restartWinRm(ctx);
  return { registered: true };
}

export function unregisterSessionConfiguration(
  ctx: NodeContext,
  request: Request<'unregisterSessionConfiguration'>,
): Result<'unregisterSessionConfiguration'> {
  const key = requireOwnEndpoint(request.name).toLowerCase();
  if (!ctx.node.sessionConfigurations[key]) return { removed: false };
  delete ctx.node.sessionConfigurations[key];
  restartWinRm(ctx);
  return { removed: true };
}

export function getSessionConfiguration(ctx: NodeContext, request: Request<'getSessionConfiguration'>): Result<'getSessionConfiguration'> {
  const endpoint = ctx.node.sessionConfigurations[requireEndpointName(request.name).toLowerCase()];
  return endpoint ? { exists: true, configFilePath: endpoint.configFilePath } : { exists: false, configFilePath: null };
}

export function listSessions(ctx: NodeContext, request: Request<'listSessions'>): Result<'listSessions'> {
  const name = requireEndpointName(request.configurationName);
  return {
    sessions: ctx.node.sessions
      .filter((session) => sameName(session.configurationName, name))
      .map(({ id, user, startedAtUtc }) => ({ id, user, startedAtUtc })),
  };
}

export function endSessions(ctx: NodeContext, request: Request<'endSessions'>): Result<'endSessions'> {
  const name = requireEndpointName(request.configurationName);
  const before = ctx.node.sessions.length;
  ctx.node.sessions = ctx.node.sessions.filter((session) => !sameName(session.configurationName, name));
  return { ended: before - ctx.node.sessions.length };
}
