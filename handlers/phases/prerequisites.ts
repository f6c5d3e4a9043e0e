/**
 * The prerequisites phase: one probe batch (one PowerShell launch), then the license from Azure or
 * the control plane, then the pure checks. Fails the command with exit 51 and one substatus per
 * check when any check fails.
 */
import { ExitCode, HandlerError, PrerequisiteError } from '../../extension/errors';
import { checkPrerequisites, describeFailures, type CheckResult } from '../domain/prerequisites';
import { op, type ProbeResult } from '../host/operations';
import type { WindowsHost } from '../host/port';
import { resolveLicense, type AzureLicenseSource, type ObservedLicenseSetting } from '../license/license-source';

export interface PrerequisiteReport {
  probe: ProbeResult;
  results: CheckResult[];
}

export async function probeAndCheck(host: WindowsHost, license: AzureLicenseSource, observedLicense?: ObservedLicenseSetting): Promise<PrerequisiteReport> {
  const [outcome] = await host.execute([op('probe', {})], { phase: 'prerequisites' });
  if (!outcome?.ok) {
    const reason = outcome && !outcome.ok ? outcome.error.message : 'no result';
    throw new HandlerError(ExitCode.Failure, `Could not read this machine's operating system, memory and Arc agent state: ${reason}.`);
  }
  const probe = outcome.value as ProbeResult;
  return { probe, results: checkPrerequisites(probe, await resolveLicense(license, probe.arc.resourceId, observedLicense)) };
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
