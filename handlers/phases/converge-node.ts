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
import type { JeaDefinition } from '../../core/node-intent';
import {
  observeOperations,
  planNode,
  readObservation,
  type AgentInstallation,
  type NodeIntent,
  type ObservedNode,
} from '../../core/node-plan';
import { describeUnreached, type ConvergedNode, type NotReached, type Unreached } from '../../core/node-report';
import { ExitCode, HandlerError } from '../../extension/errors';
import { refuseEndedGrant } from '../../core/ended-grants';
import type { ProbeResult } from '../../windows/operations';
import type { OperationOutcome, WindowsHost } from '../../windows/port';
import type { NodeAdapters } from '../compose';
import { resolveLicense, type ObservedLicenseSetting } from '../license/license-source';

/** The node a batch goes to (default the local one), and the phase that names it in errors and logs. */
export interface NodeTarget {
  node?: string;
  phase: string;
  /** Stop at the first failed step (default true); false tries every step and reports each outcome. */
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
  return { kind: 'observed', probe, observed: readObservation(outcomes, jeaFilePaths) };
}

/** Plans the node from what was observed and applies the steps, stopping at the first that fails unless told not to. */
export async function applyIntent(
  host: WindowsHost,
  target: NodeTarget,
  intent: NodeIntent,
  observed: ObservedNode,
): Promise<AppliedSteps> {
  const steps = planNode(intent, observed);
  if (steps.length === 0) return { steps, outcomes: [], failure: null };
  const outcomes = await host.execute(
    steps.map((step) => step.operation),
    { phase: `${target.phase}: apply`, node: target.node, stopOnError: target.stopOnError },
  );
  const index = outcomes.findIndex((result) => !result.ok);
  const failed = index >= 0 ? outcomes[index] : undefined;
  return {
    steps,
    outcomes,
    failure: failed && !failed.ok ? { step: steps[index]!, message: `${failed.error.code}: ${failed.error.message}` } : null,
  };
}

export interface AppliedSteps extends Pick<ConvergedNode, 'steps' | 'failure'> {
  /** Each step's outcome, in the steps' order (none when nothing needed doing). */
  outcomes: OperationOutcome[];
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
  const decision = decideNode(seen, who, request, await readFacts(binding, factsToRead(seen, who, request), request));
  if (decision.kind === 'fail') throw new HandlerError(ExitCode.Failure, decision.message);
  if (decision.kind === 'refuse') refuseEndedGrant(decision.ended);
  if (decision.kind === 'leave') return decision;
  const applied = await applyIntent(binding.host, request, decision.intent, seen.observed);
  const refused = decision.refused ? { refused: decision.refused } : {};
  return { kind: 'converged', record: decision.record, probe: seen.probe, observed: seen.observed, ...applied, ...refused };
}

async function readFacts(binding: NodeAdapters, toRead: FactsToRead, request: HandlerNodeRequest): Promise<NodeFacts> {
  return {
    license: toRead.license && (await resolveLicense(binding.license, toRead.license.resourceId, request.observedLicense)),
    jea: toRead.installation && (await request.jea(toRead.installation.computerName)),
    agent: toRead.installation && (await request.agent()),
  };
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
