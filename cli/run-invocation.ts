/**
 * One run of a command: input already checked. Order matters: everything that can be refused
 * without Azure is refused first (exit 2), then the credential (exit 5), then targets are
 * resolved, the journal is started, and the machines are worked on under the adaptive limiter.
 */
import { randomUUID } from 'crypto';
import path from 'path';
import { describeDuration, formatUtc } from '../core/desired-state';
import { openAzureSession } from './arm/azure-session';
import { armScope, defaultCredential, firstToken } from './arm/credential';
import { configureOne } from './commands/configure';
import { deployOne } from './commands/deploy';
import { grantOne } from './commands/grant';
import { removeOne } from './commands/remove';
import { revokeOne } from './commands/revoke';
import type { RunContext } from './commands/run-context';
import { statusOne, type MachineStatus } from './commands/status';
import { upgradeOne } from './commands/upgrade';
import { cleanupChannelsOne } from './commands/cleanup-channels';
import { collectLogsOne, type CollectLogsRequest } from './commands/collect-logs';
import { readContainerSasFile } from './input/container-sas-file';
import { resolveWindow } from './input/log-collection-input';
import type { RelayContext } from './commands/run-context';
import { GrantKeyStore } from './channel/grant-key-store';
import { ownerHome } from './channel/owner-home';
import { RelayNamespaces } from './channel/relay-namespaces';
import { relayClientFactory, supportClient, type ProviderClientOptions } from './arm/relay-client';
import type { RecordedRequest } from './arm/what-if-policy';
import { checkSupportRequest, SKIP_OPTION, type SupportRequestCheck } from './checks/support-request';
import { acceptTerms, promptYesNo, requireWayToAccept } from './consent/accept-terms';
import { identityFromToken } from './consent/token-claims';
import { CredentialError, InputError } from './errors';
import type { CliExtensionIdentity } from './extension-identity';
import { systemClock } from './fleet/clock';
import { defaultJournalPath, JournalWriter, type Journal, type ResumableRequest } from './fleet/journal';
import { exitCodeFor, type TargetOutcome } from './fleet/outcome';
import { noProgress, terminalProgress } from './fleet/progress';
import { planResume, type ResumePlan } from './fleet/resume';
import { runFleet } from './fleet/run-fleet';
import type { Invocation } from './invocation';
import type { ResolvedIo } from './io';
import { formatReport, resultRows } from './output/report';
import { newGrant } from './settings/new-grant';
import { ProtectedSettings } from './settings/protected-settings';
import { namedTargets, resourceGroupTargets, withClusterNodes } from './targets/resolve-targets';
import type { Target } from './targets/target';
import { termsText } from './terms';

