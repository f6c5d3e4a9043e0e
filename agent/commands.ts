/**
 * The node agent's commands, run by the scheduled tasks from the stable agent folder:
 * `reconcile` converges the node to its desired-state record (failing closed), `expire --grant <id>`
 * does the same at a grant's expiry (its task is then no longer wanted and is deleted),
 * `retention` deletes transcripts and history older than the retention period, and `status`
 * prints the access in force. The same plan and apply code as the handlers.
 *
 * Exit codes: 0 done; 1 failed (access may not be as recorded: the output says where it stopped);
 * 2 bad command line; 3 done, but an audit record (history line or event) could not be written:
 * it waits in the node's pending audit file for the next run, and the output says what and why.
 */
import { parseDesiredRecord } from '../core/desired-record';
import { formatUtc } from '../core/desired-state';
import { DESIRED_STATE_FILE, HISTORY_FILE, TRANSCRIPT_FOLDER } from '../core/node-layout';
import { buildNodeIntent, grantInForce } from '../core/node-intent';
import { describeRetention, planRetention, type RetentionInputs } from '../core/retention-plan';
import { op } from '../windows/operations';
import type { WindowsHost } from '../windows/port';
import { applyIntent, NodeNotReachable, observeNode } from '../handlers/phases/converge-node';
import { auditIncomplete, describeAuditReport } from '../core/pending-audit';

export interface AgentResult {
  exitCode: number;
  output: string;
}

/** Converged, but an audit record waits to be written (Task Scheduler shows it as the last run result). */
export const AUDIT_NOT_RECORDED_EXIT = 3;

export const AGENT_USAGE = 'usage: agent <reconcile | expire --grant <id> | retention | status>';

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
      return status(host, now);
    default:
      return { exitCode: 2, output: AGENT_USAGE };
  }
}

async function converge(host: WindowsHost, now: Date, phase: string): Promise<AgentResult> {
  const seen = await observeNode(host, { phase }, []);
  if (seen.kind === 'not-reached') throw new NodeNotReachable('local', seen.code, seen.detail);
  const { record, problem } = parseDesiredRecord(seen.observed.files[DESIRED_STATE_FILE] ?? null);
  const intent = buildNodeIntent({ record, previous: record, observed: seen.observed, now, changedBy: `agent ${phase}` });
  const result = await applyIntent(host, { phase }, intent, seen.observed);
  const done = result.steps.map((step) => step.description).join('; ') || 'nothing to change';
  const audit = auditIncomplete(result.audit) ? ` ${describeAuditReport(result.audit)}` : '';
  if (result.failure) return { exitCode: 1, output: `${phase}: failed at '${result.failure.step.description}': ${result.failure.message}${audit ? `.${audit}` : ''}` };
  return { exitCode: audit ? AUDIT_NOT_RECORDED_EXIT : 0, output: `${phase}: ${done}${problem ? ` (${problem})` : ''}${audit ? `.${audit}` : ''}` };
}

/** Deletes transcripts and history entries older than the retention period (at most 90 days). */
async function retention(host: WindowsHost, now: Date): Promise<AgentResult> {
  const [record, history, transcripts] = await host.execute(
    [op('readFile', { path: DESIRED_STATE_FILE }), op('readFile', { path: HISTORY_FILE }), op('listDirectory', { path: TRANSCRIPT_FOLDER })],
    { phase: 'retention: observe', stopOnError: false },
  );
  const content = (outcome: typeof record) => (outcome?.ok ? (outcome.value as { content: string | null }).content : null);
  const plan = planRetention({
    desiredRecord: content(record),
    history: content(history),
    transcripts: transcripts?.ok ? (transcripts.value as { entries: RetentionInputs['transcripts'] }).entries : [],
    now,
  });
  if (plan.operations.length > 0) {
    const results = await host.execute(plan.operations, { phase: 'retention: purge' });
    const failed = results.find((result) => !result.ok);
    if (failed && !failed.ok) return { exitCode: 1, output: `retention: ${failed.error.message}` };
  }
  return { exitCode: 0, output: describeRetention(plan) };
}

async function status(host: WindowsHost, now: Date): Promise<AgentResult> {
  const [record] = await host.execute([op('readFile', { path: DESIRED_STATE_FILE })], { phase: 'status' });
  const content = record?.ok ? (record.value as { content: string | null }).content : null;
  const grant = grantInForce(parseDesiredRecord(content).record, now);
  return {
    exitCode: 0,
    output: grant ? `Access: ${grant.level} for support request ${grant.supportRequestId} until ${formatUtc(grant.expiresAt)}.` : 'Access: none.',
  };
}
