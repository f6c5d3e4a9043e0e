/**
 * The command-line surface (commander). It only collects raw strings; `invocation.ts` checks them
 * all in one place, so every bad value gets the same kind of message and exit code 2.
 */
import { Command, Option } from 'commander';
import { defineConnect } from './connect/connect-program';
import { RELAY_NAMESPACE_VARIABLE } from './channel/owner-config';
import { CATEGORIES } from '../diag/sources';
import { EXIT_CODES_HELP } from './exit-codes';
import { defineTicket } from './ticket/ticket-program';
import type { CommandName } from './fleet/journal';

export interface RawCommandLine {
  command: CommandName | 'ticket' | 'connect';
  options: Record<string, unknown>;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

const TARGETS_HELP = `
Targets:
  --machine <name|id>        repeatable; a bare name needs --resource-group (and a subscription)
  --resource-group <rg>      without --machine: every Arc machine of the group carrying all --tag
  --cluster                  also the other cluster nodes the extension reports (Node <NAME>: lines)`;

function addCommonOptions(command: Command, update: boolean): Command {
  command
    .option('--machine <name|id>', 'Arc machine name or ARM id (repeatable)', collect)
    .option('--resource-group <rg>', 'resource group of bare machine names, or whose machines to list')
    .option('--tag <key=value>', 'with --resource-group: only machines carrying this tag (repeatable, all must match)', collect)
    .option('--cluster', "add the other nodes of each machine's failover cluster")
    .option('--subscription <id>', 'subscription id (default: AZURE_SUBSCRIPTION_ID)')
    .option('--output <format>', 'table, json or yaml', 'table')
    .option('--what-if', 'print the requests that would be sent (method, URL, body) and send no write')
    .option('--endpoint <url>', 'Azure Resource Manager endpoint', 'https://management.azure.com')
    .option('--audience <uri>', 'token audience when it is not the endpoint (Azure Stack Hub, a local emulator)')
    .option('--timeout <duration>', 'per operation, e.g. 15m, 90s, PT1H', '15m')
    .option('--concurrency <n>', 'most machines worked on at once (adapts down when Azure throttles)', '16')
    .option('--journal <file>', "where to write the run's journal (default ./arc-remote-support-<command>-<time>.json)")
    .option('--resume <journal>', "run the journal's command again, same grant, for the machines that did not succeed");
  if (update) command.option('--protected-settings-file <json>', 'protected settings to send with every update (never printed)');
  return command.addHelpText('after', `${TARGETS_HELP}\n\n${EXIT_CODES_HELP}`);
}

/**
 * Output and exit handling are set before the subcommands are made: commander copies them into
 * each subcommand at creation, and a subcommand without them would end the process itself.
 */
export function buildProgram(
  version: string,
  output: { writeOut: (text: string) => void; writeErr: (text: string) => void },
  onCommand: (line: RawCommandLine) => void,
): Command {
  const program = new Command('arc-remote-support')
    .exitOverride()
    .configureOutput(output)
    .description(
      'Deploy Arc Remote Support and grant, change, revoke and watch support access on Arc-enabled Windows Server, one machine, a cluster or a fleet.',
    )
    .version(version, '-V, --cli-version', 'print the extension version this CLI deploys')
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `\n${EXIT_CODES_HELP}`);

  const define = (
    name: RawCommandLine['command'],
    description: string,
    update: boolean,
    configure: (command: Command) => Command = (c) => c,
  ) => {
    const command = configure(program.command(name).description(description));
    addCommonOptions(command, update).action((options: Record<string, unknown>) => onCommand({ command: name, options }));
  };