export async function executeInvocation(inv: Invocation, io: ResolvedIo, identity: CliExtensionIdentity): Promise<number> {
  const note = (text: string) => void io.stderr.write(`${text}\n`);
  const interactive = io.stdin?.isTTY === true;

  // 1. Offline: journal to resume, protected settings, named targets, a way to accept the terms.
  const resumeFile = inv.resume ? path.resolve(io.cwd, inv.resume) : undefined;
  const resume = resumeFile ? await planResume(resumeFile, inv.command) : undefined;
  let protectedSettings = inv.protectedSettingsFile
    ? await ProtectedSettings.fromFile(path.resolve(io.cwd, inv.protectedSettingsFile))
    : undefined;
  const sasOptions = { now: io.now(), allowStorageEmulator: io.allowStorageEmulator === true };
  if (inv.logContainerSasFile) {
    // The grant's upload container: the engineer's collections under this grant go there.
    const sas = await readContainerSasFile('--log-container-sas-file', path.resolve(io.cwd, inv.logContainerSasFile), sasOptions);
    protectedSettings = (protectedSettings ?? ProtectedSettings.empty()).withSection('logUpload', { containerSas: sas.url }, sas.secrets);
  }
  let collection: CollectLogsRequest | undefined;
  if (inv.input?.command === 'collect-logs') {
    const window = resolveWindow(inv.input.window, io.now());
    const sas = await readContainerSasFile('--container-sas-file', path.resolve(io.cwd, inv.input.containerSasFile), sasOptions);
    protectedSettings = ProtectedSettings.empty().withSection('logCollection', { containerSas: sas.url }, sas.secrets);
    collection = {
      window,
      categories: inv.input.categories,
      includeSecurityLog: inv.input.includeSecurityLog,
      container: sas.container,
    };
  }
  let targets: Target[] = resume ? resume.targets : namedTargets(inv.selection);
  if (resume) {
    announceResume(resume, resumeFile!, note);
    if (resume.targets.length === 0) return 0;
    refuseExpiredGrant(resume, io.now());
  }
  const input = inv.input;
  let supportCheck: SupportRequestCheck | undefined;
  if (input?.command === 'grant') {
    requireWayToAccept({ acceptedByFlag: input.acceptTerms, interactive, show: note, terms: grantTerms(input, undefined, io.now()) });
  }

  // 2. The credential, once, before any machine.
  const fromJournal = resume !== undefined && !inv.endpointGiven;
  const endpoint = fromJournal ? resume.journal.endpoint : inv.endpoint;
  const audience = (fromJournal ? resume.journal.audience : inv.audience) ?? endpoint;
  const credential = io.credential ?? defaultCredential();
  const token = await firstToken(credential, armScope(audience), inv.timeoutMs);

  // 3. Azure clients, shared by all targets; 429s slow the limiter down.
  const session = openAzureSession({
    credential,
    endpoint,
    audience,
    extensionName: identity.type,
    timeoutMs: inv.timeoutMs,
    concurrency: inv.concurrency,
    whatIf: inv.whatIf,
    clock: io.clock ?? systemClock,
    ...(io.tlsCa ? { tlsCa: io.tlsCa } : {}),
    ...(io.pollIntervalMs !== undefined ? { pollIntervalMs: io.pollIntervalMs } : {}),
    ...(io.conflictRetry ? { conflictRetry: io.conflictRetry } : {}),
  });
  const { api, limiter } = session;

  // 4. Targets that need Azure: a resource group's machines, cluster nodes.
  if (!resume) {
    const { selection } = inv;
    if (selection.machines.length === 0 && selection.resourceGroup && selection.subscriptionId) {
      targets = await resourceGroupTargets(api, {
        ...selection,
        resourceGroup: selection.resourceGroup,
        subscriptionId: selection.subscriptionId,
      });
    }
    if (selection.cluster) targets = await withClusterNodes(api, targets, note);
  }

  // 5. What every target gets: for grant, the one grant of this run (its support request checked
  // first, then its channel's namespace found), for the channel commands the relay control plane.
  const providers = {
    credential,
    endpoint,
    audience,
    ...(io.tlsCa ? { tlsCa: io.tlsCa } : {}),
    ...(inv.whatIf ? { recordWrite: (request: RecordedRequest) => void session.requests.push(request) } : {}),
  };
  if (input?.command === 'grant') {
    if (input.channel?.ticketFile && targets.filter((target) => target.ref).length > 1)
      throw new InputError(
        '--ticket-file',
        input.channel.ticketFile,
        `A ticket file is for one machine and this grant has ${targets.length}; leave it out and each machine's ticket is written to ${ticketsFolder(io)}.`,
      );
    supportCheck = await checkSupportRequests(providers, input, targets, inv.timeoutMs);
  }
  const relay = await relayContext(inv, resume, providers, targets, io);
  const request: RunRequest = resume
    ? resume.journal.request
    : await buildRequest(inv, identity, targets, token.token, io, interactive, note, supportCheck, relay, collection);
  if (request.command === 'grant' && request.channel && relay) {
    relay.grant = {
      namespace: relay.namespace!,
      keys: await relay.store.keyPair(request.grant.grantId),
      engineer: request.channel.engineer,
      ...(request.channel.nodes ? { nodes: request.channel.nodes } : {}),
      ...(input?.command === 'grant' && input.channel?.ticketFile ? { ticketFile: path.resolve(io.cwd, input.channel.ticketFile) } : {}),
      ticketsFolder: ticketsFolder(io),
      ...(input?.command === 'grant' && input.channel?.showTicket
        ? {
            showTicket: (machine: string, text: string) =>
              note(`Access ticket for ${machine} (bearer secrets: hand it over privately):\n${text}`),
          }
        : {}),
    };
  }
  const ctx: RunContext = {
    api,
    now: io.now,
    extension: {
      publisher: identity.publisher,
      type: identity.type,
      name: identity.type,
      version: request.command === 'deploy' ? request.version : identity.version,
    },
    forceUpdateTag: randomUUID(),
    ...(protectedSettings ? { protectedSettings } : {}),
    ...(relay ? { relay } : {}),
  };

  // 6. The journal, before the first write.
  const writer =
    request.command === 'status' || request.command === 'cleanup-channels' || request.command === 'collect-logs' || inv.whatIf
      ? undefined
      : await startJournal(inv, io, { endpoint, audience }, request, targets, resume, ctx.forceUpdateTag);

  // 7. The machines.
  const statuses = new Map<Target, MachineStatus>();
  const progress = io.stderr.isTTY && inv.output === 'table' && targets.length > 1 ? terminalProgress(io.stderr) : noProgress;
  const outcomes = await runFleet(
    targets,
    async (target) => {
      if (!target.ref) return { result: target.problem?.result ?? 'failed', detail: target.problem?.detail ?? 'not a machine' };
      if (request.command === 'status') {
        const { outcome, status } = await statusOne(ctx, target.ref, target.label, {
          refresh: inv.input?.command === 'status' && inv.input.refresh === true,
        });
        if (status) statuses.set(target, status);
        return outcome;
      }
      if (request.command === 'cleanup-channels') return cleanupChannelsOne(ctx, target.ref);
      if (request.command === 'collect-logs') return collectLogsOne(ctx, target.ref, request);
      return runOne(ctx, target, request);
    },
    {
      limiter,
      progress,
      onOutcome: async (target, outcome) => {
        await writer
          ?.record(target.key, outcome)
          .catch((error: Error) => note(`warning: the journal ${writer.file} could not be updated: ${error.message}`));
      },
    },
  );
  await writer?.finishRun().catch((error: Error) => note(`warning: the journal ${writer.file} could not be updated: ${error.message}`));

  // 8. The report.
  const rows = resultRows(targets, outcomes).map((row) =>
    inv.whatIf && row.result === 'ok' ? { ...row, detail: `what if: ${row.detail}` } : row,
  );
  const report = formatReport(
    {
      command: inv.command,
      whatIf: inv.whatIf,
      results: rows,
      ...(request.command === 'status' ? { statuses: targets.flatMap((target) => statuses.get(target) ?? []) } : {}),
      ...(inv.whatIf ? { requests: session.requests } : {}),
      ...(request.command === 'grant' ? { grant: request.grant } : {}),
      ...(writer ? { journal: writer.file } : {}),
      throttled: session.throttled(),
      concurrency: limiter.concurrency,
    },
    inv.output,
    io.stdout.isTTY ? io.stdout.columns : undefined,
  );
  io.stdout.write(`${report}\n`);
  summarize(inv, outcomes, session.throttled(), limiter.concurrency, writer?.file, note);
  return exitCodeFor(outcomes.map((outcome) => outcome.result));
}

