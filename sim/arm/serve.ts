/**
 * The ARM emulator on its own, for trying the CLI by hand:
 *
 *   npx tsx sim/arm/serve.ts --machines 5 --subscription <id> --resource-group rg
 *
 * With --relay-namespace NAME the resource group also holds that Relay namespace; --test-relay
 * attaches a local test relay as its data plane (hybrid connections made through ARM open there).
 * Each --support-ticket NAME[:Open|Closed] seeds a support ticket in the subscription.
 *
 * Prints the endpoint, the CA file and the environment to export, and stays up until Ctrl-C; then it
 * checks the traffic it saw against the API documents (HybridCompute, Relay, Support) and prints what
 * did not match.
 */
import { randomUUID } from 'crypto';
import { parseArgs } from 'util';
import { startTestRelay, type TestRelay } from '../relay';
import { startArmEmulator, type EmulatedMachineSpec, type EmulatedSupportTicketSpec } from './index';

const USAGE = `usage: serve.ts [--machines N] [--subscription ID] [--resource-group NAME] [--location NAME]
                [--disconnected N] [--operation-ms MS] [--write-burst N --write-refill PER_SECOND]
                [--relay-namespace NAME [--test-relay]] [--support-ticket NAME[:Open|Closed]]...`;

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
      'relay-namespace': { type: 'string' },
      'test-relay': { type: 'boolean', default: false },
      'support-ticket': { type: 'string', multiple: true, default: [] },
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

  if (values['test-relay'] && values['relay-namespace'] === undefined) throw new Error(`--test-relay needs --relay-namespace\n${USAGE}`);
  const namespace = values['relay-namespace'];
  const supportTickets = values['support-ticket'].map((text) => ({ subscriptionId: values.subscription, ...supportTicket(text) }));

  const emulator = await startArmEmulator({
    machines,
    writeBucket,
    operationMs: wholeNumber(values['operation-ms'], '--operation-ms'),
    relayNamespaces:
      namespace === undefined
        ? []
        : [{ subscriptionId: values.subscription, resourceGroup: values['resource-group'], name: namespace, location: values.location }],
    supportTickets,
  });
  let relay: TestRelay | undefined;
  if (values['test-relay'] && namespace !== undefined) {
    relay = await startTestRelay();
    emulator.attachRelay(namespace, relay);
  }
  const environment = emulator.credentialEnvironment();
  process.stdout.write(
    [
      `ARM emulator listening at ${emulator.endpoint}`,
      `CA certificate: ${emulator.caFile}`,
      `Subscription ${values.subscription}, resource group ${values['resource-group']}: ${machines.map((machine) => `${machine.name} (${machine.status})`).join(', ')}`,
      ...(namespace === undefined
        ? []
        : [`Relay namespace ${namespace}${relay ? `, its test relay at wss://${relay.host} (CA ${relay.caFile})` : ''}`]),
      ...(supportTickets.length === 0
        ? []
        : [`Support tickets: ${supportTickets.map((ticket) => `${ticket.name} (${ticket.status})`).join(', ')}`]),
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
      ? `\n${emulator.traffic.length} requests, all as the API documents say.\n`
      : `\n${problems.length} problems against the API documents:\n${problems.map((problem) => `  ${problem}`).join('\n')}\n`,
  );
  await emulator.close();
  await relay?.close();
}

/** 'case-1' or 'case-1:Closed' (default Open). */
function supportTicket(text: string): EmulatedSupportTicketSpec {
  const [name, status = 'Open', extra] = text.split(':');
  if (!name || extra !== undefined || (status !== 'Open' && status !== 'Closed')) {
    throw new Error(`--support-ticket needs NAME or NAME:Open or NAME:Closed, got ${JSON.stringify(text)}\n${USAGE}`);
  }
  return { name, status, title: `Support request ${name}` };
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
