/** Every boundary of the prerequisite checks (DESIGN section 5), as the owner reads them. */
import { checkPrerequisites, describeFailures, type LicenseObservation } from '../../core/prerequisites';
import type { ProbeResult } from '../../windows/operations';
import { resolveLicense, type AzureLicenseSource } from '../../handlers/license/license-source';
import { interpretLicenseProfile } from '../../core/interpret-license';

const GIB = 1024 ** 3;
const eligible: LicenseObservation = { kind: 'PayAsYouGo', source: 'azure', detail: 'productProfile WindowsServer Enabled' };

function probe(
  change: { buildNumber?: number; productType?: number; installedBytes?: number; status?: ProbeResult['arc']['status'] } = {},
): ProbeResult {
  return {
    computerName: 'SRV1',
    os: {
      caption: 'Microsoft Windows Server 2016 Standard',
      buildNumber: change.buildNumber ?? 14393,
      productType: change.productType ?? 3,
      installationType: 'Server Core',
    },
    memory: { installedBytes: change.installedBytes ?? 8 * GIB, usableBytes: 7.8 * GIB },
    arc: {
      status: change.status ?? 'Connected',
      resourceId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.HybridCompute/machines/SRV1',
      agentVersion: '1.48',
    },
    cluster: null,
  };
}

const failed = (probeResult: ProbeResult, license = eligible) =>
  checkPrerequisites(probeResult, license)
    .filter((result) => !result.passed)
    .map((result) => result.check);

describe('prerequisite checks', () => {
  it.each([
    [14392, 3, ['Operating system']],
    [14393, 3, []],
    [17763, 3, []],
    [20348, 2, []],
    [26100, 3, []],
    [19045, 1, ['Operating system']],
    [14393, 1, ['Operating system']],
  ])('build %i with product type %i fails %j', (buildNumber, productType, expected) => {
    expect(failed(probe({ buildNumber, productType }))).toEqual(expected);
  });

  it.each([
    [3.99 * GIB, ['Memory']],
    [4 * GIB - 1, ['Memory']],
    [4 * GIB, []],
    [64 * GIB, []],
  ])('%d bytes installed fails %j', (installedBytes, expected) => {
    expect(failed(probe({ installedBytes }))).toEqual(expected);
  });

  it.each([
    ['Connected', []],
    ['Disconnected', ['Azure Arc agent']],
    ['Expired', ['Azure Arc agent']],
    ['NotInstalled', ['Azure Arc agent']],
  ] as const)('Arc agent %s fails %j', (status, expected) => {
    expect(failed(probe({ status }))).toEqual(expected);
  });

  it.each([
    ['PayAsYouGo', []],
    ['SoftwareAssurance', []],
    ['NotEligible', ['License']],
    ['Unknown', ['License']],
  ] as const)('license %s fails %j', (kind, expected) => {
    expect(failed(probe(), { kind, source: 'azure', detail: 'x' })).toEqual(expected);
  });

  it('names the check, the value seen, the value required and the fix', () => {
    const message = describeFailures(checkPrerequisites(probe({ installedBytes: 3.99 * GIB, status: 'Disconnected' }), eligible));
    expect(message).toContain('Memory check failed: found 3.99 GiB installed; requires at least 4.00 GiB installed. Fix: add memory');
    expect(message).toContain(
      "Azure Arc agent check failed: found status Disconnected; requires status Connected. Fix: reconnect the machine: run 'azcmagent show'",
    );
    expect(describeFailures(checkPrerequisites(probe({ buildNumber: 14392 }), eligible))).toContain(
      'Operating system check failed: found Microsoft Windows Server 2016 Standard build 14392, product type 3 (server); requires Windows Server 2016 or later',
    );
  });
});

describe('the license as Azure reports it', () => {
  it.each([
    [{ softwareAssurance: { softwareAssuranceCustomer: true } }, 'SoftwareAssurance'],
    [
      {
        softwareAssurance: { softwareAssuranceCustomer: false },
        productProfile: { productType: 'WindowsServer', subscriptionStatus: 'Enabled' },
      },
      'PayAsYouGo',
    ],
    [{ productProfile: { productType: 'WindowsServer', subscriptionStatus: 'Disabled' } }, 'NotEligible'],
    [{ productProfile: { productType: 'WindowsServer', subscriptionStatus: 'Enabling' } }, 'NotEligible'],
    [{ softwareAssurance: { softwareAssuranceCustomer: false } }, 'NotEligible'],
    [{}, 'NotEligible'],
    [null, 'Unknown'],
  ])('%j is %s', (profile, kind) => {
    expect(interpretLicenseProfile(profile, 'azure').kind).toBe(kind);
  });
});

describe('where the license comes from', () => {
  const answering = (observation: LicenseObservation): AzureLicenseSource => ({ read: async () => ({ ok: true, observation }) });
  const refusing: AzureLicenseSource = {
    read: async () => ({ ok: false, reason: 'Azure Resource Manager answered 403 (AuthorizationFailed)' }),
  };
  const resourceId = '/subscriptions/s/resourceGroups/r/providers/Microsoft.HybridCompute/machines/SRV1';

  it('uses what Azure says when the machine may read its own resource, even against the control plane', async () => {
    const notEligible: LicenseObservation = { kind: 'NotEligible', source: 'azure', detail: 'productProfile none' };
    expect(await resolveLicense(answering(notEligible), resourceId, { kind: 'PayAsYouGo', observedAt: '2026-11-24T20:00:00Z' })).toEqual(
      notEligible,
    );
  });

  it('falls back to what the control plane saw when Azure refuses', async () => {
    const observation = await resolveLicense(refusing, resourceId, { kind: 'SoftwareAssurance', observedAt: '2026-11-24T20:00:00Z' });
    expect(observation).toMatchObject({ kind: 'SoftwareAssurance', source: 'control-plane' });
    expect(observation.detail).toContain('403 (AuthorizationFailed)');
  });

  it('is unknown, and so not eligible, when neither can say', async () => {
    const observation = await resolveLicense(refusing, resourceId, undefined);
    expect(observation).toMatchObject({ kind: 'Unknown', source: 'none' });
    expect(failed(probe(), observation)).toEqual(['License']);
    expect(describeFailures(checkPrerequisites(probe(), observation))).toContain(
      'found Unknown (no license information: Azure Resource Manager answered 403 (AuthorizationFailed))',
    );
  });

  it('does not ask Azure without a resource id', async () => {
    const read = jest.fn();
    expect(await resolveLicense({ read }, null, undefined)).toMatchObject({
      kind: 'Unknown',
      detail: 'the Arc agent reports no resource id for this machine',
    });
    expect(read).not.toHaveBeenCalled();
  });
});
