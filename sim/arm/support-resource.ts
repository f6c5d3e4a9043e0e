/** Support tickets as api-version 2024-04-01 shapes them (definition SupportTicketDetails of support.json). */
import { EMULATED_UPN } from './access-tokens';
import type { SupportTicketRecord } from './support-store';

export function supportTicketId(subscriptionId: string, name: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Support/supportTickets/${name}`;
}

export function supportTicketResource(ticket: SupportTicketRecord): Record<string, unknown> {
  return {
    id: supportTicketId(ticket.subscriptionId, ticket.name),
    name: ticket.name,
    type: 'Microsoft.Support/supportTickets',
    systemData: {
      createdBy: EMULATED_UPN,
      createdByType: 'User',
      createdAt: ticket.createdDate,
      lastModifiedBy: EMULATED_UPN,
      lastModifiedByType: 'User',
      lastModifiedAt: ticket.modifiedDate,
    },
    properties: {
      supportTicketId: ticket.supportTicketId,
      title: ticket.title,
      description: ticket.description,
      status: ticket.status,
      severity: ticket.severity,
      require24X7Response: false,
      advancedDiagnosticConsent: 'No',
      serviceId: ticket.serviceId,
      problemClassificationId: ticket.problemClassificationId,
      contactDetails: {
        firstName: 'Emulated',
        lastName: 'Owner',
        preferredContactMethod: 'email',
        primaryEmailAddress: ticket.contactEmail,
        preferredTimeZone: 'W. Europe Standard Time',
        country: 'NLD',
        preferredSupportLanguage: 'en-US',
      },
      supportPlanType: 'Premier',
      supportPlanDisplayName: 'Premier',
      isTemporaryTicket: 'No',
      createdDate: ticket.createdDate,
      modifiedDate: ticket.modifiedDate,
      ...(ticket.resourceId === undefined ? {} : { technicalTicketDetails: { resourceId: ticket.resourceId } }),
    },
  };
}
