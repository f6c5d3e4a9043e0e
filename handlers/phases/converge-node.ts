/**
 * One node, converged: observe (one host batch, the probe included), build the intent, plan, and
 * apply the steps (a second batch, only when something differs). The handlers and the node agent
 * both use this, so a handler run, a Reconcile and an Expire all end in the same place.
 */
import type { ProbeResult } from '../../windows/operations';
import type { WindowsHost } from '../../windows/port';
import { observeOperations, planNode, readObservation, type NodeIntent, type ObservedNode, type Step } from '../../core/node-plan';

export interface ConvergeResult {
  probe: ProbeResult | null;
  observed: ObservedNode;
  steps: Step[];
  /** The first step that failed, if any (the rest were skipped). */
  failure: { step: Step; message: string } | null;
}

export interface ConvergeOptions {
  node?: string;
  phase: string;
  jeaFilePaths: string[];
  /** Called with what was observed; returns the intent, or throws to stop before any change. */
  intentFor: (observed: ObservedNode, probe: ProbeResult | null) => NodeIntent | Promise<NodeIntent>;
}

export async function convergeNode(host: WindowsHost, options: ConvergeOptions): Promise<ConvergeResult> {
  const outcomes = await host.execute(observeOperations(options.jeaFilePaths), { phase: `${options.phase}: observe`, node: options.node, stopOnError: false });
  const unreachable = outcomes.find((outcome) => !outcome.ok && (outcome.error.code === 'NodeUnreachable' || outcome.error.code === 'AccessDenied'));
  if (unreachable && !unreachable.ok) throw new NodeNotReachable(options.node ?? 'local', unreachable.error.code, unreachable.error.message);
  const probe = outcomes[0]?.ok ? (outcomes[0].value as ProbeResult) : null;
  const observed = readObservation(outcomes, options.jeaFilePaths);
  const intent = await options.intentFor(observed, probe);
  const steps = planNode(intent, observed);
  if (steps.length === 0) return { probe, observed, steps, failure: null };
  const results = await host.execute(
    steps.map((step) => step.operation),
    { phase: `${options.phase}: apply`, node: options.node },
  );
  const index = results.findIndex((result) => !result.ok);
  const failed = index >= 0 ? results[index] : undefined;
  return {
    probe,
    observed,
    steps,
    failure: failed && !failed.ok ? { step: steps[index]!, message: `${failed.error.code}: ${failed.error.message}` } : null,
  };
}

/** A peer that is down or refuses us: reported per node, never a crash of the whole handler. */
export class NodeNotReachable extends Error {
  override readonly name = 'NodeNotReachable';

  constructor(
    readonly node: string,
    readonly code: string,
    detail: string,
  ) {
    super(`${node}: ${code === 'AccessDenied' ? 'access denied' : 'unreachable'} (${detail})`);
  }
}

export function isNodeNotReachable(error: unknown): error is NodeNotReachable {
  return error instanceof Error && error.name === 'NodeNotReachable' && typeof (error as Partial<NodeNotReachable>).code === 'string';
}
