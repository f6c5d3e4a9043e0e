/**
 * Checks every option before anything is sent, and turns the raw command line into typed values.
 * Each refusal is an InputError (exit 2) naming the option, the value received and the fix.
 */
import type { GrantLevel } from '../core/desired-state';
import { InputError } from './errors';
import type { CommandName } from './fleet/journal';
import { parseGrantLevel } from './input/access-level';
import { checkExtensionVersion, checkResourceGroup, checkSubscription } from './input/azure-names';
import { parseGrantDuration, parseTimeout } from './input/grant-duration';
import { parseConcurrency, parseRetentionDays } from './input/numbers';
import { parseOutputFormat, type OutputFormat } from './input/output-format';
import { parseTag } from './input/tags';
import type { RawCommandLine } from './program';
import { relayChoice, RELAY_NAMESPACE_VARIABLE } from './channel/owner-config';
import { parseNamespaceArgument } from './channel/namespace-names';
import { parseCategories, parseWindowOptions, type WindowInput } from './input/log-collection-input';
import { checkSupportRequestId } from './settings/new-grant';
import type { TargetSelection } from './targets/resolve-targets';

/** The relay namespace a command works with, as given (resolved in Azure later). */
export interface RelayInput {
  name: string;
  subscriptionId?: string;
  resourceGroup?: string;
  /** The option, variable or file it came from, for messages. */
  source: string;
}

export interface GrantChannelInput {
  relay: RelayInput;
  /** Node names (upper case) given with --nodes; otherwise read from the extension. */
  nodes?: string[];
  engineer?: string;
  ticketFile?: string;
  showTicket: boolean;
}

export type FleetCommand = CommandName;

export type CommandInput =
  | { command: 'deploy'; retentionDays?: number }
  | {
      command: 'grant';
      level: GrantLevel;
      durationMs: number;
      supportRequestId: string;
      acceptTerms: boolean;
      skipSupportRequestCheck: boolean;
      channel?: GrantChannelInput;
    }
  | { command: 'collect-logs'; containerSasFile: string; window: WindowInput; categories: string[]; includeSecurityLog: boolean }
  | { command: 'configure'; level?: GrantLevel; retentionDays?: number }
  | { command: 'revoke'; relay?: RelayInput }
  | { command: 'status'; relay?: RelayInput; refresh?: boolean }
  | { command: 'cleanup-channels'; relay?: RelayInput }
  | { command: 'upgrade'; version: string }
  | { command: 'remove' };

export interface Invocation {
  command: FleetCommand;
  /** Undefined when resuming: the journal holds the command's inputs. */
  input?: CommandInput;
  selection: TargetSelection;
  output: OutputFormat;
  whatIf: boolean;
  endpoint: string;
  /** True when --endpoint was given (a resumed run otherwise uses the journal's). */
  endpointGiven: boolean;
  /** Whose tokens Resource Manager accepts; default the endpoint itself. */
  audience?: string;
  timeoutMs: number;
  concurrency: number;
  journal?: string;
  resume?: string;
  protectedSettingsFile?: string;
  /** grant: the file of the container SAS the engineer's collections under this grant upload to (a resumed grant too). */
  logContainerSasFile?: string;
}

const DEFAULT_ENDPOINT = 'https://management.azure.com';