/** What a run does: a resumable write, or a command that keeps no journal. */
type RunRequest =
  ResumableRequest | { command: 'status' } | { command: 'cleanup-channels' } | ({ command: 'collect-logs' } & CollectLogsRequest);

function runOne(ctx: RunContext, target: Target, request: ResumableRequest): Promise<TargetOutcome> {
  const ref = target.ref!;
  switch (request.command) {
    case 'deploy':
      return deployOne(ctx, ref, request.retentionDays === undefined ? {} : { retentionDays: request.retentionDays });
    case 'grant':
      return grantOne(ctx, ref, request.grant);
    case 'configure':
      return configureOne(ctx, ref, {
        ...(request.level ? { level: request.level } : {}),
        ...(request.retentionDays ? { retentionDays: request.retentionDays } : {}),
      });
    case 'revoke':
      return revokeOne(ctx, ref);
    case 'upgrade':
      return upgradeOne(ctx, ref, request.targetVersion);
    case 'remove':
      return removeOne(ctx, ref);
  }
}

function grantTerms(
  input: { level: string; durationMs: number; supportRequestId: string },
  machines: number | undefined,
  now: Date,
): string {
  const expiresAt = formatUtc(new Date(Math.floor(now.getTime() / 1000) * 1000 + input.durationMs));
  return termsText({
    level: input.level,
    machines,
    supportRequestId: input.supportRequestId,
    duration: describeDuration(input.durationMs),
    expiresAt,
  });
}