  define(
    'deploy',
    'install the extension (no access granted; automatic upgrade on); checks Connected, Windows and license first',
    true,
    (c) => c.option('--retention-days <n>', 'days of transcripts and history kept on the machine, 1-90 (default 90, or the current value)'),
  );
  define('grant', 'grant support access after the terms are accepted: one grant id and expiry for every target', true, (c) =>
    c
      .option('--level <level>', 'Diagnostics or DiagnosticsAndRepair (alias DiagnosticsRepair)')
      .option('--duration <duration>', 'how long access lasts, 60 minutes to 14 days: 90m, 8h, 2d, PT8H')
      .option('--support-request <id>', 'the support ticket the access is for (read from Azure Support first: it must exist and be open)')
      .option('--skip-support-request-check', 'grant even though your identity may not read support tickets (recorded in the grant)')
      .option('--accept-terms', 'accept the terms shown (required when stdin is not a terminal)')
      .option(
        '--relay-namespace <name|id>',
        `open the remote channel in this Azure Relay namespace (default: ${RELAY_NAMESPACE_VARIABLE} or relayNamespace in the owner's config.json)`,
      )
      .option('--relay-resource-group <rg>', "the relay namespace's resource group (default: found by listing the subscription)")
      .option('--nodes <A,B>', "the machine's node names (default: the Node lines its extension reports, else its computer name)")
      .option('--engineer <upn>', 'who the access ticket is for, recorded by the node (default: support-request:<id>)')
      .option('--ticket-file <path>', "where to write the engineer's access ticket, one machine only (default: in the owner's folder)")
      .option('--show-ticket', 'also print the access ticket (it holds bearer tokens)')
      .option(
        '--log-container-sas-file <file>',
        "a file holding the container SAS URL (sp=cw, sr=c, https) the engineer's log collections under this grant upload to (sent in protected settings, never printed)",
      ),
  );
  define('configure', 'change the level of the grant in force and/or the retention; expiry and consent stay', true, (c) =>
    c.option('--level <level>', 'Diagnostics or DiagnosticsAndRepair').option('--retention-days <n>', 'days kept on the machine, 1-90'),
  );
  define(
    'revoke',
    "end access now (level None) and delete the grant's hybrid connections, which closes open sessions; sent to disconnected machines too",
    true,
    relayOptions,
  );
  define(
    'status',
    "show provisioning, the handler's message, level, ticket, expiry and time left, per machine and node, and hybrid connections left from ended grants",
    false,
    (c) =>
      relayOptions(c)
        .option('--refresh', "first make the extension run again (same settings, new forceUpdateTag) so the status is the node's now")
        .addHelpText('after', STATUS_HELP),
  );
  define(
    'cleanup-channels',
    'delete the hybrid connections left in the relay namespace from grants that have ended (the grant in force keeps its own)',
    false,
    relayOptions,
  );
  define(
    'collect-logs',
    "collect the machine's diagnostic logs and upload them to your storage container (no grant needed); the grant in force stays",
    false,
    (c) =>
      c
        .option('--container-sas-file <file>', 'a file holding the container SAS URL the bundle uploads to (never printed)')
        .option('--hours <n>', 'collect the last n hours, 1-24 (the window ends a minute ago)')
        .option('--from <utc>', 'start of the window, e.g. 2026-01-31T08:00:00Z (with --to; at most 24 hours)')
        .option('--to <utc>', 'end of the window, not in the future')
        .option('--category <A,B>', `what to collect (repeatable): ${CATEGORIES.join(', ')}`, collect)
        .option('--include-security-log', 'with EventLogs: also the Security event log')
        .addHelpText('after', COLLECT_LOGS_HELP),
  );
  define('upgrade', 'upgrade the extension to a version (Azure upgradeExtensions)', false, (c) =>
    c.addOption(new Option('--version <version>', 'target extension version, e.g. 1.0.1')),
  );
  define('remove', 'remove the extension; its uninstall removes access, JEA, tasks and data', false);
  defineTicket(program, onCommand);
  defineConnect(program, onCommand);
  return program;
}

const COLLECT_LOGS_HELP = `
The container SAS:
  Make a container SAS that can create and write only (sp=cw, sr=c, spr=https), valid until the
  upload is done, e.g.
    az storage container generate-sas --account-name <account> --name <container> \\
      --permissions cw --https-only --expiry <UTC> --auth-mode login --as-user -o tsv
  and put the whole URL, https://<account>.blob.core.windows.net/<container>?<sas>, alone on one
  line of a file only you can read (chmod 600). It is sent in the extension's protected settings
  and never printed; the CLI refuses a file other users can read or write.

What happens:
  Each machine gets a request id. The extension hands the request to the node's agent, which
  collects the categories' logs in the window (secrets redacted, a manifest of what was taken and
  skipped), zips them and uploads one blob, <machine>/<yyyymmddThhmmssZ>-<request id>.zip, with
  the request id in its metadata. One collection at a time per machine. Follow it with
  arc-remote-support status --refresh; the node keeps a record of each collection
  (Get-RemoteSupportLogCollectionHistory). Bundles stay in your container until you delete them:
  a lifecycle rule deleting them before 90 days keeps to the terms. No journal: run collect-logs
  again for the machines that failed.`;

const STATUS_HELP = `
Why --refresh:
  Azure updates an extension's status only when its handler runs, so status shows what the
  handler said the last time it ran: a log collection stays "requested" after the node's agent
  uploaded it, and the channel's state is the one of that run. --refresh sends the extension's
  public settings again with a new forceUpdateTag (no protected settings: the node keeps its
  channel and upload container; a log collection request is not sent again), waits for the
  handler, then shows the status: each node's access, channel and last log collection (uploaded,
  failed or cancelled, when, and the blob or the reason). A machine that is not Connected, or
  has no extension, is named and nothing is sent to it.`;

function relayOptions(command: Command): Command {
  return command
    .option(
      '--relay-namespace <name|id>',
      `the Azure Relay namespace of the channels (default: ${RELAY_NAMESPACE_VARIABLE} or the owner's config.json)`,
    )
    .option('--relay-resource-group <rg>', "the relay namespace's resource group (default: found by listing the subscription)");
}