export function toInvocation(line: RawCommandLine, env: NodeJS.ProcessEnv): Invocation {
  const options = line.options;
  const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const list = (name: string) => (Array.isArray(options[name]) ? (options[name] as string[]) : []);
  const resume = text('resume');

  const output = parseOutputFormat(text('output') ?? 'table');
  const timeoutMs = parseTimeout(text('timeout') ?? '15m');
  const concurrency = parseConcurrency(text('concurrency') ?? '16');
  const endpointText = text('endpoint') ?? DEFAULT_ENDPOINT;
  const endpoint = checkEndpoint(endpointText);
  const subscriptionText = text('subscription') ?? (env.AZURE_SUBSCRIPTION_ID || undefined);
  const subscriptionId =
    subscriptionText === undefined
      ? undefined
      : checkSubscription(subscriptionText, text('subscription') ? '--subscription' : 'AZURE_SUBSCRIPTION_ID');
  const resourceGroupText = text('resourceGroup');
  const resourceGroup = resourceGroupText === undefined ? undefined : checkResourceGroup(resourceGroupText);
  const tags = list('tag').map(parseTag);
  const machines = list('machine');
  const cluster = options.cluster === true;

  const common = {
    // ticket and connect have their own runners (see main.ts); only the fleet commands come here.
    command: line.command as FleetCommand,
    selection: { machines, tags, cluster, ...(resourceGroup ? { resourceGroup } : {}), ...(subscriptionId ? { subscriptionId } : {}) },
    output,
    whatIf: options.whatIf === true,
    endpoint,
    endpointGiven: text('endpoint') !== undefined && endpoint !== DEFAULT_ENDPOINT,
    ...(text('audience') !== undefined ? { audience: checkAudience(text('audience')!) } : {}),
    timeoutMs,
    concurrency,
    ...(text('journal') ? { journal: text('journal') } : {}),
    ...(text('protectedSettingsFile') ? { protectedSettingsFile: text('protectedSettingsFile') } : {}),
    ...(options.logContainerSasFile !== undefined
      ? { logContainerSasFile: requiredFile(text('logContainerSasFile'), '--log-container-sas-file') }
      : {}),
  };

  if (resume !== undefined) {
    if (line.command === 'status' || line.command === 'cleanup-channels')
      throw new InputError(
        '--resume',
        resume,
        'status changes nothing, so there is nothing to resume; run status with --machine or --resource-group.',
      );
    if (line.command === 'collect-logs')
      throw new InputError(
        '--resume',
        resume,
        'collect-logs keeps no journal (its SAS is never written down): run collect-logs again for the machines that failed.',
      );
    const given = [
      'machine',
      'resourceGroup',
      'tag',
      'cluster',
      'level',
      'duration',
      'supportRequest',
      'retentionDays',
      'version',
      'relayNamespace',
      'relayResourceGroup',
      'nodes',
      'engineer',
      'ticketFile',
    ].filter((name) => (Array.isArray(options[name]) ? (options[name] as unknown[]).length > 0 : options[name] !== undefined));
    if (given.length > 0) {
      throw new InputError(
        `--${given.map(kebab).join(', --')}`,
        given.map((name) => options[name]),
        `--resume takes the targets and the command's options from the journal; leave these out (the grant, level and settings stay those of the journal).`,
      );
    }
    return { ...common, resume };
  }

  if (line.command === 'collect-logs' && common.journal !== undefined)
    throw new InputError(
      '--journal',
      common.journal,
      'collect-logs keeps no journal (its SAS is never written down; the result table lists each machine): leave out --journal.',
    );
  checkTargetOptions(machines, resourceGroup, tags.length, subscriptionId);
  const input = commandInput(line.command as FleetCommand, text, options, env);
  if (input.command === 'grant' && input.channel && common.whatIf)
    throw new InputError(
      '--what-if',
      true,
      `--what-if cannot show the channel's writes (its tokens are signed with keys only a real run reads). Leave out --what-if, or run it without a relay namespace (${input.channel.relay.source}) to see the settings it would send.`,
    );
  return { ...common, input };
}

function relayInput(text: (name: string) => string | undefined, env: NodeJS.ProcessEnv): RelayInput | undefined {
  const groupText = text('relayResourceGroup');
  const choice = relayChoice({ namespace: text('relayNamespace'), ...(groupText !== undefined ? { resourceGroup: groupText } : {}) }, env);
  if (!choice) {
    if (groupText !== undefined)
      throw new InputError('--relay-resource-group', groupText, 'It names where the relay namespace is: give --relay-namespace too.');
    return undefined;
  }
  const parsed = parseNamespaceArgument(choice.namespace, choice.source);
  const resourceGroup = parsed.resourceGroup ?? (choice.resourceGroup ? checkResourceGroup(choice.resourceGroup) : undefined);
  return {
    name: parsed.name,
    source: choice.source,
    ...(parsed.subscriptionId ? { subscriptionId: parsed.subscriptionId } : {}),
    ...(resourceGroup ? { resourceGroup } : {}),
  };
}

function grantChannel(text: (name: string) => string | undefined, options: Record<string, unknown>, env: NodeJS.ProcessEnv) {
  const relay = relayInput(text, env);
  const channelOnly = ['nodes', 'engineer', 'ticketFile', 'showTicket'].filter((name) => options[name] !== undefined);
  if (!relay) {
    if (channelOnly.length > 0)
      throw new InputError(
        `--${channelOnly.map(kebab).join(', --')}`,
        channelOnly.map((name) => options[name]),
        `These shape the remote channel, which needs a relay namespace: add --relay-namespace <name> (or set ${RELAY_NAMESPACE_VARIABLE}).`,
      );
    return undefined;
  }
  const nodesText = text('nodes');
  const nodes = nodesText === undefined ? undefined : parseNodes(nodesText);
  const engineer = text('engineer');
  if (engineer !== undefined && !/^[^\p{Cc}]{1,256}$/u.test(engineer))
    throw new InputError('--engineer', engineer, "Give the engineer's sign-in name or support alias, 1 to 256 printable characters.");
  return {
    relay,
    ...(nodes ? { nodes } : {}),
    ...(engineer ? { engineer } : {}),
    ...(text('ticketFile') ? { ticketFile: text('ticketFile') } : {}),
    showTicket: options.showTicket === true,
  };
}

function parseNodes(text: string): string[] {
  const nodes = text.split(',').map((node) => node.trim().toUpperCase());
  if (nodes.length === 0 || nodes.some((node) => !/^[A-Z0-9][A-Z0-9_-]{0,62}$/.test(node)) || new Set(nodes).size !== nodes.length)
    throw new InputError('--nodes', text, 'Give the node (computer) names separated by commas, e.g. --nodes NODE1,NODE2, each once.');
  return nodes;
}

