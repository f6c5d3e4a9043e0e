/**
 * The fleet benchmark: `grant` to 500 machines of one resource group against the ARM emulator with
 * an ARM-like write bucket (200 burst, 10 per second refill). Each grant is one write (the extension
 * PUT), so the bucket-limited ideal is (machines - burst) / refill seconds; the CLI should get close
 * to it (target at most 1.15 times), fail no machine, and back off on the 429s it receives.
 */
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { PassThrough } from 'stream';
import { runCli } from '../../cli/main';
import { loadExtensionIdentity } from '../../manifests/extension-identity';
import { startArmEmulator } from '../../sim/arm';

const SUBSCRIPTION = '00000000-0000-0000-0000-00000000f1ee';
const SUPPORT_REQUEST = 'TKT-FLEET-1';

export interface FleetBenchOptions {
  machines: number;
  burst: number;
  refillPerSecond: number;
}

export async function benchFleetGrant(
  options: FleetBenchOptions = { machines: 500, burst: 200, refillPerSecond: 10 },
): Promise<Record<string, unknown>> {
  const work = await fs.mkdtemp(path.join(tmpdir(), 'ars-fleet-'));
  const names = Array.from({ length: options.machines }, (_, index) => `srv-${String(index + 1).padStart(4, '0')}`);
  const emulator = await startArmEmulator({
    operationMs: 50,
    validate: false,
    machines: names.map((name) => ({ subscriptionId: SUBSCRIPTION, resourceGroup: 'fleet', name, tags: { ring: 'pilot' } })),
    // grant reads the support request in Azure Support first.
    supportTickets: [{ subscriptionId: SUBSCRIPTION, name: SUPPORT_REQUEST, status: 'Open', title: 'Fleet bench' }],
  });
  try {
    const identity = loadExtensionIdentity();
    const io = (stdout: PassThrough, stderr: PassThrough) => ({
      stdout,
      stderr,
      env: {},
      cwd: work,
      credential: emulator.credential,
      tlsCa: emulator.ca,
      pollIntervalMs: 100,
    });
    const fleet = [
      '--subscription',
      SUBSCRIPTION,
      '--resource-group',
      'fleet',
      '--tag',
      'ring=pilot',
      '--endpoint',
      emulator.endpoint,
      '--output',
      'json',
    ];
    // The extension is deployed first, unthrottled; the grant then meets a full ARM-like bucket.
    const deployed = await runCli(
      ['deploy', ...fleet, '--journal', path.join(work, 'deploy.json')],
      io(collect().stream, collect().stream),
      identity,
    );
    if (deployed !== 0) throw new Error(`deploy to the fleet exited ${deployed}`);
    emulator.setWriteBucket({ burst: options.burst, refillPerSecond: options.refillPerSecond });
    const writesBefore = emulator.counters.writes;
    const stdout = collect();
    const stderr = collect();
    const started = process.hrtime.bigint();
    const exitCode = await runCli(
      [
        'grant',
        ...fleet,
        '--level',
        'Diagnostics',
        '--duration',
        '8h',
        '--support-request',
        SUPPORT_REQUEST,
        '--accept-terms',
        '--journal',
        path.join(work, 'journal.json'),
      ],
      io(stdout.stream, stderr.stream),
      identity,
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const results = parseResults(stdout.text());
    const failed = results.filter((result) => result.result !== 'ok').length;
    const ideal = Math.max(0, options.machines - options.burst) / options.refillPerSecond;
    return {
      metric: 'fleet_grant_vs_bucket_ideal',
      note: `grant to ${options.machines} machines, write bucket ${options.burst} burst and ${options.refillPerSecond}/s refill; ideal = (machines - burst) / refill`,
      exit_code: exitCode,
      total_s: Number(seconds.toFixed(1)),
      ideal_s: ideal,
      ratio: Number((seconds / ideal).toFixed(3)),
      target: '<= 1.15',
      machines_failed: failed + Math.max(0, options.machines - results.length),
      throttled_429: emulator.counters.throttled,
      writes_accepted: emulator.counters.writes - writesBefore,
      conflicts_409: emulator.counters.conflicts,
      ...(exitCode === 0 ? {} : { stderr: stderr.text().slice(-500) }),
    };
  } finally {
    await emulator.close();
    await fs.rm(work, { recursive: true, force: true });
  }
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** The per-machine results of `--output json`. */
function parseResults(text: string): Array<{ result: string }> {
  try {
    const document = JSON.parse(text) as { results?: Array<{ result: string }> } | Array<{ result: string }>;
    return Array.isArray(document) ? document : (document.results ?? []);
  } catch {
    return [];
  }
}

if (require.main === module) {
  benchFleetGrant()
    .then((record) => console.log(JSON.stringify(record)))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
