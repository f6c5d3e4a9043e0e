import type { Command } from 'commander';
import type { RawCommandLine } from '../program';

export const CONNECT_HELP = `
The prompt:
  [MACHINE NODE Level]> _     one command at a time, run in the node's JEA endpoint at the grant's
                              level (the node decides it); output streams as it comes
  Ctrl+C while a command runs cancels that command; the session stays open
  Ctrl+C twice at an idle prompt, "exit", or end of input (Ctrl+D) ends the session

--command runs one command and exits with its outcome. --output json prints one JSON object per
line: ready, out (stream, text), done (ok, error), ended (reason), error (kind, message).
The relay's certificate is checked against the system's CAs and NODE_EXTRA_CA_CERTS; HTTPS_PROXY is honoured.

Exit codes:
  0  the command succeeded (--command), or the session was ended by you
  1  the command failed (--command), or something unexpected
  2  bad input: the ticket file is unreadable, damaged or expired, or --node names no node of it
  6  no session: nobody listening yet, the ticket refused, the relay unreachable, or the session
     ended by revoke or expiry`;

export function defineConnect(program: Command, onCommand: (line: RawCommandLine) => void): void {
  program
    .command('connect')
    .description("for the support engineer: open a session on a machine's node with an access ticket, over Azure Relay")
    .option('--ticket <file>', 'the access ticket file the machine owner gave you')
    .option('--node <name>', 'which node of the machine (default: its only node)')
    .option('--command <text>', 'run one command, print its output and exit with its outcome')
    .option('--output <format>', 'text or json (one JSON object per line)', 'text')
    .addHelpText('after', CONNECT_HELP)
    .action((options: Record<string, unknown>) => onCommand({ command: 'connect', options }));
}
