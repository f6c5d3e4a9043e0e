/**
 * One node, converged: observe (one host batch, the probe included), decide, and apply the steps
 * (a second batch, only when something differs). The handler decides with core/decide-node.ts,
 * for its own node and for each cluster peer it covers; the node agent observes and applies with
 * the intent of the node's own record. So a handler run, a Reconcile and an Expire all end in the
 * same place.
 */
import {
  decideNode,
  factsToRead,
  type FactsToRead,
  type LeaveDecision,
  type NodeFacts,
  type NodeRequest,
  type NodeRole,
  type SeenNode,
} from '../../core/decide-node';
import { failedStep, nextBatch, notRunOutcome } from '../../core/apply-order';
import { auditIdsInEvents, auditIdsInHistory } from '../../core/audit-record';
import { DATA_FOLDER, EVENT_SOURCE, HISTORY_FILE, PENDING_AUDIT_FILE } from '../../core/node-layout';
import type { JeaDefinition } from '../../core/node-intent';
import {
  observeOperations,
  planNode,
  readObservation,
  type AgentInstallation,
  type NodeIntent,
  type ObservedNode,
  type Step,
} from '../../core/node-plan';
import { describeUnreached, type ConvergedNode, type NotReached, type Unreached } from '../../core/node-report';
import {
  parsePendingAudit,
  pendingAfter,
  serializePendingAudit,
  waitsForEvent,
  type AuditAttempt,
  type AuditReport,
} from '../../core/pending-audit';
import { ExitCode, HandlerError } from '../../extension/errors';
import { refuseEndedGrant } from '../../core/ended-grants';
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../../windows/acl';
import { op, type OperationRequest, type ProbeResult } from '../../windows/operations';
import { isHostBatchError, type OperationOutcome, type WindowsHost } from '../../windows/port';
import type { NodeAdapters } from '../compose';
import { resolveLicense, type ObservedLicenseSetting } from '../license/license-source';

/** The node a batch goes to (default the local one), and the phase that names it in errors and logs. */
export interface NodeTarget {
  node?: string;
  phase: string;
  /**
   * false: a failed step stops no later step (each outcome is reported), where by default it stops
   * the changes after it. Either way access is taken away whatever failed, and an audit write
   * waits on the removals it records (core/apply-order.ts).
   */
  stopOnError?: boolean;
}

export type NodeObservation = ({ kind: 'observed' } & SeenNode) | NotReached;

export async function observeNode(host: WindowsHost, target: NodeTarget, jeaFilePaths: string[]): Promise<NodeObservation> {
  const outcomes = await host.execute(observeOperations(jeaFilePaths), {
    phase: `${target.phase}: observe`,
    node: target.node,
    stopOnError: false,
  });
  for (const outcome of outcomes) {
    if (!outcome.ok && (outcome.error.code === 'NodeUnreachable' || outcome.error.code === 'AccessDenied')) {
      return { kind: 'not-reached', code: outcome.error.code, detail: outcome.error.message };
    }
  }
  const probe = outcomes[0]?.ok ? (outcomes[0].value as ProbeResult) : null;
  const observed = readObservation(outcomes, jeaFilePaths);
  // Only when an event waits to be written again: which of ours the log already has (a batch more).
  if (waitsForEvent(observed.files[PENDING_AUDIT_FILE] ?? null)) observed.loggedAuditIds = await loggedAuditIds(host, target);
  return { kind: 'observed', probe, observed };
}

/**
 * The ids of our records in the node's event log; undefined when it cannot be read (the waiting
 * event then keeps waiting). Never a reason to fail the run: access must still be taken away.
 */
async function loggedAuditIds(host: WindowsHost, target: NodeTarget): Promise<string[] | undefined> {
  try {
    const [read] = await host.execute([op('readEvents', { source: EVENT_SOURCE })], {
      phase: `${target.phase}: observe the event log`,
      node: target.node,
      stopOnError: false,
    });
    return read?.ok ? auditIdsInEvents((read.value as { events: Array<{ message: string }> }).events) : undefined;
  } catch (error) {
    if (isHostBatchError(error)) return undefined;
    throw error;
  }
}

