/**
 * Reads the machine's own license from Azure Resource Manager with the machine's managed identity
 * (the Arc agent's identity endpoint), through the HybridCompute SDK's pipeline. The SDK release
 * pins an old api-version without license profiles, so the request names 2024-07-10 itself.
 * Loaded only when a check needs it: the identity and SDK packages are large.
 */
import type { LicenseObservation } from '../../core/prerequisites';
import { interpretLicenseProfile, type MachineLicenseProfile } from '../../core/interpret-license';

export const LICENSE_API_VERSION = '2024-07-10';
const DEFAULT_ARM_ENDPOINT = 'https://management.azure.com';

export interface AzureLicenseReaderOptions {
  /** Another ARM endpoint (sovereign clouds, tests). */
  endpoint?: string;
  timeoutMs?: number;
}

/** The license as Azure reports it, or why the machine could not read it. */
export type AzureLicenseRead = { ok: true; observation: LicenseObservation } | { ok: false; reason: string };

export async function readLicenseFromAzure(resourceId: string, options: AzureLicenseReaderOptions = {}): Promise<AzureLicenseRead> {
  const subscriptionId = /^\/subscriptions\/([^/]+)\//i.exec(resourceId)?.[1];
  if (!subscriptionId) return { ok: false, reason: `the Arc resource id ${JSON.stringify(resourceId)} is not a machine resource id` };
  const endpoint = (options.endpoint ?? DEFAULT_ARM_ENDPOINT).replace(/\/+$/, '');
  try {
    const [{ ManagedIdentityCredential }, { HybridComputeManagementClient }, { createPipelineRequest }] = await Promise.all([
      import('@azure/identity'),
      import('@azure/arm-hybridcompute'),
      import('@azure/core-rest-pipeline'),
    ]);
    const client = new HybridComputeManagementClient(new ManagedIdentityCredential(), subscriptionId, { endpoint });
    const request = createPipelineRequest({
      url: `${endpoint}${resourceId}?api-version=${LICENSE_API_VERSION}&$expand=instanceView`,
      method: 'GET',
      abortSignal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const response = await client.sendRequest(request);
    if (response.status !== 200) {
      return { ok: false, reason: `Azure Resource Manager answered ${response.status} ${errorCode(response.bodyAsText)}`.trim() };
    }
    const machine = JSON.parse(response.bodyAsText ?? '{}') as { properties?: { licenseProfile?: MachineLicenseProfile } };
    return { ok: true, observation: interpretLicenseProfile(machine.properties?.licenseProfile, 'azure') };
  } catch (error) {
    return { ok: false, reason: `the machine could not read its own resource (${firstLine((error as Error).message)})` };
  }
}

function errorCode(body: string | null | undefined): string {
  try {
    const code = (JSON.parse(body ?? '') as { error?: { code?: string } }).error?.code;
    return code ? `(${code})` : '';
  } catch {
    return '';
  }
}

function firstLine(text: string): string {
  const line = (text ?? '').split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
