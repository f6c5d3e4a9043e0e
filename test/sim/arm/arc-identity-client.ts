/**
 * Child-process entry for the managed identity test: DefaultAzureCredential finds the Arc identity
 * endpoint from the environment, answers its key-file challenge, and the SDK reads a machine with
 * the token (trusting the emulator's CA through NODE_EXTRA_CA_CERTS). Prints what it saw as JSON.
 */
import { HybridComputeManagementClient } from '@azure/arm-hybridcompute';
import { DefaultAzureCredential } from '@azure/identity';
import { apiVersionPolicy } from './emulator-clients';

async function main(): Promise<void> {
  const [endpoint, subscriptionId, resourceGroup, machineName] = process.argv.slice(2) as [string, string, string, string];
  const credential = new DefaultAzureCredential();
  const token = await credential.getToken('https://management.azure.com/.default');
  const claims = JSON.parse(Buffer.from(token.token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  const client = new HybridComputeManagementClient(credential, subscriptionId, {
    endpoint,
    additionalPolicies: [{ policy: apiVersionPolicy(), position: 'perCall' }],
  });
  const machine = await client.machines.get(resourceGroup, machineName);
  process.stdout.write(`${JSON.stringify({ upn: claims.upn, aud: claims.aud, status: machine.properties?.status })}\n`);
}

main().catch((error: Error) => {
  process.stdout.write(`${JSON.stringify({ error: error.message })}\n`);
  process.exitCode = 1;
});
