/**
 * How Azure's view of a machine's license becomes eligibility (DESIGN section 5): Software
 * Assurance attested, or Windows Server Pay-as-you-go enabled. Anything else, including no
 * license information at all, is not eligible.
 */
import type { LicenseObservation } from './prerequisites';

/** `properties.licenseProfile` of a Microsoft.HybridCompute machine (api-version 2024-07-10). */
export interface MachineLicenseProfile {
  softwareAssurance?: { softwareAssuranceCustomer?: boolean | null } | null;
  productProfile?: { productType?: string | null; subscriptionStatus?: string | null } | null;
}

export function interpretLicenseProfile(
  profile: MachineLicenseProfile | null | undefined,
  source: LicenseObservation['source'],
): LicenseObservation {
  if (!profile) return { kind: 'Unknown', source, detail: 'the machine resource has no licenseProfile' };
  const softwareAssurance = profile.softwareAssurance?.softwareAssuranceCustomer === true;
  const productType = profile.productProfile?.productType ?? null;
  const subscriptionStatus = profile.productProfile?.subscriptionStatus ?? null;
  const detail = `softwareAssuranceCustomer ${softwareAssurance}, productProfile ${productType ?? 'none'}${subscriptionStatus ? ` ${subscriptionStatus}` : ''}`;
  if (softwareAssurance) return { kind: 'SoftwareAssurance', source, detail };
  if (productType === 'WindowsServer' && subscriptionStatus === 'Enabled') return { kind: 'PayAsYouGo', source, detail };
  return { kind: 'NotEligible', source, detail };
}