export interface AppliedIntent extends Pick<ConvergedNode, 'steps' | 'failure' | 'audit'> {
  /** Each step's outcome, in the steps' order (a step not run says so: code Skipped). */
  outcomes: OperationOutcome[];
}

/**
 * Plans the node from what was observed and applies the steps in the order and by the rules of
 * core/apply-order.ts: access is taken away whatever else fails, and a failed audit write stops
 * nothing. The audit records not written then wait in the node's pending audit file.
 */
export async function applyIntent(
  host: WindowsHost,
  target: NodeTarget,
  intent: NodeIntent,
  observed: ObservedNode,
): Promise<AppliedIntent> {
  const steps = planNode(intent, observed);
  const outcomes = await runSteps(host, target, steps);
  const audit = await keepUnrecorded(host, target, intent, observed, steps, outcomes);
  return { steps, outcomes, failure: failedStep(steps, outcomes), audit };
}

async function runSteps(host: WindowsHost, target: NodeTarget, steps: Step[]): Promise<OperationOutcome[]> {
  const outcomes: Array<OperationOutcome | undefined> = new Array(steps.length).fill(undefined);
  const order = { tryEvery: target.stopOnError === false };
  for (let batch = nextBatch(steps, outcomes, order); batch; batch = nextBatch(steps, outcomes, order)) {
    for (const index of batch.notRun) outcomes[index] = notRunOutcome(steps[index]!);
    if (batch.run.length === 0) continue;
    const results = await host.execute(
      batch.run.map((index) => steps[index]!.operation),
      { phase: `${target.phase}: apply`, node: target.node, stopOnError: batch.stopOnError },
    );
    // A step the host skipped after a failure is decided by the next batch; one that never ran at all is final.
    const progressed = results.some((result) => result.ok || result.error.code !== 'Skipped');
    batch.run.forEach((index, position) => {
      const result = results[position];
      if (result && (!progressed || result.ok || result.error.code !== 'Skipped')) outcomes[index] = result;
      else if (!result) outcomes[index] = notRunOutcome(steps[index]!);
    });
  }
  return outcomes as OperationOutcome[];
}

/**
 * Writes what is still not recorded to the pending audit file (or removes the file when nothing
 * waits any more). Only when that changed: a run without a failure launches nothing more.
 */
