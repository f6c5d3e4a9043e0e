/**
 * The Windows host port over the simulated machine (the JSON model file). One `execute` is one
 * "launch", like one powershell.exe process on a real node: lock the model, load it, run the
 * operations in order on the target node, save it atomically, unlock. A batch that changes nothing
 * (an observe) is answered from one read of the model, without the lock.
 *
 * Semantics both simulated hosts share (the operations' own are in their modules):
 * - the local node (the model's localNode, or the `localNode` option for a process that runs on a
 *   peer) is always reachable; a peer that is powered off or not in the model -> every operation
 *   NodeUnreachable; a peer with remoteAccess Denied -> every operation AccessDenied (the batch
 *   never reaches the node, so stopOnError does not apply and no fault is consumed);
 * - before an operation runs, the first fault matching its name, node and target (case-insensitive) is
 *   consumed (`remaining`, default 1, counts down; the fault is removed at 0): `fail` makes the
 *   operation return the fault's error (code default Failed, message default "Injected fault");
 *   `kill` saves the model as it is (earlier operations applied, this one not, the fault consumed)
 *   and kills the process;
 * - with stopOnError (default true) every operation after the first failure is Skipped (no fault
 *   is consumed for it);
 * - an empty batch launches nothing.
 */
import path from 'path';
import type { ProtectedSettingsDecryptor } from '../../extension/protected-settings';
import type { OperationName, OperationRequest } from '../../windows/operations';
import { type BatchOptions, HostBatchError, type HostOperationError, type OperationOutcome, type WindowsHost } from '../../windows/port';
import type { Fault, MachineModel } from './machine-model';
import { readMachine, readMachineAndText, serializeMachine, withMachineLock, writeMachine } from './model-store';
import { sameName } from './names';
import { runOperation, targetOf } from './run-operation';

export interface SimulatedHostOptions {
  /** The node this process runs on; default the model's localNode. */
  localNode?: string;
  /** `<THUMBPRINT>.crt/.prv` of the node's certificate store; default `certificates` beside the model file. */
  certDir?: string;
  /** What a `kill` fault does once the model is saved; default SIGKILL of this process. */
  onKill?: () => void;
  /** How long to wait for the model's lock (default 60 s). */
  lockWaitMs?: number;
}

/** Thrown by `execute` when a `kill` fault fired and `onKill` returned (the process is meant to be dead). */
export class SimulatedKillError extends Error {
  constructor(
    readonly operation: OperationName,
    readonly node: string,
  ) {
    super(`A kill fault stopped the process before '${operation}' on ${node}`);
    this.name = 'SimulatedKillError';
  }
}

export class SimulatedHost implements WindowsHost {
  private launchCount = 0;
  /** What now() read, for the next batch while the file still holds that text (a handler reads the clock, then observes). */
  private clockRead: { model: MachineModel; text: string } | undefined;
  private readonly onKill: () => void;

  constructor(
    readonly modelPath: string,
    private readonly options: SimulatedHostOptions = {},
  ) {
    this.onKill = options.onKill ?? (() => process.kill(process.pid, 'SIGKILL'));
  }

  get launches(): number {
    return this.launchCount;
  }

  /** The simulated machine's clock: handlers and agents on it live in its time. */
  async now(): Promise<Date> {
    try {
      this.clockRead = readMachineAndText(this.modelPath);
      return new Date(this.clockRead.model.clock.nowUtc);
    } catch (error) {
      throw new HostBatchError(
        'clock',
        null,
        'NotStarted',
        `the simulated machine ${this.modelPath} could not be used: ${(error as Error).message}`,
      );
    }
  }

  decryptor(): ProtectedSettingsDecryptor {
    // Loaded on use: it brings Node's crypto and child_process, which cost a handler start that
    // loads this simulator (without protected settings) more than the rest of the simulator.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OpensslDecryptor } = require('../../extension/decrypt-openssl') as typeof import('../../extension/decrypt-openssl');
    return new OpensslDecryptor({ certDir: this.options.certDir ?? path.join(path.dirname(this.modelPath), 'certificates') });
  }

