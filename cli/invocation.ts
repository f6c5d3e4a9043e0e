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
import { checkSupportRequestId } from './settings/new-grant';
import type { TargetSelection } from './targets/resolve-targets';

export type CommandInput =
  | { command: 'deploy'; retentionDays?: number }
  | { command: 'grant'; level: GrantLevel; durationMs: number; supportRequestId: string; acceptTerms: boolean }
  | { command: 'configure'; level?: GrantLevel; retentionDays?: number }
  | { command: 'revoke' }
  | { command: 'status' }
  | { command: 'upgrade'; version: string }
  | { command: 'remove' };

export interface Invocation {
  command: CommandName;
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
    command: line.command,
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
  };

  if (resume !== undefined) {
    if (line.command === 'status')
      throw new InputError(
        '--resume',
        resume,
        'status changes nothing, so there is nothing to resume; run status with --machine or --resource-group.',
      );
    const given = ['machine', 'resourceGroup', 'tag', 'cluster', 'level', 'duration', 'supportRequest', 'retentionDays', 'version'].filter(
      (name) => (Array.isArray(options[name]) ? (options[name] as unknown[]).length > 0 : options[name] !== undefined),
    );
    if (given.length > 0) {
      throw new InputError(
        `--${given.map(kebab).join(', --')}`,
        given.map((name) => options[name]),
        `--resume takes the targets and the command's options from the journal; leave these out (the grant, level and settings stay those of the journal).`,
      );
    }
    return { ...common, resume };
  }

  checkTargetOptions(machines, resourceGroup, tags.length, subscriptionId);
  return { ...common, input: commandInput(line.command, text, options) };
}

function commandInput(command: CommandName, text: (name: string) => string | undefined, options: Record<string, unknown>): CommandInput {
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
      return {
        command,
        level,
        durationMs,
        supportRequestId,
        acceptTerms: options.acceptTerms === true,
      };
    }
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

function required(value: string | undefined, option: string, fix: string): string {
  if (value === undefined || value.trim() === '') throw new InputError(option, value, fix);
  return value;
}

function checkEndpoint(text: string): string {
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

function checkAudience(text: string): string {
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
