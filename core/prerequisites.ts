/**
 * The prerequisite checks (DESIGN section 5) as a pure function of what the node reported and what
 * Azure says of its license. Each failed check names the check, the value seen, the value
 * required and the fix, so the owner can act on the status message alone.
 */
import type { ProbeResult } from '../windows/operations';

export const MINIMUM_BUILD = 14393;
export const MINIMUM_MEMORY_BYTES = 4 * 1024 ** 3;

/** What is known of the machine's Windows Server license, and from where. */
export interface LicenseObservation {
  kind: 'PayAsYouGo' | 'SoftwareAssurance' | 'NotEligible' | 'Unknown';
  /** azure: read by the machine itself; control-plane: passed in settings; none: nobody knew. */
  source: 'azure' | 'control-plane' | 'none';
  /** What was seen, for the message (e.g. "softwareAssuranceCustomer false, productProfile none"). */
  detail: string;
}

export interface CheckResult {
  check: 'Operating system' | 'Memory' | 'Azure Arc agent' | 'License';
  passed: boolean;
  observed: string;
  required: string;
  fix: string;
}

const PRODUCT_TYPES: Record<number, string> = { 1: 'workstation', 2: 'domain controller', 3: 'server' };

export function checkPrerequisites(probe: ProbeResult, license: LicenseObservation): CheckResult[] {
  const { os, memory, arc } = probe;
  const gib = (bytes: number) => `${(Math.floor((bytes / 1024 ** 3) * 100) / 100).toFixed(2)} GiB`;
  const isServer = os.productType === 2 || os.productType === 3;
  return [
    {
      check: 'Operating system',
      passed: os.buildNumber >= MINIMUM_BUILD && isServer,
      observed: `${os.caption} build ${os.buildNumber}, product type ${os.productType} (${PRODUCT_TYPES[os.productType] ?? 'unknown'})`,
      required: `Windows Server 2016 or later: build ${MINIMUM_BUILD} or higher and product type 2 (domain controller) or 3 (server)`,
      fix: 'install the extension on Windows Server 2016, 2019, 2022 or 2025; Windows client editions are not supported',
    },
    {
      check: 'Memory',
      passed: memory.installedBytes >= MINIMUM_MEMORY_BYTES,
      observed: `${gib(memory.installedBytes)} installed`,
      required: 'at least 4.00 GiB installed',
      fix: 'add memory to the machine (or the virtual machine) and run enable again',
    },
    {
      check: 'Azure Arc agent',
      passed: arc.status === 'Connected',
      observed: `status ${arc.status}`,
      required: 'status Connected',
      fix: "reconnect the machine: run 'azcmagent show' to see why, then 'azcmagent connect' or check the machine's network access to Azure",
    },
    {
      check: 'License',
      passed: license.kind === 'PayAsYouGo' || license.kind === 'SoftwareAssurance',
      observed: `${license.kind} (${license.source === 'none' ? `no license information: ${license.detail}` : `from ${license.source}: ${license.detail}`})`,
      required: 'Windows Server Pay-as-you-go or Software Assurance',
      fix: "attest Software Assurance or enable Windows Server Pay-as-you-go on the machine in Azure (licenseProfile); if the machine's managed identity may not read its own resource, deploy or grant through the control plane, which passes the license it saw",
    },
  ];
}

/** One check as the owner reads it under the check's name. */
export function describeCheck(result: CheckResult): string {
  return result.passed
    ? `Passed: ${result.observed}.`
    : `Failed: found ${result.observed}; requires ${result.required}. Fix: ${result.fix}.`;
}

/** One line per failed check, for the status message. */
export function describeFailures(results: CheckResult[]): string {
  return results
    .filter((result) => !result.passed)
    .map((result) => `${result.check} check failed: found ${result.observed}; requires ${result.required}. Fix: ${result.fix}.`)
    .join(' ');
}
