/**
 * The node agent's commands, run by the scheduled tasks from the stable agent folder:
 * `reconcile` converges the node to its desired-state record (failing closed), `expire --grant <id>`
 * does the same at a grant's expiry (its task is then no longer wanted and is deleted), and
 * `retention` deletes transcripts, channel session records and history older than the retention
 * period. The owner's module runs the others: `status` (the access in force), `history` (access
 * changes and sessions) and `revoke --local` (status-command.ts, history-command.ts, revoke-command.ts). The same plan
 * and apply code as the handlers. The engineer's JEA function runs `request-log-collection`
 * (diag/request-log-collection-command.ts: its own exit codes, 3 being a refusal).
 *
 * Exit codes: 0 done; 1 failed (access may not be as recorded: the output says where it stopped);
 * 2 bad command line; 3 done, but an audit record (history line or event) could not be written:
 * it waits in the node's pending audit file for the next run, and the output says what and why.
 */
import { parseDesiredRecord } from '../core/desired-record';
import { describeEnd, endedGrantBlocking, knownEndedGrants, recordEnds } from '../core/ended-grants';
import {
  CHANNEL_SESSIONS_FOLDER,
  DESIRED_STATE_FILE,
  HISTORY_FILE,
  LOG_COLLECTIONS_FOLDER,
  LOG_STAGING_FOLDER,
  TRANSCRIPT_FOLDER,
} from '../core/node-layout';
import { buildNodeIntent } from '../core/node-intent';
import { describeRetention, planRetention, type RetentionInputs } from '../core/retention-plan';
import { SESSION_RECORD_FILE_NAME } from '../core/session-record';
import { op } from '../windows/operations';
import type { OperationOutcome, WindowsHost } from '../windows/port';
import { historyCommand } from './history-command';
import { revokeCommand } from './revoke-command';
import { statusCommand } from './status-command';
import { requestLogCollectionCommand } from './diag/request-log-collection-command';
import { applyIntent, NodeNotReachable, observeNode } from '../handlers/phases/converge-node';
import { auditIncomplete, describeAuditReport } from '../core/pending-audit';

export interface AgentResult {
  exitCode: number;
  output: string;
  /** Default: stdout on success, stderr otherwise. A JSON report goes to stdout whatever the exit code. */
  stream?: 'stdout' | 'stderr';
}

/** Converged, but an audit record waits to be written (Task Scheduler shows it as the last run result). */
export const AUDIT_NOT_RECORDED_EXIT = 3;

export const AGENT_USAGE =
  'usage: agent <reconcile | expire --grant <id> | retention | status [--json] [--include-expired] | history [--json] [--from <UTC time>] [--include-transcript] | revoke --local --by <DOMAIN\\user> [--json] | channel | collect-logs | request-log-collection --from <UTC time> --to <UTC time> --category <A,B,...> --requested-by <DOMAIN\\user>>';

export async function runAgentCommand(argv: string[], host: WindowsHost, now: Date): Promise<AgentResult> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'reconcile':
      return converge(host, now, 'reconcile');
    case 'expire': {
      const grantId = rest[0] === '--grant' ? rest[1] : undefined;
      if (!grantId) return { exitCode: 2, output: `expire needs --grant <id>. ${AGENT_USAGE}` };
      return converge(host, now, `expire ${grantId}`);
    }
    case 'retention':
      return retention(host, now);
    case 'status':
      return statusCommand(rest, host, now);
    case 'history':
      return historyCommand(rest, host);
    case 'revoke':
      return revokeCommand(rest, host, now);
    case 'request-log-collection':
      return requestLogCollectionCommand(rest, host, now);
    default:
      return { exitCode: 2, output: AGENT_USAGE };
  }
}