async function buildRequest(
  inv: Invocation,
  identity: CliExtensionIdentity,
  targets: Target[],
  token: string,
  io: ResolvedIo,
  interactive: boolean,
  note: (text: string) => void,
  supportCheck: SupportRequestCheck | undefined,
  relay: RelayContext | undefined,
  collection: CollectLogsRequest | undefined,
): Promise<RunRequest> {
  const input = inv.input!;
  switch (input.command) {
    case 'deploy':
      return { command: 'deploy', version: identity.version, ...(input.retentionDays ? { retentionDays: input.retentionDays } : {}) };
    case 'grant': {
      const who = identityFromToken(token);
      if (!who) {
        throw new CredentialError(
          'The access token does not say who you are (none of the claims upn, preferred_username, unique_name, appid, oid, sub), and a grant must record who accepted the terms. Sign in as a user (az login) or a service principal and run again.',
        );
      }
      const machines = targets.filter((target) => target.ref).length;
      await acceptTerms({
        acceptedByFlag: input.acceptTerms,
        interactive,
        show: note,
        terms: grantTerms(input, machines, io.now()),
        ask: io.confirm ?? ((question) => promptYesNo(question, { input: io.stdin ?? process.stdin, output: io.stderr })),
      });
      const grant = newGrant({
        level: input.level,
        durationMs: input.durationMs,
        supportRequestId: input.supportRequestId,
        acceptedBy: who.value,
        now: io.now(),
        ...(supportCheck?.checked === false ? { supportRequestChecked: false as const } : {}),
      });
      note(
        `Grant ${grant.grantId}: ${grant.level} until ${grant.expiresAt} for ${grant.supportRequestId}, accepted by ${grant.consent.acceptedBy} (${who.claim}) at ${grant.consent.acceptedAt}, terms ${grant.consent.termsVersion}.`,
      );
      if (supportCheck?.checked === false)
        note(`The support request ${grant.supportRequestId} was NOT checked (${SKIP_OPTION}); the grant records that.`);
      if (!input.channel || !relay?.namespace) return { command: 'grant', grant };
      const { subscriptionId, resourceGroup, name } = relay.namespace;
      return {
        command: 'grant',
        grant,
        channel: {
          relayNamespace: { subscriptionId, resourceGroup, name },
          engineer: input.channel.engineer ?? `support-request:${grant.supportRequestId}`,
          ...(input.channel.nodes ? { nodes: input.channel.nodes } : {}),
        },
      };
    }
    case 'configure':
      return {
        command: 'configure',
        ...(input.level ? { level: input.level } : {}),
        ...(input.retentionDays ? { retentionDays: input.retentionDays } : {}),
      };
    case 'upgrade':
      return { command: 'upgrade', targetVersion: input.version };
    case 'collect-logs':
      // Resolved in step 1: the window checked and the SAS read before Azure is asked anything.
      return { command: 'collect-logs', ...collection! };
    default:
      return { command: input.command };
  }
}

function ticketsFolder(io: ResolvedIo): string {
  return path.join(ownerHome(io.env), 'tickets');
}

/** Once per subscription of the targets: the support request must exist there and be open. */
async function checkSupportRequests(
  providers: ProviderClientOptions,
  input: { supportRequestId: string; skipSupportRequestCheck: boolean },
  targets: Target[],
  timeoutMs: number,
): Promise<SupportRequestCheck> {
  const subscriptions = [...new Set(targets.flatMap((target) => (target.ref ? [target.ref.subscriptionId.toLowerCase()] : [])))];
  let result: SupportRequestCheck = { checked: true };
  for (const subscriptionId of subscriptions) {
    const check = await checkSupportRequest(supportClient(providers, subscriptionId), {
      subscriptionId,
      supportRequestId: input.supportRequestId,
      skipWhenForbidden: input.skipSupportRequestCheck,
      timeoutMs,
    });
    if (!check.checked) result = check;
  }
  return result;
}

/** The relay control plane for the commands that touch channels, with the namespace resolved when one is named. */
async function relayContext(
  inv: Invocation,
  resume: ResumePlan | undefined,
  providers: ProviderClientOptions,
  targets: Target[],
  io: ResolvedIo,
): Promise<RelayContext | undefined> {
  const input = inv.input;
  const resumed = resume?.journal.request.command === 'grant' ? resume.journal.request.channel : undefined;
  const wanted = input?.command === 'grant' ? input.channel?.relay : input && 'relay' in input ? input.relay : undefined;
  const channelCommand = ['revoke', 'status', 'cleanup-channels'].includes(inv.command);
  if (!wanted && !resumed && !channelCommand) return undefined;
  const api = new RelayNamespaces(relayClientFactory(providers), inv.timeoutMs);
  const store = new GrantKeyStore(ownerHome(io.env));
  const first = targets.find((target) => target.ref)?.ref?.subscriptionId ?? inv.selection.subscriptionId;
  const source = wanted?.source ?? '--relay-namespace';
  if (resumed) return { api, store, namespace: await api.resolve(resumed.relayNamespace, first ?? '', "the journal's relayNamespace") };
  if (!wanted) return { api, store };
  if (!wanted.subscriptionId && !first)
    throw new InputError(source, wanted.name, 'Give the namespace as an ARM id, or a subscription (--subscription) to find it in.');
  return { api, store, namespace: await api.resolve(wanted, first!, source) };
}

