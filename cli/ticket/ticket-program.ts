import type { Command } from 'commander';
import type { RawCommandLine } from '../program';

export const TICKET_HELP = `
The access ticket holds bearer tokens: hand it to the engineer privately. Each ticket opens one
session per node; run this again for another. It expires after 8 hours at most, never after the grant.
The grant's private ticket key stays in the owner's folder (ARC_REMOTE_SUPPORT_HOME, else
%APPDATA%\\arc-remote-support or ~/.config/arc-remote-support), readable by the owner only.

Exit codes:
  0  the ticket was written
  1  unexpected error
  2  bad input: no such grant here, grant expired or revoked, unreadable key (nothing was written)
  5  no Azure credential`;

export function defineTicket(program: Command, onCommand: (line: RawCommandLine) => void): void {
  program
    .command('ticket')
    .description("issue the engineer a fresh access ticket (Send token and signed ticket) for a grant's channel on one machine")
    .option('--machine <name|id>', 'the Arc machine name or ARM id the grant was made on')
    .option('--resource-group <rg>', 'resource group of a bare machine name')
    .option('--subscription <id>', 'subscription id (default: AZURE_SUBSCRIPTION_ID)')
    .option('--grant <id>', 'the grant id (grant printed it; status shows it)')
    .option('--engineer <upn>', 'who the ticket is for, recorded by the node (default: the one named at grant)')
    .option('--ticket-file <path>', "where to write it (default: in the owner's folder)")
    .option('--show-ticket', 'also print the ticket (it holds bearer tokens)')
    .option('--endpoint <url>', 'Azure Resource Manager endpoint', 'https://management.azure.com')
    .option('--audience <uri>', 'token audience when it is not the endpoint')
    .option('--timeout <duration>', 'per operation, e.g. 90s, 15m', '15m')
    .addHelpText('after', TICKET_HELP)
    .action((options: Record<string, unknown>) => onCommand({ command: 'ticket', options }));
}
