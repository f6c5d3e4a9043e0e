/**
 * Where the API documents of the providers the emulator serves live, and the api-versions each
 * publishes: Microsoft.HybridCompute (machines, extensions), Microsoft.Relay (namespaces, hybrid
 * connections, their rules) and Microsoft.Support (support tickets).
 */
import { existsSync, readdirSync } from 'fs';
import path from 'path';

const REPO = path.resolve(__dirname, '..', '..');
export const SPECIFICATION_ROOT = path.resolve(REPO, '..', 'shared', 'specs', 'azure-rest-api-specs', 'specification');

export type EmulatedProvider = 'Microsoft.HybridCompute' | 'Microsoft.Relay' | 'Microsoft.Support';

/** Per provider: its folder under specification/, and the files one stable api-version consists of. */
const PROVIDERS: Record<EmulatedProvider, { folder: string; files: string[] }> = {
  'Microsoft.HybridCompute': { folder: 'hybridcompute', files: ['HybridCompute.json'] },
  'Microsoft.Relay': { folder: 'relay', files: ['Namespaces.json', 'hybridConnections.json', 'authorizationRules.json'] },
  'Microsoft.Support': { folder: 'support', files: ['support.json'] },
};

export interface ProviderSpec {
  provider: EmulatedProvider;
  apiVersion: string;
  files: string[];
}

/** The stable api-versions of one provider that have all its files, newest first. */
export function providerSpecs(provider: EmulatedProvider): ProviderSpec[] {
  const { folder, files } = PROVIDERS[provider];
  const stable = path.join(SPECIFICATION_ROOT, folder, 'resource-manager', provider, 'stable');
  if (!existsSync(stable)) throw new Error(`the ${provider} API document folder ${stable} is missing`);
  return readdirSync(stable)
    .filter((version) => files.every((file) => existsSync(path.join(stable, version, file))))
    .sort()
    .reverse()
    .map((apiVersion) => ({ provider, apiVersion, files: files.map((file) => path.join(stable, apiVersion, file)) }));
}

/** Every document of every provider: what the traffic validator loads. */
export function allSpecFiles(): string[] {
  return (Object.keys(PROVIDERS) as EmulatedProvider[]).flatMap((provider) => providerSpecs(provider).flatMap((spec) => spec.files));
}

/** The api-versions Resource Manager accepts for each provider: exactly those the spec folders have. */
export function supportedApiVersions(): Record<EmulatedProvider, string[]> {
  const versions = {} as Record<EmulatedProvider, string[]>;
  for (const provider of Object.keys(PROVIDERS) as EmulatedProvider[]) {
    versions[provider] = providerSpecs(provider).map((spec) => spec.apiVersion);
  }
  return versions;
}

/** The provider a request path names ('/subscriptions/x/providers/Microsoft.Relay/...'), matched without letter case. */
export function providerOfPath(requestPath: string): EmulatedProvider | undefined {
  const named = /\/providers\/([^/]+)/i.exec(requestPath)?.[1]?.toLowerCase();
  return (Object.keys(PROVIDERS) as EmulatedProvider[]).find((provider) => provider.toLowerCase() === named);
}
