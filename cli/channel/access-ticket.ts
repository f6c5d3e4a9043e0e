/**
 * The engineer's access ticket file: what `connect` needs to reach one machine's nodes, and
 * nothing the owner keeps (no key): the namespace host, per node the hybrid connection, a Send
 * token and a signed ticket naming the grant, machine, node and engineer. Both expire together, at
 * most 8 hours ahead and never after the grant. Each ticket opens one session (its id is single
 * use); `arc-remote-support ticket` makes a fresh file for the same grant.
 */
import { randomUUID, type KeyObject } from 'crypto';
import { promises as fs } from 'fs';
import { hybridConnectionResource } from '../../channel/relay/endpoint';
import { signSas } from '../../channel/relay/sas';
import { issueTicket } from '../../channel/session/ticket';
import type { GrantLevel } from '../../core/desired-state';
import type { ChannelRecord } from './grant-key-store';
import type { RuleKey } from './relay-namespaces';

export const TICKET_KIND = 'arc-remote-support-access-ticket';
/** The longest a Send token and ticket live, whatever the grant's length. */
export const MAX_TICKET_MS = 8 * 3_600_000;

export interface AccessTicketNode {
  hybridConnection: string;
  /** Bearer secrets: never printed unless the owner asks (--show-ticket). */
  sendToken: string;
  ticket: string;
}

export interface AccessTicket {
  kind: typeof TICKET_KIND;
  version: 1;
  machine: string;
  grantId: string;
  /** For display: the node decides the level. */
  level: GrantLevel;
  supportRequestId: string;
  engineer: string;
  grantExpiresAt: string;
  expiresAt: string;
  relayNamespace: string;
  nodes: Record<string, AccessTicketNode>;
}

export function ticketExpiry(grantExpiresAt: string, now: Date): Date {
  const expiry = Math.min(Date.parse(grantExpiresAt), now.getTime() + MAX_TICKET_MS);
  return new Date(Math.floor(expiry / 1000) * 1000);
}

/** Signs one Send token and one ticket per node of the machine's channel. */
export async function makeAccessTicket(input: {
  record: ChannelRecord;
  privateKey: KeyObject;
  sendKeys: Record<string, RuleKey>;
  engineer: string;
  now: Date;
}): Promise<AccessTicket> {
  const { record } = input;
  const expiresAt = ticketExpiry(record.expiresAt, input.now);
  const nodes: Record<string, AccessTicketNode> = {};
  for (const [node, hybridConnection] of Object.entries(record.nodes)) {
    const sendKey = input.sendKeys[node]!;
    nodes[node] = {
      hybridConnection,
      sendToken: signSas({
        resourceUri: hybridConnectionResource({ namespace: record.relayHost, name: hybridConnection }),
        keyName: sendKey.keyName,
        key: sendKey.key,
        expiresAt,
      }),
      ticket: await issueTicket(input.privateKey, {
        grantId: record.grantId,
        machine: record.machine,
        node,
        engineer: input.engineer,
        ticketId: randomUUID(),
        expiresAt,
      }),
    };
  }
  return {
    kind: TICKET_KIND,
    version: 1,
    machine: record.machine,
    grantId: record.grantId,
    level: record.level,
    supportRequestId: record.supportRequestId,
    engineer: input.engineer,
    grantExpiresAt: record.expiresAt,
    expiresAt: expiresAt.toISOString(),
    relayNamespace: record.relayHost,
    nodes,
  };
}

/** Why a ticket file cannot be used, in words for the engineer (never quoting a token). */
export class TicketFileError extends Error {
  override readonly name = 'TicketFileError';
}

export async function readAccessTicket(file: string, now: Date): Promise<AccessTicket> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new TicketFileError(
      `The ticket file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}). Check the path, or ask the machine's owner for a new one (arc-remote-support ticket).`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw new TicketFileError(
      `The ticket file ${file} is not JSON: it is damaged. Ask the machine's owner for a new one (arc-remote-support ticket).`,
    );
  }
  const ticket = value as Partial<AccessTicket>;
  const problem = shapeProblem(ticket);
  if (problem)
    throw new TicketFileError(
      `The ticket file ${file} is not an access ticket (${problem}). Ask the machine's owner for a new one (arc-remote-support ticket).`,
    );
  if (Date.parse(ticket.expiresAt!) <= now.getTime())
    throw new TicketFileError(
      `The access ticket in ${file} expired at ${ticket.expiresAt} (grant ${ticket.grantId} on ${ticket.machine}). Ask the machine's owner for a new one: arc-remote-support ticket --machine ${ticket.machine} --grant ${ticket.grantId}.`,
    );
  return ticket as AccessTicket;
}

function shapeProblem(ticket: Partial<AccessTicket>): string | undefined {
  if (typeof ticket !== 'object' || ticket === null || Array.isArray(ticket)) return 'not a JSON object';
  if (ticket.kind !== TICKET_KIND) return `kind is not ${TICKET_KIND}`;
  if (ticket.version !== 1) return 'version is not 1';
  for (const field of ['machine', 'grantId', 'level', 'engineer', 'expiresAt', 'relayNamespace'] as const)
    if (typeof ticket[field] !== 'string' || !ticket[field]) return `${field} is missing`;
  if (Number.isNaN(Date.parse(ticket.expiresAt!))) return 'expiresAt is not a time';
  const nodes = ticket.nodes;
  if (typeof nodes !== 'object' || nodes === null || Object.keys(nodes).length === 0) return 'it names no node';
  for (const [node, entry] of Object.entries(nodes)) {
    const item = entry as Partial<AccessTicketNode> | null;
    if (!item || typeof item.hybridConnection !== 'string' || typeof item.sendToken !== 'string' || typeof item.ticket !== 'string')
      return `node ${node} lacks hybridConnection, sendToken or ticket`;
  }
  return undefined;
}
