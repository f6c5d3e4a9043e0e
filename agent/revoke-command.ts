/**
 * `revoke --local --by <DOMAIN\user> [--json]`: the owner's revoke on this node, without Azure
 * (Disable-RemoteSupport). The same observe, plan and apply as Reconcile, towards the record a
 * local revoke leaves (core/local-revoke.ts): the record without its grant first, then the access
 * groups emptied and the endpoint's open sessions ended, then the history line and event that
 * mark the grant as revoked locally (so unchanged extension settings do not bring it back), then
 * the grant's expiry task deleted. Every step is tried even when one fails (core/apply-order.ts):
 * removing access never depends on the audit write, the audit is written only once the removals
 * it records succeeded (a failed write waits in the pending audit file), and each failure is
 * reported (exit code 1).
 */
import { parseDesiredRecord } from '../core/desired-record';
import { DESIRED_STATE_FILE, GROUPS, HISTORY_FILE, expireTaskName } from '../core/node-layout';
import { buildNodeIntent } from '../core/node-intent';
import { localRevoker, locallyRevoked } from '../core/local-revoke';
import { knownEndedGrants, recordEnds } from '../core/ended-grants';
import type { OperationRequest } from '../windows/operations';
import type { WindowsHost } from '../windows/port';
import { applyIntent, NodeNotReachable, observeNode } from '../handlers/phases/converge-node';
import { parseOptions } from './arguments';
import type { AgentResult } from './commands';
import { asciiJson } from './json-output';

export interface LocalRevokeReport {
  computerName: string | null;
  /** The grant the record held before (even one already expired), or null and None. */
  grantId: string | null;
  level: string;
  /** "<group>: <member>" for each member taken out of an access group. */
  membersRemoved: string[];
  sessionsEnded: number;
  expireTasksRemoved: string[];
  recordCleared: boolean;
  historyWritten: boolean;
  eventWritten: boolean;
  warnings: string[];
  /** "Could not <step> (<code>: <message>)." for each step that failed. */
  failures: string[];
}

export async function revokeCommand(argv: string[], host: WindowsHost, now: Date): Promise<AgentResult> {
  const options = parseOptions('revoke', argv, { flags: ['--local', '--json'], values: ['--by'] });
  if ('problem' in options) return { exitCode: 2, output: options.problem };
  if (!options.flags.has('--local')) {
    return {
      exitCode: 2,
      output:
        'revoke: only the local revoke runs on the node: revoke --local --by <DOMAIN\\user>. To revoke on every node, set the access level to None in Azure (arc-remote-support revoke).',
    };
  }
  let changedBy: string;
  try {
    changedBy = localRevoker(options.values.get('--by') ?? '');
  } catch (error) {
    return { exitCode: 2, output: `revoke: ${(error as Error).message}` };
  }

  const phase = 'local revoke';
  const seen = await observeNode(host, { phase }, []);
  if (seen.kind === 'not-reached') throw new NodeNotReachable('local', seen.code, seen.detail);
  const { record: before, problem } = parseDesiredRecord(seen.observed.files[DESIRED_STATE_FILE] ?? null);
  // The record keeps the grant's end, so that settings still carrying it do not bring it back.
  const known = knownEndedGrants(before, seen.observed.files[HISTORY_FILE] ?? null, now);
  const record = recordEnds(before, locallyRevoked(before), known, now, changedBy);
  const intent = buildNodeIntent({
    record,
    previous: before,
    observed: seen.observed,
    now,
    changedBy,
    ...(seen.probe ? { computerName: seen.probe.computerName } : {}),
  });
  const applied = await applyIntent(host, { phase, stopOnError: false }, intent, seen.observed);
  const result = { probe: seen.probe, ...applied };

  const report: LocalRevokeReport = {
    computerName: result.probe?.computerName ?? null,
    grantId: before?.grant?.grantId ?? null,
    level: before?.grant?.level ?? 'None',
    membersRemoved: [],
    sessionsEnded: 0,
    expireTasksRemoved: [],
    recordCleared: false,
    historyWritten: false,
    eventWritten: false,
    warnings: problem ? [`${DESIRED_STATE_FILE}: ${problem}`] : [],
    failures: [],
  };
  result.steps.forEach((step, index) => {
    const outcome = result.outcomes[index];
    if (!outcome?.ok) {
      report.failures.push(`Could not ${step.description} (${outcome ? `${outcome.error.code}: ${outcome.error.message}` : 'no answer'}).`);
      return;
    }
    const operation: OperationRequest = step.operation;
    const value = outcome.value as Record<string, unknown>;
    if (operation.op === 'setLocalGroupMembers')
      report.membersRemoved.push(...((value.removed as string[] | undefined) ?? []).map((member) => `${operation.name}: ${member}`));
    if (operation.op === 'endSessions') report.sessionsEnded += Number(value.ended ?? 0);
    if (operation.op === 'deleteTask' && operation.name.toLowerCase().startsWith(expireTaskName('').toLowerCase()))
      report.expireTasksRemoved.push(operation.name);
    if (operation.op === 'writeFile' && operation.path === DESIRED_STATE_FILE) report.recordCleared = value.changed === true;
    if (operation.op === 'writeFile' && operation.path === HISTORY_FILE) report.historyWritten = true;
    if (operation.op === 'writeEvent') report.eventWritten = true;
  });

  const exitCode = report.failures.length > 0 ? 1 : 0;
  if (options.flags.has('--json')) return { exitCode, output: asciiJson(report), stream: 'stdout' };
  return { exitCode, output: describe(report) };
}

function describe(report: LocalRevokeReport): string {
  const lines = [
    `revoke: ${report.grantId ? `grant ${report.grantId} (${report.level})` : 'no grant recorded'}; ` +
      `${report.membersRemoved.length} member(s) removed from ${GROUPS.diagnostics} and ${GROUPS.repair}; ${report.sessionsEnded} session(s) ended; ` +
      `record ${report.recordCleared ? 'cleared' : 'unchanged'}; history ${report.historyWritten ? 'written' : 'not written'}.`,
    ...report.warnings.map((warning) => `warning: ${warning}`),
    ...report.failures,
  ];
  return lines.join('\n');
}
