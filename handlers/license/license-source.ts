/**
 * Where the handler learns the machine's license: Azure first (the machine reading its own
 * resource), then what the control plane saw and passed in settings. Neither saying eligible
 * fails the check: an unknown license is not eligible.
 */
import type { LicenseObservation } from '../../core/prerequisites';
import type { AzureLicenseRead } from './azure-license-reader';

/** Reads the license Azure holds for a machine resource; the real one uses the managed identity. */
export interface AzureLicenseSource {
  read(resourceId: string): Promise<AzureLicenseRead>;
}

/** `observedLicense` of the public settings, as the schema shaped it. */
export interface ObservedLicenseSetting {
  kind: 'PayAsYouGo' | 'SoftwareAssurance' | 'NotEligible';
  observedAt: string;
}

export async function resolveLicense(
  source: AzureLicenseSource,
  resourceId: string | null,
  fromControlPlane: ObservedLicenseSetting | undefined,
): Promise<LicenseObservation> {
  const azure: AzureLicenseRead = resourceId
    ? await source.read(resourceId)
    : { ok: false, reason: 'the Arc agent reports no resource id for this machine' };
  if (azure.ok) return azure.observation;
  if (fromControlPlane) {
    return {
      kind: fromControlPlane.kind,
      source: 'control-plane',
      detail: `seen at ${fromControlPlane.observedAt}; Azure could not be asked because ${azure.reason}`,
    };
  }
  return { kind: 'Unknown', source: 'none', detail: azure.reason };
}

/** The production source: the machine's managed identity against Azure Resource Manager. */
export function managedIdentityLicenseSource(endpoint?: string): AzureLicenseSource {
  return {
    async read(resourceId) {
      const { readLicenseFromAzure } = await import('./azure-license-reader');
      return readLicenseFromAzure(resourceId, { endpoint });
    },
  };
}
