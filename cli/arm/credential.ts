import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { CredentialError } from '../errors';

export const DEFAULT_ARM_ENDPOINT = 'https://management.azure.com';

/** The token scope for a Resource Manager endpoint: `<endpoint>/.default`. */
export function armScope(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/.default`;
}

/** DefaultAzureCredential, loaded only when a command talks to Azure. */
export function defaultCredential(): TokenCredential {
  // require, not import(): a real import() would start Node's ESM loader for one package.
  const { DefaultAzureCredential } = require('@azure/identity') as typeof import('@azure/identity');
  return new DefaultAzureCredential();
}

export const NO_CREDENTIAL_FIX = [
  'No Azure credential could be obtained. Do one of these, then run the command again:',
  '  - sign in with the Azure CLI: az login (and az account set --subscription <id>)',
  '  - or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET for a service principal',
  '  - or run where a managed identity is available (an Azure VM, or an Arc-enabled server)',
].join('\n');

/**
 * Gets a token once before any target is touched: a missing credential is one clear message and
 * exit 5, not the same failure repeated for every machine. The token also says who is acting.
 */
export async function firstToken(credential: TokenCredential, scope: string, timeoutMs: number): Promise<AccessToken> {
  let token: AccessToken | null;
  try {
    token = await credential.getToken(scope, { abortSignal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new CredentialError(`${NO_CREDENTIAL_FIX}\nWhat the credentials said: ${firstLines(error)}`);
  }
  if (!token) throw new CredentialError(NO_CREDENTIAL_FIX);
  return token;
}

function firstLines(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split('\n').filter((line) => line.trim());
  const shown = lines.slice(0, 6).join('\n  ');
  return lines.length > 6 ? `${shown}\n  ...` : shown;
}
