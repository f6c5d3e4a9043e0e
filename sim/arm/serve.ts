/**
 * The ARM emulator on its own, for trying the CLI by hand:
 *
 *   npx tsx sim/arm/serve.ts --machines 5 --subscription <id> --resource-group rg
 *
 * Prints the endpoint, the CA file and the environment to export, and stays up until Ctrl-C; then it
 * checks the traffic it saw against HybridCompute.json and prints what did not match.
 */
import { randomUUID } from 'crypto';
import { parseArgs } from 'util';
import { startArmEmulator, type EmulatedMachineSpec } from './index';

const USAGE = `usage: serve.ts [--machines N] [--subscription ID] [--resource-group NAME] [--location NAME]
                [--disconnected N] [--operation-ms MS] [--write-burst N --write-refill PER_SECOND]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      machines: { type: 'string', default: '3' },
      subscription: { type: 'string', default: randomUUID() },
      'resource-group': { type: 'string', default: 'rg' },
      location: { type: 'string', default: 'westeurope' },
      disconnected: { type: 'string', default: '0' },
      'operation-ms': { type: 'string', default: '2000' },
      'write-burst': { type: 'string' },
      'write-refill': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const count = wholeNumber(values.machines, '--machines');
  const disconnected = wholeNumber(values.disconnected, '--disconnected');
  const machines: EmulatedMachineSpec[] = Array.from({ length: count }, (_, index) => ({
    subscriptionId: values.subscription,
    resourceGroup: values['resource-group'],
    name: `arc-node-${String(index + 1).padStart(2, '0')}`,
    location: values.location,
    // The last machines are the disconnected ones, so the first stay easy to address.
    status: index >= count - disconnected ? 'Disconnected' : 'Connected',
  }));
  const writeBucket =
    values['write-burst'] === undefined
      ? undefined
      : { burst: wholeNumber(values['write-burst'], '--write-burst'), refillPerSecond: Number(values['write-refill'] ?? '1') };

  const emulator = await startArmEmulator({ machines, writeBucket, operationMs: wholeNumber(values['operation-ms'], '--operation-ms') });
  const environment = emulator.credentialEnvironment();
  process.stdout.write(
    [
      `ARM emulator listening at ${emulator.endpoint}`,
      `CA certificate: ${emulator.caFile}`,
      `Subscription ${values.subscription}, resource group ${values['resource-group']}: ${machines.map((machine) => `${machine.name} (${machine.status})`).join(', ')}`,
      '',
      "In another shell, so that DefaultAzureCredential takes the emulator's Arc managed identity and Node trusts its CA:",
      ...Object.entries(environment).map(([name, value]) => `  export ${name}=${value}`),
      `then run the CLI with --endpoint ${emulator.endpoint}`,
      '',
      'Ctrl-C stops the emulator.',
      '',
    ].join('\n'),
  );

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const problems = await emulator.validateTraffic();
  process.stdout.write(
    problems.length === 0
      ? `\n${emulator.traffic.length} requests, all as HybridCompute.json says.\n`
      : `\n${problems.length} problems against HybridCompute.json:\n${problems.map((problem) => `  ${problem}`).join('\n')}\n`,
  );
  await emulator.close();
}

function wholeNumber(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${option} needs a whole number, got ${JSON.stringify(text)}\n${USAGE}`);
  return value;
}

main().catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
});
