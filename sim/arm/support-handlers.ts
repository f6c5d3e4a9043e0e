/**
 * Microsoft.Support tickets at subscription scope, read-only: SupportTickets_Get and SupportTickets_List
 * (pages of $top, default 25 and at most 100 as the document says, with nextLink; $filter on status
 * and createdDate). A subscription that denies reading answers 403 AuthorizationFailed before
 * anything else is looked at, as ARM's role check comes before the provider.
 */
import { armError, ok, type ArmReply, type ArmRequest } from './arm-reply';
import type { EmulatorState } from './emulator-state';
import { subscriptionMissing } from './lookups';
import { encodePath } from './machine-handlers';
import { supportTicketId, supportTicketResource } from './support-resource';
import type { SupportTicketRecord } from './support-store';

const DEFAULT_TOP = 25;
const MAX_TOP = 100;
const READ_ACTION = 'Microsoft.Support/supportTickets/read';

export function getSupportTicket(state: EmulatorState, _request: ArmRequest, [subscriptionId, name]: string[]): ArmReply {
  const refused = readRefused(state, subscriptionId!, supportTicketId(subscriptionId!, name!));
  if (refused) return refused;
  const ticket = state.support.find(subscriptionId!, name!);
  if (ticket) return ok(supportTicketResource(ticket));
  return armError(404, 'ResourceNotFound', `The support ticket '${name}' was not found in subscription '${subscriptionId}'.`);
}

export function listSupportTickets(state: EmulatorState, request: ArmRequest, [subscriptionId]: string[]): ArmReply {
  const refused = readRefused(state, subscriptionId!, `/subscriptions/${subscriptionId}`);
  if (refused) return refused;
  const top = readTop(request.query.get('$top'));
  if (typeof top !== 'number') return top;
  const filter = readFilter(request.query.get('$filter'));
  if (typeof filter !== 'function') return filter;

  const tickets = state.support.list(subscriptionId!).filter(filter);
  const offset = Math.max(0, Number.parseInt(request.query.get('$skiptoken') ?? '0', 10) || 0);
  const next = offset + top;
  const value = tickets.slice(offset, next).map(supportTicketResource);
  if (next >= tickets.length) return ok({ value });
  const query = new URLSearchParams(request.query);
  query.set('$skiptoken', String(next));
  return ok({ value, nextLink: `${state.endpoint}${encodePath(request.path)}?${query.toString()}` });
}

function readRefused(state: EmulatorState, subscriptionId: string, scope: string): ArmReply | undefined {
  const missing = subscriptionMissing(state, subscriptionId);
  if (missing) return missing;
  if (state.support.canRead(subscriptionId)) return undefined;
  return armError(
    403,
    'AuthorizationFailed',
    `The client '${state.principal.upn}' with object id '${state.principal.objectId}' does not have authorization to perform action '${READ_ACTION}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}

function readTop(text: string | null): number | ArmReply {
  if (text === null) return DEFAULT_TOP;
  const top = Number(text);
  if (Number.isInteger(top) && top >= 1 && top <= MAX_TOP) return top;
  return armError(400, 'InvalidParameter', `The query parameter '$top' is '${text}': give a whole number from 1 to ${MAX_TOP}.`);
}

type TicketFilter = (ticket: SupportTicketRecord) => boolean;

/** "status eq 'Open'", "createdDate ge 2024-01-01T00:00:00Z", joined with 'and'; other clauses are refused by name. */
function readFilter(text: string | null): TicketFilter | ArmReply {
  if (text === null || text.trim() === '') return () => true;
  const tests: TicketFilter[] = [];
  for (const clause of text.trim().split(/\s+and\s+/i)) {
    const status = /^status\s+eq\s+'([^']*)'$/i.exec(clause);
    const created = /^createdDate\s+(ge|gt)\s+(\S+)$/i.exec(clause);
    if (status) {
      const wanted = status[1]!.toLowerCase();
      tests.push((ticket) => ticket.status.toLowerCase() === wanted);
    } else if (created && !Number.isNaN(Date.parse(created[2]!))) {
      const since = Date.parse(created[2]!);
      const inclusive = created[1]!.toLowerCase() === 'ge';
      tests.push((ticket) => (inclusive ? Date.parse(ticket.createdDate) >= since : Date.parse(ticket.createdDate) > since));
    } else {
      return armError(
        400,
        'InvalidFilter',
        `The emulator cannot apply the $filter clause '${clause.slice(0, 100)}': it supports "status eq '<status>'" and "createdDate ge|gt <ISO 8601 date>", joined with 'and'.`,
      );
    }
  }
  return (ticket) => tests.every((test) => test(ticket));
}
