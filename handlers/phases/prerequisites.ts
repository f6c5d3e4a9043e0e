/**
 * Turns the prerequisite checks (run on the probe of the observe batch, so no extra PowerShell
 * launch) into exit 51 with every failed check in the message and one substatus per check.
 */
import { ExitCode, PrerequisiteError } from '../../extension/errors';
import { describeFailures, type CheckResult } from '../../core/prerequisites';
import type { ProbeResult } from '../../windows/operations';

export interface PrerequisiteReport {
  probe: ProbeResult;
  results: CheckResult[];
}

/** Throws exit 51 with every failed check in the message and one substatus per check. */
export function requirePrerequisites(report: PrerequisiteReport): void {
  if (report.results.every((result) => result.passed)) return;
  throw new PrerequisiteError(
    describeFailures(report.results),
    report.results.map((result) => ({
      name: `Prerequisite: ${result.check}`,
      status: result.passed ? 'success' : 'error',
      code: result.passed ? 0 : ExitCode.PrerequisiteFailed,
      message: result.passed ? `Passed: ${result.observed}.` : `Failed: found ${result.observed}; requires ${result.required}. Fix: ${result.fix}.`,
    })),
  );
}