/** A resumed grant is the same grant; it cannot be finished once it has expired (refused before Azure is asked anything). */
function refuseExpiredGrant(resume: ResumePlan, now: Date): void {
  const request = resume.journal.request;
  if (request.command === 'grant' && Date.parse(request.grant.expiresAt) <= now.getTime()) {
    throw new InputError(
      '--resume',
      `grant ${request.grant.grantId}`,
      `That grant expired at ${request.grant.expiresAt}; there is nothing left to finish. Grant access again (arc-remote-support grant ...).`,
    );
  }
}

function announceResume(resume: ResumePlan, file: string, note: (text: string) => void): void {
  const { journal } = resume;
  const what =
    journal.request.command === 'grant'
      ? ` with the same grant ${journal.request.grant.grantId} (${journal.request.grant.level} until ${journal.request.grant.expiresAt}, accepted by ${journal.request.grant.consent.acceptedBy} at ${journal.request.grant.consent.acceptedAt})`
      : '';
  if (resume.targets.length === 0) {
    note(
      `Resuming ${file}: nothing to do, ${resume.succeeded} machine(s) already succeeded${resume.notRetryable.length ? ` and ${resume.notRetryable.length} cannot be retried` : ''}.`,
    );
  } else {
    note(
      `Resuming ${journal.command} from ${file}: ${resume.targets.length} machine(s) that did not succeed run again${what}; ${resume.succeeded} that succeeded are left alone.`,
    );
  }
  for (const entry of resume.notRetryable) note(`  not retried (fix the input and run the command for it separately): ${entry}`);
}

async function startJournal(
  inv: Invocation,
  io: ResolvedIo,
  where: { endpoint: string; audience: string },
  request: ResumableRequest,
  targets: Target[],
  resume: ResumePlan | undefined,
  forceUpdateTag: string,
): Promise<JournalWriter | undefined> {
  if (!resume && !inv.journal && targets.length < 2) return undefined;
  const file = inv.journal
    ? path.resolve(io.cwd, inv.journal)
    : resume
      ? path.resolve(io.cwd, inv.resume!)
      : defaultJournalPath(io.cwd, inv.command, io.now());
  const journal: Journal = resume?.journal ?? {
    tool: 'arc-remote-support',
    journalVersion: 1,
    command: inv.command,
    endpoint: where.endpoint,
    ...(where.audience !== where.endpoint ? { audience: where.audience } : {}),
    request,
    runs: [],
    targets: targets.map((target) => ({
      machine: target.key,
      label: target.label,
      retryable: target.ref !== undefined,
      result: 'pending',
      detail: '',
    })),
  };
  const writer = new JournalWriter(file, journal, io.now);
  try {
    await writer.startRun({ resumed: resume !== undefined, forceUpdateTag, machines: targets.length });
  } catch (error) {
    throw new InputError(
      '--journal',
      file,
      `The journal cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give a writable path with --journal. Nothing was sent.`,
    );
  }
  return writer;
}

function summarize(
  inv: Invocation,
  outcomes: TargetOutcome[],
  throttled: number,
  concurrency: number,
  journal: string | undefined,
  note: (text: string) => void,
): void {
  const count = (result: string) => outcomes.filter((outcome) => outcome.result === result).length;
  const parts = [`${count('ok')} ok`, `${count('failed')} failed`, `${count('skipped')} skipped`];
  if (throttled > 0) parts.push(`Azure throttled ${throttled} request(s); concurrency adapted to ${concurrency}`);
  note(parts.join(', ') + '.');
  if (journal) {
    note(`Journal: ${journal}`);
    if (count('ok') < outcomes.length)
      note(`To retry the machines that did not succeed: arc-remote-support ${inv.command} --resume ${journal}`);
  }
}
