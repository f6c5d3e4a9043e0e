/**
 * Before a grant, the support request it is for is read from Azure Support in the target's
 * subscription (@azure/arm-support): one that does not exist or is closed is refused by name.
 * An owner whose identity may not read support tickets (403) is told so, with the explicit way
 * out (--skip-support-request-check), and the skip is recorded in the grant.
 */
import type { MicrosoftSupport, SupportTicketDetails } from '@azure/arm-support';
import { isRestError } from '@azure/core-rest-pipeline';
import { withDeadline } from '../arm/deadline';
import { InputError } from '../errors';

export type SupportRequestCheck = { checked: true; title?: string } | { checked: false };

export const SKIP_OPTION = '--skip-support-request-check';

export async function checkSupportRequest(
  client: MicrosoftSupport,
  input: { subscriptionId: string; supportRequestId: string; skipWhenForbidden: boolean; timeoutMs: number },
): Promise<SupportRequestCheck> {
  const { subscriptionId, supportRequestId } = input;
  let ticket: SupportTicketDetails | undefined;
  try {
    ticket = await withDeadline(`Reading support request ${supportRequestId}`, input.timeoutMs, false, (abortSignal) =>
      findTicket(client, supportRequestId, abortSignal),
    );
  } catch (error) {
    if (isRestError(error) && error.statusCode === 403) {
      if (input.skipWhenForbidden) return { checked: false };
      throw new InputError(
        '--support-request',
        supportRequestId,
        `Your identity may not read support tickets in subscription ${subscriptionId} (Azure answered 403), so the request cannot be checked. Get a role with Microsoft.Support/supportTickets/read there (e.g. Support Request Contributor), or add ${SKIP_OPTION} to grant without the check (the grant records that it was skipped).`,
      );
    }
    throw error;
  }
  if (!ticket)
    throw new InputError(
      '--support-request',
      supportRequestId,
      `No support request of that name or number is in subscription ${subscriptionId}. Give the id of an open Azure support request in the machines' subscription (az support tickets list).`,
    );
  if ((ticket.status ?? '').toLowerCase() === 'closed')
    throw new InputError(
      '--support-request',
      supportRequestId,
      `That support request${ticket.title ? ` ("${ticket.title}")` : ''} is Closed: access is only granted for an open one. Reopen it or give the id of the open request.`,
    );
  return { checked: true, ...(ticket.title ? { title: ticket.title } : {}) };
}

/** By resource name first, then by the number Azure shows people (supportTicketId). */
async function findTicket(client: MicrosoftSupport, id: string, abortSignal: AbortSignal): Promise<SupportTicketDetails | undefined> {
  try {
    return await client.supportTickets.get(id, { abortSignal });
  } catch (error) {
    if (!isRestError(error) || error.statusCode !== 404) throw error;
  }
  for await (const ticket of client.supportTickets.list({ abortSignal })) {
    if (ticket.supportTicketId === id || ticket.name?.toLowerCase() === id.toLowerCase()) return ticket;
  }
  return undefined;
}
