/**
 * Runs the CLI in-process against the ARM emulator, through the real SDK and pipeline, and
 * captures what it prints. The emulator accepts tokens for the public ARM audience only, so runs
 * name it with --audience (as one would for Azure Stack Hub).
 */
import { promises as fs } from 'fs';
import os from 'os';
import path from 'path';
import { PassThrough } from 'stream';
import { runCli, type CliIo } from '../../cli/main';
import { loadExtensionIdentity } from '../../manifests/extension-identity';
import { startArmEmulator, type ArmEmulator, type ArmEmulatorOptions } from '../../sim/arm';

export const SUBSCRIPTION = '6b3e1c2d-9f8a-4b7c-8d6e-5f4a3b2c1d0e';
export const ARM_AUDIENCE = 'https://management.azure.com';
/** What the build bakes into the shipped CLI, read here from manifests/extension.yaml. */
export const EXTENSION_IDENTITY = loadExtensionIdentity();

/** Open Azure support requests in the harness's subscription: grant reads the one it names first. */
export function openSupportTickets(...names: string[]): NonNullable<ArmEmulatorOptions['supportTickets']> {
  return names.map((name) => ({ subscriptionId: SUBSCRIPTION, name, status: 'Open' as const, title: `Support request ${name}` }));
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Captures a stream; `isTTY` lets a test play a terminal. */
function capture(isTTY = false): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  stream.isTTY = isTTY;
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { stream, text: () => text };
}

export async function runOffline(argv: string[], io: Partial<CliIo> = {}): Promise<CliRun> {
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(argv, { stdout: stdout.stream, stderr: stderr.stream, env: {}, ...io }, EXTENSION_IDENTITY);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

export interface EmulatedCli {
  emulator: ArmEmulator;
  /** A folder for journals and files, removed at close. */
  folder: string;
  run(argv: string[], io?: Partial<CliIo>): Promise<CliRun>;
  /** Machine ARM id in the default subscription. */
  id(resourceGroup: string, name: string): string;
  /** Writes of one method to one machine's extension, as the emulator saw them. */
  writesTo(name: string, method?: string): number;
  close(): Promise<void>;
}

export async function startEmulatedCli(options: ArmEmulatorOptions): Promise<EmulatedCli> {
  const emulator = await startArmEmulator(options);
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'ars-cli-'));
  return {
    emulator,
    folder,
    async run(argv, io = {}) {
      const stdout = capture();
      const stderr = capture();
      const code = await runCli(
        [...argv, '--endpoint', emulator.endpoint, '--audience', ARM_AUDIENCE],
        {
          stdout: stdout.stream,
          stderr: stderr.stream,
          env: { AZURE_SUBSCRIPTION_ID: SUBSCRIPTION },
          cwd: folder,
          credential: emulator.credential,
          tlsCa: emulator.ca,
          pollIntervalMs: 25,
          conflictRetry: { baseDelayMs: 50, maxDelayMs: 400 },
          ...io,
        },
        EXTENSION_IDENTITY,
      );
      return { code, stdout: stdout.text(), stderr: stderr.text() };
    },
    id: (resourceGroup, name) =>
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/${resourceGroup}/providers/Microsoft.HybridCompute/machines/${name}`,
    writesTo(name, method) {
      return emulator.traffic.filter(
        (record) =>
          record.method !== 'GET' &&
          (method === undefined || record.method === method) &&
          new URL(record.url).pathname.toLowerCase().includes(`/machines/${name.toLowerCase()}/`),
      ).length;
    },
    async close() {
      await emulator.close();
      await fs.rm(folder, { recursive: true, force: true });
    },
  };
}

export { capture };
