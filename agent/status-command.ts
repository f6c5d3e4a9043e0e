/**
 * `status [--json] [--include-expired]`: the access in force. Plain, one line for a person;
 * with --json, for the owner's module (Get-RemoteSupportAccess): the access in force, the record,
 * the grants to show with their state and engineers, and warnings about the record or about
 * access that no grant accounts for. --include-expired adds the recorded grant after it ended
 * and the past grants from the history.
 */
import { readHistory } from '../core/access-history';
import { accessView, type GrantView } from '../core/access-view';
import { parseDesiredRecord, serializeDesiredRecord } from '../core/desired-record';
import { formatUtc } from '../core/desired-state';
import { DESIRED_STATE_FILE, GROUPS, HISTORY_FILE } from '../core/node-layout';
import { grantInForce } from '../core/node-intent';
import { op } from '../windows/operations';
import type { OperationOutcome, WindowsHost } from '../windows/port';
import { parseOptions } from './arguments';
import type { AgentResult } from './commands';
import { asciiJson, jsonTime } from './json-output';

export async function statusCommand(argv: string[], host: WindowsHost, now: Date): Promise<AgentResult> {
  const options = parseOptions('status', argv, { flags: ['--json', '--include-expired'] });
  if ('problem' in options) return { exitCode: 2, output: options.problem };
  const withHistory = options.flags.has('--include-expired');
  const outcomes = await host.execute(
    [
      op('readFile', { path: DESIRED_STATE_FILE }),
      op('getLocalGroup', { name: GROUPS.diagnostics }),
      op('getLocalGroup', { name: GROUPS.repair }),
      ...(withHistory ? [op('readFile', { path: HISTORY_FILE })] : []),
    ],
    { phase: 'status', stopOnError: false },
  );
  const failed = outcomes.find((outcome) => !outcome.ok);
  // Without the record or the groups the answer would be a guess: say what could not be read.
  if (failed && !failed.ok)
    return {
      exitCode: 1,
      output: `status: could not read ${failed.error.target ?? failed.error.operation}: ${failed.error.code}: ${failed.error.message}`,
    };

  const { record, problem } = parseDesiredRecord(fileContent(outcomes[0]));
  const grant = grantInForce(record, now);
  if (!options.flags.has('--json')) {
    return {
      exitCode: 0,
      output: grant
        ? `Access: ${grant.level} for support request ${grant.supportRequestId} until ${formatUtc(grant.expiresAt)}.`
        : 'Access: none.',
    };
  }
  const members = { diagnostics: membersOf(outcomes[1]), repair: membersOf(outcomes[2]) };
  const view = accessView({ record, now, members, history: withHistory ? readHistory(fileContent(outcomes[3])) : undefined });
  const warnings = [
    ...(problem ? [`${DESIRED_STATE_FILE}: ${problem}`] : []),
    ...view.unrecordedAccess.map(
      (access) =>
        `No grant is in force, but '${access.group}' still has members: ${access.members.join(', ')}. The Reconcile task removes them; Disable-RemoteSupport removes them now.`,
    ),
  ];
  const report = {
    now: formatUtc(now),
    access: grant
      ? {
          level: grant.level,
          grantId: grant.grantId,
          supportRequestId: grant.supportRequestId,
          expiresAt: formatUtc(grant.expiresAt),
          consent: {
            termsVersion: grant.consent.termsVersion,
            acceptedAt: formatUtc(grant.consent.acceptedAt),
            acceptedBy: grant.consent.acceptedBy,
          },
        }
      : null,
    // What the agent converges to: no grant when the file is missing or unreadable (fail closed).
    record: JSON.parse(serializeDesiredRecord(record)),
    problem: problem ?? null,
    grants: view.grants.map(grantJson),
    warnings,
  };
  return { exitCode: 0, output: asciiJson(report) };
}

function grantJson(grant: GrantView) {
  return {
    ...grant,
    expiresAt: jsonTime(grant.expiresAt),
    acceptedAt: jsonTime(grant.acceptedAt),
    endedAt: jsonTime(grant.endedAt),
  };
}

function fileContent(outcome: OperationOutcome | undefined): string | null {
  return outcome?.ok ? ((outcome.value as { content: string | null }).content ?? null) : null;
}

function membersOf(outcome: OperationOutcome | undefined): string[] {
  return outcome?.ok ? ((outcome.value as { members?: string[] }).members ?? []) : [];
}
