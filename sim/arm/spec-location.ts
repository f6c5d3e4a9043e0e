/** Where the HybridCompute API document lives, and the api-versions it publishes. */
import { existsSync, readdirSync } from 'fs';
import path from 'path';

const REPO = path.resolve(__dirname, '..', '..');
export const SPECIFICATION_ROOT = path.resolve(REPO, '..', 'shared', 'specs', 'azure-rest-api-specs', 'specification');
const PROVIDER_FOLDER = path.join(SPECIFICATION_ROOT, 'hybridcompute', 'resource-manager', 'Microsoft.HybridCompute');

/** The stable HybridCompute.json of each published api-version, newest first. */
export function hybridComputeSpecs(): Array<{ apiVersion: string; file: string }> {
  const stable = path.join(PROVIDER_FOLDER, 'stable');
  if (!existsSync(stable)) throw new Error(`the HybridCompute API document folder ${stable} is missing`);
  return readdirSync(stable)
    .filter((version) => existsSync(path.join(stable, version, 'HybridCompute.json')))
    .sort()
    .reverse()
    .map((apiVersion) => ({ apiVersion, file: path.join(stable, apiVersion, 'HybridCompute.json') }));
}

/** The api-versions Resource Manager accepts here: exactly those the spec folder has. */
export function supportedApiVersions(): string[] {
  return hybridComputeSpecs().map((spec) => spec.apiVersion);
}