async function converge(host: WindowsHost, now: Date, phase: string): Promise<AgentResult> {
  const seen = await observeNode(host, { phase }, []);
  if (seen.kind === 'not-reached') throw new NodeNotReachable('local', seen.code, seen.detail);
  const { record: read, problem } = parseDesiredRecord(seen.observed.files[DESIRED_STATE_FILE] ?? null);
  // A record that carries a grant that ended here (written back by a replay) does not give it again.
  const known = knownEndedGrants(read, seen.observed.files[HISTORY_FILE] ?? null, now);
  const refused = endedGrantBlocking(read.grant, known, now);
  const changedBy = `agent ${phase}`;
  const record = recordEnds(read, refused ? { ...read, grant: null } : read, known, now, changedBy);
  const intent = buildNodeIntent({
    record,
    previous: read,
    observed: seen.observed,
    now,
    changedBy,
    ...(seen.probe ? { computerName: seen.probe.computerName } : {}),
  });
  const result = await applyIntent(host, { phase }, intent, seen.observed);
  const done = result.steps.map((step) => step.description).join('; ') || 'nothing to change';
  const audit = auditIncomplete(result.audit) ? ` ${describeAuditReport(result.audit)}` : '';
  if (result.failure)
    return {
      exitCode: 1,
      output: `${phase}: failed at '${result.failure.step.description}': ${result.failure.message}${audit ? `.${audit}` : ''}`,
    };
  const notes = [
    ...(refused ? [`grant ${refused.grantId} ${describeEnd(refused)}: it gives no access again`] : []),
    ...(problem ? [problem] : []),
  ];
  return {
    exitCode: audit ? AUDIT_NOT_RECORDED_EXIT : 0,
    output: `${phase}: ${done}${notes.map((note) => ` (${note})`).join('')}${audit ? `.${audit}` : ''}`,
  };
}

/** A folder's listing; empty when it could not be listed (a missing folder has nothing to purge). */
function entriesOf(outcome: OperationOutcome | undefined): RetentionInputs['transcripts'] {
  return outcome?.ok ? (outcome.value as { entries: RetentionInputs['transcripts'] }).entries : [];
}

/**
 * Deletes transcripts, channel session records, log collection records and history entries older
 * than the retention period (at most 90 days), and log staging older than 7 days.
 */
async function retention(host: WindowsHost, now: Date): Promise<AgentResult> {
  const [record, history, transcripts, sessions, collections, staging] = await host.execute(
    [
      op('readFile', { path: DESIRED_STATE_FILE }),
      op('readFile', { path: HISTORY_FILE }),
      op('listDirectory', { path: TRANSCRIPT_FOLDER }),
      op('listDirectory', { path: CHANNEL_SESSIONS_FOLDER }),
      op('listDirectory', { path: LOG_COLLECTIONS_FOLDER }),
      op('listDirectory', { path: LOG_STAGING_FOLDER }),
    ],
    { phase: 'retention: observe', stopOnError: false },
  );
  const content = (outcome: typeof record) => (outcome?.ok ? (outcome.value as { content: string | null }).content : null);
  // Each record is read for its end time; one that cannot be read goes by its file's time.
  const recordFiles = (sessions?.ok ? (sessions.value as { entries: RetentionInputs['transcripts'] }).entries : []).filter((file) =>
    SESSION_RECORD_FILE_NAME.test(file.name),
  );
  const recordReads = await host.execute(
    recordFiles.map((file) => op('readFile', { path: `${CHANNEL_SESSIONS_FOLDER}\\${file.name}` })),
    { phase: 'retention: session records', stopOnError: false },
  );
  const plan = planRetention({
    desiredRecord: content(record),
    history: content(history),
    transcripts: transcripts?.ok ? (transcripts.value as { entries: RetentionInputs['transcripts'] }).entries : [],
    sessionRecords: recordFiles.map((file, index) => ({ ...file, content: content(recordReads[index]) })),
    logCollectionRecords: entriesOf(collections),
    logStaging: entriesOf(staging),
    now,
  });
  if (plan.operations.length > 0) {
    const results = await host.execute(plan.operations, { phase: 'retention: purge' });
    const failed = results.find((result) => !result.ok);
    if (failed && !failed.ok) return { exitCode: 1, output: `retention: ${failed.error.message}` };
  }
  return { exitCode: 0, output: describeRetention(plan) };
}