  async execute(operations: OperationRequest[], options: BatchOptions): Promise<OperationOutcome[]> {
    if (operations.length === 0) return [];
    this.launchCount += 1;
    const unchanged = this.runIfNothingChanges(operations, options);
    if (unchanged) return unchanged;
    let killedAt: { operation: OperationName; node: string } | null = null;
    let outcomes: OperationOutcome[];
    try {
      outcomes = await withMachineLock(
        this.modelPath,
        async () => {
          const model = await readMachine(this.modelPath);
          const before = serializeMachine(model);
          const batch = this.runBatch(model, operations, options);
          if (serializeMachine(model) !== before) await writeMachine(this.modelPath, model);
          killedAt = batch.killedAt;
          return batch.outcomes;
        },
        { waitMs: this.options.lockWaitMs },
      );
    } catch (error) {
      throw new HostBatchError(
        options.phase,
        null,
        'NotStarted',
        `the simulated machine ${this.modelPath} could not be used: ${(error as Error).message}`,
      );
    }
    if (killedAt) {
      const { operation, node } = killedAt;
      // After the lock is released: a killed process must not block the next run on a stale lock.
      this.onKill();
      throw new SimulatedKillError(operation, node);
    }
    return outcomes;
  }

  /**
   * The outcomes of a batch that leaves the machine as it is (an observe), run without the lock:
   * the model file is only ever replaced whole, so one read sees one whole machine, as under the
   * lock. Undefined when the batch changes anything (a fault consumed, a kill, any write) or the
   * model cannot be read: execute then runs it under the lock, on the model as it is by then.
   */
  private runIfNothingChanges(operations: OperationRequest[], options: BatchOptions): OperationOutcome[] | undefined {
    // The clock's read, once: the batch may change the model it runs on.
    const known = this.clockRead;
    this.clockRead = undefined;
    try {
      const { model, text } = readMachineAndText(this.modelPath, known);
      const batch = this.runBatch(model, operations, options);
      return batch.killedAt === null && serializeMachine(model) === text ? batch.outcomes : undefined;
    } catch {
      return undefined;
    }
  }

  /** Runs the batch on the model in memory. On a kill fault, stops there (the caller saves). */
  private runBatch(
    model: MachineModel,
    operations: OperationRequest[],
    options: BatchOptions,
  ): { outcomes: OperationOutcome[]; killedAt: { operation: OperationName; node: string } | null } {
    const local = (this.options.localNode ?? model.localNode).toUpperCase();
    const nodeKey = (options.node ?? local).toUpperCase();
    const unreachable = nodeKey === local ? null : this.refusal(model, nodeKey);
    const stopOnError = options.stopOnError ?? true;
    const outcomes: OperationOutcome[] = [];
    let failed = false;
    for (const request of operations) {
      const operation = (request as { op: OperationName }).op;
      const error = (code: HostOperationError['code'], message: string): OperationOutcome => ({
        ok: false,
        error: { operation, code, message, target: targetOf(request) },
      });
      if (unreachable) {
        outcomes.push(error(unreachable.code, unreachable.message));
        continue;
      }
      if (failed && stopOnError) {
        outcomes.push(error('Skipped', `Not run: an earlier operation of phase '${options.phase}' failed`));
        continue;
      }
      const fault = consumeFault(model, operation, nodeKey, targetOf(request));
      let outcome: OperationOutcome;
      if (fault?.action === 'kill') return { outcomes, killedAt: { operation, node: nodeKey } };
      else if (fault) outcome = error(fault.code ?? 'Failed', fault.message ?? `Injected fault: ${operation} failed on ${nodeKey}`);
      else outcome = runOperation(model, nodeKey, request);
      outcomes.push(outcome);
      if (!outcome.ok) failed = true;
    }
    return { outcomes, killedAt: null };
  }

  /** Why a peer cannot be reached, or null when it can. */
  private refusal(model: MachineModel, nodeKey: string): { code: 'NodeUnreachable' | 'AccessDenied'; message: string } | null {
    const node = model.nodes[nodeKey];
    if (!node) return { code: 'NodeUnreachable', message: `The node '${nodeKey}' is not known` };
    if (node.power === 'Off') return { code: 'NodeUnreachable', message: `The node '${nodeKey}' does not answer (powered off)` };
    if (node.remoteAccess === 'Denied')
      return { code: 'AccessDenied', message: `Access to the node '${nodeKey}' is denied to this account` };
    return null;
  }
}

/** Takes one hit off the first fault that matches (after its `skip` passes), removing it when used up. */
function consumeFault(model: MachineModel, operation: OperationName, nodeKey: string, target: string | null): Fault | null {
  const index = model.faults.findIndex(
    (fault) =>
      (fault.operation === '*' || fault.operation === operation) &&
      (fault.node === undefined || sameName(fault.node, nodeKey)) &&
      (fault.target === undefined || (target !== null && sameName(fault.target, target))),
  );
  const fault = model.faults[index];
  if (!fault) return null;
  if ((fault.skip ?? 0) > 0) {
    fault.skip = fault.skip! - 1;
    return null;
  }
  const remaining = (fault.remaining ?? 1) - 1;
  if (remaining > 0) fault.remaining = remaining;
  else model.faults.splice(index, 1);
  return fault;
}
