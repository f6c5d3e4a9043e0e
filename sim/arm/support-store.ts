/**
 * Support tickets per subscription, as seeded by tests or the operator, and which subscriptions deny
 * the emulator's identity reading them. Names are found without letter case, as ARM finds them.
 */
import { EMULATED_UPN } from './access-tokens';
import type { EmulatedSupportTicketSpec, SupportTicketSeverity, SupportTicketStatus } from './types';

/**
 * A service and problem classification of the emulator's own making, in Azure Support's id form (the
 * real ids come from Azure Support's Services_List; seed them when a test needs real ones).
 */
const ARC_SERVICE_ID = '/providers/Microsoft.Support/services/a2fd1d84-bd47-4f23-9a9a-1e7a1e4a4a62';
const ARC_PROBLEM_CLASSIFICATION_ID = `${ARC_SERVICE_ID}/problemClassifications/3f0b8ec5-8c52-4b3c-a5a4-2c1e1b3d6f10`;
const TICKET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const STATUSES: readonly SupportTicketStatus[] = ['Open', 'Closed'];
const SEVERITIES: readonly SupportTicketSeverity[] = ['minimal', 'moderate', 'critical', 'highestcriticalimpact'];

export interface SupportTicketRecord {
  subscriptionId: string;
  name: string;
  supportTicketId: string;
  status: SupportTicketStatus;
  title: string;
  description: string;
  severity: SupportTicketSeverity;
  serviceId: string;
  problemClassificationId: string;
  createdDate: string;
  modifiedDate: string;
  resourceId?: string;
  contactEmail: string;
}

let lastTicketNumber = 0;

export class SupportStore {
  /** By lower-case 'subscription/name'. */
  private readonly tickets = new Map<string, SupportTicketRecord>();
  private readonly subscriptions = new Set<string>();
  private readonly readDenied = new Set<string>();

  add(subscriptionId: string, spec: EmulatedSupportTicketSpec): void {
    checkSpec(subscriptionId, spec);
    const key = ticketKey(subscriptionId, spec.name);
    if (this.tickets.has(key))
      throw new Error(`support ticket '${spec.name}' already exists in subscription ${subscriptionId}: use another name`);
    const createdDate = spec.createdDate ? new Date(spec.createdDate).toISOString() : new Date().toISOString();
    this.tickets.set(key, {
      subscriptionId,
      name: spec.name,
      supportTicketId: spec.supportTicketId ?? nextTicketNumber(),
      status: spec.status,
      title: spec.title,
      description: spec.description ?? spec.title,
      severity: spec.severity ?? 'moderate',
      serviceId: spec.serviceId ?? ARC_SERVICE_ID,
      problemClassificationId: spec.problemClassificationId ?? ARC_PROBLEM_CLASSIFICATION_ID,
      createdDate,
      modifiedDate: createdDate,
      resourceId: spec.resourceId,
      contactEmail: spec.contactEmail ?? EMULATED_UPN,
    });
    this.subscriptions.add(subscriptionId.toLowerCase());
  }

  find(subscriptionId: string, name: string): SupportTicketRecord | undefined {
    return this.tickets.get(ticketKey(subscriptionId, name));
  }

  /** The subscription's tickets, newest first (as Azure Support lists them). */
  list(subscriptionId: string): SupportTicketRecord[] {
    return [...this.tickets.values()]
      .filter((ticket) => ticket.subscriptionId.toLowerCase() === subscriptionId.toLowerCase())
      .sort((a, b) => b.createdDate.localeCompare(a.createdDate));
  }

  setStatus(subscriptionId: string, name: string, status: SupportTicketStatus): void {
    const ticket = this.find(subscriptionId, name);
    if (!ticket) throw new Error(`the emulator has no support ticket '${name}' in subscription ${subscriptionId}`);
    if (!STATUSES.includes(status)) throw new Error(`support ticket status '${String(status)}' is not one of ${STATUSES.join(', ')}`);
    ticket.status = status;
    ticket.modifiedDate = new Date().toISOString();
  }

  hasSubscription(subscriptionId: string): boolean {
    return this.subscriptions.has(subscriptionId.toLowerCase());
  }

  setReadAccess(subscriptionId: string, allowed: boolean): void {
    if (allowed) this.readDenied.delete(subscriptionId.toLowerCase());
    else this.readDenied.add(subscriptionId.toLowerCase());
  }

  canRead(subscriptionId: string): boolean {
    return !this.readDenied.has(subscriptionId.toLowerCase());
  }
}

function ticketKey(subscriptionId: string, name: string): string {
  return `${subscriptionId}/${name}`.toLowerCase();
}

/** Azure's ticket numbers are 15 digits starting with the date; unique within the process. */
function nextTicketNumber(): string {
  const now = new Date();
  const stamp = `${String(now.getUTCFullYear()).slice(2)}${String(now.getUTCMonth() + 1).padStart(2, '0')}${String(now.getUTCDate()).padStart(2, '0')}`;
  lastTicketNumber += 1;
  return `${stamp}${String(lastTicketNumber).padStart(9, '0')}`;
}

function checkSpec(subscriptionId: string, spec: EmulatedSupportTicketSpec): void {
  if (typeof subscriptionId !== 'string' || subscriptionId === '') throw new Error('addSupportTicket: give the subscription id');
  if (typeof spec.name !== 'string' || !TICKET_NAME.test(spec.name)) {
    throw new Error(
      `support ticket name '${String(spec.name)}' is not valid: use 1 to 100 letters, digits, '.', '-' or '_', starting with a letter or digit`,
    );
  }
  if (!STATUSES.includes(spec.status)) {
    throw new Error(`support ticket '${spec.name}': status '${String(spec.status)}' is not one of ${STATUSES.join(', ')}`);
  }
  if (typeof spec.title !== 'string' || spec.title === '') throw new Error(`support ticket '${spec.name}': give a title`);
  if (spec.severity !== undefined && !SEVERITIES.includes(spec.severity)) {
    throw new Error(`support ticket '${spec.name}': severity '${String(spec.severity)}' is not one of ${SEVERITIES.join(', ')}`);
  }
  if (spec.createdDate !== undefined && Number.isNaN(Date.parse(spec.createdDate))) {
    throw new Error(`support ticket '${spec.name}': createdDate '${spec.createdDate}' is not an ISO 8601 date`);
  }
}