async function keepUnrecorded(
  host: WindowsHost,
  target: NodeTarget,
  intent: NodeIntent,
  observed: ObservedNode,
  steps: Step[],
  outcomes: OperationOutcome[],
): Promise<AuditReport> {
  const before = observed.files[PENDING_AUDIT_FILE] ?? null;
  const waiting = parsePendingAudit(before);
  const attempts = steps.flatMap((step, index): AuditAttempt[] => {
    const outcome = outcomes[index]!;
    if (!step.audit) return [];
    if (outcome.ok) return [{ ...step.audit, result: 'written' }];
    if (outcome.error.code === 'Skipped') return [{ ...step.audit, result: 'not-run' }];
    return [{ ...step.audit, result: 'failed', error: `${outcome.error.code}: ${outcome.error.message}` }];
  });
  const unrecorded = pendingAfter({
    before: waiting.records,
    records: intent.audit,
    keepsHistory: intent.present,
    inHistory: auditIdsInHistory(observed.files[HISTORY_FILE] ?? null),
    logged: observed.loggedAuditIds ? new Set(observed.loggedAuditIds) : null,
    attempts,
  });
  // A file that cannot be read is left for the owner to read: never written over.
  if (waiting.problem) return { unrecorded, keptIn: null, problem: waiting.problem };
  const text = unrecorded.length > 0 ? serializePendingAudit(unrecorded) : null;
  // Uninstall removed the data folder, and the file with it: what still waits is written again.
  if (text === before && (intent.present || text === null)) return { unrecorded, keptIn: text ? PENDING_AUDIT_FILE : null, problem: null };
  const operations: OperationRequest[] = text
    ? [
        op('ensureDirectory', { path: DATA_FOLDER, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
        op('writeFile', { path: PENDING_AUDIT_FILE, content: text, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
      ]
    : [op('removePath', { path: PENDING_AUDIT_FILE })];
  let failed: string | null;
  try {
    const results = await host.execute(operations, { phase: `${target.phase}: keep the audit not recorded`, node: target.node });
    const failure = results.find((result) => !result.ok);
    failed = failure && !failure.ok ? `${PENDING_AUDIT_FILE} could not be written: ${failure.error.code}: ${failure.error.message}` : null;
  } catch (error) {
    if (!isHostBatchError(error)) throw error;
    failed = `${PENDING_AUDIT_FILE} could not be written: ${error.message}`;
  }
  if (failed) return { unrecorded, keptIn: null, problem: failed };
  return { unrecorded, keptIn: text ? PENDING_AUDIT_FILE : null, problem: null };
}

export interface HandlerNodeRequest extends NodeRequest, NodeTarget {
  jeaFilePaths: string[];
  jea: (computerName: string) => Promise<JeaDefinition>;
  agent: () => Promise<AgentInstallation>;
  /** The license the control plane saw, from the settings: it is about this node only. */
  observedLicense?: ObservedLicenseSetting;
}

/**
 * The handler's run on one node: observe, read what the decision needs, decide, and converge when
 * that is the decision. A node that cannot be reached, or is left alone, is a value to report; a
 * node whose probe cannot be read fails the command.
 */
export async function convergeNode(
  binding: NodeAdapters,
  who: NodeRole,
  request: HandlerNodeRequest,
): Promise<NotReached | LeaveDecision | ConvergedNode> {
  const seen = await observeNode(binding.host, request, request.jeaFilePaths);
  if (seen.kind === 'not-reached') return seen;
  const { facts, packageProblem } = await readFacts(binding, factsToRead(seen, who, request), request);
  const decision = decideNode(seen, who, request, facts);
  if (decision.kind === 'fail') throw new HandlerError(ExitCode.Failure, decision.message);
  if (decision.kind === 'refuse') refuseEndedGrant(decision.ended);
  if (decision.kind === 'leave') return decision;
  // A broken package never gives access, and never keeps access from being taken away: the
  // removal runs without the package's files (JEA and agent are left as they are), then the run fails.
  if (packageProblem && decision.intent.grant) throw packageProblem;
  const { steps, failure, audit } = await applyIntent(binding.host, request, decision.intent, seen.observed);
  if (packageProblem) throw packageProblem;
  const refused = decision.refused ? { refused: decision.refused } : {};
  return { kind: 'converged', record: decision.record, probe: seen.probe, observed: seen.observed, steps, failure, audit, ...refused };
}

/** What the decision needs beyond the node; a package whose files cannot be read is a problem to report, not a stop. */
async function readFacts(
  binding: NodeAdapters,
  toRead: FactsToRead,
  request: HandlerNodeRequest,
): Promise<{ facts: NodeFacts; packageProblem?: HandlerError }> {
  const license = toRead.license && (await resolveLicense(binding.license, toRead.license.resourceId, request.observedLicense));
  if (!toRead.installation) return { facts: { license } };
  try {
    return { facts: { license, jea: await request.jea(toRead.installation.computerName), agent: await request.agent() } };
  } catch (error) {
    const detail = (error as Error).message;
    return {
      facts: { license },
      packageProblem: new HandlerError(
        ExitCode.MissingDependency,
        `The extension package is incomplete (${detail}); access was not given, and any access in force was taken away. Reinstall the extension.`,
      ),
    };
  }
}

/** This node (or the agent's) could not be reached: that fails the command. */
export class NodeNotReachable extends Error {
  override readonly name = 'NodeNotReachable';

  constructor(
    readonly node: string,
    readonly code: Unreached,
    detail: string,
  ) {
    super(describeUnreached(node, code, detail));
    this.name = 'NodeNotReachable';
  }
}

export function isNodeNotReachable(error: unknown): error is NodeNotReachable {
  return error instanceof Error && error.name === 'NodeNotReachable' && typeof (error as Partial<NodeNotReachable>).code === 'string';
}
