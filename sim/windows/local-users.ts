/**
 * Local user accounts on a simulated node: the channel's per-grant account. Semantics both
 * simulated hosts share:
 * - on a domain controller (probe productType 2) every operation -> DomainController: its
 *   accounts are the domain's, so creating, listing or deleting "local" ones would touch those;
 * - a name is 1 to 20 characters, not only dots and spaces, none of
 *   `" / \ [ ] : ; | = , + * ? < > @` -> otherwise InvalidRequest; names compare without case;
 * - ensureLocalUser gives a new or an existing account (`created` says which) a fresh password,
 *   the description, password-never-expires and may-not-change; the description is at most 48
 *   characters; no password exists in the simulation, only when one was set; the fields are
 *   checked before the domain controller is;
 * - removeLocalUser of a missing account -> `removed: false`; a removed account leaves every
 *   group it was in (as COMPUTER\name);
 * - listLocalUsers: the names that start with a non-empty prefix, sorted OrdinalIgnoreCase.
 */
import type { OperationCatalog } from '../../windows/operations';
import type { NodeContext } from './file-system';
import { sameName, sortNames } from './names';
import { OperationFailure } from './operation-failure';

type Request<N extends keyof OperationCatalog> = OperationCatalog[N][0];
type Result<N extends keyof OperationCatalog> = OperationCatalog[N][1];

/** The node's computer name too: group members name a local account as COMPUTER\name. */
export interface UserContext extends NodeContext {
  nodeKey: string;
}

const DOMAIN_CONTROLLER = 2;
const INVALID_NAME_CHARACTERS = /["/\\[\]:;|=,+*?<>@]/;
const MAX_NAME = 20;
/** New-LocalUser's limit for a description. */
const MAX_DESCRIPTION = 48;

function requireLocalAccounts(ctx: UserContext, target: string): void {
  if (ctx.node.os.productType === DOMAIN_CONTROLLER) {
    throw new OperationFailure(
      'DomainController',
      `'${ctx.nodeKey}' is a domain controller: it has no local accounts, so the per-grant account '${target}' cannot exist there`,
      target,
    );
  }
}

function requireUserName(name: string, what = 'local user name'): string {
  if (name.length === 0 || name.length > MAX_NAME || /^[. ]+$/.test(name) || INVALID_NAME_CHARACTERS.test(name)) {
    throw new OperationFailure(
      'InvalidRequest',
      `'${name}' is not a valid ${what}: 1 to ${MAX_NAME} characters, not only dots and spaces, none of " / \\ [ ] : ; | = , + * ? < > @`,
      name,
    );
  }
  return name;
}

export function ensureLocalUser(ctx: UserContext, request: Request<'ensureLocalUser'>): Result<'ensureLocalUser'> {
  const name = requireUserName(request.name);
  if (request.description.length > MAX_DESCRIPTION) {
    throw new OperationFailure(
      'InvalidRequest',
      `The description of '${name}' is ${request.description.length} characters: Windows takes at most ${MAX_DESCRIPTION}`,
      name,
    );
  }
  requireLocalAccounts(ctx, name);
  const key = name.toLowerCase();
  const existing = ctx.node.users[key];
  ctx.node.users[key] = {
    name: existing?.name ?? name,
    description: request.description,
    passwordNeverExpires: true,
    userMayChangePassword: false,
    passwordLastSetUtc: ctx.now,
  };
  return { created: !existing };
}

export function removeLocalUser(ctx: UserContext, request: Request<'removeLocalUser'>): Result<'removeLocalUser'> {
  const name = requireUserName(request.name);
  requireLocalAccounts(ctx, name);
  const key = name.toLowerCase();
  const user = ctx.node.users[key];
  if (!user) return { removed: false };
  delete ctx.node.users[key];
  const member = `${ctx.nodeKey}\\${user.name}`;
  for (const group of Object.values(ctx.node.groups)) group.members = group.members.filter((one) => !sameName(one, member));
  return { removed: true };
}

export function listLocalUsers(ctx: UserContext, request: Request<'listLocalUsers'>): Result<'listLocalUsers'> {
  const prefix = requireUserName(request.prefix, 'local user name prefix');
  requireLocalAccounts(ctx, prefix);
  const names = Object.values(ctx.node.users)
    .map((user) => user.name)
    .filter((name) => sameName(name.slice(0, prefix.length), prefix));
  return { names: sortNames(names) };
}