function commandInput(
  command: FleetCommand,
  text: (name: string) => string | undefined,
  options: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): CommandInput {
  const retention = text('retentionDays');
  const retentionDays = retention === undefined ? undefined : parseRetentionDays(retention);
  switch (command) {
    case 'deploy':
      return { command, ...(retentionDays ? { retentionDays } : {}) };
    case 'grant': {
      const level = parseGrantLevel(required(text('level'), '--level', 'Give the access level: Diagnostics or DiagnosticsAndRepair.'));
      const durationMs = parseGrantDuration(
        required(text('duration'), '--duration', 'Give how long access lasts, from 60m to 14d, e.g. --duration 8h.'),
      );
      const supportRequestId = checkSupportRequestId(
        required(
          text('supportRequest'),
          '--support-request',
          'Give the support ticket id the access is for, e.g. --support-request TKT-2611240001.',
        ),
      );
      const channel = grantChannel(text, options, env);
      return {
        command,
        level,
        durationMs,
        supportRequestId,
        acceptTerms: options.acceptTerms === true,
        skipSupportRequestCheck: options.skipSupportRequestCheck === true,
        ...(channel ? { channel } : {}),
      };
    }
    case 'collect-logs':
      return {
        command,
        containerSasFile: requiredFile(text('containerSasFile'), '--container-sas-file'),
        window: parseWindowOptions(text('hours'), text('from'), text('to')),
        categories: parseCategories(Array.isArray(options.category) ? (options.category as string[]) : []),
        includeSecurityLog: options.includeSecurityLog === true,
      };
    case 'configure': {
      const levelText = text('level');
      if (levelText === undefined && retentionDays === undefined) {
        throw new InputError(
          '--level / --retention-days',
          undefined,
          'Give what to change: --level <Diagnostics|DiagnosticsAndRepair> and/or --retention-days <1-90>. To end access use revoke.',
        );
      }
      return {
        command,
        ...(levelText !== undefined ? { level: parseGrantLevel(levelText) } : {}),
        ...(retentionDays ? { retentionDays } : {}),
      };
    }
    case 'upgrade':
      return {
        command,
        version: checkExtensionVersion(
          required(text('version'), '--version', 'Give the extension version to upgrade to, e.g. --version 1.0.1.'),
        ),
      };
    case 'status': {
      const relay = relayInput(text, env);
      return { command, ...(relay ? { relay } : {}), ...(options.refresh === true ? { refresh: true } : {}) };
    }
    case 'revoke':
    case 'cleanup-channels': {
      const relay = relayInput(text, env);
      return { command, ...(relay ? { relay } : {}) };
    }
    default:
      return { command } as CommandInput;
  }
}

function checkTargetOptions(
  machines: string[],
  resourceGroup: string | undefined,
  tagCount: number,
  subscriptionId: string | undefined,
): void {
  if (machines.length === 0 && !resourceGroup) {
    throw new InputError(
      '--machine / --resource-group',
      undefined,
      'Name the targets: --machine <name|ARM id> (repeatable), or --resource-group <rg> [--tag key=value] for every machine of a group.',
    );
  }
  if (tagCount > 0 && machines.length > 0) {
    throw new InputError(
      '--tag',
      `${tagCount} tag filter(s) with --machine`,
      '--tag selects machines of --resource-group; leave out --machine to use it, or leave out --tag.',
    );
  }
  if (machines.length === 0 && !subscriptionId) {
    throw new InputError(
      '--subscription',
      undefined,
      'Listing a resource group needs the subscription: add --subscription <id> or set AZURE_SUBSCRIPTION_ID.',
    );
  }
}

/** A SAS comes only from a file: the command line stays in the shell's history and the process list. */
function requiredFile(value: string | undefined, option: string): string {
  const file = required(
    value,
    option,
    'Give the path of a file holding the container SAS URL on one line (https://<account>.blob.core.windows.net/<container>?<sas>), readable by you only.',
  );
  if (/^\s*https?:/i.test(file) || /[?&]sig=/i.test(file))
    throw new InputError(
      option,
      '<a URL, not shown>',
      'Give the path of a file holding the SAS, never the SAS itself: it would stay in the shell history. Issue a new SAS, since this one was exposed.',
    );
  return file;
}

function required(value: string | undefined, option: string, fix: string): string {
  if (value === undefined || value.trim() === '') throw new InputError(option, value, fix);
  return value;
}

export function checkEndpoint(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'https:' || url.search || url.hash) {
    throw new InputError(
      '--endpoint',
      text,
      'Give the https URL of an Azure Resource Manager endpoint, such as https://management.azure.com (tokens are only sent over TLS).',
    );
  }
  return url.toString().replace(/\/+$/, '');
}

export function checkAudience(text: string): string {
  try {
    const url = new URL(text);
    if (url.protocol === 'https:' || url.protocol === 'api:') return text.replace(/\/+$/, '').replace(/\/\.default$/, '');
  } catch {
    // reported below
  }
  throw new InputError(
    '--audience',
    text,
    'Give the URI Resource Manager expects as token audience, such as https://management.azure.com.',
  );
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}
