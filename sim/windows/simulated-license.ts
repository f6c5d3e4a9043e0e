/**
 * The simulated machine's view of Azure: the license Azure holds for the Arc resource, readable
 * only when the model says the machine's managed identity may read its own resource.
 */
import { interpretLicenseProfile } from '../../core/interpret-license';
import type { AzureLicenseSource } from '../../handlers/license/license-source';
import { readMachine } from './default-machine';

export function simulatedLicenseSource(modelPath: string): AzureLicenseSource {
  return {
    async read(resourceId) {
      const model = await readMachine(modelPath);
      const node = Object.values(model.nodes).find((candidate) => candidate.arc.resourceId?.toLowerCase() === resourceId.toLowerCase());
      if (!node) return { ok: false, reason: 'Azure Resource Manager answered 404 (ResourceNotFound)' };
      if (!node.azure.managedIdentityCanReadMachine)
        return { ok: false, reason: 'Azure Resource Manager answered 403 (AuthorizationFailed)' };
      const { softwareAssuranceCustomer, productType, subscriptionStatus } = node.azure;
      return {
        ok: true,
        observation: interpretLicenseProfile(
          softwareAssuranceCustomer === null && productType === null
            ? null
            : { softwareAssurance: { softwareAssuranceCustomer }, productProfile: { productType, subscriptionStatus } },
          'azure',
        ),
      };
    },
  };
}
