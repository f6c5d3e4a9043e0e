/**
 * Which steps of a plan run, given what the steps before them did (the kinds are in node-plan.ts):
 * - a step that takes access away always runs;
 * - an audit write runs once every step before it that takes access away succeeded (the record
 *   says what was done: when that failed, the next run finds the change again and records it
 *   then); its own failure stops nothing;
 * - any other step runs only while every step before it that is not an audit write succeeded (the
 *   agent's version file is not written after a failed copy, nobody is given access after their
 *   expiry task failed to register).
 *
 * With `tryEvery` (the owner's local revoke, which reports each step), a failure stops no other
 * step: only an audit write still waits on the removals it records, lest it record what did not
 * happen.
 *
 * Applying sends batches: as many steps as can run in one go, the host stopping at a failure when
 * a later step of the batch depends on it; then the steps that must still run. Without a failure
 * that is one batch. Pure.
 */
import type { Step } from './node-plan';
import type { OperationOutcome } from '../windows/port';

export interface NextBatch {
  /** The steps to run now, in order. */
  run: number[];
  /** The steps that will not run: a step before them failed. */
  notRun: number[];
  /** Whether the host must stop at the first failure: a later step of the batch depends on it. */
  stopOnError: boolean;
}

/** The next batch, given the outcomes so far (undefined: not run yet); null when every step is decided. */
export function nextBatch(
  steps: Step[],
  outcomes: Array<OperationOutcome | undefined>,
  { tryEvery = false }: { tryEvery?: boolean } = {},
): NextBatch | null {
  let stopped = false;
  let accessFailed = false;
  const run: number[] = [];
  const notRun: number[] = [];
  steps.forEach((step, index) => {
    const outcome = outcomes[index];
    if (outcome) {
      if (!outcome.ok && step.kind !== 'audit' && !tryEvery) stopped = true;
      if (!outcome.ok && step.kind === 'remove-access') accessFailed = true;
    } else if ((step.kind === 'audit' && accessFailed) || (step.kind === 'change' && stopped)) {
      notRun.push(index);
    } else {
      run.push(index);
    }
  });
  if (run.length === 0 && notRun.length === 0) return null;
  // The host stops at a failure when a later step of the batch would then not run.
  const dependent = run.some(
    (index, position) =>
      (steps[index]!.kind === 'change' && !tryEvery) ||
      (steps[index]!.kind === 'audit' && run.slice(0, position).some((before) => steps[before]!.kind === 'remove-access')),
  );
  return { run, notRun, stopOnError: dependent };
}

/** The outcome of a step that was not run because a step before it failed. */
export function notRunOutcome(step: Step): OperationOutcome {
  return { ok: false, error: { operation: step.operation.op, code: 'Skipped', message: 'Not run: an earlier step failed', target: null } };
}

/** The step that failed the run: the first failure that is not an audit write (those wait in the pending audit). */
export function failedStep(steps: Step[], outcomes: Array<OperationOutcome | undefined>): { step: Step; message: string } | null {
  const failures = steps.flatMap((step, index) => {
    const outcome = outcomes[index];
    return outcome && !outcome.ok && step.kind !== 'audit' ? [{ step, error: outcome.error }] : [];
  });
  // A step that was not run says less than the failure that stopped it.
  const first = failures.find((failure) => failure.error.code !== 'Skipped') ?? failures[0];
  return first ? { step: first.step, message: `${first.error.code}: ${first.error.message}` } : null;
}
