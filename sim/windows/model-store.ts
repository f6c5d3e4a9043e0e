/**
 * The simulated machine lives in one JSON file that several processes share (the handler run by
 * the real Linux agent, the test, the scheduled tasks' agent runs). Every change happens under
 * `<file>.lock` (a directory lock) and is written atomically, so no process loses another's write
 * and a process killed mid-way leaves the last complete model.
 */
import { readFileSync } from 'fs';
import { writeFileAtomically } from '../../extension/atomic-file';
import { acquireDirectoryLock } from '../../extension/directory-lock';
import type { MachineModel } from './machine-model';

export async function readMachine(modelPath: string): Promise<MachineModel> {
  return readMachineAndText(modelPath).model;
}

/**
 * The model and the text it was read from (serializeMachine's, when this module wrote it). `known`,
 * an earlier read, is returned as it is when the file still holds its text: one parse less.
 */
export function readMachineAndText(
  modelPath: string,
  known?: { model: MachineModel; text: string },
): { model: MachineModel; text: string } {
  const text = readFileSync(modelPath, 'utf8');
  if (known?.text === text) return known;
  const model = JSON.parse(text) as MachineModel;
  if (model?.schemaVersion !== 1 || typeof model.nodes !== 'object' || typeof model.clock?.nowUtc !== 'string') {
    throw new Error(`${modelPath} is not a simulated machine model (schemaVersion 1)`);
  }
  return { model, text };
}

export function serializeMachine(model: MachineModel): string {
  return `${JSON.stringify(model, null, 2)}\n`;
}

/**
 * Writes the whole model atomically (temp file, then rename). Does not take the lock. No fsync:
 * the rename is what protects against a killed process; a simulated machine need not survive a
 * power cut of the real one, and fsync would make every simulated operation cost milliseconds.
 */
export async function writeMachine(modelPath: string, model: MachineModel): Promise<void> {
  await writeFileAtomically(modelPath, serializeMachine(model), { fsync: false });
}

export interface MachineLockOptions {
  /** How long to wait for another process (default 60 s). */
  waitMs?: number;
}

/**
 * Runs `work` holding the model's lock. A lock left by a killed process is taken over once it is
 * older than 5 s (a live lock is refreshed every second).
 */
export async function withMachineLock<T>(modelPath: string, work: () => Promise<T>, options: MachineLockOptions = {}): Promise<T> {
  const waitMs = options.waitMs ?? 60_000;
  const release = await acquireDirectoryLock(`${modelPath}.lock`, {
    waitMs,
    staleMs: 5_000,
    updateMs: 1_000,
    // Short and random, so that the processes sharing one machine do not retry in step.
    retryDelayMs: () => 10 + Math.random() * 30,
  });
  try {
    return await work();
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * Loads the model under the lock, lets `change` edit it, and writes it back when it changed.
 * Returns what `change` returns.
 */
export async function updateMachine<T>(
  modelPath: string,
  change: (model: MachineModel) => T | Promise<T>,
  options?: MachineLockOptions,
): Promise<T> {
  return withMachineLock(
    modelPath,
    async () => {
      const model = await readMachine(modelPath);
      const before = serializeMachine(model);
      const result = await change(model);
      if (serializeMachine(model) !== before) await writeMachine(modelPath, model);
      return result;
    },
    options,
  );
}
